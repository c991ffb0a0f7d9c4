"""Classification metrics over predicted probabilities (binary, multi-class, multi-label).

Pure numpy (layer 0), vectorised so that bootstrap confidence intervals stay cheap.
Multi-class inputs are integer class codes ``y (n,)`` in ``0..K-1`` and probabilities
``proba (n, K)``; multi-label inputs are a 0/1 matrix ``y (n, L)`` and independent label
probabilities ``proba (n, L)``.

=====================  ==========================================  ==========================
metric                 binary / multi-class                         multi-label
=====================  ==========================================  ==========================
``accuracy``           argmax accuracy                              exact-match (subset)
``balanced_accuracy``  mean per-class recall                        mean over labels (binary)
``macro_f1``           mean per-class F1                            mean per-label F1
``auroc``              ROC AUC (macro one-vs-rest for K > 2)         macro over labels
``auprc``              average precision (macro OvR for K > 2)       macro over labels
``brier``              binary: mean (p1 - y)^2; K > 2: mean           mean over labels
                       sum_k (p_k - [y = k])^2
``ece``                top-label expected calibration error         mean per-label ECE
=====================  ==========================================  ==========================

Classes or labels with only one outcome in ``y`` have no AUROC/AUPRC and are left out of
the macro averages (NaN if none remains).

Example:
    >>> import numpy as np
    >>> from medmodal.metrics.classification import classification_metrics
    >>> y = np.array([0, 0, 1, 1])
    >>> proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]])
    >>> m = classification_metrics(y, proba)
    >>> m["accuracy"], m["auroc"], round(m["brier"], 3)
    (1.0, 1.0, 0.075)

Label predictions (no probabilities) get :func:`per_class_report`: sensitivity, positive
predictivity and F1 per class, as heartbeat classification reports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from medmodal.errors import InvalidParameterError
from medmodal.metrics.calibration import expected_calibration_error
from medmodal.types import ArrayLike, FloatArray

#: Metric names, in the order tables show them.
METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "auroc", "auprc", "brier", "ece")


def check_inputs(
    y: ArrayLike, proba: ArrayLike, *, multilabel: bool
) -> tuple[np.ndarray, FloatArray]:
    """Validated ``(y, proba)``: codes ``(n,)`` / labels ``(n, L)`` and ``(n, K)`` floats."""
    y_arr, p = np.asarray(y), np.asarray(proba, dtype=float)
    if p.ndim != 2 or p.shape[0] != y_arr.shape[0]:
        raise InvalidParameterError(
            f"classification metrics: proba must be (n, K) with n = len(y) = {y_arr.shape[0]}, "
            f"got {p.shape}"
        )
    if multilabel and y_arr.shape != p.shape:
        raise InvalidParameterError(
            f"classification metrics: multi-label y {y_arr.shape} and proba {p.shape} differ"
        )
    if not multilabel and (
        y_arr.ndim != 1 or (len(y_arr) and (y_arr.min() < 0 or y_arr.max() >= p.shape[1]))
    ):
        raise InvalidParameterError(
            f"classification metrics: y must be class codes in 0..{p.shape[1] - 1} of shape (n,)"
        )
    return y_arr.astype(np.int64), p


def _confusion(y: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(y * k + pred, minlength=k * k).reshape(k, k)


def _f1_recall(cm: np.ndarray) -> tuple[FloatArray, FloatArray]:
    tp = np.diag(cm).astype(float)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(support > 0, tp / np.maximum(support, 1), np.nan)
        f1 = np.where(support + predicted > 0, 2 * tp / np.maximum(support + predicted, 1), 0.0)
    return f1, recall


def binary_auroc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC by the rank-sum (Mann-Whitney) formula, ties counted half; NaN if one class."""
    pos = y.astype(bool)
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(score, kind="mergesort")
    s = score[order]
    ranks = np.empty(len(s))
    # average ranks of ties
    boundaries = np.r_[0, np.flatnonzero(np.diff(s)) + 1, len(s)]
    avg = (boundaries[:-1] + boundaries[1:] - 1) / 2 + 1
    ranks[order] = np.repeat(avg, np.diff(boundaries))
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the precision-recall curve as scikit-learn's step-wise average precision."""
    pos = y.astype(bool)
    n_pos = int(pos.sum())
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-score, kind="mergesort")
    s, hits = score[order], pos[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # last index of each threshold
    tp = np.cumsum(hits)[last]
    precision = tp / (last + 1)
    recall_gain = np.diff(np.r_[0, tp]) / n_pos
    return float(np.sum(precision * recall_gain))


def _macro(values: list[float]) -> float:
    arr = np.asarray(values, dtype=float)
    return float(np.nanmean(arr)) if np.isfinite(arr).any() else float("nan")


def _single_label(y: np.ndarray, p: FloatArray) -> dict[str, float]:
    k = p.shape[1]
    pred = p.argmax(axis=1)
    f1, recall = _f1_recall(_confusion(y, pred, k))
    onehot = np.eye(k)[y]
    if k == 2:
        auroc, auprc = binary_auroc(y, p[:, 1]), average_precision(y, p[:, 1])
        brier = float(np.mean((p[:, 1] - y) ** 2))
    else:
        auroc = _macro([binary_auroc(onehot[:, c], p[:, c]) for c in range(k)])
        auprc = _macro([average_precision(onehot[:, c], p[:, c]) for c in range(k)])
        brier = float(np.mean(np.sum((p - onehot) ** 2, axis=1)))
    return {
        "accuracy": float(np.mean(pred == y)),
        "balanced_accuracy": float(np.nanmean(recall)),
        "macro_f1": float(np.mean(f1[np.isfinite(recall) | (np.bincount(pred, minlength=k) > 0)])),
        "auroc": auroc,
        "auprc": auprc,
        "brier": brier,
        "ece": expected_calibration_error(y, p),
    }


def _multilabel(y: np.ndarray, p: FloatArray) -> dict[str, float]:
    per = [_single_label(y[:, j], np.c_[1 - p[:, j], p[:, j]]) for j in range(p.shape[1])]
    out = {m: _macro([d[m] for d in per]) for m in METRICS}
    out["accuracy"] = float(np.mean(((p >= 0.5) == y.astype(bool)).all(axis=1)))
    out["macro_f1"] = _macro([_positive_f1(y[:, j], p[:, j] >= 0.5) for j in range(p.shape[1])])
    return out


def _positive_f1(y: np.ndarray, pred: np.ndarray) -> float:
    tp = float(np.sum(pred & (y == 1)))
    denom = float(pred.sum() + (y == 1).sum())
    return 2 * tp / denom if denom else 0.0


def classification_metrics(
    y: ArrayLike, proba: ArrayLike, *, multilabel: bool = False
) -> dict[str, float]:
    """Every metric of :data:`METRICS` for one set of predictions (see the module doc).

    Args:
        y: class codes ``(n,)`` in ``0..K-1``, or a 0/1 label matrix ``(n, L)``.
        proba: ``(n, K)`` class probabilities or ``(n, L)`` label probabilities.
        multilabel: whether ``y`` is a label matrix.
    """
    y_arr, p = check_inputs(y, proba, multilabel=multilabel)
    if len(y_arr) == 0:
        return dict.fromkeys(METRICS, float("nan"))
    return _multilabel(y_arr, p) if multilabel else _single_label(y_arr, p)


@dataclass(frozen=True)
class ClassScore:
    """Sensitivity, positive predictivity and F1 of one class (label predictions).

    Attributes:
        se: sensitivity (recall), ``tp / n_true``; NaN when the class never occurs.
        ppv: positive predictivity (+P, precision), ``tp / n_pred``; 0 when never predicted.
        f1: harmonic mean of ``se`` and ``ppv``; 0 when the class never occurs.
        n_true: rows of the class.
        n_pred: rows predicted as the class.
    """

    se: float
    ppv: float
    f1: float
    n_true: int
    n_pred: int


@dataclass(frozen=True)
class PerClassReport:
    """Per-class scores of label predictions (AAMI beat classes, diagnoses, ...).

    Attributes:
        n: rows scored.
        classes: the classes, in table order.
        scores: class → its :class:`ClassScore`.
        accuracy: share of rows predicted right (every class counts).
        macro_f1: mean F1 over the scored classes.
        scored: the classes in ``macro_f1``.
        confusion: ``(K, K)`` counts, rows true class, columns predicted (order of
            ``classes``).
    """

    n: int
    classes: tuple[str, ...]
    scores: dict[str, ClassScore]
    accuracy: float
    macro_f1: float
    scored: tuple[str, ...]
    confusion: np.ndarray


def per_class_report(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    classes: Sequence[str],
    *,
    scored: Sequence[str] | None = None,
) -> PerClassReport:
    """Se, +P and F1 per class, accuracy, macro-F1 over ``scored`` and the confusion matrix.

    The beat-classification report of the AAMI / de Chazal protocol (e.g. macro-F1 over
    N, S and V while F beats count in the accuracy only).

    Args:
        y_true: ``(n,)`` true labels.
        y_pred: ``(n,)`` predicted labels.
        classes: the classes reported, in order (labels outside them count in the
            accuracy only).
        scored: classes averaged in ``macro_f1`` (default: all of ``classes``).

    Raises:
        InvalidParameterError: inputs of different shapes, or ``scored`` names a class
            not in ``classes``.

    Example:
        >>> import numpy as np
        >>> r = per_class_report(np.array(list("NNNSV")), np.array(list("NNSSN")),
        ...                      ("N", "S", "V"), scored=("N", "S"))
        >>> r.scores["S"].se, r.scores["S"].ppv, round(r.macro_f1, 3), r.accuracy
        (1.0, 0.5, 0.667, 0.6)
    """
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.shape != p.shape or t.ndim != 1:
        raise InvalidParameterError(
            f"per_class_report: y_true {t.shape} and y_pred {p.shape} must be equal 1-D shapes"
        )
    names = tuple(classes)
    chosen = names if scored is None else tuple(scored)
    unknown = [c for c in chosen if c not in names]
    if unknown:
        raise InvalidParameterError(
            f"per_class_report: scored classes {unknown} are not in classes {list(names)}"
        )
    scores = {}
    for c in names:
        tp = int(np.sum((t == c) & (p == c)))
        n_true, n_pred = int(np.sum(t == c)), int(np.sum(p == c))
        se = tp / n_true if n_true else float("nan")
        ppv = tp / n_pred if n_pred else 0.0
        f1 = 2 * se * ppv / (se + ppv) if n_true and (se + ppv) > 0 else 0.0
        scores[c] = ClassScore(se, ppv, f1, n_true, n_pred)
    confusion = np.array([[int(np.sum((t == a) & (p == b))) for b in names] for a in names])
    return PerClassReport(
        n=int(t.size),
        classes=names,
        scores=scores,
        accuracy=float(np.mean(t == p)),
        macro_f1=float(np.mean([scores[c].f1 for c in chosen])),
        scored=chosen,
        confusion=confusion.reshape(len(names), len(names)),
    )


def confusion_scores(
    confusion: ArrayLike, classes: Sequence[str], *, scored: Sequence[str] | None = None
) -> dict[str, FloatArray]:
    """:func:`per_class_report`'s numbers from confusion matrices, for many at once.

    For weighted or resampled counts (a bootstrap sums the rows or records it drew) the
    report is computed from the matrices, without the labels.

    Args:
        confusion: ``(..., L, M)`` counts, rows true class, columns predicted, the first
            ``K`` of each in the order of ``classes``; an extra row and column (``L, M =
            K + 1``) hold one class outside them (e.g. Q): it counts in the accuracy and in
            the classes' +P, as in :func:`per_class_report`.
        classes: the ``K`` classes of the rows.
        scored: classes averaged in ``macro_f1`` (default: all of ``classes``).

    Returns:
        ``accuracy``, ``<class>_se``, ``<class>_ppv``, ``<class>_f1`` and ``macro_f1``,
        each of shape ``(...)``; Se is NaN and F1 0 for a class that never occurs, +P 0
        for a class never predicted (as in :class:`ClassScore`).

    Example:
        >>> import numpy as np
        >>> cm = np.array([[2, 1, 0], [0, 1, 0], [1, 0, 0]])  # true N, S, V
        >>> s = confusion_scores(cm, ("N", "S", "V"), scored=("N", "S"))
        >>> float(s["S_se"]), float(s["S_ppv"]), round(float(s["macro_f1"]), 3)
        (1.0, 0.5, 0.667)
    """
    cm = np.asarray(confusion, dtype=float)
    names = tuple(classes)
    chosen = names if scored is None else tuple(scored)
    if cm.ndim < 2 or not len(names) <= min(cm.shape[-2:]) <= max(cm.shape[-2:]) <= len(names) + 1:
        raise InvalidParameterError(
            f"confusion_scores: confusion of shape {cm.shape} does not fit {len(names)} classes"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {"accuracy": np.trace(cm, axis1=-2, axis2=-1) / np.maximum(cm.sum((-2, -1)), 1e-12)}
        for k, c in enumerate(names):
            tp, n_true, n_pred = cm[..., k, k], cm[..., k, :].sum(-1), cm[..., :, k].sum(-1)
            out[f"{c}_se"] = np.where(n_true > 0, tp / n_true, np.nan)
            out[f"{c}_ppv"] = np.where(n_pred > 0, tp / n_pred, 0.0)
            out[f"{c}_f1"] = np.where(n_true > 0, 2 * tp / (n_true + n_pred), 0.0)
    out["macro_f1"] = np.mean([out[f"{c}_f1"] for c in chosen], axis=0)
    return out
