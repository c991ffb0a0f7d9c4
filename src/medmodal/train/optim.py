"""AdamW with decay on weight matrices only, and the linear warm-up + cosine LR schedule.

The optimiser is :class:`medmodal._torch.AdamW`, the one the fusion estimator uses too
(``torch.optim.AdamW``'s update, bit for bit on CPU, without importing ``torch._dynamo``);
:class:`LRSchedule` sets each group's learning rate per step as ``LambdaLR`` would.

Example:
    >>> from medmodal.train.optim import warmup_cosine
    >>> [round(warmup_cosine(s, warmup=2, total=6), 2) for s in range(7)]
    [0.0, 0.5, 1.0, 0.85, 0.5, 0.15, 0.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from torch import nn

from medmodal._torch import AdamW
from medmodal.errors import InvalidParameterError
from medmodal.train.config import TrainConfig


def warmup_cosine(step: int, *, warmup: int, total: int, min_ratio: float = 0.0) -> float:
    """LR multiplier at ``step``: 0 -> 1 linearly over ``warmup`` steps, then a half cosine.

    The multiplier reaches ``min_ratio`` at ``step == total``.

    References:
        Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts",
        ICLR 2017 (cosine annealing); Goyal et al., "Accurate, Large Minibatch SGD",
        arXiv:1706.02677 (linear warm-up).
    """
    if step < warmup:
        return step / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def build_optimizer(model: nn.Module, config: TrainConfig) -> AdamW:
    """AdamW over trainable parameters; weight decay only on tensors with >= 2 dims.

    Biases, norm scales and scalars such as a learnable logit scale are not decayed.

    References:
        Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019.
    """
    trainable = [p for p in model.parameters() if p.requires_grad]
    if not trainable:
        raise InvalidParameterError(
            f"build_optimizer: {type(model).__name__} has no trainable parameters "
            "(all have requires_grad=False)"
        )
    groups = [
        {"params": [p for p in trainable if p.ndim >= 2], "weight_decay": config.weight_decay},
        {"params": [p for p in trainable if p.ndim < 2], "weight_decay": 0.0},
    ]
    return AdamW(groups, lr=config.lr, weight_decay=config.weight_decay, betas=config.betas)


class LRSchedule:
    """Sets every group's ``lr`` to its base rate times ``multiplier(step)``, each step.

    The arithmetic of ``torch.optim.lr_scheduler.LambdaLR`` (``base_lr * multiplier``,
    applied once at construction for step 0), and its ``state_dict`` keys
    (``last_epoch`` counts the steps taken, ``base_lrs``), so checkpoints stay readable.
    """

    def __init__(self, optimizer: AdamW, multiplier: Callable[[int], float]) -> None:
        self.optimizer, self.multiplier = optimizer, multiplier
        self.base_lrs = [float(g["lr"]) for g in optimizer.param_groups]
        self.last_epoch = 0
        self._apply()

    def step(self) -> None:
        """Advance one optimiser step and set the learning rates for the next."""
        self.last_epoch += 1
        self._apply()

    def _apply(self) -> None:
        factor = self.multiplier(self.last_epoch)
        for group, base in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            group["lr"] = base * factor

    def state_dict(self) -> dict[str, Any]:
        """The step count and the base rates."""
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Continue from what :meth:`state_dict` (or ``LambdaLR.state_dict``) wrote."""
        self.last_epoch = int(state_dict["last_epoch"])
        self.base_lrs = [float(b) for b in state_dict["base_lrs"]]
        self._apply()


def build_scheduler(optimizer: AdamW, config: TrainConfig, total_steps: int) -> LRSchedule:
    """Warm-up + cosine schedule over ``total_steps`` optimiser steps (step it per batch)."""
    schedule = partial(
        warmup_cosine,
        warmup=config.warmup_for(total_steps),
        total=total_steps,
        min_ratio=config.min_lr_ratio,
    )
    return LRSchedule(optimizer, schedule)
