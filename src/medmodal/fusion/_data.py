"""Input checking and scaling for the fusion estimator (numpy in, float32 tensors out)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from medmodal.errors import InvalidParameterError
from medmodal.types import ArrayLike, BoolArray

Float32Array = np.ndarray


def check_modalities(X: object, where: str) -> dict[str, np.ndarray]:
    """``X`` must map modality names to arrays with the same number of rows."""
    if not isinstance(X, Mapping) or not X:
        raise InvalidParameterError(
            f"{where}: X must be a non-empty dict of modality name -> array (n_samples, ...), "
            f"got {type(X).__name__}"
        )
    out: dict[str, np.ndarray] = {}
    for name, value in X.items():
        if not isinstance(name, str) or not name or "." in name:
            raise InvalidParameterError(
                f"{where}: modality names must be non-empty strings without '.', got {name!r}"
            )
        if np.iscomplexobj(value):
            raise InvalidParameterError(
                f"{where}: modality {name!r} is complex: Complex data not supported"
            )
        arr = np.asarray(value, dtype=np.float32)
        if arr.ndim < 2:
            raise InvalidParameterError(
                f"{where}: modality {name!r} must be (n_samples, ...) with >= 2 dims, "
                f"got shape {arr.shape}"
            )
        if arr.size == 0 and arr.shape[0]:
            raise InvalidParameterError(
                f"{where}: modality {name!r} has 0 feature(s) (shape={arr.shape}) while a "
                "minimum of 1 is required."
            )
        if np.isinf(arr).any():
            raise InvalidParameterError(f"{where}: modality {name!r} contains inf")
        out[name] = arr
    sizes = {name: a.shape[0] for name, a in out.items()}
    if len(set(sizes.values())) != 1:
        raise InvalidParameterError(f"{where}: modalities differ in n_samples: {sizes}")
    return out


@dataclass(frozen=True)
class Scaler:
    """Per-feature (tabular, embedding) or per-lead (signal) standardisation, NaN-aware."""

    mean: np.ndarray
    std: np.ndarray
    per_channel: bool

    @classmethod
    def fit(cls, x: np.ndarray, present: BoolArray, kind: str) -> Scaler:
        """Statistics over the present rows (per lead for signals)."""
        rows = x[present] if present.any() else np.zeros((1, *x.shape[1:]), np.float32)
        per_channel = kind == "signal"
        axes = (0, 2) if per_channel else (0,)
        with np.errstate(all="ignore"):
            mean = np.nanmean(rows, axis=axes, keepdims=True)[0]
            std = np.nanstd(rows, axis=axes, keepdims=True)[0]
        mean = np.nan_to_num(mean, nan=0.0).astype(np.float32)
        std = np.where(np.isfinite(std) & (std > 1e-8), std, 1.0).astype(np.float32)
        return cls(mean, std, per_channel)

    def transform(self, x: np.ndarray, present: BoolArray) -> torch.Tensor:
        """Standardised float32 tensor; NaN (and missing rows) become 0."""
        z = (x - self.mean) / self.std
        z = np.nan_to_num(z, nan=0.0)
        z[~present] = 0.0
        return torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32))


@dataclass(frozen=True)
class Targets:
    """Encoded targets: class codes ``(n,)`` or a label matrix ``(n, L)``."""

    values: np.ndarray
    classes: np.ndarray
    multilabel: bool


def encode_targets(y: ArrayLike, n: int, where: str) -> Targets:
    """Multi-class (1-D labels) or multi-label (2-D 0/1 matrix) targets."""
    if y is None:
        raise InvalidParameterError(f"{where} requires y to be passed, but the target y is None")
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.shape[0] != n:
        raise InvalidParameterError(f"{where}: y has {arr.shape[0]} rows, X has {n}")
    if arr.ndim == 2:
        if not np.isin(arr, (0, 1)).all():
            raise InvalidParameterError(
                f"{where}: 2-D y is a multi-label target and must hold only 0/1"
            )
        return Targets(arr.astype(np.float32), np.arange(arr.shape[1]), True)
    if arr.ndim != 1:
        raise InvalidParameterError(f"{where}: y must be 1-D (classes) or 2-D (labels)")
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise InvalidParameterError(f"{where}: y contains NaN")
    if arr.dtype.kind == "f" and not np.array_equal(arr, np.round(arr)):
        raise InvalidParameterError(
            f"{where}: y is continuous (Unknown label type); pass class labels, not values"
        )
    classes, codes = np.unique(arr, return_inverse=True)
    if len(classes) < 2:
        raise InvalidParameterError(f"{where}: y has one class only: {classes.tolist()}")
    return Targets(codes.astype(np.int64), classes, False)


def class_weights(t: Targets) -> torch.Tensor:
    """``balanced`` weights: ``n / (K * count_k)`` per class, or ``neg / pos`` per label."""
    if t.multilabel:
        pos = t.values.sum(axis=0)
        return torch.tensor((len(t.values) - pos) / np.maximum(pos, 1), dtype=torch.float32)
    counts = np.bincount(t.values, minlength=len(t.classes))
    w = len(t.values) / (len(t.classes) * np.maximum(counts, 1))
    return torch.tensor(w, dtype=torch.float32)
