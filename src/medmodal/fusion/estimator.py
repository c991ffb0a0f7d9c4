"""``FusionClassifier``: every fusion strategy behind the scikit-learn estimator contract.

``X`` maps modality name to an array ``(n_samples, ...)``: ``(n, F)`` tabular
features, ``(n, C, T)`` signals, or precomputed embeddings (say ``kinds={name:
"embedding"}``). It is a :class:`~medmodal.data.modality_frame.ModalityFrame` (rows index
like an array, so ``cross_val_score``, ``GridSearchCV`` and ``Pipeline`` work), a plain
dict, or one 2-D table (array or DataFrame: a single tabular modality). A modality
missing for a sample is marked by the frame's masks or ``masks={name: bool array}``
(``True`` = present) or by an all-NaN row, in ``fit`` and in ``predict``. ``y`` is a 1-D
array of class labels (binary or multi-class) or a 2-D 0/1 matrix (multi-label).

Example:
    >>> from medmodal.data.synthetic import make_multimodal_classification
    >>> from medmodal.fusion import FusionClassifier
    >>> data = make_multimodal_classification(300, seed=0)
    >>> clf = FusionClassifier("intermediate", epochs=20, batch_size=32, verbose=False)
    >>> clf.fit(data.X, data.y).score(data.X, data.y) > 0.9
    True
    >>> clf.predict_proba(data.X).shape
    (300, 2)
    >>> FusionClassifier("unimodal:clinical", epochs=5, verbose=False).fit(
    ...     data.X, data.y).modalities_
    ('clinical',)
    >>> from sklearn.model_selection import cross_val_score
    >>> clf = FusionClassifier("early", epochs=3, hidden=8, verbose=False)
    >>> cross_val_score(clf, data.frame(), data.y, cv=3).shape
    (3,)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit, StratifiedShuffleSplit

from medmodal._torch import num_threads
from medmodal.data.modality_frame import ModalityFrame
from medmodal.errors import InvalidParameterError, NotFittedError
from medmodal.fusion._base import (
    FusionMethod,
    FusionModel,
    FusionOutput,
    ModalitySpec,
    resolve_method,
)
from medmodal.fusion._data import Scaler, Targets, check_modalities, class_weights, encode_targets
from medmodal.fusion._training import Batch, fit_network
from medmodal.fusion.config import FusionConfig, FusionTrainConfig
from medmodal.fusion.encoders import default_kind
from medmodal.fusion.missing import presence_masks
from medmodal.types import ArrayLike

#: What ``fit``/``predict`` take as ``X``: a frame, a dict of modality arrays, or a table.
XLike = ModalityFrame | Mapping[str, ArrayLike] | ArrayLike

_FUSION_KEYS: tuple[str, ...] = ("hidden", "depth", "dropout", "modality_dropout", "num_heads")
_FUSION_KEYS += ("combiner", "signal_width", "signal_depth")
_TRAIN_KEYS: tuple[str, ...] = ("epochs", "batch_size", "lr", "weight_decay", "patience")
_TRAIN_KEYS += ("validation_fraction", "class_weight", "random_state", "num_threads", "verbose")


class FusionClassifier(ClassifierMixin, BaseEstimator):
    """A multimodal classifier: one of the registered fusion strategies, trained end to end.

    Args:
        method: fusion strategy (``early``, ``late``, ``intermediate``, ``attention``,
            ``gated``) or ``"unimodal:<modality>"`` for a single-modality baseline.
        modalities: use only these modalities of ``X`` (default: all, sorted by name).
        kinds: modality → ``tabular``/``signal``/``embedding`` (default: by array rank).
        hidden, depth, dropout, modality_dropout, num_heads, combiner, signal_width,
            signal_depth: network settings, see :class:`~medmodal.fusion.config.FusionConfig`.
        epochs, batch_size, lr, weight_decay, patience, validation_fraction, class_weight,
            random_state, num_threads, verbose: training settings, see
            :class:`~medmodal.fusion.config.FusionTrainConfig`.

    Attributes:
        classes_: class labels (multi-class) or label indices (multi-label).
        modalities_: the modalities used, in model order.
        specs_: their :class:`~medmodal.fusion._base.ModalitySpec`.
        model_: the trained :class:`~medmodal.fusion._base.FusionModel`.
        history_: per-epoch ``train_loss`` (and ``val_loss``).
        multilabel_: whether the target was multi-label.
    """

    def __init__(
        self,
        method: str = "intermediate",
        *,
        modalities: Sequence[str] | None = None,
        kinds: Mapping[str, str] | None = None,
        hidden: int = 64,
        depth: int = 1,
        dropout: float = 0.2,
        modality_dropout: float = 0.0,
        num_heads: int = 4,
        combiner: str = "mean",
        signal_width: int = 32,
        signal_depth: int = 3,
        epochs: int = 100,
        batch_size: int = 256,
        lr: float = 1e-3,
        weight_decay: float = 1e-2,
        patience: int = 10,
        validation_fraction: float = 0.15,
        class_weight: str | None = None,
        random_state: int = 0,
        num_threads: int | None = None,
        verbose: bool = True,
    ) -> None:
        self.method = method
        self.modalities = modalities
        self.kinds = kinds
        self.hidden = hidden
        self.depth = depth
        self.dropout = dropout
        self.modality_dropout = modality_dropout
        self.num_heads = num_heads
        self.combiner = combiner
        self.signal_width = signal_width
        self.signal_depth = signal_depth
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.random_state = random_state
        self.num_threads = num_threads
        self.verbose = verbose

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN rows mark a missing modality
        tags.classifier_tags.multi_label = True
        return tags

    # -- configuration ---------------------------------------------------------------
    def fusion_config(self, method: FusionMethod | None = None) -> FusionConfig:
        """The network configuration these parameters describe (validated); ``method``:
        ``self.method`` already resolved (:func:`~medmodal.fusion._base.resolve_method`)."""
        strategy = (method or resolve_method(self.method)).name
        values = {k: getattr(self, k) for k in _FUSION_KEYS}
        return FusionConfig(method=strategy, kinds=dict(self.kinds or {}), **values)

    def train_config(self) -> FusionTrainConfig:
        """The training configuration these parameters describe (validated)."""
        return FusionTrainConfig(**{k: getattr(self, k) for k in _TRAIN_KEYS})

    @classmethod
    def from_config(
        cls, fusion: FusionConfig, train: FusionTrainConfig | None = None, **params: Any
    ) -> FusionClassifier:
        """An estimator from configuration objects (e.g. read from JSON)."""
        values = {k: v for k, v in fusion.to_dict().items() if k not in ("method", "kinds")}
        values.update((train or FusionTrainConfig()).to_dict())
        values.update(params)
        return cls(fusion.method, kinds=dict(fusion.kinds) or None, **values)

    # -- fitting ---------------------------------------------------------------------
    def fit(
        self,
        X: XLike,
        y: ArrayLike,
        *,
        masks: Mapping[str, ArrayLike] | None = None,
        groups: ArrayLike | None = None,
    ) -> FusionClassifier:
        """Train on ``X`` (modality → array) and ``y``; ``groups`` keep patients together
        in the internal validation split."""
        method = resolve_method(self.method)  # once per fit
        fcfg, tcfg = self.fusion_config(method), self.train_config()
        frame = _as_frame(X, masks, "FusionClassifier.fit")
        data = self._select(check_modalities(frame.to_dict(), "FusionClassifier.fit"), fixed=method)
        if len(frame) == 0:
            raise InvalidParameterError("FusionClassifier.fit: X has 0 sample(s); need rows")
        present = presence_masks(data, _select_masks(frame.masks, data))
        self.n_features_in_ = int(sum(np.prod(a.shape[1:]) for a in data.values()))
        n = next(iter(data.values())).shape[0]
        targets = encode_targets(y, n, "FusionClassifier.fit")
        self.specs_ = tuple(
            ModalitySpec(
                name, (fcfg.kinds or {}).get(name) or default_kind(a.shape[1:]), a.shape[1:]
            )
            for name, a in data.items()
        )
        self.scalers_ = {
            s.name: Scaler.fit(data[s.name], present[s.name], s.kind) for s in self.specs_
        }
        self.classes_, self.multilabel_ = targets.classes, targets.multilabel
        batch = self._batch(data, present)
        target = torch.from_numpy(targets.values)
        weight = class_weights(targets) if tcfg.class_weight == "balanced" else None
        train_idx, val_idx = _validation_split(targets, groups, tcfg)
        with num_threads(tcfg.num_threads), torch.random.fork_rng(devices=[]):
            torch.manual_seed(tcfg.random_state)
            gen = torch.Generator().manual_seed(tcfg.random_state)
            self.model_: FusionModel = method.network(
                self.specs_, _n_outputs(targets), fcfg, multilabel=targets.multilabel
            )
            tr = (batch.take(torch.from_numpy(train_idx)), target[train_idx])
            va = (
                None
                if val_idx is None
                else (batch.take(torch.from_numpy(val_idx)), target[val_idx])
            )
            self.history_ = fit_network(self.model_, tr, va, tcfg, weight=weight, generator=gen)
        return self

    def _select(
        self, data: dict[str, np.ndarray], *, fixed: FusionMethod | None = None
    ) -> dict[str, np.ndarray]:
        """The modalities to use: when fitting (``fixed``, the resolved method), the
        method's own or ``modalities`` or all; when predicting, the fitted ones."""
        wanted: Sequence[str] | None = self.modalities_ if fixed is None else fixed.modalities
        if fixed is not None and wanted is None and self.modalities:
            wanted = tuple(self.modalities)
        names = tuple(sorted(data)) if wanted is None else tuple(wanted)
        missing = [n for n in names if n not in data]
        if missing:
            raise InvalidParameterError(
                f"FusionClassifier: modalities {missing} are not in X (it has {sorted(data)})"
            )
        if fixed is not None:
            self.modalities_: tuple[str, ...] = names
        else:
            for spec in self.specs_:
                got = data[spec.name].shape[1:]
                if got != spec.shape:
                    raise InvalidParameterError(
                        f"FusionClassifier: modality {spec.name!r} was fitted on samples of "
                        f"shape {spec.shape}, got {got} (X has {int(np.prod(got))} features, "
                        f"but FusionClassifier is expecting {int(np.prod(spec.shape))} "
                        "features as input)"
                    )
        return {n: data[n] for n in names}

    def _batch(self, data: dict[str, np.ndarray], present: dict[str, np.ndarray]) -> Batch:
        inputs = {n: self.scalers_[n].transform(data[n], present[n]) for n in self.modalities_}
        mask = np.stack([present[n] for n in self.modalities_], axis=1)
        return Batch(inputs, torch.from_numpy(mask))

    # -- persistence -----------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the fitted estimator to a folder (config.json + model.safetensors)."""
        from medmodal.fusion.serialize import save_fusion_model

        return save_fusion_model(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> FusionClassifier:
        """Read a folder written by :meth:`save` (no unpickling)."""
        from medmodal.fusion.serialize import load_fusion_model

        return load_fusion_model(path)

    # -- prediction ------------------------------------------------------------------
    def prepare(self, X: XLike, *, masks: Mapping[str, ArrayLike] | None = None) -> Batch:
        """Scaled input tensors and the ``(n, M)`` presence mask, as ``model_`` takes them."""
        if not hasattr(self, "model_"):
            raise _NotFittedError("FusionClassifier is not fitted yet: call fit(X, y) first")
        frame = _as_frame(X, masks, "FusionClassifier.predict")
        data = self._select(check_modalities(frame.to_dict(), "FusionClassifier.predict"))
        return self._batch(data, presence_masks(data, _select_masks(frame.masks, data)))

    def forward(
        self,
        X: XLike,
        *,
        masks: Mapping[str, ArrayLike] | None = None,
        need_weights: bool = False,
    ) -> FusionOutput:
        """The network's full output (logits, attention weights, gates) for ``X``."""
        batch = self.prepare(X, masks=masks)
        self.model_.eval()
        with num_threads(self.num_threads), torch.inference_mode():
            return self.model_(batch.inputs, batch.present, need_weights=need_weights)

    def predict_proba(
        self, X: XLike, *, masks: Mapping[str, ArrayLike] | None = None
    ) -> np.ndarray:
        """Class probabilities ``(n, K)`` (rows sum to 1) or label probabilities ``(n, L)``."""
        batch = self.prepare(X, masks=masks)
        self.model_.eval()
        parts = []
        with num_threads(self.num_threads), torch.inference_mode():
            for start in range(0, len(batch), 4096):
                idx = torch.arange(start, min(start + 4096, len(batch)))
                logits = self.model_(batch.take(idx).inputs, batch.present[idx]).logits
                probs = torch.sigmoid(logits) if self.multilabel_ else logits.softmax(dim=1)
                parts.append(probs.double().numpy())
        return np.concatenate(parts) if parts else np.zeros((0, len(self.classes_)))

    def predict(self, X: XLike, *, masks: Mapping[str, ArrayLike] | None = None) -> np.ndarray:
        """Class labels ``(n,)`` or a 0/1 label matrix ``(n, L)`` (threshold 0.5)."""
        proba = self.predict_proba(X, masks=masks)
        if self.multilabel_:
            return (proba >= 0.5).astype(np.int64)
        return self.classes_[proba.argmax(axis=1)]

    def score(
        self,
        X: XLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        *,
        masks: Mapping[str, ArrayLike] | None = None,
    ) -> float:
        """Accuracy (exact-match accuracy for multi-label targets)."""
        from sklearn.metrics import accuracy_score

        return float(accuracy_score(y, self.predict(X, masks=masks), sample_weight=sample_weight))


class _NotFittedError(NotFittedError, SklearnNotFittedError):
    """Caught by ``except`` of medmodal's and of scikit-learn's ``NotFittedError``."""


def _as_frame(X: XLike, masks: Mapping[str, ArrayLike] | None, where: str) -> ModalityFrame:
    """``X`` (frame, dict or one table) and ``masks`` as one frame; errors name ``where``."""
    try:
        return ModalityFrame.coerce(X, masks)
    except InvalidParameterError as exc:
        raise InvalidParameterError(f"{where}: {exc}") from None


def _select_masks(
    masks: Mapping[str, ArrayLike] | None, data: Mapping[str, np.ndarray]
) -> dict[str, ArrayLike]:
    """Masks of the selected modalities (masks of other modalities of X are ignored)."""
    return {k: v for k, v in (masks or {}).items() if k in data}


def _n_outputs(t: Targets) -> int:
    return len(t.classes)


def _validation_split(
    t: Targets, groups: ArrayLike | None, cfg: FusionTrainConfig
) -> tuple[np.ndarray, np.ndarray | None]:
    """Indices of the training rows and of the early-stopping validation rows."""
    n = len(t.values)
    everything = np.arange(n)
    if cfg.validation_fraction == 0 or n < 10:
        return everything, None
    kw = {"n_splits": 1, "test_size": cfg.validation_fraction, "random_state": cfg.random_state}
    if groups is not None:
        g = np.asarray(groups)
        if g.shape != (n,):
            raise InvalidParameterError(f"FusionClassifier.fit: groups must have shape ({n},)")
        if len(np.unique(g)) < 2:
            return everything, None
        tr, va = next(GroupShuffleSplit(**kw).split(everything, groups=g))
        return tr, va
    counts = None if t.multilabel else np.bincount(t.values)
    if counts is not None and counts.min() >= 2 and n * cfg.validation_fraction >= len(counts):
        tr, va = next(StratifiedShuffleSplit(**kw).split(everything, t.values))
    else:
        tr, va = next(ShuffleSplit(**kw).split(everything))
    return tr, va
