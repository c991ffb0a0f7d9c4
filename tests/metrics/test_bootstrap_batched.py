"""The batched bootstrap equals the per-resample loop: same resamples, same values, same CIs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medmodal.metrics import bootstrap as bs
from medmodal.metrics._batched import batched_classification_metrics
from medmodal.metrics.bootstrap import bootstrap_counts, bootstrap_indices, bootstrap_metrics
from medmodal.metrics.classification import METRICS, classification_metrics

TOL = 1e-12


def _loop(y: np.ndarray, p: np.ndarray, **kwargs: Any) -> dict[str, float]:
    """classification_metrics behind another name: bootstrap_metrics runs its loop."""
    return classification_metrics(y, p, **kwargs)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _binary(rng: np.random.Generator, n: int = 240) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(0, 2, n)
    p1 = np.clip(0.5 + 0.3 * (y - 0.5) + rng.normal(0, 0.25, n), 0, 1)
    p1[: n // 3] = np.round(p1[: n // 3], 1)  # many tied scores
    return y, np.c_[1 - p1, p1]


def _multiclass(rng: np.random.Generator, n: int = 240) -> tuple[np.ndarray, np.ndarray]:
    y = rng.choice(4, n, p=[0.6, 0.25, 0.12, 0.03])  # class 3: ~7 rows, often not drawn
    return y, _softmax(rng.normal(size=(n, 4)) + 1.5 * np.eye(4)[y])


def _multilabel(rng: np.random.Generator, n: int = 240) -> tuple[np.ndarray, np.ndarray]:
    y = (rng.random((n, 3)) < [0.5, 0.1, 0.015]).astype(int)  # label 2: ~4 positives
    return y, np.clip(0.3 * y + 0.7 * rng.random((n, 3)), 0, 1)


CASES = {"binary": _binary, "multiclass": _multiclass, "multilabel": _multilabel}


def _assert_same(a: dict[str, float], b: dict[str, float]) -> None:
    assert list(a) == list(b)
    for m in a:
        assert np.isnan(a[m]) == np.isnan(b[m]), m
        if not np.isnan(a[m]):
            assert abs(a[m] - b[m]) <= TOL, (m, a[m], b[m])


@pytest.mark.parametrize("grouped", [False, True])
def test_counts_are_the_index_resamples(grouped: bool, rng: np.random.Generator) -> None:
    groups = rng.integers(0, 15, 50) if grouped else None
    idx = bootstrap_indices(50, 37, groups=groups, seed=5)
    counts = np.concatenate(list(bootstrap_counts(50, 37, groups=groups, seed=5)))
    expected = np.array([np.bincount(i, minlength=50) for i in idx])
    np.testing.assert_array_equal(counts, expected)


def test_counts_come_in_bounded_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bs, "_CELLS_PER_CHUNK", 100)
    batches = list(bootstrap_counts(30, 10, seed=0))
    assert [b.shape for b in batches] == [(3, 30)] * 3 + [(1, 30)]
    np.testing.assert_array_equal(
        np.concatenate(batches),
        [np.bincount(i, minlength=30) for i in bootstrap_indices(30, 10, seed=0)],
    )


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("grouped", [False, True])
def test_every_resample_equals_the_metric_function(
    case: str, grouped: bool, rng: np.random.Generator
) -> None:
    y, p = CASES[case](rng)
    multilabel = case == "multilabel"
    groups = rng.integers(0, 30, len(y)) if grouped else None
    idx = bootstrap_indices(len(y), 60, groups=groups, seed=1)
    (counts,) = bootstrap_counts(len(y), 60, groups=groups, seed=1)
    batched = batched_classification_metrics(y, p, counts, multilabel=multilabel)
    assert tuple(batched) == METRICS
    for r, rows in enumerate(idx):
        expected = classification_metrics(y[rows], p[rows], multilabel=multilabel)
        _assert_same({m: float(batched[m][r]) for m in METRICS}, expected)


@pytest.mark.parametrize("case", list(CASES))
def test_batched_and_loop_give_the_same_intervals(case: str, rng: np.random.Generator) -> None:
    y, p = CASES[case](rng)
    kw: dict[str, Any] = {"n_boot": 200, "seed": 3, "multilabel": case == "multilabel"}
    fast = bootstrap_metrics(classification_metrics, y, p, **kw)
    slow = bootstrap_metrics(_loop, y, p, **kw)
    assert fast.value == slow.value  # point estimates: the same function call
    _assert_same(fast.low, slow.low)
    _assert_same(fast.high, slow.high)


def test_resamples_that_miss_a_class_are_left_out_as_in_the_loop() -> None:
    """One positive in 12 rows: ~36 % of resamples have no positive, so no AUROC/AUPRC;
    the interval is taken over the other resamples (NaN draws ignored), in both paths."""
    y = np.r_[np.zeros(11, dtype=int), 1]
    p1 = np.linspace(0.05, 0.6, 12)
    p = np.c_[1 - p1, p1]
    (counts,) = bootstrap_counts(12, 300, seed=0)
    auroc = batched_classification_metrics(y, p, counts)["auroc"]
    missed = counts[:, -1] == 0
    assert 0.25 < missed.mean() < 0.5
    assert np.isnan(auroc[missed]).all() and not np.isnan(auroc[~missed]).any()
    assert (auroc[~missed] == 1.0).all()  # the positive has the top score
    fast = bootstrap_metrics(classification_metrics, y, p, n_boot=300)
    slow = bootstrap_metrics(_loop, y, p, n_boot=300)
    assert fast.low["auroc"] == slow.low["auroc"] == 1.0
    _assert_same(fast.low, slow.low)
    _assert_same(fast.high, slow.high)


def test_multiclass_macro_auroc_skips_the_missing_class(rng: np.random.Generator) -> None:
    y, p = _multiclass(rng, 60)
    (counts,) = bootstrap_counts(60, 200, seed=2)
    rare_drawn = counts[:, y == 3].sum(axis=1) > 0
    assert not rare_drawn.all()  # some resamples miss class 3
    batched = batched_classification_metrics(y, p, counts)["auroc"]
    for r in np.flatnonzero(~rare_drawn)[:5]:
        rows = np.repeat(np.arange(60), counts[r].astype(int))
        per_class = [
            classification_metrics(y[rows] == c, np.c_[1 - p[rows, c], p[rows, c]])["auroc"]
            for c in range(3)
        ]
        assert batched[r] == pytest.approx(np.mean(per_class), abs=TOL)


def test_non_finite_probabilities_and_other_callables_use_the_loop(
    rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def spy(*args: Any, **kwargs: Any) -> dict[str, np.ndarray]:
        calls.append(1)
        return batched_classification_metrics(*args, **kwargs)

    monkeypatch.setitem(bs.BATCHED_METRICS, classification_metrics, spy)
    y, p = _binary(rng, 40)
    bootstrap_metrics(classification_metrics, y, p, n_boot=20)
    assert calls == [1]
    bootstrap_metrics(_loop, y, p, n_boot=20)
    p[0] = np.nan
    bootstrap_metrics(classification_metrics, y, p, n_boot=20)
    assert calls == [1]


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 40).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(0, 2), min_size=n, max_size=n),
            st.lists(st.integers(0, 4), min_size=n, max_size=n),  # coarse scores: ties
            st.lists(st.integers(0, 3), min_size=n, max_size=n),  # counts, 0 = not drawn
        )
    )
)
def test_any_resample_of_three_classes(data: tuple[list[int], list[int], list[int]]) -> None:
    y, levels, count = (np.asarray(v) for v in data)
    if count.sum() == 0:
        count[0] = 1
    p = _softmax(np.c_[levels, 4 - levels, np.zeros(len(y))] / 2.0)
    batched = batched_classification_metrics(y, p, count[None].astype(float))
    rows = np.repeat(np.arange(len(y)), count)
    _assert_same(
        {m: float(v[0]) for m, v in batched.items()}, classification_metrics(y[rows], p[rows])
    )
