"""The classification metrics of many bootstrap resamples at once, from resample counts.

A resample of ``n`` rows is a count vector ``w`` (how often each row was drawn). Every
metric of :func:`~medmodal.metrics.classification.classification_metrics` is a function
of count-weighted sums over the rows, so ``B`` resamples are a ``(B, n)`` count matrix
and one pass of matrix products (confusion counts, Brier score, calibration bins) and of
cumulative sums over the rows sorted once by score (AUROC by ranks, average precision):
no per-resample sort, no Python loop over resamples.

Counts are whole numbers held in float64, so confusion counts and AUROC's rank sums are
exact and equal the per-resample functions bit for bit; sums of real-valued terms
(Brier, ECE, average precision) are added in another order and agree to rounding
(``tests/metrics/test_bootstrap_batched.py`` checks 1e-12).
"""

from __future__ import annotations

import warnings

import numpy as np

from medmodal.metrics.calibration import confidence_bins
from medmodal.metrics.classification import METRICS, check_inputs
from medmodal.types import ArrayLike, FloatArray

_NAN = float("nan")


def _macro(values: FloatArray) -> FloatArray:
    """Row-wise mean over the finite entries of ``(B, C)``; NaN where none is finite."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows
        return np.nanmean(values, axis=1)


def _ranked_counts(
    pos: np.ndarray, score: FloatArray, counts: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per distinct score (ascending): drawn positives and drawn rows, each ``(B, U)``."""
    order = np.argsort(score, kind="mergesort")
    s = score[order]
    starts = np.r_[0, np.flatnonzero(np.diff(s)) + 1]  # first row of each tie group
    drawn = counts[:, order]  # (B, n)
    total = np.add.reduceat(drawn, starts, axis=1)  # (B, U)
    hits = np.add.reduceat(drawn * pos[order], starts, axis=1)  # (B, U)
    return hits, total


def _auroc(hits: FloatArray, total: FloatArray) -> FloatArray:
    """Mann-Whitney AUROC per resample, ties counted half; NaN without both classes."""
    neg = total - hits
    n_pos, n_neg = hits.sum(axis=1), neg.sum(axis=1)
    below = np.cumsum(neg, axis=1) - neg  # negatives strictly below each score
    wins = np.sum(hits * (below + 0.5 * neg), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = wins / (n_pos * n_neg)
    return np.where((n_pos > 0) & (n_neg > 0), auc, _NAN)


def _average_precision(hits: FloatArray, total: FloatArray) -> FloatArray:
    """Step-wise average precision per resample (thresholds = distinct drawn scores)."""
    hits, total = hits[:, ::-1], total[:, ::-1]  # descending scores
    tp, predicted = np.cumsum(hits, axis=1), np.cumsum(total, axis=1)
    n_pos = tp[:, -1:]  # (B, 1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    gain = np.divide(hits, n_pos, out=np.zeros_like(hits), where=n_pos > 0)
    return np.where(n_pos[:, 0] > 0, np.sum(precision * gain, axis=1), _NAN)


def _ranking(pos: np.ndarray, score: FloatArray, counts: FloatArray) -> tuple[FloatArray, ...]:
    hits, total = _ranked_counts(pos, score, counts)
    return _auroc(hits, total), _average_precision(hits, total)


def _ece(conf: FloatArray, correct: np.ndarray, counts: FloatArray) -> FloatArray:
    """Top-label ECE (15 equal-width bins) per resample."""
    idx, _ = confidence_bins(conf, 15)
    onehot = np.eye(15)[idx]  # (n, bins)
    count = counts @ onehot  # (B, bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = (counts @ (onehot * conf[:, None])) / count
        acc = (counts @ (onehot * correct[:, None])) / count
    gap = np.abs(np.nan_to_num(acc) - np.nan_to_num(mean_conf))
    return np.sum(count * gap, axis=1) / count.sum(axis=1)


def _single_label(y: np.ndarray, p: FloatArray, counts: FloatArray) -> dict[str, FloatArray]:
    k = p.shape[1]
    rows = counts.sum(axis=1)  # (B,)
    pred = p.argmax(axis=1)
    correct = (pred == y).astype(float)
    onehot = np.eye(k)[y]  # (n, K)
    support, predicted = counts @ onehot, counts @ np.eye(k)[pred]  # (B, K)
    tp = counts @ (onehot * correct[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(support > 0, tp / np.maximum(support, 1), _NAN)
        f1 = np.where(support + predicted > 0, 2 * tp / np.maximum(support + predicted, 1), 0.0)
    scored = (support > 0) | (predicted > 0)
    if k == 2:
        auroc, auprc = _ranking(y == 1, p[:, 1], counts)
        brier = counts @ ((p[:, 1] - y) ** 2) / rows
    else:
        per = [_ranking(onehot[:, c] > 0, p[:, c], counts) for c in range(k)]
        auroc = _macro(np.stack([a for a, _ in per], axis=1))
        auprc = _macro(np.stack([b for _, b in per], axis=1))
        brier = counts @ np.sum((p - onehot) ** 2, axis=1) / rows
    return {
        "accuracy": counts @ correct / rows,
        "balanced_accuracy": _macro(recall),
        "macro_f1": np.sum(np.where(scored, f1, 0.0), axis=1) / scored.sum(axis=1),
        "auroc": auroc,
        "auprc": auprc,
        "brier": brier,
        "ece": _ece(p.max(axis=1), correct, counts),
    }


def _multilabel(y: np.ndarray, p: FloatArray, counts: FloatArray) -> dict[str, FloatArray]:
    per = [_single_label(y[:, j], np.c_[1 - p[:, j], p[:, j]], counts) for j in range(p.shape[1])]
    out = {m: _macro(np.stack([d[m] for d in per], axis=1)) for m in METRICS}
    rows = counts.sum(axis=1)
    pred, pos = p >= 0.5, y == 1
    out["accuracy"] = counts @ (pred == pos).all(axis=1).astype(float) / rows
    tp = counts @ (pred & pos).astype(float)  # (B, L)
    denom = counts @ pred.astype(float) + counts @ pos.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["macro_f1"] = _macro(np.where(denom > 0, 2 * tp / denom, 0.0))
    return out


def batched_classification_metrics(
    y: ArrayLike, proba: ArrayLike, counts: FloatArray, *, multilabel: bool = False
) -> dict[str, FloatArray]:
    """Every metric of ``classification_metrics`` for each row of ``counts``.

    Args:
        y: class codes ``(n,)`` or a 0/1 label matrix ``(n, L)``.
        proba: ``(n, K)`` class or ``(n, L)`` label probabilities (finite).
        counts: ``(B, n)`` how often each row is in each resample (row sums > 0).
        multilabel: whether ``y`` is a label matrix.

    Returns:
        ``{metric: (B,) values}``, equal to ``classification_metrics`` on each resample.

    Example:
        >>> import numpy as np
        >>> from medmodal.metrics.classification import classification_metrics
        >>> y, p1 = np.array([0, 1, 1, 0]), np.array([0.2, 0.7, 0.4, 0.6])
        >>> proba = np.c_[1 - p1, p1]
        >>> counts = np.array([[1.0, 1, 1, 1], [2, 1, 1, 0]])  # all rows; row 0 twice
        >>> batched_classification_metrics(y, proba, counts)["auroc"].tolist()
        [0.75, 1.0]
        >>> classification_metrics(y[[0, 0, 1, 2]], proba[[0, 0, 1, 2]])["auroc"]
        1.0
    """
    y_arr, p = check_inputs(y, proba, multilabel=multilabel)
    counts = np.asarray(counts, dtype=float)
    return _multilabel(y_arr, p, counts) if multilabel else _single_label(y_arr, p, counts)
