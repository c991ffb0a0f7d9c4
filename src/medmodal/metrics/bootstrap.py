"""Bootstrap confidence intervals for any metric function of ``(y, proba)``.

Resamples rows (or whole groups, e.g. patients, when ``groups`` is given) with
replacement and takes percentile intervals, **widened to contain the point estimate**:
a statistic that is biased under resampling can put every resample on one side of its
own estimate (the expected calibration error is biased upwards: binning noise only adds
to ``|accuracy - confidence|``, so a well-calibrated model's ECE of 0.018 drew resamples
of 0.024-0.089). A reported interval that excludes its estimate reads as an error, so
the bound on the estimate's side is moved to the estimate (a conservative, wider
interval) and the metric is listed in :attr:`BootstrapResult.widened`. Percentile
intervals that already contain the estimate are unchanged. Metric functions listed in
:data:`BATCHED_METRICS` (:func:`~medmodal.metrics.classification.classification_metrics`)
are computed for all resamples at once from a ``(resamples, rows)`` count matrix, on the
same resamples (same seed, same draws) as the per-resample loop that any other callable
gets, and with the same results (to ~1e-15; see ``medmodal.metrics._batched``).

Example:
    >>> import numpy as np
    >>> from medmodal.metrics.bootstrap import bootstrap_metrics
    >>> from medmodal.metrics.classification import classification_metrics
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 300)
    >>> p1 = np.clip(0.5 + 0.4 * (y - 0.5) + rng.normal(0, 0.2, 300), 0, 1)
    >>> ci = bootstrap_metrics(classification_metrics, y, np.c_[1 - p1, p1], n_boot=200)
    >>> row = ci.to_frame().set_index("metric").loc["auroc"]
    >>> bool(row.low < row.value < row.high)
    True

References:
    Efron B, Tibshirani RJ. An Introduction to the Bootstrap. Chapman & Hall (1993).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from medmodal.errors import InvalidParameterError
from medmodal.metrics._batched import batched_classification_metrics
from medmodal.metrics.classification import classification_metrics
from medmodal.types import ArrayLike, FloatArray, IntArray

#: ``batched(y, proba, counts, **kwargs) -> {metric: (B,) values}`` for ``(B, n)`` counts.
BatchedMetric = Callable[..., dict[str, FloatArray]]

#: Metric functions with an implementation batched over resamples, used in their place.
BATCHED_METRICS: dict[Callable[..., dict[str, float]], BatchedMetric] = {
    classification_metrics: batched_classification_metrics,
}

#: Count-matrix cells per batch of resamples (bounds the memory of the batched path).
_CELLS_PER_CHUNK = 1 << 20


@dataclass(frozen=True)
class BootstrapResult:
    """Point estimates and percentile intervals of several metrics.

    Attributes:
        value, low, high: metric → estimate and interval bounds (``low <= value <= high``
            wherever all three are finite).
        n_boot: resamples drawn.
        confidence: interval coverage.
        widened: metrics whose percentile interval missed the estimate and was widened
            to reach it (see the module doc).
    """

    value: dict[str, float]
    low: dict[str, float]
    high: dict[str, float]
    n_boot: int
    confidence: float
    widened: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """Columns ``metric, value, low, high``."""
        return pd.DataFrame(
            {
                "metric": list(self.value),
                "value": list(self.value.values()),
                "low": [self.low[m] for m in self.value],
                "high": [self.high[m] for m in self.value],
            }
        )


def _draws(
    n: int, n_boot: int, groups: ArrayLike | None, seed: int
) -> tuple[IntArray, IntArray | None]:
    """``(n_boot, k)`` drawn units (rows, or groups) and the row → group codes (or None)."""
    rng = np.random.default_rng(seed)
    if groups is None:
        return rng.integers(0, n, size=(n_boot, n)), None
    g = np.asarray(groups)
    if g.shape != (n,):
        raise InvalidParameterError(f"bootstrap: groups must have shape ({n},), got {g.shape}")
    _, codes = np.unique(g, return_inverse=True)
    k = int(codes.max()) + 1 if n else 0
    picks = [rng.integers(0, k, k) for _ in range(n_boot)]  # one draw per resample
    return np.array(picks, dtype=np.int64).reshape(n_boot, k), codes.astype(np.int64)


def bootstrap_indices(
    n: int, n_boot: int, *, groups: ArrayLike | None = None, seed: int = 0
) -> list[np.ndarray]:
    """``n_boot`` row-index resamples (whole groups drawn together when given)."""
    picks, codes = _draws(n, n_boot, groups, seed)
    if codes is None:
        return list(picks)
    members = np.split(np.argsort(codes, kind="stable"), np.cumsum(np.bincount(codes))[:-1])
    return [np.concatenate([members[i] for i in row]) for row in picks]


def bootstrap_counts(
    n: int, n_boot: int, *, groups: ArrayLike | None = None, seed: int = 0
) -> Iterator[FloatArray]:
    """The resamples of :func:`bootstrap_indices` as ``(b, n)`` counts, in batches of rows.

    Row ``r`` of the concatenated batches counts how often each of the ``n`` rows is in
    resample ``r`` (``np.bincount(bootstrap_indices(...)[r], minlength=n)``).
    """
    picks, codes = _draws(n, n_boot, groups, seed)
    units = picks.shape[1]
    step = max(1, _CELLS_PER_CHUNK // max(n, 1))
    for start in range(0, n_boot, step):
        block = picks[start : start + step]  # (b, units)
        b = block.shape[0]
        flat = (block + units * np.arange(b)[:, None]).ravel()
        counts = np.bincount(flat, minlength=b * units).reshape(b, units).astype(float)
        yield counts if codes is None else counts[:, codes]  # a group's count to its rows


def bootstrap_metrics(
    fn: Callable[..., dict[str, float]],
    y: ArrayLike,
    proba: ArrayLike,
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    groups: ArrayLike | None = None,
    seed: int = 0,
    **kwargs: object,
) -> BootstrapResult:
    """Percentile bootstrap of every metric ``fn(y, proba, **kwargs)`` returns.

    Args:
        fn: metric function returning ``{name: value}``; one in :data:`BATCHED_METRICS`
            is computed for all resamples at once (finite ``proba`` only).
        y: targets (first axis = samples).
        proba: predictions (first axis = samples).
        n_boot: resamples (0: point estimates only, NaN intervals).
        confidence: interval coverage, e.g. 0.95.
        groups: resample these groups (patients) as units.
        seed: seed of the resampling.
        **kwargs: passed on to ``fn``.
    """
    if not 0 < confidence < 1:
        raise InvalidParameterError(f"bootstrap: confidence must be in (0, 1), got {confidence}")
    if not isinstance(n_boot, int) or n_boot < 0:
        raise InvalidParameterError(f"bootstrap: n_boot must be an int >= 0, got {n_boot!r}")
    y_arr, p = np.asarray(y), np.asarray(proba)
    value = fn(y_arr, p, **kwargs)
    names = list(value)
    if n_boot == 0:
        nan = dict.fromkeys(names, float("nan"))
        return BootstrapResult(value, nan, dict(nan), 0, confidence)
    batched = next((b for f, b in BATCHED_METRICS.items() if f is fn), None)
    if batched is not None and len(y_arr) and np.isfinite(p).all():
        draws = _batched_draws(batched, y_arr, p, names, n_boot, groups, seed, kwargs)
    else:
        draws = np.array(
            [
                [fn(y_arr[idx], p[idx], **kwargs)[m] for m in names]
                for idx in bootstrap_indices(len(y_arr), n_boot, groups=groups, seed=seed)
            ]
        )  # (n_boot, n_metrics)
    alpha = (1 - confidence) / 2
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN metric columns
        lo = np.nanquantile(draws, alpha, axis=0)
        hi = np.nanquantile(draws, 1 - alpha, axis=0)
    low, high, widened = contain_estimate(value, lo, hi)
    return BootstrapResult(value, low, high, n_boot, confidence, widened)


def contain_estimate(
    value: dict[str, float], low: ArrayLike, high: ArrayLike
) -> tuple[dict[str, float], dict[str, float], tuple[str, ...]]:
    """Percentile bounds (in ``value``'s order) widened to contain each finite estimate.

    Returns:
        ``low`` and ``high`` as metric → bound, and the metrics that were widened.

    Example:
        >>> contain_estimate({"ece": 0.018, "auroc": 0.9}, [0.024, 0.85], [0.089, 0.95])
        ({'ece': 0.018, 'auroc': 0.85}, {'ece': 0.089, 'auroc': 0.95}, ('ece',))
    """
    names = list(value)
    lo = dict(zip(names, np.asarray(low, dtype=float).tolist(), strict=True))
    hi = dict(zip(names, np.asarray(high, dtype=float).tolist(), strict=True))
    widened = []
    for m in names:
        v = float(value[m])
        if not (np.isfinite(v) and np.isfinite(lo[m]) and np.isfinite(hi[m])):
            continue
        if v < lo[m] or v > hi[m]:
            widened.append(m)
            lo[m], hi[m] = min(lo[m], v), max(hi[m], v)
    return lo, hi, tuple(widened)


def _batched_draws(
    batched: BatchedMetric,
    y: np.ndarray,
    p: np.ndarray,
    names: list[str],
    n_boot: int,
    groups: ArrayLike | None,
    seed: int,
    kwargs: dict[str, object],
) -> FloatArray:
    """``(n_boot, n_metrics)`` metric values of every resample, batch by batch."""
    parts = []
    for counts in bootstrap_counts(len(y), n_boot, groups=groups, seed=seed):
        values = batched(y, p, counts, **kwargs)
        parts.append(np.stack([values[m] for m in names], axis=1))  # (b, n_metrics)
    return np.concatenate(parts, axis=0)
