"""The training loop of the fusion estimator: shuffled minibatches over in-memory tensors."""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor

from medmodal.fusion._base import FusionModel, FusionOutput
from medmodal.fusion.config import TrainConfig


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


@contextlib.contextmanager
def num_threads(n: int | None) -> Iterator[None]:
    """Temporarily ``torch.set_num_threads(n)`` (no-op for ``None``)."""
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class AdamW:
    """The AdamW update of ``torch.optim.AdamW`` (default betas/eps, no amsgrad) on foreach
    kernels; constructing ``torch.optim`` optimizers imports ``torch._dynamo``, which costs
    seconds per process, so this small version keeps short fits and the CLI quick.

    References:
        Loshchilov I, Hutter F. Decoupled weight decay regularization. ICLR (2019).
    """

    def __init__(
        self,
        params: list[torch.nn.Parameter],
        *,
        lr: float,
        weight_decay: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.weight_decay, self.betas, self.eps = lr, weight_decay, betas, eps
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.steps = [0] * len(self.params)

    def zero_grad(self) -> None:
        """Forget the gradients."""
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        live = [i for i, p in enumerate(self.params) if p.grad is not None]
        b1, b2 = self.betas
        for i in live:  # bias corrections differ when a parameter skipped steps
            self.steps[i] += 1
        ps: list[Tensor] = [self.params[i] for i in live]
        grads: list[Tensor] = [g for i in live if (g := self.params[i].grad) is not None]
        ms, vs = [self.m[i] for i in live], [self.v[i] for i in live]
        torch._foreach_mul_(ps, 1 - self.lr * self.weight_decay)
        torch._foreach_lerp_(ms, grads, 1 - b1)
        torch._foreach_mul_(vs, b2)
        torch._foreach_addcmul_(vs, grads, grads, value=1 - b2)
        for i, p, m, v in zip(live, ps, ms, vs, strict=True):
            t = self.steps[i]
            denom = (v.sqrt() / math.sqrt(1 - b2**t)).add_(self.eps)
            p.addcdiv_(m, denom, value=-self.lr / (1 - b1**t))


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
    cfg: TrainConfig,
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
    best, best_state, stale = np.inf, None, 0
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
            if record["val_loss"] < best - 1e-4:
                best, stale = record["val_loss"], 0
                best_state = copy.deepcopy(model.state_dict())
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
