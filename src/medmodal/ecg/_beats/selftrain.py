"""Per-record self-training: each beat's class probabilities mixed with the classes of
its nearest confidently classified beats of the same record.

The record's beats are placed in a small shape-and-rhythm space of their own (the beat
features z-scored over the record, then its first principal components); the beats the
network is sure of (top probability at least ``confidence``) act as pseudo-labelled
examples, and every beat takes ``weight`` of its probability from the pseudo-labels of
its ``neighbours`` nearest sure beats (itself left out). Only the record's unlabelled
beats and the network's own outputs are used: it runs the same way on any new record.
An S beat the network half-recognises then takes the class of the sure S beats of the
same patient that it resembles (premature, same QRS, same P wave).

References:
    Yarowsky D. Unsupervised word sense disambiguation rivaling supervised methods.
    ACL 1995 (self-training on confident predictions).
    Zhu X, Ghahramani Z. Learning from labeled and unlabeled data with label propagation.
    CMU-CALD-02-107 (2002) (nearest-neighbour label propagation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from medmodal.types import FloatArray

#: A column's spread floor when z-scoring the record (feature units).
_SPREAD_FLOOR = 1e-3


@dataclass(frozen=True)
class SelfTraining:
    """Settings of :func:`self_train` (chosen on patient-grouped folds of the training set).

    Attributes:
        confidence: top probability from which a beat is a pseudo-labelled example.
        neighbours: sure beats each beat looks at.
        weight: share of the final probability taken from the neighbours (0: none).
        components: principal components of the record's feature space kept.
    """

    confidence: float = 0.9
    neighbours: int = 10
    weight: float = 0.8
    components: int = 10

    @classmethod
    def from_config(cls, config: dict[str, float]) -> SelfTraining:
        """The settings stored under ``"self_training"`` in a model's JSON config."""
        return cls(
            confidence=float(config["confidence"]),
            neighbours=int(config["neighbours"]),
            weight=float(config["weight"]),
            components=int(config["components"]),
        )


def record_space(features: FloatArray, components: int) -> FloatArray:
    """``(n, k)`` coordinates of one record's beats: every column z-scored over the
    record, then projected on the record's first ``k`` principal components."""
    x = np.asarray(features, dtype=np.float64)
    x = (x - x.mean(axis=0)) / (x.std(axis=0) + _SPREAD_FLOOR)
    k = max(1, min(components, x.shape[0], x.shape[1]))
    _, vectors = np.linalg.eigh(x.T @ x)  # principal axes, smallest variance first
    return np.asarray(x @ vectors[:, ::-1][:, :k])


def self_train(features: FloatArray, probability: FloatArray, settings: SelfTraining
               ) -> FloatArray:  # fmt: skip
    """One record's probabilities after self-training (rows sum to 1).

    Args:
        features: ``(n, d)`` the record's valid beats (the network's raw features).
        probability: ``(n, c)`` the network's class probabilities of those beats.
        settings: see :class:`SelfTraining`.

    Returns:
        ``(n, c)`` ``(1 - weight) * probability + weight * neighbour class shares``; the
        input unchanged when fewer than ``neighbours + 1`` beats are sure.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = np.r_[rng.normal(0, 0.1, (30, 4)), rng.normal(3, 0.1, (30, 4))]
        >>> p = np.r_[np.tile([0.95, 0.05], (30, 1)), np.tile([0.05, 0.95], (30, 1))]
        >>> p[30] = [0.6, 0.4]  # unsure, but shaped like the sure class-1 beats
        >>> q = self_train(x, p, SelfTraining(neighbours=5, components=2))
        >>> int(q[30].argmax()), round(float(q[30, 1]), 2)
        (1, 0.88)
    """
    p = np.asarray(probability, dtype=np.float64)
    sure = np.flatnonzero(p.max(axis=1) >= settings.confidence)
    k = settings.neighbours
    if settings.weight <= 0 or sure.size < k + 1:
        return p
    space = record_space(features, settings.components)
    _, found = cKDTree(space[sure]).query(space, k=k + 1)
    near = np.asarray(found).reshape(p.shape[0], k + 1)
    is_sure = np.zeros(p.shape[0], bool)
    is_sure[sure] = True
    # a sure beat finds itself first: drop it; any other beat drops its farthest hit
    near = np.where(is_sure[:, None], near[:, 1:], near[:, :k])
    pseudo = p[sure].argmax(axis=1)[near]  # (n, k) class of each neighbour
    share = np.stack([(pseudo == c).mean(axis=1) for c in range(p.shape[1])], axis=1)
    return np.asarray((1.0 - settings.weight) * p + settings.weight * share)
