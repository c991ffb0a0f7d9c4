"""Fusion benchmark 1: MIT-BIH inter-patient heartbeat classification (issue 3, section 4).

The de Chazal (2004) protocol: train on DS1, test once on DS2 (paced records excluded),
AAMI classes N/S/V/F. Four modalities per beat (:mod:`medmodal.data.beats`): lead MLII
morphology, the other lead's morphology (V1/V2/V4/V5 by record), rhythm (RR) features
and the header's age and sex. Every unimodal baseline and every fusion method of
:mod:`medmodal.fusion` is trained on DS1 with the same settings; the method called
"best" is chosen by patient-grouped cross-validation inside DS1, never on DS2. Two
scikit-learn models on hand-made features are reference points. Then: the modality
dropout model with the second lead removed at test time, against a model trained
without it, the end-to-end variant on our own detected R peaks, and the selected method
under larger training budgets fixed in advance (several seeds and their ensemble).
The headline (issue 14) is the seeds step: every model of the main table refit with 5
seeds, DS2 as the mean ± sd with patient-bootstrap intervals of the seed mean, with and
without record 202 (the patient of DS1's 201), and the shipped beat model's rows beside.

Usage::

    python benchmarks/fusion_mitbih.py                  # everything (~3.5 hours on 2 cores)
    python benchmarks/fusion_mitbih.py --skip fusion,detected,dropout,sklearn,longer \
        --headline-seeds 0,1,2,3,4                      # the headline alone (~2 hours)
    python benchmarks/fusion_mitbih.py --quick          # a smoke run (few records, 1 epoch)
    python benchmarks/fusion_mitbih.py --render-only    # rewrite the .md from the .json
    python benchmarks/fusion_mitbih.py --skip fusion,detected,dropout,sklearn \
        --long-epochs 30 --long-n-fractions 0.5 --long-seeds 0,1,2  # another budget

Preprocessing uses no labels: each record's windows are scaled by its median beat
amplitude and also given minus its median beat (two channels per lead), RR features
are log-transformed (the record-normalised ratios are among them), age is imputed with
the DS1 median. Class imbalance: all S, V and F training beats plus a seeded fraction of
N beats, and class weights "balanced" in every model.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _machine
from _fusion_mitbih_report import SCORED, best_fusion, dropout_gap, render
from _fusion_mitbih_seeds import headline
from medmodal.data import mitdb
from medmodal.data.beats import BEAT_CLASSES, BeatDataset, build_beats, normalize_morphology
from medmodal.data.subsample import keep_minority
from medmodal.metrics.classification import per_class_report

RESULTS = Path(__file__).resolve().parent / "results"
NAME = "fusion_mitbih"
MODALITIES = ("mlii", "other", "rhythm", "demographics")
FUSION_METHODS = ("early", "late", "intermediate", "attention", "gated")


# ---------------------------------------------------------------- data and features
def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "medmodal"


def load(peaks: str, records: tuple[str, ...], root: str | None) -> BeatDataset:
    t0 = time.perf_counter()
    beats = build_beats(records, root=root, peaks=peaks, cache_dir=cache_dir(), progress=True)  # type: ignore[arg-type]
    counts = beats.class_counts().to_dict()
    print(f"  {peaks} beats of {len(records)} records: {counts} ({time.perf_counter() - t0:.0f} s)")
    return beats


class Features:
    """Label-free preprocessing whose statistics (RR scaling, age) come from DS1 only."""

    def fit(self, beats: BeatDataset) -> Features:
        logs = np.log(beats.rhythm)
        self.mu_, self.sd_ = logs.mean(0), logs.std(0) + 1e-6
        age = beats.demographics[:, 0]
        self.age_fill_ = float(np.nanmedian(age))
        self.age_mu_, self.age_sd_ = float(np.nanmean(age)), float(np.nanstd(age)) + 1e-6
        return self

    def transform(self, beats: BeatDataset) -> dict[str, np.ndarray]:
        scaled = normalize_morphology(beats)
        centred = normalize_morphology(beats, subtract_median=True)
        age = np.where(np.isnan(beats.demographics[:, 0]), self.age_fill_, beats.demographics[:, 0])
        demo = np.stack([(age - self.age_mu_) / self.age_sd_, beats.demographics[:, 1]], axis=1)
        return {
            "mlii": np.stack([scaled.mlii, centred.mlii], axis=1).astype(np.float32),  # (n, 2, T)
            "other": np.stack([scaled.other, centred.other], axis=1).astype(np.float32),
            "rhythm": ((np.log(beats.rhythm) - self.mu_) / self.sd_).astype(np.float32),
            "demographics": np.nan_to_num(demo, nan=0.5).astype(np.float32),
        }


def training_rows(beats: BeatDataset, n_fraction: float, seed: int) -> np.ndarray:
    """All non-N beats and a seeded ``n_fraction`` of N beats (per record, evenly)."""
    return keep_minority(beats.label, fraction=n_fraction, majority="N", seed=seed)


def take(
    X: dict[str, np.ndarray], rows: np.ndarray, keys: tuple[str, ...]
) -> dict[str, np.ndarray]:
    return {k: X[k][rows] for k in keys}


# ---------------------------------------------------------------- metrics
def scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    """Se, +P, F1 per AAMI class, accuracy over all beats and macro-F1 over N/S/V."""
    r = per_class_report(y_true, y_pred, BEAT_CLASSES, scored=SCORED)
    out: dict[str, Any] = {"n": r.n, "accuracy": r.accuracy}
    out.update({c: asdict(r.scores[c]) for c in BEAT_CLASSES})
    out["macro_f1_nsv"] = r.macro_f1
    out["confusion"] = r.confusion.tolist()
    return out


# ---------------------------------------------------------------- models
Fitter = Callable[[dict[str, np.ndarray], np.ndarray], Any]


def fusion_factory(args: argparse.Namespace) -> Callable[..., Any]:
    """``make(method, **extra)`` -> an unfitted medmodal FusionClassifier."""
    from medmodal.fusion import FusionClassifier

    def make(method: str, **extra: Any) -> Any:
        params = {
            "class_weight": "balanced",
            "random_state": args.seed,
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "patience": args.patience,
            "signal_width": args.signal_width,
            "num_threads": args.threads,
            "verbose": args.verbose,
            **extra,
        }
        return FusionClassifier(method=method, **params)

    return make


def sklearn_features(X: dict[str, np.ndarray]) -> np.ndarray:
    """Hand-made feature vector: RR features, age/sex, both leads' centred waveforms
    subsampled to 32 points."""
    parts = [X["rhythm"], X["demographics"], X["mlii"][:, 1, ::4], X["other"][:, 1, ::4]]
    return np.hstack(parts)


def sklearn_models(seed: int) -> dict[str, Callable[[], Any]]:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return {
        "sklearn logistic regression": lambda: make_pipeline(
            StandardScaler(),
            LogisticRegression(class_weight="balanced", max_iter=1000, random_state=seed),
        ),
        "sklearn gradient boosting": lambda: HistGradientBoostingClassifier(
            class_weight="balanced", max_iter=200, random_state=seed
        ),
    }


# ---------------------------------------------------------------- experiments
def grouped_cv(
    make: Callable[[], Any],
    X: dict[str, np.ndarray],
    beats: BeatDataset,
    rows: np.ndarray,
    folds: int,
    keys: tuple[str, ...],
) -> dict[str, Any]:
    """Patient-grouped CV inside DS1: train on the subsampled rows of k-1 folds' records,
    score every beat of the held-out records; pooled predictions."""
    from sklearn.model_selection import GroupKFold

    from medmodal.fusion.compare import fold_splits

    records = beats.record
    pred = np.empty(len(beats), dtype=object)
    for _, test_rec in fold_splits(beats.label, GroupKFold(folds), groups=records):
        held = set(records[test_rec])
        fit_rows = rows[~np.isin(records[rows], list(held))]
        model = make().fit(take(X, fit_rows, keys), beats.label[fit_rows], groups=records[fit_rows])
        pred[test_rec] = model.predict(take(X, test_rec, keys))
    return scores(beats.label, pred.astype(str))


def run_fusion(args: argparse.Namespace, data: dict[str, Any], results: dict[str, Any]) -> None:
    make = fusion_factory(args)
    tr, te, rows = data["train"], data["test"], data["rows"]
    Xtr, Xte = data["Xtr"], data["Xte"]
    params = make("intermediate").get_params()
    results["fusion_params"] = {k: v for k, v in params.items() if k != "method"}
    entries: dict[str, Any] = results.setdefault("fusion", {})
    plan = [(f"unimodal: {m}", f"unimodal:{m}", (m,)) for m in MODALITIES]
    plan += [(f"fusion: {m}", m, MODALITIES) for m in args.methods]
    for name, method, keys in plan:
        if name in entries:
            continue
        t0 = time.perf_counter()
        entry: dict[str, Any] = {"method": method, "modalities": list(keys)}
        if args.cv_folds > 1 and name.startswith("fusion"):
            print(f"  {name}: {args.cv_folds}-fold patient-grouped CV on DS1")
            entry["ds1_cv"] = grouped_cv(
                lambda method=method: make(method), Xtr, tr, rows, args.cv_folds, keys
            )
        model = make(method).fit(take(Xtr, rows, keys), tr.label[rows], groups=tr.record[rows])
        data.setdefault("models", {})[name] = model
        entry["ds2"] = scores(te.label, model.predict(take(Xte, np.arange(len(te)), keys)))
        entry["seconds"] = time.perf_counter() - t0
        entries[name] = entry
        print(
            f"  {name}: DS2 macro-F1 {entry['ds2']['macro_f1_nsv']:.3f} ({entry['seconds']:.0f} s)"
        )
        save_json(results)


def run_seeds(args: argparse.Namespace, data: dict[str, Any], results: dict[str, Any]) -> None:
    """Every model of the main table refit with each of ``--headline-seeds`` (N-beat
    subsample, initialisation and batches all follow the seed; predictions cached), scored
    on DS2 as the mean ± sd over the seeds with patient-bootstrap intervals, with and
    without record 202. Seed-major, so an interrupted run has every model at equal seeds."""
    tr, te = data["train"], data["test"]
    Xtr, Xte = data["Xtr"], data["Xte"]
    every = np.arange(len(te))
    step: dict[str, Any] = results.setdefault("seeds", {})
    if step.get("seeds") != list(args.headline_seeds) or step.get("n_boot") != args.n_boot:
        step.clear()
    step.update(seeds=list(args.headline_seeds), n_boot=args.n_boot)
    step.setdefault("machine", _machine.machine_info(("torch", "scikit-learn")))
    runs: dict[str, dict[str, Any]] = step.setdefault("runs", {})
    plan = [(f"unimodal: {m}", f"unimodal:{m}", (m,)) for m in MODALITIES]
    plan += [(f"fusion: {m}", m, MODALITIES) for m in args.methods]
    preds: dict[str, list[np.ndarray]] = {name: [] for name, _, _ in plan}
    for seed in args.headline_seeds:
        rows = training_rows(tr, args.n_fraction, seed)
        for name, method, keys in plan:
            slug = name.replace(": ", "_").replace(":", "_")
            cache = cache_dir() / f"{NAME}{'_quick' if args.quick else ''}_seed_{slug}_{seed}.npz"
            if str(seed) not in runs.get(name, {}) or not cache.is_file():
                t0 = time.perf_counter()
                model = fusion_factory(args)(method, random_state=seed).fit(
                    take(Xtr, rows, keys), tr.label[rows], groups=tr.record[rows]
                )
                pred = np.asarray(model.predict(take(Xte, every, keys))).astype(str)
                cache.parent.mkdir(parents=True, exist_ok=True)
                np.savez(cache, pred=pred)
                runs.setdefault(name, {})[str(seed)] = {
                    "macro_f1_nsv": scores(te.label, pred)["macro_f1_nsv"],
                    "epochs_run": len(model.history_),
                    "seconds": time.perf_counter() - t0,
                }
                done = runs[name][str(seed)]
                print(f"  {name} seed {seed}: DS2 macro-F1 {done['macro_f1_nsv']:.3f} "
                      f"({done['seconds']:.0f} s)")  # fmt: skip
                save_json(results)
            with np.load(cache, allow_pickle=False) as z:
                preds[name].append(z["pred"])
        step["summary"] = {
            name: headline(te.label, np.stack(p, axis=1), te.record, args.n_boot)
            for name, p in preds.items() if p
        }  # fmt: skip
        save_json(results)
        (RESULTS / f"{NAME}.md").write_text(render(results))


def run_sklearn(args: argparse.Namespace, data: dict[str, Any], results: dict[str, Any]) -> None:
    tr, te, rows = data["train"], data["test"], data["rows"]
    Ftr, Fte = sklearn_features(data["Xtr"]), sklearn_features(data["Xte"])
    entries = results.setdefault("sklearn", {})
    for name, make in sklearn_models(args.seed).items():
        if name in entries:
            continue
        t0 = time.perf_counter()
        model = make().fit(Ftr[rows], tr.label[rows])
        entries[name] = {
            "ds2": scores(te.label, model.predict(Fte)),
            "seconds": time.perf_counter() - t0,
        }
        print(f"  {name}: DS2 macro-F1 {entries[name]['ds2']['macro_f1_nsv']:.3f}")
        save_json(results)


def run_dropout(args: argparse.Namespace, data: dict[str, Any], results: dict[str, Any]) -> None:
    """Modality dropout model with the second lead removed at test time vs a model
    trained without the second lead; ``--dropout-seeds`` repeats the comparison."""
    method = results["fusion"][best_fusion(results)]["method"]
    if "dropout" not in results:
        results["dropout"] = _dropout_once(args, data, method, args.seed, data["rows"])
        save_json(results)
    more = results.setdefault("dropout_seeds", {})
    for seed in args.dropout_seeds:
        if seed == args.seed or str(seed) in more:
            continue
        rows = training_rows(data["train"], args.n_fraction, seed)
        more[str(seed)] = _dropout_once(args, data, method, seed, rows)
        print(f"  dropout seed {seed}: gap {dropout_gap(more[str(seed)]):+.3f}")
        save_json(results)


def _dropout_once(
    args: argparse.Namespace, data: dict[str, Any], method: str, seed: int, rows: np.ndarray
) -> dict[str, Any]:
    make = fusion_factory(args)
    tr, te = data["train"], data["test"]
    Xtr, Xte = data["Xtr"], data["Xte"]
    every = np.arange(len(te))
    t0 = time.perf_counter()
    drop = make(method, modality_dropout=args.modality_dropout, random_state=seed).fit(
        take(Xtr, rows, MODALITIES), tr.label[rows], groups=tr.record[rows]
    )
    full = take(Xte, every, MODALITIES)
    masks = {"other": np.zeros(len(te), dtype=bool)}
    out: dict[str, Any] = {"method": method, "modality_dropout": args.modality_dropout}
    out["dropout_all_leads"] = scores(te.label, drop.predict(full))
    out["dropout_other_removed"] = scores(te.label, drop.predict(full, masks=masks))
    keys = tuple(m for m in MODALITIES if m != "other")
    without = make(method, random_state=seed).fit(
        take(Xtr, rows, keys), tr.label[rows], groups=tr.record[rows]
    )
    out["trained_without_other"] = scores(te.label, without.predict(take(Xte, every, keys)))
    out["seconds"] = time.perf_counter() - t0
    return out


def run_longer(args: argparse.Namespace, data: dict[str, Any], results: dict[str, Any]) -> None:
    """The DS1-CV-selected method with larger budgets fixed in advance (more epochs, each
    N-beat fraction of ``--long-n-fractions``, several seeds), each seed scored on DS2 and
    the seeds' mean probabilities as an ensemble. Nothing here is chosen on DS2: the
    budgets are the ones named on the command line, the method is the DS1 CV winner of
    the main table."""
    for fraction in args.long_n_fractions:
        _run_budget(args, data, results, fraction)


def _run_budget(
    args: argparse.Namespace, data: dict[str, Any], results: dict[str, Any], fraction: float
) -> None:
    plan = {"epochs": args.long_epochs, "n_fraction": fraction,
            "patience": args.long_patience, "seeds": list(args.long_seeds)}  # fmt: skip
    tag = ",".join(f"{k}={v}" for k, v in plan.items() if k != "seeds")
    runs: dict[str, Any] = results.setdefault("longer", {})
    out: dict[str, Any] = runs.setdefault(tag, {})
    if out.get("plan") != plan:
        out.clear()
    out["plan"] = plan
    best = best_fusion(results)
    method = out["method"] = results["fusion"][best]["method"]
    tr, te = data["train"], data["test"]
    Xtr, Xte = data["Xtr"], data["Xte"]
    every = take(Xte, np.arange(len(te)), MODALITIES)
    per_seed: dict[str, Any] = out.setdefault("seeds", {})
    probas = []
    for seed in args.long_seeds:
        stem = f"{NAME}{'_quick' if args.quick else ''}_longer_{method}"
        cache = cache_dir() / f"{stem}_{args.long_epochs}_{fraction}_{seed}.npz"
        if str(seed) in per_seed and cache.is_file():
            with np.load(cache, allow_pickle=False) as z:
                probas.append((z["classes"], z["proba"]))
            continue
        t0 = time.perf_counter()
        rows = training_rows(tr, fraction, seed)
        model = fusion_factory(args)(
            method, epochs=args.long_epochs, patience=args.long_patience, random_state=seed
        ).fit(take(Xtr, rows, MODALITIES), tr.label[rows], groups=tr.record[rows])
        proba = model.predict_proba(every)
        classes = np.asarray(model.classes_).astype(str)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, classes=classes, proba=proba)
        probas.append((classes, proba))
        per_seed[str(seed)] = {
            "ds2": scores(te.label, classes[proba.argmax(1)]),
            "train_rows": int(rows.size),
            "epochs_run": len(model.history_),
            "seconds": time.perf_counter() - t0,
        }
        done = per_seed[str(seed)]
        print(f"  longer {method} seed {seed}: DS2 macro-F1 "
              f"{done['ds2']['macro_f1_nsv']:.3f} ({done['seconds']:.0f} s)")  # fmt: skip
        save_json(results)
    if len(probas) > 1:
        classes = probas[0][0]
        mean = np.mean([p for _, p in probas], axis=0)
        out["ensemble"] = scores(te.label, classes[mean.argmax(1)])


def run_detected(args: argparse.Namespace, data: dict[str, Any], results: dict[str, Any]) -> None:
    """End to end: the best model (trained on DS1 reference beats) applied to the DS2
    beats our own R-peak detector finds, with rhythm features from detected beats only."""
    if "detected" in results:
        return
    best = best_fusion(results)
    method = results["fusion"][best]["method"]
    model = data.get("models", {}).get(best)
    tr, rows = data["train"], data["rows"]
    t0 = time.perf_counter()
    if model is None:  # resumed run: refit the same model
        model = fusion_factory(args)(method).fit(
            take(data["Xtr"], rows, MODALITIES), tr.label[rows], groups=tr.record[rows]
        )
    te = load("detected", data["ds2_ids"], args.data_root)
    Xte = data["features"].transform(te)
    res = scores(te.label, model.predict(take(Xte, np.arange(len(te)), MODALITIES)))
    results["detected"] = {
        "method": method,
        "ds2": res,
        "reference_beats": sum(c["labelled"] for c in te.counts.values()),
        "matched_beats": sum(c["matched"] for c in te.counts.values()),
        "extra_detections": sum(c["extra"] for c in te.counts.values()),
        "seconds": time.perf_counter() - t0,
    }
    save_json(results)


# ---------------------------------------------------------------- report
def save_json(results: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{NAME}.json").write_text(json.dumps(results, indent=1, default=float))


# ---------------------------------------------------------------- main
def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-root", default=None)
    p.add_argument("--quick", action="store_true", help="smoke run: 4+4 records, 1 epoch")
    p.add_argument("--render-only", action="store_true")
    p.add_argument("--fresh", action="store_true", help="ignore results already in the .json")
    p.add_argument("--methods", default=",".join(FUSION_METHODS))
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--patience", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--signal-width", type=int, default=16)
    p.add_argument("--verbose", action="store_true", help="tqdm bar over epochs")
    p.add_argument("--n-fraction", type=float, default=0.1)
    p.add_argument("--cv-folds", type=int, default=2)
    p.add_argument("--modality-dropout", type=float, default=0.3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="results folder (default benchmarks/results)")
    p.add_argument(
        "--skip", default="", help="comma list of: fusion,seeds,sklearn,dropout,detected,longer"
    )
    p.add_argument(
        "--dropout-seeds",
        type=lambda s: tuple(int(x) for x in s.split(",")),
        default=(0, 1, 2),
        help="dropout step: seeds (the main seed's result is kept)",
    )
    p.add_argument("--headline-seeds", type=lambda s: tuple(int(x) for x in s.split(",")),
                   default=(0, 1, 2, 3, 4), help="seeds step: comma list of seeds")  # fmt: skip
    p.add_argument("--n-boot", type=int, default=1000, help="seeds step: bootstrap resamples")
    p.add_argument("--long-epochs", type=int, default=20, help="longer step: epochs")
    p.add_argument(
        "--long-n-fractions",
        type=lambda s: tuple(float(x) for x in s.split(",")),
        default=(0.1, 0.3),
        help="longer step: comma list of N-beat fractions (one budget each)",
    )
    p.add_argument("--long-patience", type=int, default=4, help="longer step: early-stop patience")
    p.add_argument("--long-seeds", type=lambda s: tuple(int(x) for x in s.split(",")),
                   default=(0, 1, 2), help="longer step: comma list of seeds")  # fmt: skip
    args = p.parse_args(argv)
    args.methods = tuple(m for m in args.methods.split(",") if m)
    return args


def main(argv: list[str] | None = None) -> None:
    global RESULTS
    args = parse(argv)
    if args.out:
        RESULTS = Path(args.out)
    path = RESULTS / f"{NAME}.json"
    if args.render_only:
        (RESULTS / f"{NAME}.md").write_text(render(json.loads(path.read_text())))
        return
    import torch

    torch.set_num_threads(args.threads)
    ds1, ds2 = mitdb.DS1, mitdb.DS2
    if args.quick:
        ds1, ds2 = ("106", "119", "208", "209"), ("100", "200", "232", "233")
        args.epochs, args.cv_folds = 1, 2
    results: dict[str, Any] = (
        {} if args.fresh or not path.is_file() else json.loads(path.read_text())
    )
    settings = {
        k: v for k, v in vars(args).items()
        if k not in ("render_only", "fresh", "skip", "dropout_seeds", "headline_seeds", "n_boot")
        and not k.startswith("long_")
    }  # fmt: skip
    if results.get("settings") != {**settings, "methods": list(args.methods)}:
        results = {}
    results["settings"] = {**settings, "methods": list(args.methods)}
    info = _machine.machine_info(("torch", "scikit-learn"))
    results.setdefault("machine", info)  # of the first (fusion) step
    if results["machine"] is not info and "sklearn" not in args.skip.split(","):
        results["machine_resumed"] = info  # the page names it as the scikit-learn step's
    tr, te = load("reference", ds1, args.data_root), load("reference", ds2, args.data_root)
    feats = Features().fit(tr)
    rows = training_rows(tr, args.n_fraction, args.seed)
    data = {
        "train": tr, "test": te, "rows": rows, "ds1_ids": ds1, "ds2_ids": ds2, "features": feats,
        "Xtr": feats.transform(tr), "Xte": feats.transform(te),
    }  # fmt: skip
    results["data"] = {
        "ds1": tr.class_counts().to_dict(),
        "ds2": te.class_counts().to_dict(),
        "train_rows": int(rows.size),
    }
    skip = set(args.skip.split(","))
    steps = (
        ("fusion", run_fusion),
        ("seeds", run_seeds),
        ("detected", run_detected),
        ("dropout", run_dropout),
        ("sklearn", run_sklearn),
        ("longer", run_longer),
    )
    for step, func in steps:
        if step not in skip:
            print(f"[{step}]")
            func(args, data, results)
            save_json(results)
            (RESULTS / f"{NAME}.md").write_text(render(results))


if __name__ == "__main__":
    main()
