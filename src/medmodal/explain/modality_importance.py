"""Which modality drove the call: ablation and exact Shapley values over modalities.

A modality is "removed" through the presence masks the fusion models already understand
(a learned missing embedding or token takes its place, or it leaves the average), so no
input has to be imputed. The value of a coalition ``S`` of modalities is either a metric
on labelled data (one number) or each sample's predicted probability of a target class
(one number per sample). Shapley values are computed exactly by enumerating all ``2**M``
coalitions (``M <= 6``) and add up to ``v(all) - v(none)`` (efficiency).

Read them with the training in mind: a model that never saw a modality missing (no
``modality_dropout``, no missing rows) has untrained missing embeddings/tokens, so its
predictions for small coalitions, and hence the values, are extrapolations. Train with
``modality_dropout`` (e.g. 0.2-0.3) when modality importance is a goal.

Example:
    >>> from medmodal.explain.modality_importance import shapley_values
    >>> v = lambda s: float(len(s) == 2)  # the two players only count together
    >>> shapley_values(v, ["a", "b"])
    {'a': 0.5, 'b': 0.5}

References:
    Shapley LS. A value for n-person games. In: Contributions to the Theory of Games II,
    Annals of Mathematics Studies 28 (1953).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from medmodal.errors import InvalidParameterError
from medmodal.fusion import FusionClassifier
from medmodal.types import ArrayLike

__all__ = [
    "MAX_SHAPLEY_MODALITIES",
    "ModalityImportance",
    "modality_ablation",
    "modality_shapley",
    "shapley_values",
]

#: Exact enumeration costs ``2**M`` model evaluations.
MAX_SHAPLEY_MODALITIES = 6

Value = Callable[[frozenset[str]], Any]


@dataclass(frozen=True)
class ModalityImportance:
    """Importance of each modality (ablation drops or Shapley values).

    Attributes:
        method: ``"ablation"`` or ``"shapley"``.
        quantity: what the value function measures (a metric name or ``"probability"``).
        values: modality → importance; a float for a metric, ``(n,)`` per sample for
            probabilities.
        full: value with every modality present.
        empty: value with none present (Shapley) or NaN (ablation).
    """

    method: str
    quantity: str
    values: dict[str, Any]
    full: Any
    empty: Any

    def mean(self) -> dict[str, float]:
        """Per-modality importance averaged over samples (a metric is returned as is)."""
        return {k: float(np.mean(v)) for k, v in self.values.items()}

    def to_frame(self) -> pd.DataFrame:
        """One row per modality: ``modality``, ``importance`` (mean) and ``share`` (of |sum|)."""
        means = self.mean()
        total = sum(abs(v) for v in means.values()) or 1.0
        return pd.DataFrame(
            {
                "modality": list(means),
                "importance": list(means.values()),
                "share": [abs(v) / total for v in means.values()],
                "method": self.method,
                "quantity": self.quantity,
            }
        )


def shapley_values(value: Value, players: Sequence[str]) -> dict[str, Any]:
    """Exact Shapley values of a cooperative game by enumerating every coalition.

    Args:
        value: coalition (frozenset of players) → payoff (a float or an array; arrays are
            combined element-wise, e.g. one payoff per sample).
        players: the players (at most :data:`MAX_SHAPLEY_MODALITIES`).

    Returns:
        player → Shapley value; they sum to ``value(all) - value(empty)``.
    """
    names = list(players)
    m = len(names)
    if not 1 <= m <= MAX_SHAPLEY_MODALITIES or len(set(names)) != m:
        raise InvalidParameterError(
            f"shapley_values: needs 1 to {MAX_SHAPLEY_MODALITIES} distinct players, got {names}"
        )
    cache = {
        frozenset(c): value(frozenset(c))
        for r in range(m + 1)
        for c in itertools.combinations(names, r)
    }
    out: dict[str, Any] = {}
    for p in names:
        rest = [q for q in names if q != p]
        total: Any = 0.0
        for r in range(m):
            weight = math.factorial(r) * math.factorial(m - r - 1) / math.factorial(m)
            for c in itertools.combinations(rest, r):
                s = frozenset(c)
                total = total + weight * (np.asarray(cache[s | {p}]) - np.asarray(cache[s]))
        out[p] = float(total) if np.ndim(total) == 0 else np.asarray(total)
    return out


def modality_shapley(
    clf: FusionClassifier,
    X: Mapping[str, ArrayLike],
    y: ArrayLike | None = None,
    *,
    metric: Callable[[np.ndarray, np.ndarray], float] | None = None,
    target: Any = None,
    masks: Mapping[str, ArrayLike] | None = None,
) -> ModalityImportance:
    """Exact Shapley values of the modalities of a fitted fusion model.

    Args:
        clf: a fitted :class:`~medmodal.fusion.FusionClassifier`.
        X: modality → array.
        y: labels; with ``metric`` the game's payoff is ``metric(y, proba)``.
        metric: ``(y_true, proba) -> float``, e.g. ``lambda y, p: roc_auc_score(y, p[:, 1])``.
        target: class label whose probability is the payoff per sample (default: the class
            predicted with every modality present, per sample).
        masks: presence masks; a modality absent here stays absent in every coalition.

    Returns:
        A :class:`ModalityImportance` with ``method="shapley"``.
    """
    value, quantity = _value_function(clf, X, y, metric, target, masks)
    players = list(clf.modalities_)
    if len(players) > MAX_SHAPLEY_MODALITIES:
        raise InvalidParameterError(
            f"modality_shapley: exact enumeration handles at most {MAX_SHAPLEY_MODALITIES} "
            f"modalities, the model has {len(players)}"
        )
    values = shapley_values(value, players)
    return ModalityImportance(
        "shapley", quantity, values, value(frozenset(players)), value(frozenset())
    )


def modality_ablation(
    clf: FusionClassifier,
    X: Mapping[str, ArrayLike],
    y: ArrayLike | None = None,
    *,
    metric: Callable[[np.ndarray, np.ndarray], float] | None = None,
    target: Any = None,
    masks: Mapping[str, ArrayLike] | None = None,
) -> ModalityImportance:
    """Drop each modality in turn: importance = ``v(all) - v(all but this one)``.

    Arguments as in :func:`modality_shapley`; a positive importance means the model does
    worse (or is less sure of the target class) without the modality.
    """
    value, quantity = _value_function(clf, X, y, metric, target, masks)
    players = frozenset(clf.modalities_)
    full = value(players)
    values = {p: _diff(full, value(players - {p})) for p in clf.modalities_}
    return ModalityImportance("ablation", quantity, values, full, float("nan"))


def _diff(a: Any, b: Any) -> Any:
    d = np.asarray(a) - np.asarray(b)
    return float(d) if d.ndim == 0 else d


def _value_function(
    clf: FusionClassifier,
    X: Mapping[str, ArrayLike],
    y: ArrayLike | None,
    metric: Callable[[np.ndarray, np.ndarray], float] | None,
    target: Any,
    masks: Mapping[str, ArrayLike] | None,
) -> tuple[Value, str]:
    """Coalition → payoff, from predictions with the other modalities masked out."""
    if (metric is None) != (y is None):
        raise InvalidParameterError(
            "modality importance: give both y and metric (a score on labelled data) or "
            "neither (per-sample probability of the target class)"
        )
    n = int(np.shape(next(iter(X.values())))[0])
    base = {k: np.asarray(v).astype(bool) for k, v in (masks or {}).items()}

    def proba(coalition: frozenset[str]) -> np.ndarray:
        m = {
            name: base.get(name, np.ones(n, bool)) & (name in coalition) for name in clf.modalities_
        }
        return clf.predict_proba(X, masks=m)

    if metric is not None:
        truth = np.asarray(y)
        name = getattr(metric, "__name__", "metric")
        return (lambda c: float(metric(truth, proba(c)))), name
    columns = _target_columns(clf, proba(frozenset(clf.modalities_)), target)
    rows = np.arange(n)
    return (lambda c: proba(c)[rows, columns]), "probability"


def _target_columns(clf: FusionClassifier, full: np.ndarray, target: Any) -> np.ndarray:
    if target is None:
        return full.argmax(axis=1)
    classes = list(np.asarray(clf.classes_).tolist())
    if target not in classes:
        raise InvalidParameterError(
            f"modality importance: target must be one of the classes {classes}, got {target!r}"
        )
    return np.full(len(full), classes.index(target))
