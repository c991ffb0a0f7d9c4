"""What the medpix-clip image tower can learn about the zero-shot labels when told them.

The zero-shot bars of issue 4 (MedPix dev: CT vs MR >= 95 %, body region >= 75 %) are
missed, and zero-shot sits at the linear probe of the contrastive image embeddings. This
script asks whether the tower itself (``medpix-clip``'s compact ResNet, from scratch, at
the same image size, augmentation, optimiser, schedule, epochs and seed as
``align_medpix.py``) can reach the bars when it is trained *with the labels*: two linear
heads (modality, body region) on its pooled features, cross-entropy, no text. Its dev
accuracy is the ceiling of supervised learning on these 1,653 images with this tower, to
put beside the contrastive model's zero-shot and probe accuracies (read from the
committed ``align_medpix.json``).

Usage::

    python benchmarks/medpix_supervised.py [--epochs 60] [--image-size 96] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from _machine import describe, machine_info  # benchmarks/ is the script's folder, on sys.path
from medmodal.align import LabelledPairs, collate_pairs, get_task
from medmodal.models import get_config
from medmodal.models.image_encoder import build_image_encoder
from medmodal.train import TrainConfig, fit

RESULTS = Path(__file__).resolve().parent / "results"
NAME = "medpix_supervised"
LABELS = ("modality", "location_category")


class TowerWithHeads(nn.Module):
    """The medpix-clip image tower with one linear head per label."""

    def __init__(self, image_size: int, n_classes: dict[str, int]) -> None:
        super().__init__()
        config = get_config("medpix-clip", image={"image_size": image_size}).image
        if config is None:
            raise ValueError("medpix-clip has no image tower")
        self.tower = build_image_encoder(config)
        dim = int(self.tower.out_dim)  # type: ignore[arg-type]
        self.heads = nn.ModuleDict({k: nn.Linear(dim, n) for k, n in n_classes.items()})

    def forward(self, image: Tensor) -> dict[str, Tensor]:
        h = self.tower(image)
        return {k: head(h) for k, head in self.heads.items()}


class Labelled(Dataset[dict[str, Any]]):
    """A MedPix split whose items also carry each label's class code (ints)."""

    def __init__(self, pairs: LabelledPairs, codes: dict[str, list[int]]) -> None:
        self.pairs, self.codes = pairs, codes

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {**self.pairs[i], **{k: v[i] for k, v in self.codes.items()}}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--render-only", action="store_true", help="rewrite the .md from the .json")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--image-size", type=int, default=96)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--data-root", type=Path)
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    if args.render_only:
        results = json.loads((args.out / f"{NAME}.json").read_text())
        (args.out / f"{NAME}.md").write_text(render(results))
        return results
    torch.set_num_threads(args.threads)
    task = get_task("medpix")
    load = {"root": args.data_root, "image_size": args.image_size, "seed": args.seed}
    train_set = task.load("train", augment=True, **load)
    dev_set = task.load("dev", augment=False, **load)
    classes = {k: sorted(train_set.labels[k].astype(str).unique()) for k in LABELS}

    def codes(frame: Any) -> dict[str, list[int]]:
        return {k: [classes[k].index(v) for v in frame[k].astype(str)] for k in LABELS}

    train_data = Labelled(train_set, codes(train_set.labels))
    dev_data = Labelled(dev_set, codes(dev_set.labels))

    def loss_fn(model: nn.Module, batch: dict[str, Any]) -> Tensor:
        out = model(batch["image"])
        losses = [nn.functional.cross_entropy(out[k], batch[k]) for k in LABELS]
        return torch.stack(losses).mean()

    @torch.no_grad()
    def evaluate(model: nn.Module, dataset: Any) -> dict[str, float]:
        batch = collate_pairs([dataset[i] for i in range(len(dataset))])
        out = model(batch["image"])
        return {f"acc_{k}": float((out[k].argmax(1) == batch[k]).float().mean()) for k in LABELS}

    torch.manual_seed(args.seed)
    model = TowerWithHeads(args.image_size, {k: len(v) for k, v in classes.items()})
    recipe = task.train_config(  # align_medpix.py's recipe, monitored on the labels
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
        monitor="acc_modality", restore_best=False, progress=not args.quiet, tensorboard=False,
    )  # fmt: skip
    config = TrainConfig.from_dict(recipe.to_dict())
    cpu0 = time.process_time()
    result = fit(
        model, train_data, dev_data, config, loss_fn=loss_fn, evaluate=evaluate,
        collate_fn=collate_pairs,
    )  # fmt: skip
    history = result.history
    final = history.iloc[-1]
    clip = json.loads((RESULTS / "align_medpix.json").read_text())["medpix"]["medpix-clip"]
    results = {
        "settings": {k: str(v) for k, v in vars(args).items()},
        "machine": machine_info(("torch",)),
        "train_cpu_s": time.process_time() - cpu0,
        "supervised_final": {k: float(final[f"acc_{k}"]) for k in LABELS},
        "supervised_last10_mean": {k: float(history[f"acc_{k}"].tail(10).mean()) for k in LABELS},
        "clip_zero_shot": {k: clip["dev"]["zero_shot"][k] for k in LABELS},
        "clip_linear_probe": {k: clip["dev"]["linear_probe"][k] for k in LABELS},
        "history": history[["epoch", "train_loss", "val_loss"] + [f"acc_{k}" for k in LABELS]]
        .round(4)
        .to_dict("records"),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{NAME}.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.out / f"{NAME}.md").write_text(render(results))
    print(json.dumps(results["supervised_final"]))
    return results


def render(r: dict[str, Any]) -> str:
    s = r["settings"]
    rows = [
        ("supervised tower (final epoch)", r["supervised_final"]),
        ("supervised tower (mean of the last 10 epochs)", r["supervised_last10_mean"]),
        ("medpix-clip zero-shot (align_medpix.md)", r["clip_zero_shot"]),
        ("medpix-clip linear probe (align_medpix.md)", r["clip_linear_probe"]),
    ]
    lines = [
        "# MedPix dev: the medpix-clip image tower trained with the labels",
        "",
        f"Produced by `benchmarks/medpix_supervised.py` (epochs={s['epochs']}, "
        f"batch_size={s['batch_size']}, lr={s['lr']}, image_size={s['image_size']}, "
        f"seed={s['seed']}, threads={s['threads']}). Machine: {describe(r['machine'])}",
        "",
        "The same compact ResNet as medpix-clip's image tower, from scratch, with the same "
        "augmentation, optimiser, schedule and epochs as `align_medpix.py`, trained on the "
        "1,653 train images with two linear heads (modality, body region) and "
        "cross-entropy. Bars of issue 4 (zero-shot): CT vs MR >= 95 %, body region >= 75 %.",
        "",
        "| model | CT vs MR | body region |",
        "|---|---|---|",
    ]
    lines += [
        f"| {name} | {v['modality']:.1%} | {v['location_category']:.1%} |" for name, v in rows
    ]
    sup, zs = r["supervised_final"], r["clip_zero_shot"]
    below = sup["modality"] < 0.95 or sup["location_category"] < 0.75
    verdict = (
        "Told the labels, the tower still stays below the zero-shot bars; the contrastive "
        f"model's zero-shot accuracy is within {100 * (sup['modality'] - zs['modality']):.1f} "
        f"/ {100 * (sup['location_category'] - zs['location_category']):.1f} points of it. "
        "What limits zero-shot here is what a from-scratch tower learns from 1,653 images, "
        "not the prompts or the contrastive objective: the bars need better image features "
        "(pretrained weights, more images, a larger model and the compute to train it)."
        if below
        else "Told the labels, the tower reaches the bars: the contrastive objective, not "
        "the tower, is what falls short."
    )
    lines += [
        "",
        verdict,
        "",
        f"Training CPU time: {r['train_cpu_s']:.0f} s. Dev has 197 images: one image is 0.5 "
        "points.",
        "",
        "Per-epoch dev accuracy of the supervised tower:",
        "",
        "| epoch | train_loss | val_loss | CT vs MR | body region |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {int(h['epoch'])} | {h['train_loss']:.3f} | {h['val_loss']:.3f} | "
        f"{h['acc_modality']:.3f} | {h['acc_location_category']:.3f} |"
        for h in r["history"]
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
