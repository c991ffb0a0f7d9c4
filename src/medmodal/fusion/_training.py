"""The training loop of the fusion estimator: shuffled minibatches over in-memory tensors.

The optimiser, the best-epoch rule and the weight snapshot are the shared ones of
:mod:`medmodal._torch` (as in :func:`medmodal.train.fit`); what stays here is what fusion
alone does: full-batch tensors in memory, shuffled by a seeded generator, a constant
learning rate, late fusion's per-modality loss terms, and batches of one skipped for
batch norm.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor

from medmodal._torch import AdamW, copy_weights, is_improvement
from medmodal.fusion._base import FusionModel, FusionOutput
from medmodal.fusion.config import FusionTrainConfig

#: Early stopping: smallest drop of the validation loss counted as an improvement.
_MIN_DELTA = 1e-4


@dataclass
class Batch:
    """Model inputs for a set of samples: one tensor per modality and the presence mask."""

    inputs: dict[str, Tensor]
    present: Tensor  # (n, M) bool

    def take(self, idx: Tensor) -> Batch:
        """The rows ``idx``."""
        return Batch({k: v[idx] for k, v in self.inputs.items()}, self.present[idx])

    def __len__(self) -> int:
        return int(self.present.shape[0])


def loss_fn(
    out: FusionOutput, target: Tensor, present: Tensor, *, multilabel: bool, weight: Tensor | None
) -> Tensor:
    """Loss of the fused logits plus, for late fusion, each modality's own loss."""
    loss = _loss(out.logits, target, multilabel, weight).mean()
    if out.modality_logits is not None:
        per = torch.stack(
            [
                _loss(out.modality_logits[:, i], target, multilabel, weight)
                for i in range(out.modality_logits.shape[1])
            ],
            dim=1,
        )  # (B, M)
        mask = present.float()
        loss = loss + (per * mask).sum() / mask.sum().clamp_min(1.0)
    return loss


def _loss(logits: Tensor, target: Tensor, multilabel: bool, weight: Tensor | None) -> Tensor:
    if multilabel:
        per = F.binary_cross_entropy_with_logits(
            logits, target, pos_weight=weight, reduction="none"
        )
        return per.mean(dim=1)  # (B,)
    return F.cross_entropy(logits, target, weight=weight, reduction="none")  # (B,)


def evaluate_loss(
    model: FusionModel, data: Batch, target: Tensor, *, multilabel: bool, batch_size: int
) -> float:
    """Mean fused loss (no auxiliary terms, no class weights) over ``data``."""
    model.eval()
    total = 0.0
    with torch.inference_mode():
        for start in range(0, len(data), batch_size):
            idx = torch.arange(start, min(start + batch_size, len(data)))
            out = model(data.take(idx).inputs, data.present[idx])
            total += float(_loss(out.logits, target[idx], multilabel, None).sum())
    return total / max(len(data), 1)


def fit_network(
    model: FusionModel,
    train: tuple[Batch, Tensor],
    val: tuple[Batch, Tensor] | None,
    cfg: FusionTrainConfig,
    *,
    weight: Tensor | None,
    generator: torch.Generator,
) -> list[dict[str, float]]:
    """Train ``model`` in place (AdamW); keep the weights of the best validation epoch."""
    from tqdm.auto import tqdm

    data, target = train
    multilabel = model.multilabel
    opt = AdamW(list(model.parameters()), lr=cfg.lr, weight_decay=cfg.weight_decay)
    history: list[dict[str, float]] = []
    best: float | None = None
    best_state: dict[str, Tensor] | None = None
    stale = 0
    bar = tqdm(range(cfg.epochs), desc="fit", unit="epoch", disable=not cfg.verbose, leave=False)
    for epoch in bar:
        model.train()
        order = torch.randperm(len(data), generator=generator)
        running = 0.0
        for start in range(0, len(data), cfg.batch_size):
            idx = order[start : start + cfg.batch_size]
            if len(idx) < 2 and len(data) > 1:
                continue  # batch norm needs two samples
            batch = data.take(idx)
            out = model(batch.inputs, batch.present)
            loss = loss_fn(out, target[idx], batch.present, multilabel=multilabel, weight=weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            running += float(loss.detach()) * len(idx)
        record = {"epoch": float(epoch + 1), "train_loss": running / len(data)}
        if val is not None:
            record["val_loss"] = evaluate_loss(
                model, val[0], val[1], multilabel=multilabel, batch_size=4096
            )
            if is_improvement(record["val_loss"], best, min_delta=_MIN_DELTA):
                best, stale = record["val_loss"], 0
                best_state = copy_weights(model)
            else:
                stale += 1
        history.append(record)
        bar.set_postfix({k: f"{v:.4f}" for k, v in record.items() if k != "epoch"})
        if val is not None and stale >= cfg.patience:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history
