"""AdamW with decay on weight matrices only, and the linear warm-up + cosine LR schedule.

Example:
    >>> from medmodal.train.optim import warmup_cosine
    >>> [round(warmup_cosine(s, warmup=2, total=6), 2) for s in range(7)]
    [0.0, 0.5, 1.0, 0.85, 0.5, 0.15, 0.0]
"""

from __future__ import annotations

import math
from functools import partial

import torch
from torch import nn
from torch.optim.lr_scheduler import LambdaLR

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


def build_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.AdamW:
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
    return torch.optim.AdamW(groups, lr=config.lr, betas=config.betas)


def build_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig, total_steps: int
) -> LambdaLR:
    """Warm-up + cosine schedule over ``total_steps`` optimiser steps (step it per batch)."""
    schedule = partial(
        warmup_cosine,
        warmup=config.warmup_for(total_steps),
        total=total_steps,
        min_ratio=config.min_lr_ratio,
    )
    return LambdaLR(optimizer, schedule)
