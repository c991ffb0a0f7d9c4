"""Contrastive alignment on real pairs: MedPix 2.0 images ↔ captions, PTB-XL ECGs ↔ reports.

MedPix (train → dev): ``medpix-clip`` (compact ResNet + frozen all-MiniLM-L6-v2 + MLP
heads) beside the teaching notebook's ``notebook-vlm`` (MLP over pooled pixels + MLP over
the same frozen text features), trained the same way (same data, augmentation, loss,
optimiser, schedule, epochs, seed) with :func:`medmodal.train.fit`. Reported: image→text
and text→image R@1/5/10 on dev (strict pairs, and with identical captions counted as
correct), zero-shot CT vs MR, body region (5 categories) and plane accuracy from prompts.
The final epoch is reported (no model selection on dev: the shared copy has no test
split). An untrained ``medpix-clip`` gives the chance reference.

PTB-XL (folds 1-8 → 9 and 10): ``ecg-text-clip`` trained twice, on the recorded free-text
reports (mostly German) and on English texts built from the SCP statements, plus a look
at how the English MiniLM tokenises and embeds German report phrases.

Bars (issue 4) on MedPix dev: R@10 ≥ 4× random both ways, zero-shot CT/MR ≥ 95 %,
body region ≥ 75 %.

Comparison (issue 15, ``--compare``): the from-scratch tower (``medpix-clip``) and the
ImageNet-pretrained EfficientNet-Lite0 (``medpix-clip-effnet``, ``pretrained=True``),
each under both named evaluations (prompted classification; true zero-shot), for each
seed: trained on the patient-clean train split, epoch chosen on val, dev scored once as
the test; Wilson 95 % intervals per run and mean ± sd over seeds
(``align_medpix_compare.md``). Every finished run is saved to
``align_medpix_compare.partial.json`` at once, and a rerun with the same settings resumes
from it (hours on 2 cores: the pretrained tower costs ~12x the from-scratch one per
epoch, ~4.8x with 12 layers locked). ``--quick`` is a smoke run (1 epoch on a few pairs; its
page says "not a result").

Usage::

    python benchmarks/align_medpix.py [--epochs 60] [--ecg-epochs 30] [--data-root DIR]
        [--image-size 96] [--threads 1] [--reuse-ecg]
    python benchmarks/align_medpix.py --compare [--towers scratch pretrained]
        [--evaluations prompted zero-shot] [--seeds 0 1 2] [--epochs 40]
        [--pretrained-lr 5e-4] [--lock-image 0] [--pretrained-epochs N]
        [--pretrained-image-size PX] [--note TEXT] [--quick --out /tmp/quick]
    python benchmarks/align_medpix.py --sweep 12:96 16:96 [--pretrained-epochs 15]
        # the pretrained tower's LOCK:SIZE chosen on val only (align_medpix_sweep.md)

The committed comparison: ``--sweep 12:96 16:96 --pretrained-epochs 15``, then
``--compare --epochs 40 --pretrained-epochs 15 --lock-image 12 --pretrained-image-size 96``
(run as parallel processes per tower and evaluation with ``--out`` folders of their own,
whose ``.partial.json`` runs were merged and rendered by one call with every tower).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path
from typing import Any

import torch

from _machine import machine_info  # benchmarks/ is the script's folder, first on sys.path
from medmodal.align import (
    AlignEvaluation,
    ImageTextPairs,
    LabelledPairs,
    Task,
    embed_pairs,
    get_task,
)
from medmodal.jsonsafe import dumps
from medmodal.models import create_model, get_config
from medmodal.train import fit_alignment

RESULTS = Path(__file__).resolve().parent / "results"
NAME = "align_medpix"
MEDPIX_MODELS = ("medpix-clip", "notebook-vlm")
BARS = {"R@10_ratio": 4.0, "modality": 0.95, "location_category": 0.75}


def _train(
    model_name: str, task: Task, train_set: LabelledPairs, val_set: LabelledPairs,
    args: argparse.Namespace, *, epochs: int, lr: float,
) -> dict[str, Any]:  # fmt: skip
    torch.manual_seed(args.seed)
    model = create_model(model_name, **_overrides(model_name, args))
    recipe = task.train_config(
        epochs=epochs, batch_size=args.batch_size, lr=lr, seed=args.seed, restore_best=False,
        progress=not args.quiet, tensorboard=False,
    )  # fmt: skip
    cpu0, wall0 = time.process_time(), time.perf_counter()
    result = fit_alignment(model, task, train_set, val_set, recipe)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    keep = ["epoch", "train_loss", "val_loss", "a_to_b_R@10", "b_to_a_R@10"]
    keep += [c for c in result.history.columns if c.startswith("zs_") and "majority" not in c]
    history = result.history[[c for c in keep if c in result.history.columns]]
    return {
        "model": model,
        "params_trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "train_cpu_s": cpu,
        "train_wall_s": wall,
        "history": history.to_dict("records"),
    }


def _overrides(model_name: str, args: argparse.Namespace) -> dict[str, Any]:
    """``--image-size`` for every image tower (the ECG model has none)."""
    if args.image_size is None or get_config(model_name).image is None:
        return {}
    return {"image": {"image_size": args.image_size}}


def linear_probe(
    model: torch.nn.Module, train_set: ImageTextPairs, dev_set: LabelledPairs
) -> dict[str, float]:
    """Dev accuracy of a logistic regression on the frozen image embeddings (fit on train).

    The ceiling of what the image tower encodes about each label, whatever the prompts.
    """
    from sklearn.linear_model import LogisticRegression

    a_train = embed_pairs(model, train_set).a.numpy()
    a_dev = embed_pairs(model, dev_set).a.numpy()  # type: ignore[arg-type]
    out = {}
    for label in ("modality", "location_category"):
        clf = LogisticRegression(max_iter=3000).fit(a_train, train_set.labels[label].astype(str))
        out[label] = float(clf.score(a_dev, dev_set.labels[label].astype(str)))
    return out


def _summary(evaluation: AlignEvaluation) -> dict[str, Any]:
    d = evaluation.to_dict()
    chance = d["chance_R@10"]
    return {
        "n": evaluation.n,
        "retrieval": {k: v for k, v in d.items() if "R@" in k or "rank" in k},
        "R@10_ratio_to_random": {
            "signal_to_text": d["a_to_b_R@10"] / chance,
            "text_to_signal": d["b_to_a_R@10"] / chance,
        },
        "zero_shot": evaluation.zero_shot,
        "zero_shot_majority": evaluation.zero_shot_chance,
    }


def run_medpix(args: argparse.Namespace) -> dict[str, Any]:
    task = get_task("medpix")
    image = get_config("medpix-clip", **_overrides("medpix-clip", args)).image
    size = image.image_size if image is not None else 96
    load = {"root": args.data_root, "image_size": size, "seed": args.seed}
    train_set = task.load("train", augment=True, **load)
    if not isinstance(train_set, ImageTextPairs):
        raise TypeError(f"the medpix task loads ImageTextPairs, got {type(train_set).__name__}")
    train_plain = train_set.plain()  # the linear probe: same images, no augmentation or views
    dev_set = task.load("dev", augment=False, **load)
    out: dict[str, Any] = {"n_train": len(train_set), "n_dev": len(dev_set), "image_size": size}
    torch.manual_seed(args.seed)
    untrained = create_model("medpix-clip", **_overrides("medpix-clip", args))
    out["untrained medpix-clip"] = _summary(task.evaluate(untrained, dev_set))
    for name in args.models:
        print(f"training {name} on MedPix ...", flush=True)
        run = _train(name, task, train_set, dev_set, args, epochs=args.epochs, lr=args.lr)
        model = run.pop("model")
        out[name] = {**run, "dev": _summary(task.evaluate(model, dev_set, split="dev"))}
        out[name]["dev"]["linear_probe"] = linear_probe(model, train_plain, dev_set)
        print(json.dumps(out[name]["dev"]["zero_shot"]), flush=True)
    return out


#: Comparison towers: name -> (model config, pretrained weights).
TOWERS = {"scratch": ("medpix-clip", False), "pretrained": ("medpix-clip-effnet", True)}
EVALUATIONS = ("prompted", "zero-shot")
GOALS = {"R@10": 0.40, "modality": 0.95, "location_category": 0.75}
QUICK_PAIRS = (128, 64, 64)  # train, val, test pairs of a --quick smoke run


def _compare_sets(
    task: Task, model: torch.nn.Module, args: argparse.Namespace, seed: int
) -> list[Any]:
    image = model.config.image  # type: ignore[union-attr]
    load = {"root": args.data_root, "image_size": image.image_size,
            "normalize": (image.mean, image.std), "seed": seed}  # fmt: skip
    sets = [
        task.load(task.train_split, augment=True, **load),
        task.load(task.val_split, augment=False, **load),
        task.load(task.test_split, augment=False, **load),
    ]
    if args.quick:
        sets = [d.sample(n) for d, n in zip(sets, QUICK_PAIRS, strict=True)]
    return sets


def compare_run(
    tower: str, evaluation: str, seed: int, args: argparse.Namespace, *, val_only: bool = False
) -> dict[str, Any]:
    """Train one tower under one evaluation with one seed; epoch on val, test once (not at
    all with ``val_only``: the pretrained tower's settings are chosen that way)."""
    task = get_task("medpix", evaluation=evaluation)
    name, pretrained = TOWERS[tower]
    torch.manual_seed(seed)
    lock = args.lock_image if pretrained else None
    size = args.pretrained_image_size if pretrained else None
    overrides = {"image": {"image_size": size}} if size else {}
    model = create_model(name, pretrained=pretrained, lock_image=lock, **overrides)
    train_set, val_set, test_set = _compare_sets(task, model, args, seed)
    epochs = (args.pretrained_epochs or args.epochs) if pretrained else args.epochs
    recipe = task.train_config(
        epochs=1 if args.quick else epochs, batch_size=args.batch_size, seed=seed,
        lr=args.pretrained_lr if pretrained else args.lr, restore_best=True,
        progress=not args.quiet, tensorboard=False,
    )  # fmt: skip
    cpu0, wall0 = time.process_time(), time.perf_counter()
    result = fit_alignment(model, task, train_set, val_set, recipe)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    run = {
        "tower": tower, "evaluation": evaluation, "seed": seed, "model": name,
        "pretrained": pretrained, "lock_image": lock, "lr": recipe.lr,
        "image_size": model.config.image.image_size,  # type: ignore[union-attr]
        "epochs": recipe.epochs, "best_epoch": result.best_epoch,
        "epochs_run": result.epochs_run, "val_best": result.best_metric,
        "params_trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "val_curve": [float(v) for v in result.history[result.monitor]],
        "train_cpu_s": cpu, "train_wall_s": wall,
        "n": {"train": len(train_set), "val": len(val_set), "test": len(test_set)},
    }  # fmt: skip
    if not val_only:  # a sweep never looks at the test split
        run["test"] = task.evaluate(model, test_set, split=task.test_split).to_dict()
    return run


def _summarise(runs: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    import numpy as np

    out: dict[str, dict[str, dict[str, float]]] = {}
    for run in runs:
        out.setdefault(f"{run['tower']}/{run['evaluation']}", {})
    for key in out:
        group = [r for r in runs if f"{r['tower']}/{r['evaluation']}" == key]
        for metric in ("a_to_b_R@10", "b_to_a_R@10", "zs_modality", "zs_location_category",
                       "zs_plane"):  # fmt: skip
            values = np.array([r["test"][metric] for r in group], dtype=float)
            sd = float(values.std(ddof=1)) if len(values) > 1 else float("nan")
            out[key][metric] = {"mean": float(values.mean()), "sd": sd, "n_seeds": len(values)}
    return out


def compare_goals(summary: dict[str, dict[str, dict[str, float]]]) -> dict[str, bool]:
    """Issue 15's goals for every tower's prompted and zero-shot runs (means over seeds)."""
    goals = {}
    for key, s in summary.items():
        goals[f"{key}: R@10 >= {GOALS['R@10']:.2f} both ways"] = min(
            s["a_to_b_R@10"]["mean"], s["b_to_a_R@10"]["mean"]) >= GOALS["R@10"]  # fmt: skip
        if key.endswith("/prompted"):
            goals[f"{key}: modality >= 95 %"] = s["zs_modality"]["mean"] >= GOALS["modality"]
            goals[f"{key}: body region >= 75 %"] = (
                s["zs_location_category"]["mean"] >= GOALS["location_category"]
            )
    return goals


def _run_settings(settings: dict[str, str]) -> dict[str, str]:
    """The settings one run depends on (not which towers, evaluations or seeds are asked)."""
    return {k: v for k, v in settings.items() if k not in ("towers", "evaluations", "seeds",
                                                        "quiet", "out", "note")}  # fmt: skip


def _finished_runs(partial: Path, settings: dict[str, str]) -> dict[str, Any]:
    """Runs of an interrupted comparison with the same settings (key tower/evaluation/seed):
    each finished run is kept, so a long comparison resumes where it stopped."""
    if not partial.is_file():
        return {}
    saved = json.loads(partial.read_text())
    if saved.get("settings") != _run_settings(settings):
        print(f"{partial.name}: other settings, starting over", flush=True)
        return {}
    return dict(saved.get("runs", {}))


def run_compare(args: argparse.Namespace) -> dict[str, Any]:
    from _align_compare_report import render as render_compare

    torch.set_num_threads(args.threads)
    settings = {k: str(v) for k, v in vars(args).items()}
    results: dict[str, Any] = {"settings": settings, "quick": args.quick, "note": args.note}
    results["machine"] = machine_info(("torch",))
    name = "align_medpix_compare_quick" if args.quick else "align_medpix_compare"
    args.out.mkdir(parents=True, exist_ok=True)
    partial = args.out / f"{name}.partial.json"
    done = _finished_runs(partial, settings)
    runs = []
    for tower in args.towers:
        for evaluation in args.evaluations:
            for seed in [0] if args.quick else args.seeds:
                key = f"{tower}/{evaluation}/{seed}"
                if key not in done:
                    print(f"{tower} / {evaluation} / seed {seed} ...", flush=True)
                    done[key] = compare_run(tower, evaluation, seed, args)
                    partial.write_text(dumps({"settings": _run_settings(settings),
                                              "runs": done}, indent=2) + "\n")  # fmt: skip
                runs.append(done[key])
    results |= {"runs": runs, "n": runs[0]["n"], "summary": _summarise(runs)}
    results["goals"] = compare_goals(results["summary"])
    (args.out / f"{name}.json").write_text(dumps(results, indent=2) + "\n")
    (args.out / f"{name}.md").write_text(render_compare(results))
    print(json.dumps(results["goals"], indent=2))
    return results


def run_sweep(args: argparse.Namespace) -> dict[str, Any]:
    """The pretrained tower's locking and image size, chosen on val only (seed 0, prompted):
    ``align_medpix_sweep.{json,md}``; each finished setting is kept (rerun resumes)."""
    from _align_compare_report import render_sweep

    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    name = "align_medpix_sweep_quick" if args.quick else "align_medpix_sweep"
    path = args.out / f"{name}.json"
    saved = json.loads(path.read_text()) if path.is_file() else {}
    results: dict[str, Any] = {
        "settings": {k: str(v) for k, v in vars(args).items()},
        "machine": saved.get("machine") or machine_info(("torch",)),
        "runs": saved.get("runs", {}), "quick": args.quick,
    }  # fmt: skip
    for item in args.sweep:
        lock, size = (int(v) for v in item.split(":"))
        epochs = 1 if args.quick else args.pretrained_epochs or args.epochs
        key = f"lock {lock}, {size} px, lr {args.pretrained_lr:g}, {epochs} epochs"
        if key in results["runs"]:
            continue
        print(f"sweep: {key} ...", flush=True)
        args.lock_image, args.pretrained_image_size = lock, size
        results["runs"][key] = compare_run("pretrained", "prompted", 0, args, val_only=True)
        path.write_text(dumps(results, indent=2) + "\n")
    best = max(results["runs"], key=lambda k: results["runs"][k]["val_best"])
    results["chosen"] = best
    path.write_text(dumps(results, indent=2) + "\n")
    (args.out / f"{name}.md").write_text(render_sweep(results))
    print(f"chosen on val: {best}")
    return results


def german_probe() -> dict[str, Any]:
    """How the English MiniLM sees German report phrases (tokens and similarities)."""
    from medmodal.models.config import TextTowerConfig
    from medmodal.models.text_encoder import MiniLMTextEncoder

    enc = MiniLMTextEncoder(TextTowerConfig())
    pairs = [
        ("sinusrhythmus normales ekg", "sinus rhythm, normal ECG"),
        ("linksschenkelblock", "left bundle branch block"),
        ("inferiorer infarkt alter unbest.", "inferior myocardial infarction, age undetermined"),
        ("linksventrikulaere hypertrophie", "left ventricular hypertrophy"),
    ]
    rows = []
    for german, english in pairs:
        z = torch.nn.functional.normalize(enc([german, english, "a photo of a cat"]), dim=-1)
        rows.append({
            "german": german,
            "english": english,
            "tokens_german": enc.tokenizer.tokenize(german),
            "tokens_english": enc.tokenizer.tokenize(english),
            "cos_german_english": float(z[0] @ z[1]),
            "cos_german_unrelated": float(z[0] @ z[2]),
        })  # fmt: skip
    return {"pairs": rows}


def run_ptbxl(args: argparse.Namespace) -> dict[str, Any]:
    task = get_task("ptbxl")
    out: dict[str, Any] = {}
    for text in ("report", "statements"):
        train_set = task.load("train", root=args.data_root, text=text)
        val_set = task.load("val", root=args.data_root, text=text)
        test_set = task.load("test", root=args.data_root, text=text)
        print(f"training ecg-text-clip on PTB-XL ({text}) ...", flush=True)
        run = _train("ecg-text-clip", task, train_set, val_set, args, epochs=args.ecg_epochs,
                     lr=args.lr)  # fmt: skip
        model = run.pop("model")
        out[text] = {
            **run,
            "n_unique_train_texts": len(set(train_set.texts)),
            "n_train": len(train_set),
            "val": _summary(task.evaluate(model, val_set, split="val")),
            "test": _summary(task.evaluate(model, test_set, split="test")),
        }
    out["german_probe"] = german_probe()
    return out


def bars(medpix: dict[str, Any]) -> dict[str, bool]:
    dev = medpix["medpix-clip"]["dev"]
    ratio = dev["R@10_ratio_to_random"]
    return {
        "image_to_text_R@10 >= 4x random": ratio["signal_to_text"] >= BARS["R@10_ratio"],
        "text_to_image_R@10 >= 4x random": ratio["text_to_signal"] >= BARS["R@10_ratio"],
        "zero-shot CT vs MR >= 95 %": dev["zero_shot"]["modality"] >= BARS["modality"],
        "zero-shot body region >= 75 %": dev["zero_shot"]["location_category"]
        >= BARS["location_category"],
    }


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=60, help="MedPix epochs")
    parser.add_argument("--ecg-epochs", type=int, default=30, help="PTB-XL epochs")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-size", type=int, help="image side (default: the config's)")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (1 is fastest for these models)"
    )
    parser.add_argument("--models", nargs="+", default=list(MEDPIX_MODELS))
    parser.add_argument("--data-root", type=Path, help="folder holding the data sets")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--skip-ecg", action="store_true")
    parser.add_argument(
        "--reuse-ecg", action="store_true", help="keep the PTB-XL part of the committed results"
    )
    parser.add_argument("--skip-medpix", action="store_true", help="reuse a partial run's MedPix")
    parser.add_argument("--render-only", action="store_true", help="rewrite the .md from .json")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    compare = "towers x evaluations x seeds on the clean splits (issue 15)"
    parser.add_argument("--compare", action="store_true", help=compare)
    parser.add_argument("--towers", nargs="+", choices=list(TOWERS), default=list(TOWERS))
    parser.add_argument("--evaluations", nargs="+", choices=EVALUATIONS,
                        default=list(EVALUATIONS))  # fmt: skip
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--pretrained-lr", type=float, default=5e-4,
                        help="peak lr of the pretrained tower's runs (choose on val)")  # fmt: skip
    lock = "pretrained tower: leading layers kept frozen (LiT; -1 all)"
    parser.add_argument("--lock-image", type=int, default=0, help=lock)
    epochs = "epochs of the pretrained tower's runs (default --epochs)"
    parser.add_argument("--pretrained-epochs", type=int, help=epochs)
    size = "image side of the pretrained tower (default: its config's)"
    parser.add_argument("--pretrained-image-size", type=int, help=size)
    sweep = ("choose the pretrained tower's settings on val (seed 0, prompted; the test split "
             "is not scored): LOCK:SIZE pairs, e.g. 12:96 16:128")  # fmt: skip
    parser.add_argument("--sweep", nargs="+", metavar="LOCK:SIZE", help=sweep)
    parser.add_argument("--note", default="", help="how the runs were made (on the page)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 1 epoch, 1 seed, a few pairs (not a result)")  # fmt: skip
    args = parser.parse_args(argv)
    bad = [item for item in args.sweep or [] if not re.fullmatch(r"-?\d+:\d+", item)]
    if bad:
        parser.error(f"--sweep takes LOCK:SIZE pairs such as 12:96, got {' '.join(bad)}")
    if args.quick and not (args.compare or args.sweep):
        parser.error("--quick goes with --compare or --sweep")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = _parse(argv)
    from _align_report import render

    if args.sweep:
        return run_sweep(args)
    if args.compare:
        return run_compare(args)
    if args.render_only:
        results = json.loads((args.out / f"{NAME}.json").read_text())
        (args.out / f"{NAME}.md").write_text(render(results))
        return results
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    results: dict[str, Any] = {"settings": {k: str(v) for k, v in vars(args).items()}}
    results["machine"] = machine_info(("torch", "transformers", "monai"))
    args.out.mkdir(parents=True, exist_ok=True)
    partial = args.out / f"{NAME}.partial.json"
    if args.skip_medpix:  # reuse the MedPix part of a previous (partial) run
        results["medpix"] = json.loads(partial.read_text())["medpix"]
    else:
        results["medpix"] = run_medpix(args)
    results["bars"] = bars(results["medpix"])
    partial.write_text(dumps(results, indent=2) + "\n")
    if args.reuse_ecg:
        previous = json.loads((args.out / f"{NAME}.json").read_text())
        results["ptbxl"] = previous["ptbxl"]
        results["ptbxl_settings"] = previous.get("ptbxl_settings", previous["settings"])
    elif not args.skip_ecg:
        results["ptbxl"] = run_ptbxl(args)
        results["ptbxl_settings"] = results["settings"]
    results["total_wall_s"] = time.perf_counter() - started
    results["machine_after"] = {"load_average_1_5_15": machine_info()["load_average_1_5_15"]}
    (args.out / f"{NAME}.json").write_text(dumps(results, indent=2) + "\n")
    (args.out / f"{NAME}.md").write_text(render(results))
    partial.unlink(missing_ok=True)
    print(json.dumps(results["bars"], indent=2))
    return results


if __name__ == "__main__":
    main()
