"""Bootstrap intervals: coverage, grouped resampling, validation."""

from __future__ import annotations

import numpy as np
import pytest

from medmodal.errors import InvalidParameterError
from medmodal.metrics.bootstrap import bootstrap_indices, bootstrap_metrics


def _mean(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {"mean": float(np.mean(y))}


def test_interval_of_a_mean_matches_the_normal_approximation(rng: np.random.Generator) -> None:
    y = rng.normal(size=2000)
    ci = bootstrap_metrics(_mean, y, y[:, None], n_boot=1000, seed=1)
    se = y.std() / np.sqrt(len(y))
    assert ci.low["mean"] == pytest.approx(y.mean() - 1.96 * se, abs=0.3 * se)
    assert ci.high["mean"] == pytest.approx(y.mean() + 1.96 * se, abs=0.3 * se)
    assert ci.to_frame().columns.tolist() == ["metric", "value", "low", "high"]


def test_grouped_resampling_draws_whole_groups() -> None:
    groups = np.repeat([10, 20, 30], [2, 3, 5])
    for idx in bootstrap_indices(10, 20, groups=groups, seed=0):
        counts = np.bincount(idx, minlength=10)
        for g in (10, 20, 30):
            assert len(set(counts[groups == g])) == 1  # members drawn together


def test_groups_widen_the_interval_when_samples_are_clustered(rng: np.random.Generator) -> None:
    groups = np.repeat(np.arange(20), 50)
    y = rng.normal(size=20)[groups] + 0.1 * rng.normal(size=1000)
    plain = bootstrap_metrics(_mean, y, y[:, None], n_boot=300)
    grouped = bootstrap_metrics(_mean, y, y[:, None], n_boot=300, groups=groups)
    width = [c.high["mean"] - c.low["mean"] for c in (plain, grouped)]
    assert width[1] > 3 * width[0]


def test_zero_resamples_and_bad_arguments() -> None:
    y = np.arange(5.0)
    ci = bootstrap_metrics(_mean, y, y[:, None], n_boot=0)
    assert ci.value["mean"] == 2.0 and np.isnan(ci.low["mean"])
    with pytest.raises(InvalidParameterError, match="confidence"):
        bootstrap_metrics(_mean, y, y, confidence=1.5)
    with pytest.raises(InvalidParameterError, match="groups"):
        bootstrap_indices(5, 2, groups=np.arange(4))
