"""Synthetic multimodal classification data with known structure (for fusion experiments).

The teaching notebook's generator, generalised: any number of modalities with their own
feature counts, per-modality signal strength, a cross-modal *interaction* term that only
joint fusion can use, label noise, several classes, missing modalities and a seed.

The label comes from a latent score::

    score = sum_m signal_m * (w_m . x_m[:, :len(w_m)])
          + interaction * x_a[:, -1] * x_b[:, -1]          (a, b: two modalities)
          + noise * N(0, 1)

thresholded at 0 (two classes) or cut at its quantiles (more classes). The product term is
an XOR of signs: with ``signal=0`` each modality alone carries *no* information about the
label (``P(y | x_a) = 1/2`` exactly, by symmetry of ``x_b``), so unimodal models and any
late fusion of them stay at chance while intermediate or attention fusion can reach 100 %.

Example:
    >>> from medmodal.data.synthetic import make_multimodal_classification
    >>> d = make_multimodal_classification(1000, seed=0)  # the notebook's setting
    >>> {k: v.shape for k, v in d.X.items()}
    {'clinical': (1000, 5), 'image': (1000, 10)}
    >>> round(float(d.y.mean()), 2)
    0.47
    >>> xor = make_multimodal_classification(500, signal=0.0, interaction=1.0,
    ...                                      missing_rate=0.2, seed=1)
    >>> round(float(xor.masks["image"].mean()), 2), bool(xor.present_matrix().any(1).all())
    (0.81, True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medmodal.data.modality_frame import ModalityFrame
from medmodal.errors import InvalidParameterError
from medmodal.types import BoolArray, FloatArray, IntArray, PathLike

#: The notebook's modalities and informative coefficients.
NOTEBOOK_FEATURES = {"clinical": 5, "image": 10}
NOTEBOOK_WEIGHTS = {"clinical": (1.0, 0.5), "image": (1.0, 0.0, 0.7)}


@dataclass
class MultimodalDataset:
    """Modalities, labels and presence masks (missing rows of ``X`` are NaN)."""

    X: dict[str, FloatArray]
    y: IntArray
    masks: dict[str, BoolArray]
    score: FloatArray  # the latent score the label was cut from
    info: dict[str, object] = field(default_factory=dict)

    @property
    def modalities(self) -> tuple[str, ...]:
        """Modality names."""
        return tuple(self.X)

    def frame(self) -> ModalityFrame:
        """``X`` and ``masks`` as one row-indexable
        :class:`~medmodal.data.modality_frame.ModalityFrame` (for ``cross_val_score``,
        ``GridSearchCV``, ``Pipeline``)."""
        return ModalityFrame(self.X, self.masks)

    def present_matrix(self) -> BoolArray:
        """``(n, M)`` presence, columns in :attr:`modalities` order."""
        return np.stack([self.masks[m] for m in self.X], axis=1)

    def save_npz(self, path: PathLike) -> Path:
        """Write the ``.npz`` layout ``medmodal fusion compare --data`` reads."""
        arrays: dict[str, np.ndarray] = {"y": self.y}
        arrays.update({f"X_{k}": v for k, v in self.X.items()})
        arrays.update({f"mask_{k}": v for k, v in self.masks.items()})
        out = Path(path)
        np.savez_compressed(out, **arrays)  # type: ignore[arg-type]
        return out


def make_multimodal_classification(
    n_samples: int = 1000,
    *,
    n_features: Mapping[str, int] | None = None,
    weights: Mapping[str, Sequence[float]] | None = None,
    signal: float | Mapping[str, float] = 1.0,
    interaction: float = 0.0,
    interaction_modalities: tuple[str, str] | None = None,
    n_classes: int = 2,
    noise: float = 0.0,
    missing_rate: float | Mapping[str, float] = 0.0,
    seed: int | None = 0,
) -> MultimodalDataset:
    """Gaussian features per modality and a label built from them (see the module doc).

    Args:
        n_samples: number of samples.
        n_features: modality name → feature count (default: the notebook's clinical 5,
            image 10).
        weights: modality name → coefficients of its first features in the score (default:
            the notebook's, or ``(1.0, 0.5)`` for other modalities).
        signal: multiplier of each modality's additive part (one value or per modality);
            0 removes a modality's additive information.
        interaction: weight of ``x_a[:, -1] * x_b[:, -1]`` (the last feature of two
            modalities, which the additive part never uses).
        interaction_modalities: ``(a, b)``; default the first two modalities.
        n_classes: 2 (threshold at 0) or more (cut at quantiles: balanced classes).
        noise: standard deviation of Gaussian noise added to the score (label noise).
        missing_rate: chance that a modality is missing for a sample (one value or per
            modality); every sample keeps at least one modality.
        seed: seed of the generator.
    """
    where = "make_multimodal_classification"
    feats = dict(n_features or NOTEBOOK_FEATURES)
    if not isinstance(n_samples, int) or n_samples < 2:
        raise InvalidParameterError(f"{where}: n_samples must be an int >= 2, got {n_samples!r}")
    if not feats or any(not isinstance(v, int) or v < 1 for v in feats.values()):
        raise InvalidParameterError(f"{where}: n_features must map names to ints >= 1: {feats}")
    if not isinstance(n_classes, int) or n_classes < 2:
        raise InvalidParameterError(f"{where}: n_classes must be an int >= 2, got {n_classes!r}")
    w = _weights(feats, weights, where)
    strength = _per_modality(signal, feats, "signal", where, upper=np.inf)
    rates = _per_modality(missing_rate, feats, "missing_rate", where, upper=1.0)
    rng = np.random.default_rng(seed)
    X = {name: rng.standard_normal((n_samples, d)) for name, d in feats.items()}
    score = np.zeros(n_samples)
    for name, coef in w.items():
        score += strength[name] * X[name][:, : len(coef)] @ np.asarray(coef, dtype=float)
    pair = _pair(feats, w, interaction, interaction_modalities, where)
    if pair is not None:
        score += interaction * X[pair[0]][:, -1] * X[pair[1]][:, -1]
    if noise < 0:
        raise InvalidParameterError(f"{where}: noise must be >= 0, got {noise!r}")
    score += noise * rng.standard_normal(n_samples)
    if n_classes == 2:
        y = (score > 0).astype(np.int64)
    else:
        edges = np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1])
        y = np.searchsorted(edges, score).astype(np.int64)
    masks = _masks(rng, n_samples, rates)
    for name, present in masks.items():
        X[name][~present] = np.nan
    info = {"signal": strength, "interaction": interaction, "pair": pair, "noise": noise,
            "missing_rate": rates, "seed": seed}  # fmt: skip
    return MultimodalDataset(X, y, masks, score, info)


def _weights(
    feats: dict[str, int], weights: Mapping[str, Sequence[float]] | None, where: str
) -> dict[str, tuple[float, ...]]:
    default = NOTEBOOK_WEIGHTS if feats == NOTEBOOK_FEATURES else {}
    out = {}
    for name, d in feats.items():
        coef = tuple((weights or {}).get(name, default.get(name, (1.0, 0.5))))
        out[name] = coef[: max(d - 1, 1)] if weights is None or name not in weights else coef
        if len(out[name]) > d:
            raise InvalidParameterError(
                f"{where}: {len(out[name])} weights for modality {name!r} with {d} features"
            )
    unknown = set(weights or {}) - set(feats)
    if unknown:
        raise InvalidParameterError(f"{where}: weights for unknown modalities {sorted(unknown)}")
    return out


def _per_modality(
    value: float | Mapping[str, float], feats: dict[str, int], what: str, where: str, upper: float
) -> dict[str, float]:
    values = dict(value) if isinstance(value, Mapping) else dict.fromkeys(feats, float(value))
    unknown = set(values) - set(feats)
    if unknown:
        raise InvalidParameterError(f"{where}: {what} for unknown modalities {sorted(unknown)}")
    out = {name: float(values.get(name, 0.0)) for name in feats}
    for name, v in out.items():
        if not 0 <= v < upper:
            raise InvalidParameterError(
                f"{where}: {what} of {name!r} must be in [0, {upper}), got {v!r}"
            )
    return out


def _pair(
    feats: dict[str, int],
    w: dict[str, tuple[float, ...]],
    interaction: float,
    pair: tuple[str, str] | None,
    where: str,
) -> tuple[str, str] | None:
    if interaction == 0:
        return None
    names = list(feats)
    a, b = pair if pair is not None else (names + names)[:2]
    if len(names) < 2 or a == b or a not in feats or b not in feats:
        raise InvalidParameterError(
            f"{where}: the interaction needs two different modalities of {names}, got {(a, b)}"
        )
    for name in (a, b):
        if len(w[name]) >= feats[name]:
            raise InvalidParameterError(
                f"{where}: modality {name!r} needs a feature beyond its {len(w[name])} "
                "weighted ones for the interaction term"
            )
    return a, b


def _masks(rng: np.random.Generator, n: int, rates: dict[str, float]) -> dict[str, BoolArray]:
    present = np.stack([rng.random(n) >= r for r in rates.values()], axis=1)  # (n, M)
    empty = ~present.any(axis=1)
    present[empty, rng.integers(0, present.shape[1], int(empty.sum()))] = True
    return {name: present[:, i] for i, name in enumerate(rates)}
