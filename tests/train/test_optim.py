from __future__ import annotations

import itertools
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from medmodal.train import TrainConfig
from medmodal.train.optim import build_optimizer, build_scheduler, warmup_cosine


def test_weight_decay_only_on_matrices() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4))
    model.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))  # type: ignore[assignment]
    model[0].bias.requires_grad_(False)  # frozen: not optimised at all
    optimizer = build_optimizer(model, TrainConfig(weight_decay=0.1, betas=(0.8, 0.9)))
    decay, no_decay = optimizer.param_groups
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert [p.shape for p in decay["params"]] == [(4, 3)]
    assert {p.shape for p in no_decay["params"]} == {(4,), ()}  # LayerNorm + logit scale
    assert len(no_decay["params"]) == 3
    assert decay["betas"] == (0.8, 0.9)


def test_scheduler_steps_through_the_schedule() -> None:
    model = nn.Linear(2, 2)
    cfg = TrainConfig(lr=0.1, warmup_ratio=0.25)
    optimizer = build_optimizer(model, cfg)
    scheduler = build_scheduler(optimizer, cfg, total_steps=8)
    lrs = []
    for _ in range(8):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    cosine = [0.1 * (1 + math.cos(math.pi * k / 6)) / 2 for k in range(6)]
    assert lrs == pytest.approx([0.0, 0.05, *cosine])


@given(
    warmup=st.integers(0, 50),
    extra=st.integers(1, 500),
    min_ratio=st.floats(0.0, 1.0),
)
def test_warmup_cosine_shape(warmup: int, extra: int, min_ratio: float) -> None:
    total = warmup + extra
    values = [
        warmup_cosine(s, warmup=warmup, total=total, min_ratio=min_ratio) for s in range(total + 1)
    ]
    rising, falling = values[: warmup + 1], values[warmup:]
    assert all(a <= b for a, b in itertools.pairwise(rising))
    assert all(a >= b - 1e-12 for a, b in itertools.pairwise(falling))
    assert values[warmup] == pytest.approx(1.0)
    assert values[-1] == pytest.approx(min_ratio)
    assert all(-1e-12 <= v <= 1.0 + 1e-12 for v in values)
