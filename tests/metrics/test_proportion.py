"""Wilson interval of a proportion: published values, coverage, bounds, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from medmodal.errors import InvalidParameterError
from medmodal.metrics.proportion import wilson_interval


def test_published_values() -> None:
    # Newcombe (1998), Stat Med 17:857, Table I, method 3: 81/263 -> 0.2553-0.3662
    low, high = wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    # 15/148 -> 0.0624-0.1605; 0/20 -> 0-0.1611
    assert np.round(wilson_interval(15, 148), 4).tolist() == [0.0624, 0.1605]
    assert np.round(wilson_interval(0, 20), 4).tolist() == [0.0, 0.1611]


def test_coverage_near_nominal(rng: np.random.Generator) -> None:
    p, n = 0.9, 190
    hits = rng.binomial(n, p, size=4000)
    covered = [lo <= p <= hi for lo, hi in (wilson_interval(int(k), n) for k in hits)]
    assert 0.93 < np.mean(covered) < 0.97


@given(st.integers(1, 10_000), st.floats(0.0, 1.0), st.floats(0.5, 0.999))
def test_interval_holds_the_estimate_inside_zero_one(n: int, frac: float, conf: float) -> None:
    k = round(frac * n)
    low, high = wilson_interval(k, n, confidence=conf)
    assert 0.0 <= low <= k / n <= high <= 1.0
    narrower = wilson_interval(k, n, confidence=conf * 0.9)
    assert narrower[0] >= low - 1e-12 and narrower[1] <= high + 1e-12


BAD = [(5, 4, 0.95), (-1, 4, 0.95), (1, 0, 0.95), (1.5, 4, 0.95), (1, 4, 1.0), (True, 4, 0.9)]


@pytest.mark.parametrize(("k", "n", "conf"), BAD)
def test_bad_input(k: object, n: object, conf: float) -> None:
    with pytest.raises(InvalidParameterError, match="wilson_interval"):
        wilson_interval(k, n, confidence=conf)  # type: ignore[arg-type]
