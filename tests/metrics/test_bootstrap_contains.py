"""Every bootstrap interval contains its own point estimate (issue 16: the ECE case)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from medmodal.metrics.bootstrap import bootstrap_metrics, contain_estimate
from medmodal.metrics.classification import classification_metrics


def _looped(y: Any, proba: Any, **kw: Any) -> dict[str, float]:
    """Not in BATCHED_METRICS: exercises the per-resample loop."""
    return classification_metrics(y, proba, **kw)


def test_a_perfectly_calibrated_ece_keeps_its_estimate() -> None:
    """Exact calibration in two bins (0.7: 350 of 500 right, 0.9: 450 of 500): ECE 0,
    and a resample's ECE is 0 only if both bins stay exact (binning noise only adds)."""
    y = np.r_[np.ones(350, int), np.zeros(150, int), np.ones(450, int), np.zeros(50, int)]
    p1 = np.r_[np.full(500, 0.7), np.full(500, 0.9)]
    ci = bootstrap_metrics(classification_metrics, y, np.c_[1 - p1, p1], n_boot=200, seed=1)
    assert ci.value["ece"] < 1e-12
    assert "ece" in ci.widened  # the raw percentile interval missed 0
    assert ci.low["ece"] == ci.value["ece"] < ci.high["ece"]
    assert "accuracy" not in ci.widened  # unbiased metrics keep their percentile bounds


def test_the_rule_moves_only_the_bound_on_the_estimate_side() -> None:
    low, high, widened = contain_estimate(
        {"a": 0.5, "b": 0.1, "c": 0.9, "d": float("nan")},
        [0.4, 0.2, 0.7, 0.1],
        [0.6, 0.3, 0.8, 0.2],
    )
    assert low == {"a": 0.4, "b": 0.1, "c": 0.7, "d": 0.1}
    assert high == {"a": 0.6, "b": 0.3, "c": 0.9, "d": 0.2}
    assert widened == ("b", "c")


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(8, 60),
    k=st.integers(2, 4),
    seed=st.integers(0, 2**16),
    skill=st.floats(0.0, 3.0),
    looped=st.booleans(),
    grouped=st.booleans(),
)
def test_every_metric_interval_contains_its_estimate(
    n: int, k: int, seed: int, skill: float, looped: bool, grouped: bool
) -> None:
    rng = np.random.default_rng(seed)
    y = np.r_[np.arange(k), rng.integers(0, k, n - k)]  # every class present
    logits = rng.normal(size=(n, k)) + skill * np.eye(k)[y]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    groups = rng.integers(0, max(2, n // 4), n) if grouped else None
    fn = _looped if looped else classification_metrics
    ci = bootstrap_metrics(fn, y, proba, n_boot=25, seed=seed, groups=groups)
    for m, v in ci.value.items():
        lo, hi = ci.low[m], ci.high[m]
        if np.isfinite(v) and np.isfinite(lo) and np.isfinite(hi):
            assert lo <= v <= hi, (m, lo, v, hi)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(10, 50), labels=st.integers(2, 4), seed=st.integers(0, 2**16))
def test_multilabel_intervals_contain_their_estimates(n: int, labels: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, (n, labels))
    proba = np.clip(0.6 * y + rng.uniform(0, 0.4, (n, labels)), 0, 1)
    ci = bootstrap_metrics(classification_metrics, y, proba, n_boot=25, seed=seed, multilabel=True)
    for m, v in ci.value.items():
        if np.isfinite([v, ci.low[m], ci.high[m]]).all():
            assert ci.low[m] <= v <= ci.high[m], m
