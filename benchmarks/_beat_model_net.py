"""The network of ``benchmarks/train_beat_model.py``: recipe, torch training, export to
the shipped layout, and the numpy forward that ``medmodal.ecg`` evaluates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from medmodal.ecg.beat_classes import BEAT_CLASSES


@dataclass
class Recipe:
    """Training settings (the searched ones are chosen on the DS1 folds)."""

    hidden: tuple[int, ...] = (128, 64)  # hidden units per layer
    dropout: float = 0.2
    lr: float = 1e-3
    weight_decay: float = 1e-3
    batch_size: int = 512
    max_epochs: int = 20  # upper end of the epoch search
    epochs: int = 20  # chosen on the folds
    class_power: float = 0.5  # loss weight per class = (n_max / n_class) ** power
    leads: tuple[str, ...] = ("first", "second")  # training leads: MLII and the other
    record_standardise: bool = True  # input: features + the same per record (always, in v2)
    logit_offset: list[float] = field(default_factory=lambda: [0.0] * 5)
    #: per-record self-training settings (``medmodal.ecg.beat_classes.SelfTraining``),
    #: chosen on the folds from ``SELF_TRAINING_GRID`` of the script; ``None``: none
    self_training: dict[str, float] | None = None


def build_net(n_in: int, recipe: Recipe) -> Any:
    import torch.nn as nn

    layers: list[Any] = []
    width = n_in
    for h in recipe.hidden:
        layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(recipe.dropout)]
        width = h
    layers.append(nn.Linear(width, len(BEAT_CLASSES)))
    return nn.Sequential(*layers)


def train(x: np.ndarray, y: np.ndarray, recipe: Recipe, seed: int, *, epochs: int | None = None,
          on_epoch: Any = None) -> dict[str, np.ndarray]:  # fmt: skip
    """Train one network; returns its tensors in the shipped layout (numpy)."""
    import torch

    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    mean = x.mean(0)
    std = x.std(0) + 1e-3
    xt = torch.from_numpy(((x - mean) / std).astype(np.float32))
    yt = torch.from_numpy(y.astype(np.int64))
    counts = np.bincount(y, minlength=len(BEAT_CLASSES)).astype(float)
    weight = np.where(counts > 0, (counts.max() / np.maximum(counts, 1)) ** recipe.class_power, 0)
    net = build_net(x.shape[1], recipe)
    opt = torch.optim.AdamW(net.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor(weight, dtype=torch.float32))
    gen = torch.Generator().manual_seed(seed)
    for epoch in range(epochs or recipe.epochs):
        net.train()
        for idx in torch.randperm(len(yt), generator=gen).split(recipe.batch_size):
            opt.zero_grad()
            loss_fn(net(xt[idx]), yt[idx]).backward()
            opt.step()
        if on_epoch is not None:
            on_epoch(epoch + 1, export(net, mean, std))
    return export(net, mean, std)


def export(net: Any, mean: np.ndarray, std: np.ndarray) -> dict[str, np.ndarray]:
    linears = [m for m in net if hasattr(m, "weight")]
    out = {"mean": mean.astype(np.float32), "std": std.astype(np.float32)}
    for k, lin in enumerate(linears):
        out[f"w{k}"] = lin.weight.detach().numpy().astype(np.float32).copy()
        out[f"b{k}"] = lin.bias.detach().numpy().astype(np.float32).copy()
    return out


def logits(tensors: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The numpy forward of the library (same math as ``_beats/network.py``)."""
    n_layers = sum(k.startswith("w") for k in tensors)
    h = (x.astype(np.float32) - tensors["mean"]) / tensors["std"]
    for k in range(n_layers):
        h = h @ tensors[f"w{k}"].T + tensors[f"b{k}"]
        if k < n_layers - 1:
            h = np.maximum(h, 0.0)
    return h.astype(np.float64)
