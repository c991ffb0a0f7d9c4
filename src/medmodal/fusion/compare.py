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
from typing import Any, TypedDict, Unpack

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold

from medmodal.errors import InvalidParameterError
from medmodal.fusion._base import resolve_method
from medmodal.fusion._data import check_modalities, encode_targets
from medmodal.fusion.estimator import FusionClassifier
from medmodal.fusion.missing import presence_masks
from medmodal.metrics.bootstrap import bootstrap_metrics
from medmodal.metrics.classification import METRICS, classification_metrics
from medmodal.types import ArrayLike, IntArray

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

    def with_intervals(
        self,
        n_boot: int,
        *,
        seed: int = 0,
        groups: ArrayLike | None = None,
        conditions: Sequence[str] = (ALL,),
    ) -> pd.DataFrame:
        """The table with bootstrap 95 % CIs (re)computed for the rows of ``conditions``.

        A comparison run with ``n_boot=0`` is cheap; this fills in the intervals only
        where they are shown (by default: every modality present).

        Args:
            n_boot: bootstrap resamples.
            seed: seeds the resampling.
            groups: ``(n,)`` ids resampled as units (e.g. patients).
            conditions: the test conditions to give intervals (``"all"``,
                ``"without <modality>"``).

        Returns:
            A copy of :attr:`table` with ``<metric>_low`` / ``<metric>_high`` filled in
            for those rows.
        """
        table = self.table.copy()
        g = None if groups is None else np.asarray(groups)
        for i, row in table[table["condition"].isin(list(conditions))].iterrows():
            proba = self.predictions[(row["method"], row["condition"])]
            ci = bootstrap_metrics(
                classification_metrics, self.y, proba, n_boot=n_boot, seed=seed, groups=g,
                multilabel=self.multilabel,
            )  # fmt: skip
            for metric in ci.value:
                if metric in table.columns:
                    table.loc[i, [f"{metric}_low", f"{metric}_high"]] = (
                        ci.low[metric],
                        ci.high[metric],
                    )
        return table


def robustness_table(table: pd.DataFrame, metric: str = "auroc") -> pd.DataFrame:
    """``metric`` per method (rows, in table order) and test condition (``all`` first).

    Args:
        table: a comparison table (:attr:`FusionComparison.table` or
            :meth:`FusionComparison.with_intervals`).
        metric: the column to spread.

    Example:
        >>> import pandas as pd
        >>> t = pd.DataFrame({"method": ["late", "late"], "auroc": [0.9, 0.7],
        ...                   "condition": ["without a", "all"]})
        >>> robustness_table(t).to_dict(orient="records")
        [{'AUROC all': 0.7, 'AUROC without a': 0.9}]
    """
    wide = table.pivot(index="method", columns="condition", values=metric)
    wide = wide.reindex(list(dict.fromkeys(table["method"])))
    columns = [ALL, *[c for c in wide.columns if c != ALL]]
    wide = wide[columns]
    label = "AUROC" if metric == "auroc" else metric
    wide.columns = [f"{label} {c}" for c in columns]
    wide.index.name = "method"
    return wide


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
        resolve_method(chosen["method"])  # fail early on unknown names
        specs[label] = chosen
    if baselines:
        for name in modalities:
            specs.setdefault(
                f"unimodal:{name}", {"method": f"unimodal:{name}", **dict(params or {})}
            )
    return specs


def fold_splits(
    y: ArrayLike,
    cv: int | Any = 5,
    *,
    groups: ArrayLike | None = None,
    seed: int = 0,
    multilabel: bool = False,
) -> list[tuple[IntArray, IntArray]]:
    """The ``(train, test)`` index pairs :func:`run_comparison` uses for ``cv``.

    With an int: stratified for single-label targets, grouped when ``groups`` is given
    (a group never straddles two folds), shuffled with ``seed``. Any scikit-learn
    splitter is used as it is (``cv.split(X, y, groups)``), so callers can reproduce
    a comparison's folds outside it.

    Args:
        y: class labels ``(n,)`` or a 0/1 label matrix ``(n, L)``.
        cv: number of folds (>= 2) or a scikit-learn splitter.
        groups: ``(n,)`` patient (or other) ids.
        seed: shuffles the folds (int ``cv`` only).
        multilabel: whether ``y`` is a label matrix (no stratification).

    Raises:
        InvalidParameterError: ``cv`` below 2 or ``groups`` of the wrong length.

    Example:
        >>> import numpy as np
        >>> folds = fold_splits(np.tile([0, 1], 10), 2, groups=np.repeat(np.arange(5), 4))
        >>> len(folds), sorted(np.concatenate([test for _, test in folds]).tolist()) == list(
        ...     range(20))
        (2, True)
    """
    y_arr = np.asarray(y)
    g = None if groups is None else np.asarray(groups)
    if g is not None and g.shape != (len(y_arr),):
        raise InvalidParameterError(
            f"fold_splits: groups must have shape ({len(y_arr)},), got {g.shape}"
        )
    X0 = np.zeros(len(y_arr))
    if not isinstance(cv, int):
        return list(cv.split(X0, None if multilabel else y_arr, g))
    if cv < 2:
        raise InvalidParameterError(f"fold_splits: cv must be an int >= 2 or a splitter, got {cv}")
    if g is not None:
        if multilabel:
            return list(GroupKFold(cv, shuffle=True, random_state=seed).split(X0, None, g))
        return list(StratifiedGroupKFold(cv, shuffle=True, random_state=seed).split(X0, y_arr, g))
    if multilabel:
        return list(KFold(cv, shuffle=True, random_state=seed).split(X0))
    return list(StratifiedKFold(cv, shuffle=True, random_state=seed).split(X0, y_arr))


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
    folds = fold_splits(targets.values, cv, groups=g, seed=seed, multilabel=targets.multilabel)
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


class ComparisonOptions(TypedDict, total=False):
    """The keyword arguments of :func:`run_comparison` (their defaults are there)."""

    methods: Sequence[str] | Mapping[str, Mapping[str, Any]]
    cv: int | Any
    groups: ArrayLike | None
    seed: int
    missing: str | Sequence[str] | None
    masks: Mapping[str, ArrayLike] | None
    params: Mapping[str, Any] | None
    baselines: bool
    n_boot: int
    verbose: bool


def compare_fusion(
    X: Mapping[str, ArrayLike], y: ArrayLike, **options: Unpack[ComparisonOptions]
) -> pd.DataFrame:
    """The table of :func:`run_comparison` (one row per method and test condition).

    Arguments as in :func:`run_comparison`. Columns: ``method``, ``condition`` (``"all"``
    or ``"without <modality>"``), ``n``, and for every metric of
    :data:`~medmodal.metrics.classification.METRICS` its value with ``<metric>_low`` /
    ``<metric>_high`` bootstrap bounds.
    """
    return run_comparison(X, y, **options).table
