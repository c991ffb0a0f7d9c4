"""The shared torch helpers: thread guard, AdamW (against torch.optim's), best-epoch rule."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from medmodal._torch import AdamW, copy_weights, is_improvement, num_threads
from medmodal.errors import InvalidParameterError


def _net(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 7), nn.LayerNorm(7), nn.ReLU(), nn.Linear(7, 2))


def _groups(model: nn.Module, decay: float) -> list[dict[str, object]]:
    params = list(model.parameters())
    return [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]


def _train(model: nn.Module, opt: object, lrs: list[float], *, skip: bool) -> None:
    """A few steps with changing learning rates; with ``skip`` the last layer sits one out."""
    g = torch.Generator().manual_seed(1)
    for step, lr in enumerate(lrs):
        for group in opt.param_groups:  # type: ignore[attr-defined]
            group["lr"] = lr
        opt.zero_grad()  # type: ignore[attr-defined]
        x = torch.randn(16, 5, generator=g)
        loss = model(x).pow(2).mean()
        loss.backward()
        if skip and step == 1:
            for p in model[3].parameters():  # type: ignore[index]
                p.grad = None  # bias corrections of this layer now lag one step
        opt.step()  # type: ignore[attr-defined]


@settings(max_examples=15, deadline=None)
@given(
    lr=st.floats(1e-4, 0.5),
    decay=st.floats(0.0, 0.3),
    b1=st.floats(0.0, 0.99),
    b2=st.floats(0.5, 0.9999),
    skip=st.booleans(),
)
def test_adamw_matches_torch_optim_bit_for_bit(
    lr: float, decay: float, b1: float, b2: float, skip: bool
) -> None:
    ours_net, ref_net = _net(0), _net(0)
    ours = AdamW(_groups(ours_net, decay), lr=lr, betas=(b1, b2))
    ref = torch.optim.AdamW(_groups(ref_net, decay), lr=lr, betas=(b1, b2))
    lrs = [lr, 0.0, lr / 3, lr, 2 * lr]
    _train(ours_net, ours, lrs, skip=skip)
    _train(ref_net, ref, lrs, skip=skip)
    for a, b in zip(ours_net.parameters(), ref_net.parameters(), strict=True):
        assert torch.equal(a, b)


def test_state_dict_round_trips_with_torch_optim() -> None:
    """A state saved by either optimiser continues in the other exactly."""
    ours_net, ref_net = _net(0), _net(0)
    ours = AdamW(_groups(ours_net, 0.1), lr=0.01)
    ref = torch.optim.AdamW(_groups(ref_net, 0.1), lr=0.01)
    _train(ours_net, ours, [0.01] * 3, skip=True)
    _train(ref_net, ref, [0.01] * 3, skip=True)
    ours_sd, ref_sd = ours.state_dict(), ref.state_dict()
    assert set(ours_sd["state"]) == set(ref_sd["state"])
    for i, s in ours_sd["state"].items():
        assert float(s["step"]) == float(ref_sd["state"][i]["step"])
    ours2 = AdamW(_groups(ours_net, 0.5), lr=1.0)  # the saved groups win
    ours2.load_state_dict(ref_sd)
    ref2 = torch.optim.AdamW(_groups(ref_net, 0.5), lr=1.0)
    ref2.load_state_dict(ours_sd)
    assert ours2.param_groups[0]["weight_decay"] == 0.1 and ours2.param_groups[0]["lr"] == 0.01
    _train(ours_net, ours2, [0.01] * 2, skip=False)
    _train(ref_net, ref2, [0.01] * 2, skip=False)
    for a, b in zip(ours_net.parameters(), ref_net.parameters(), strict=True):
        assert torch.equal(a, b)


def test_load_state_dict_rejects_other_groups() -> None:
    saved = AdamW(_groups(_net(0), 0.1), lr=0.01).state_dict()
    with pytest.raises(InvalidParameterError, match="sizes"):
        AdamW(list(_net(0).parameters()), lr=0.01).load_state_dict(saved)


def test_adamw_skips_frozen_parameters_and_rejects_bad_input() -> None:
    net = _net(0)
    net[0].weight.requires_grad_(False)  # type: ignore[index]
    opt = AdamW(net.parameters(), lr=0.1)
    assert sum(len(g["params"]) for g in opt.param_groups) == 5
    with pytest.raises(InvalidParameterError, match="requires_grad"):
        AdamW([p.detach() for p in net.parameters()], lr=0.1)
    with pytest.raises(InvalidParameterError, match="momentum"):
        AdamW([{"params": list(net.parameters()), "momentum": 0.9}], lr=0.1)


def test_zero_grad_keeps_or_drops_the_tensors() -> None:
    w = nn.Parameter(torch.ones(3))
    opt = AdamW([w], lr=0.1)
    (w * 2).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert w.grad is not None and not w.grad.any()
    opt.zero_grad()
    assert w.grad is None
    opt.step()  # no gradient: nothing moves, no state is created
    assert torch.equal(w, torch.ones(3)) and not opt.state


def test_num_threads_sets_and_restores() -> None:
    before = torch.get_num_threads()
    with num_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), num_threads(1):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before
    with num_threads(None):
        assert torch.get_num_threads() == before


@pytest.mark.parametrize(
    ("value", "best", "mode", "delta", "expected"),
    [
        (1.0, None, "min", 0.0, True),
        (math.nan, None, "min", 0.0, False),
        (math.inf, 5.0, "min", 0.0, False),
        (0.99995, 1.0, "min", 1e-4, False),
        (0.9998, 1.0, "min", 1e-4, True),
        (1.0, 1.0, "min", 0.0, False),
        (1.2, 1.0, "max", 0.1, True),
        (1.05, 1.0, "max", 0.1, False),
    ],
)
def test_is_improvement(
    value: float, best: float | None, mode: str, delta: float, expected: bool
) -> None:
    assert is_improvement(value, best, mode=mode, min_delta=delta) is expected


def test_copy_weights_is_detached_from_the_model() -> None:
    net = _net(0)
    saved = copy_weights(net)
    with torch.no_grad():
        net[0].weight.add_(1.0)  # type: ignore[index]
    assert not torch.equal(saved["0.weight"], net[0].weight)  # type: ignore[index]
    net.load_state_dict(saved)
    assert torch.equal(saved["0.weight"], net[0].weight)  # type: ignore[index]
