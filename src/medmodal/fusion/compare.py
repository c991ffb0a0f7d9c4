"""``compare_fusion``: every method and every unimodal baseline under one grouped CV.

All methods see the same folds (grouped by patient when ``groups`` is given); their
out-of-fold predictions are pooled and scored with accuracy, balanced accuracy, macro-F1,
AUROC, AUPRC, Brier score and ECE, each with a bootstrap 95 % CI (resampling patients
when grouped). ``missing=`` re-scores every fitted fold model with each modality removed
at test time: the robustness table.

Example:
    >>> from medmodal.data.synthetic import make_multimodal_classification
    >>> from medmodal.fusion.compare import compare_fusion
    >>> d = make_multimodal_classification(200, seed=0)
    >>> table = compare_fusion(d.X, d.y, methods=["early"], cv=2, n_boot=20,
    ...                        params={"epochs": 5, "hidden": 8})
    >>> table["method"].tolist()
    ['early', 'unimodal:clinical', 'unimodal:image']
    >>> bool((table["auroc_low"] <= table["auroc"]).all())
    True
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold

from medmodal.errors import InvalidParameterError
from medmodal.fusion._data import check_modalities, encode_targets
from medmodal.fusion.estimator import FusionClassifier, parse_method
from medmodal.fusion.missing import presence_masks
from medmodal.metrics.bootstrap import bootstrap_metrics
from medmodal.metrics.classification import METRICS, classification_metrics
from medmodal.types import ArrayLike

#: Methods compared by default (unimodal baselines are added for every modality).
DEFAULT_METHODS = ("early", "late", "intermediate", "attention", "gated")
#: Condition name of the evaluation with every modality available.
ALL = "all"


@dataclass
class FusionComparison:
    """Scores and out-of-fold predictions of a :func:`run_comparison`.

    Attributes:
        table: one row per (method, condition) with every metric and its CI.
        y: encoded targets (class codes or label matrix).
        classes: class labels (or label indices for multi-label targets).
        multilabel: whether the target is multi-label.
        predictions: ``(method, condition)`` → out-of-fold probabilities ``(n, K)``.
        folds: fold index of every sample.
    """

    table: pd.DataFrame
    y: np.ndarray
    classes: np.ndarray
    multilabel: bool
    predictions: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    folds: np.ndarray | None = None

    def to_frame(self) -> pd.DataFrame:
        """The comparison table (a copy)."""
        return self.table.copy()

    def to_markdown(self, metrics: Sequence[str] = METRICS, digits: int = 3) -> str:
        """The table as Markdown, each metric as ``value [low, high]``."""
        rows = ["| method | condition | " + " | ".join(metrics) + " |"]
        rows.append("|---|---|" + "---|" * len(metrics))
        for d in self.table.to_dict(orient="records"):
            cells = [
                f"{d[m]:.{digits}f} [{d[m + '_low']:.{digits}f}, {d[m + '_high']:.{digits}f}]"
                for m in metrics
            ]
            rows.append(f"| {d['method']} | {d['condition']} | " + " | ".join(cells) + " |")
        return "\n".join(rows)


def _method_specs(
    methods: Sequence[str] | Mapping[str, Mapping[str, Any]],
    modalities: Sequence[str],
    params: Mapping[str, Any] | None,
    baselines: bool,
) -> dict[str, dict[str, Any]]:
    """Label → FusionClassifier parameters (common params, then per-method ones)."""
    if isinstance(methods, str):
        methods = [methods]
    specs: dict[str, dict[str, Any]] = {}
    items = methods.items() if isinstance(methods, Mapping) else ((m, {}) for m in methods)
    for label, own in items:
        chosen = {"method": label, **dict(params or {}), **dict(own)}
        parse_method(chosen["method"])  # fail early on unknown names
        specs[label] = chosen
    if baselines:
        for name in modalities:
            specs.setdefault(
                f"unimodal:{name}", {"method": f"unimodal:{name}", **dict(params or {})}
            )
    return specs


def _splits(
    cv: int | Any, y: np.ndarray, multilabel: bool, groups: np.ndarray | None, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The folds: stratified (single-label) and grouped (when groups are given)."""
    if not isinstance(cv, int):
        return list(cv.split(np.zeros(len(y)), None if multilabel else y, groups))
    if cv < 2:
        raise InvalidParameterError(f"compare_fusion: cv must be >= 2, got {cv}")
    X0 = np.zeros(len(y))
    if groups is not None:
        if multilabel:
            return list(GroupKFold(cv, shuffle=True, random_state=seed).split(X0, None, groups))
        return list(StratifiedGroupKFold(cv, shuffle=True, random_state=seed).split(X0, y, groups))
    if multilabel:
        return list(KFold(cv, shuffle=True, random_state=seed).split(X0))
    return list(StratifiedKFold(cv, shuffle=True, random_state=seed).split(X0, y))


def _conditions(missing: str | Sequence[str] | None, modalities: Sequence[str]) -> list[str]:
    if missing is None:
        return []
    names = (
        list(modalities)
        if missing in ("each", "all", True)
        else [missing]
        if isinstance(missing, str)
        else list(missing)
    )
    unknown = [m for m in names if m not in modalities]
    if unknown:
        raise InvalidParameterError(
            f"compare_fusion: missing= names unknown modalities {unknown}; have {list(modalities)}"
        )
    return names


def _fold_predictions(
    clf: FusionClassifier,
    X: Mapping[str, np.ndarray],
    masks: Mapping[str, np.ndarray],
    test: np.ndarray,
    removed: list[str],
) -> Iterator[tuple[str, np.ndarray]]:
    sub = {k: v[test] for k, v in X.items()}
    for cond in [ALL, *removed]:
        m = {k: v[test].copy() for k, v in masks.items()}
        if cond != ALL:
            m[cond][:] = False
        yield (ALL if cond == ALL else f"without {cond}"), clf.predict_proba(sub, masks=m)


def run_comparison(
    X: Mapping[str, ArrayLike],
    y: ArrayLike,
    *,
    methods: Sequence[str] | Mapping[str, Mapping[str, Any]] = DEFAULT_METHODS,
    cv: int | Any = 5,
    groups: ArrayLike | None = None,
    seed: int = 0,
    missing: str | Sequence[str] | None = None,
    masks: Mapping[str, ArrayLike] | None = None,
    params: Mapping[str, Any] | None = None,
    baselines: bool = True,
    n_boot: int = 1000,
    verbose: bool = False,
) -> FusionComparison:
    """Cross-validate every method (and unimodal baseline) on the same folds.

    Args:
        X: modality name → array ``(n, ...)`` (NaN rows = missing).
        y: class labels ``(n,)`` or a 0/1 label matrix ``(n, L)``.
        methods: method names, or label → FusionClassifier parameters (e.g.
            ``{"late (stacking)": {"method": "late", "combiner": "stacking"}}``).
        cv: number of folds, or a scikit-learn splitter.
        groups: patient (or other) ids: folds and bootstrap keep each group together.
        seed: seeds the folds, the models and the bootstrap.
        missing: ``"each"`` or modality names: also score with that modality removed at
            test time (condition ``"without <name>"``).
        masks: modality presence masks (``True`` = present).
        params: FusionClassifier parameters shared by every method (e.g. ``epochs``).
        baselines: add ``unimodal:<name>`` for every modality.
        n_boot: bootstrap resamples for the CIs.
        verbose: a progress bar over the fits.
    """
    from tqdm.auto import tqdm

    data = check_modalities(X, "compare_fusion")
    n = next(iter(data.values())).shape[0]
    targets = encode_targets(y, n, "compare_fusion")
    present = presence_masks(data, masks)
    g = None if groups is None else np.asarray(groups)
    if g is not None and g.shape != (n,):
        raise InvalidParameterError(f"compare_fusion: groups must have shape ({n},), got {g.shape}")
    specs = _method_specs(methods, sorted(data), params, baselines)
    removed = _conditions(missing, sorted(data))
    folds = _splits(cv, targets.values, targets.multilabel, g, seed)
    k = targets.values.shape[1] if targets.multilabel else len(targets.classes)
    y_fit = targets.values if targets.multilabel else targets.classes[targets.values]
    preds: dict[tuple[str, str], np.ndarray] = {}
    fold_of = np.empty(n, dtype=np.int64)
    bar = tqdm(total=len(specs) * len(folds), desc="compare", disable=not verbose)
    for label, p in specs.items():
        base = FusionClassifier(**{"verbose": False, "random_state": seed, **p})
        for f, (train, test) in enumerate(folds):
            fold_of[test] = f
            clf = clone(base).fit(
                {k_: v[train] for k_, v in data.items()},
                y_fit[train],
                masks={k_: v[train] for k_, v in present.items()},
                groups=None if g is None else g[train],
            )
            for cond, proba in _fold_predictions(clf, data, present, test, removed):
                out = preds.setdefault((label, cond), np.full((n, k), np.nan))
                out[test] = _align(proba, clf.classes_, targets.classes, targets.multilabel)
            bar.update()
    bar.close()
    table = _score(preds, targets.values, targets.multilabel, g, n_boot, seed)
    return FusionComparison(
        table, targets.values, targets.classes, targets.multilabel, preds, fold_of
    )


def _align(
    proba: np.ndarray, fitted: np.ndarray, classes: np.ndarray, multilabel: bool
) -> np.ndarray:
    """Probabilities in the order of all ``classes`` (a fold may lack a class)."""
    if multilabel or len(fitted) == len(classes):
        return proba
    out = np.zeros((len(proba), len(classes)))
    out[:, np.searchsorted(classes, fitted)] = proba
    return out


def _score(
    preds: dict[tuple[str, str], np.ndarray],
    y: np.ndarray,
    multilabel: bool,
    groups: np.ndarray | None,
    n_boot: int,
    seed: int,
) -> pd.DataFrame:
    rows = []
    for (label, cond), proba in preds.items():
        ci = bootstrap_metrics(
            classification_metrics, y, proba, n_boot=n_boot, groups=groups, seed=seed,
            multilabel=multilabel,
        )  # fmt: skip
        row: dict[str, Any] = {"method": label, "condition": cond, "n": len(y)}
        for m in METRICS:
            row.update({m: ci.value[m], f"{m}_low": ci.low[m], f"{m}_high": ci.high[m]})
        rows.append(row)
    table = pd.DataFrame(rows)
    order = {c: i for i, c in enumerate(dict.fromkeys(table["condition"]))}
    return table.sort_values("condition", key=lambda s: s.map(order), kind="stable").reset_index(
        drop=True
    )


def compare_fusion(
    X: Mapping[str, ArrayLike],
    y: ArrayLike,
    *,
    methods: Sequence[str] | Mapping[str, Mapping[str, Any]] = DEFAULT_METHODS,
    cv: int | Any = 5,
    groups: ArrayLike | None = None,
    seed: int = 0,
    missing: str | Sequence[str] | None = None,
    masks: Mapping[str, ArrayLike] | None = None,
    params: Mapping[str, Any] | None = None,
    baselines: bool = True,
    n_boot: int = 1000,
    verbose: bool = False,
) -> pd.DataFrame:
    """The table of :func:`run_comparison` (one row per method and test condition).

    Columns: ``method``, ``condition`` (``"all"`` or ``"without <modality>"``), ``n``,
    and for every metric of :data:`~medmodal.metrics.classification.METRICS` its value
    with ``<metric>_low`` / ``<metric>_high`` bootstrap bounds.
    """
    return run_comparison(
        X, y, methods=methods, cv=cv, groups=groups, seed=seed, missing=missing, masks=masks,
        params=params, baselines=baselines, n_boot=n_boot, verbose=verbose,
    ).table  # fmt: skip
