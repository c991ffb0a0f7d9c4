"""AAMI beat classes (N, S, V, F, Q) of every R peak, from a small shipped model.

``ecg_beat_classes`` describes each beat with :func:`medmodal.ecg.beat_features.
ecg_beat_features` (a morphology window resampled to 128 Hz and the RR context in units
of the record's own rhythm: any sampling rate, any single lead), adds the same features
standardised over the record's own beats (:func:`medmodal.ecg.beat_features.
record_standardise`, the default model ``aami-beats-v2``: unlabelled per-patient
adaptation) and evaluates a small network in numpy (weights as safetensors + JSON
config in ``medmodal/ecg/models``, trained on MIT-BIH DS1 only by
``benchmarks/train_beat_model.py``; scores on DS2 in ``benchmarks/results/beat_model.md``).
The model ``aami-beats-v3`` (not the default) then self-trains on the record
(:func:`self_train`): each beat's probabilities are mixed with the classes of its nearest
confidently classified beats of the same record, again without labels.
Beats that cannot be described are ``"unknown"`` with the reason, among them a beat whose
feature window runs past the record's start or end (:data:`WINDOW_OUTSIDE`: it would be
classified from edge padding); input too short, flat or sparse makes every beat
``"unknown"``: odd input never raises.

Example:
    >>> from medmodal.ecg.simulate import ecg_simulate_annotated
    >>> sim = ecg_simulate_annotated(60, 250, heart_rate=70, seed=0)
    >>> res = ecg_beat_classes(sim.signal, 250, sim.r_peaks)
    >>> res.counts()["N"] == len(sim.r_peaks) - 1, res.summary()["pvc_per_hour"]
    (True, 0.0)
    >>> res.label[0], res.reason[0]  # its R peak at 0.148 s: the window starts 0.25 s before
    ('unknown', 'window outside the signal')
    >>> ecg_beat_classes(sim.signal, 250, sim.r_peaks[:3]).label
    ('unknown', 'unknown', 'unknown')

References:
    ANSI/AAMI EC57: Testing and reporting performance results of cardiac rhythm and ST
    segment measurement algorithms (the N/S/V/F/Q classes).
    de Chazal P, O'Dwyer M, Reilly RB. Automatic classification of heartbeats using ECG
    morphology and heartbeat interval features. IEEE Trans Biomed Eng 51(7):1196-1206
    (2004) (the inter-patient DS1/DS2 protocol).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from medmodal.ecg._beats.network import Network, shipped_network
from medmodal.ecg._beats.selftrain import SelfTraining, self_train
from medmodal.ecg.beat_features import (
    INTERNAL_RATE,
    N_WINDOW,
    WINDOW_S,
    BeatFeatures,
    ecg_beat_features,
    record_standardise,
)
from medmodal.registry import Registry
from medmodal.types import ArrayLike, BoolArray, FloatArray, IntArray

__all__ = [
    "BEAT_CLASSES",
    "BEAT_CLASS_NAMES",
    "BEAT_MODELS",
    "WINDOW_OUTSIDE",
    "BeatClasses",
    "SelfTraining",
    "available_models",
    "ecg_beat_classes",
    "load_beat_model",
    "self_train",
]

#: The AAMI EC57 classes, in the order of the probability columns.
BEAT_CLASSES: tuple[str, ...] = ("N", "S", "V", "F", "Q")
#: Each class in words.
BEAT_CLASS_NAMES: dict[str, str] = {
    "N": "normal/bundle-branch",
    "S": "supraventricular ectopic",
    "V": "ventricular ectopic",
    "F": "fusion",
    "Q": "unclassifiable",
}
UNKNOWN = "unknown"
#: Reason of a beat whose feature window (:data:`~medmodal.ecg.beat_features.WINDOW_S`
#: around the R peak) needs samples before the record's start or after its end.
WINDOW_OUTSIDE = "window outside the signal"

#: The shipped models ``ecg_beat_classes(..., model=...)`` accepts (value: file stem).
BEAT_MODELS: Registry[str] = Registry("beat model")
BEAT_MODELS.add(
    "aami-beats-v2",
    "aami-beats-v2",
    aliases=("default",),
    description="MLP on the v1 features plus the same features standardised over the "
    "record's own beats (median / interquartile range, no labels); trained on MIT-BIH DS1 "
    "(leads MLII and V1/V2/V4/V5)",
)
BEAT_MODELS.add(
    "aami-beats-v3",
    "aami-beats-v3",
    description="the v2 network, then per-record self-training: each beat's probabilities "
    "mixed with the classes of its nearest confidently classified beats of the same record "
    "(no labels). Better on DS1 cross-validation, worse on DS2 (it erases isolated S "
    "beats; benchmarks/results/beat_model_v3.md), so not the default",
)
BEAT_MODELS.add(
    "aami-beats-v1",
    "aami-beats-v1",
    description="MLP on the 128 Hz beat window, its deviation from the record's median "
    "beat and the RR context; trained on MIT-BIH DS1 (leads MLII and V1/V2/V4/V5)",
)


def available_models() -> tuple[str, ...]:
    """Canonical names of the shipped beat models (``"default"`` is an alias)."""
    return BEAT_MODELS.names()


def load_beat_model(model: str = "default") -> Network:
    """The shipped network ``model`` (config in ``.config``), loaded once."""
    return shipped_network(BEAT_MODELS.get(model))


@dataclass(frozen=True, eq=False)  # arrays inside: equality is identity
class BeatClasses:
    """The AAMI class of every beat, with class probabilities.

    Attributes:
        peaks: ``(n,)`` R-peak samples, as given.
        label: per beat, one of :data:`BEAT_CLASSES` or ``"unknown"``.
        probability: ``(n, 5)`` class probabilities in :data:`BEAT_CLASSES` order; NaN
            rows where the label is unknown.
        reason: per beat, why it is unknown (``None`` otherwise), e.g.
            :data:`WINDOW_OUTSIDE` for a beat too near the record's start or end.
        sampling_rate: Hz.
        duration_s: analysed duration (s), for rates per hour.
        lead: name of the lead the beats were classified on.
        model: model name and version.
        record_reason: why the record as a whole has no classified beat (e.g. a flat
            signal without R peaks), shown by :meth:`summary` when no beat gives one.
    """

    peaks: IntArray
    label: tuple[str, ...]
    probability: FloatArray
    reason: tuple[str | None, ...]
    sampling_rate: float
    duration_s: float
    lead: str | None
    model: str
    record_reason: str | None = None

    def __len__(self) -> int:
        return len(self.label)

    @property
    def confidence(self) -> FloatArray:
        """Probability of each beat's label (NaN where unknown)."""
        out = np.full(len(self.label), np.nan)
        for i, lab in enumerate(self.label):
            if lab in BEAT_CLASSES:
                out[i] = self.probability[i, BEAT_CLASSES.index(lab)]
        return out

    def counts(self) -> dict[str, int]:
        """Beats per class, every class and ``"unknown"`` included (zeros kept)."""
        return {c: sum(lab == c for lab in self.label) for c in (*BEAT_CLASSES, UNKNOWN)}

    def summary(self) -> dict[str, Any]:
        """JSON-safe totals: ``n_beats``, ``n_classified``, ``counts``,
        ``pvc_per_hour``, ``pvc_burden_pct`` (V beats over classified beats x 100),
        ``sve_count``, ``sve_per_hour``, ``model``, ``lead``, ``label``
        (``"classified"`` or ``"unknown"`` when no beat could be classified) and
        ``reason`` (why, ``""`` otherwise). Rates are None when undefined.

        Example:
            >>> res = ecg_beat_classes(np.zeros(1000), 250, [100, 300])
            >>> s = res.summary()
            >>> s["label"], s["reason"], s["pvc_burden_pct"]
            ('unknown', 'the lead is flat', None)
        """
        counts = self.counts()
        classified = len(self.label) - counts[UNKNOWN]
        hours = self.duration_s / 3600.0
        known = classified > 0 and hours > 0
        reasons = [r for r in self.reason if r]
        return {
            "n_beats": len(self.label),
            "n_classified": classified,
            "counts": counts,
            "pvc_per_hour": counts["V"] / hours if known else None,
            "pvc_burden_pct": 100.0 * counts["V"] / classified if classified else None,
            "sve_count": counts["S"],
            "sve_per_hour": counts["S"] / hours if known else None,
            "model": self.model,
            "lead": self.lead,
            "label": "classified" if classified else UNKNOWN,
            "reason": "" if classified else (reasons or [self.record_reason or "no beats"])[0],
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per beat: ``sample``, ``time_s``, ``label``, ``p_N`` .. ``p_Q``,
        ``reason``."""
        frame = pd.DataFrame(
            {
                "sample": self.peaks,
                "time_s": self.peaks / self.sampling_rate,
                "label": list(self.label),
            }
        )
        for k, name in enumerate(BEAT_CLASSES):
            frame[f"p_{name}"] = self.probability[:, k]
        frame["reason"] = list(self.reason)
        return frame


def ecg_beat_classes(
    signal: ArrayLike,
    sampling_rate: float,
    peaks: ArrayLike,
    *,
    lead: int | str = 0,
    lead_names: Sequence[str] | None = None,
    model: str = "default",
    clean: bool = True,
) -> BeatClasses:
    """Classify every beat into the AAMI classes N, S, V, F, Q.

    Models:
    {models}

    Args:
        signal: ``(n_samples,)`` or ``(n_samples, n_leads)`` ECG.
        sampling_rate: Hz (any rate; beats are resampled to 128 Hz).
        peaks: sorted R-peak samples (e.g. from :func:`medmodal.ecg.peaks.ecg_peaks`).
        lead: index or name (with ``lead_names``) of the single lead to classify on.
        lead_names: one name per lead.
        model: shipped model name (see above; ``"default"``).
        clean: clean the lead first (pass False for an already cleaned signal).

    Returns:
        :class:`BeatClasses`, one label per peak (``"unknown"`` with the reason where
        a beat cannot be described).

    Raises:
        InvalidParameterError: unknown model, bad sampling rate, peaks (unsorted,
            negative), lead or lead names, or a signal that is not a 1-D/2-D array.
    """
    name = BEAT_MODELS.resolve(model)
    net = load_beat_model(name)
    feats = ecg_beat_features(
        signal, sampling_rate, peaks, lead=lead, lead_names=lead_names, clean=clean
    )
    n = len(feats)
    valid, reason = _inside_the_signal(feats)
    prob = np.full((n, len(BEAT_CLASSES)), np.nan)
    if valid.any():
        prob[valid] = _record_probabilities(net, feats.matrix()[valid])
    labels = tuple(BEAT_CLASSES[int(np.argmax(prob[i]))] if valid[i] else UNKNOWN for i in range(n))
    return BeatClasses(
        peaks=feats.peaks,
        label=labels,
        probability=prob,
        reason=reason,
        sampling_rate=feats.sampling_rate,
        duration_s=feats.duration_s,
        lead=feats.lead,
        model=str(net.config.get("name", name)),
    )


def _inside_the_signal(feats: BeatFeatures) -> tuple[BoolArray, tuple[str | None, ...]]:
    """The beats the model may classify, and every beat's reason.

    A beat whose window (:data:`~medmodal.ecg.beat_features.WINDOW_S` around the R peak,
    sampled at :data:`~medmodal.ecg.beat_features.INTERNAL_RATE`) needs samples before
    the first or after the last would be classified from the edge value held there, and
    can get a confident wrong label: it is unknown (:data:`WINDOW_OUTSIDE`), and kept out
    of the record's own statistics (:func:`record_standardise`). Beats already unknown
    keep their reason.
    """
    rate = feats.sampling_rate
    last_sample = round(feats.duration_s * rate) - 1
    first = WINDOW_S[0] * rate  # offset (samples) of the window's first point
    last = ((N_WINDOW - 1) / INTERNAL_RATE + WINDOW_S[0]) * rate  # and of its last
    outside = (feats.peaks + first < 0) | (feats.peaks + last > last_sample)
    edge = feats.valid & outside
    reason = tuple(WINDOW_OUTSIDE if e else r for e, r in zip(edge, feats.reason, strict=True))
    return feats.valid & ~outside, reason


def _record_probabilities(net: Network, x: FloatArray) -> FloatArray:
    """Class probabilities of one record's valid beats ``x`` (rows of
    :meth:`medmodal.ecg.beat_features.BeatFeatures.matrix`) under the model ``net``."""
    inputs = np.concatenate([x, record_standardise(x)], axis=1) if net.config.get(
        "record_standardise", False) else x  # fmt: skip
    settings = net.config.get("self_training")
    if not settings:
        return net.probabilities(inputs)
    z = net.logits(inputs)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p = self_train(x, p / p.sum(axis=1, keepdims=True), SelfTraining.from_config(settings))
    z = np.log(p + 1e-12) + np.asarray(net.config.get("logit_offset", 0.0))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return np.asarray(e / e.sum(axis=1, keepdims=True))


BEAT_MODELS.document(ecg_beat_classes, "{models}")
