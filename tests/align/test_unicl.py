"""UniCL multi-positive loss: reduces to CLIP with distinct labels, matches a hand-written
reference with shared labels, gradients, and bad input."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from hypothesis import given, settings
from hypothesis import strategies as st

from medmodal.align import clip_loss
from medmodal.align.unicl import unicl_loss
from medmodal.errors import InvalidParameterError


def _pair(n: int, d: int = 8, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    a = F.normalize(torch.randn(n, d, generator=g, dtype=torch.float64), dim=-1)
    b = F.normalize(a + torch.randn(n, d, generator=g, dtype=torch.float64), dim=-1)
    return a, b


def _reference(a, b, scale, labels):
    """Loop over rows: mean over positives of -log softmax, both directions."""
    logits = scale * a @ b.T
    n = len(labels)
    total = 0.0
    for i in range(n):
        pos = [j for j in range(n) if labels[j] == labels[i]]
        row = [math.exp(float(logits[i, j])) for j in range(n)]
        col = [math.exp(float(logits[j, i])) for j in range(n)]
        total += -sum(math.log(row[j] / sum(row)) for j in pos) / len(pos) / 2
        total += -sum(math.log(col[j] / sum(col)) for j in pos) / len(pos) / 2
    return total / n


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 12), seed=st.integers(0, 10_000), t=st.floats(-2.0, 4.6))
def test_distinct_labels_give_the_clip_loss_and_its_gradients(n, seed, t):
    a, b = _pair(n, seed=seed)
    a.requires_grad_(True)
    scale = torch.tensor(t, dtype=torch.float64)
    ours = unicl_loss(a, b, scale, torch.arange(n))
    (ga,) = torch.autograd.grad(ours, a)
    clip = clip_loss(a, b, scale)
    (gc,) = torch.autograd.grad(clip, a)
    torch.testing.assert_close(ours, clip, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ga, gc, rtol=1e-10, atol=1e-12)


def test_shared_labels_match_the_reference():
    a, b = _pair(7, seed=3)
    labels = torch.tensor([0, 1, 0, 2, 1, 0, 3])
    got = unicl_loss(a, b, torch.tensor(math.log(10.0), dtype=torch.float64), labels)
    assert float(got) == pytest.approx(_reference(a, b, 10.0, labels.tolist()), rel=1e-12)


def test_same_label_pairs_are_not_pushed_apart():
    """Two pairs share a label: separating them lowers CLIP's loss but raises UniCL's."""
    e = torch.eye(8, dtype=torch.float64)
    together = torch.stack([e[0], e[0], e[1], e[2]])
    apart = together.clone()
    apart[1] = F.normalize(e[0] + 0.3 * e[3], dim=0)
    labels = torch.tensor([5, 5, 6, 7])
    t = torch.tensor(math.log(20.0), dtype=torch.float64)
    assert clip_loss(apart, apart, t) < clip_loss(together, together, t)
    assert unicl_loss(apart, apart, t, labels) > unicl_loss(together, together, t, labels)


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        (torch.arange(3), r"shape \(4,\)"),
        (torch.zeros(4, 2, dtype=torch.long), r"shape \(4,\)"),
        (torch.zeros(4), "integers"),
        ([[1, 2], [3]], "integers"),
    ],
)
def test_bad_labels_are_named(labels, match):
    a, b = _pair(4)
    with pytest.raises(InvalidParameterError, match=match):
        unicl_loss(a, b, 1.0, labels)


def test_unnormalised_rows_and_nan_scale_are_rejected():
    a, b = _pair(4)
    with pytest.raises(InvalidParameterError, match="unicl_loss"):
        unicl_loss(a * 2, b, 1.0, torch.arange(4))
    with pytest.raises(InvalidParameterError, match="logit_scale"):
        unicl_loss(a, b, float("nan"), torch.arange(4))
