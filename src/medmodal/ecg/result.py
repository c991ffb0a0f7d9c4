"""The result of :func:`~medmodal.ecg.process.ecg_process`: one typed :class:`ECGResult`.

It holds every step's output on one recording and gathers the headline numbers in
:meth:`ECGResult.summary` (what the command line, the service and the report show), one
row per sample in :meth:`ECGResult.to_frame` and one row per beat in
:meth:`ECGResult.beats_frame`. Built by hand (without :func:`ecg_process`), it measures
the RR intervals and atrial fibrillation of the peaks given.

Example:
    >>> from medmodal.ecg.simulate import ecg_simulate
    >>> from medmodal.ecg.process import ecg_process
    >>> result = ecg_process(ecg_simulate(20, 250, heart_rate=75, seed=4), 250)
    >>> isinstance(result, ECGResult), result.summary()["rhythm"]
    (True, 'sinus')
    >>> result.beats_frame().columns[:3].tolist()
    ['r_peak', 'time_s', 'rr_s']
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from medmodal.ecg.af import AFResult, ecg_af
from medmodal.ecg.beat_classes import BeatClasses
from medmodal.ecg.delineate import Delineation
from medmodal.ecg.hrv import HRV
from medmodal.ecg.intervals import ClinicalIntervals
from medmodal.ecg.powerline import Powerline
from medmodal.ecg.quality import Quality
from medmodal.ecg.rhythm import Rhythm
from medmodal.ecg.rr import RRIntervals, ecg_rr
from medmodal.types import FloatArray, IntArray

__all__ = ["ECGResult"]


@dataclass(frozen=True, eq=False)
class ECGResult:
    """Everything :func:`ecg_process` measured on one recording.

    Attributes:
        sampling_rate: Hz.
        raw: the validated input, ``(n_samples, n_leads)`` (short NaN gaps filled).
        cleaned: the cleaned signal, same shape.
        lead_names: one name per lead.
        peaks: R-peak sample indices, one fused set over the leads.
        rate_bpm: instantaneous heart rate interpolated to every sample, rates outside
            20-300 bpm bridged over (NaN with < 2 beats).
        hrv: heart-rate variability (None with fewer than 3 beats).
        rhythm: rhythm label per window with its evidence.
        quality: signal quality per window with its evidence.
        delineation: fiducial points per beat (None when not requested).
        peak_lead: index of the lead whose R extrema the peaks sit on (multi-lead input
            places the fused beats on its most informative lead); figures draw the
            peaks on this lead.
        rr: the RR intervals with their flags, and the heart rate (:mod:`.rr`).
        intervals: reportable PR/QRS/QT with their lead and gates (None when not
            delineated).
        powerline: the mains notch applied and how it was chosen.
        peak_lead_reason: how the R peaks were placed, in words.
        analysis_rate: Hz the analysis ran at: ``sampling_rate``, or
            :data:`~medmodal.ecg.resample.ANALYSIS_RATE` or just below for records
            sampled faster (:mod:`medmodal.ecg.resample`); every sample index of the
            result is at ``sampling_rate`` either way.
        notes: caveats of the analysis, in words (e.g. the resampling).
        af: atrial fibrillation per window, episodes and burden
            (:func:`medmodal.ecg.af.ecg_af`, P waves from :attr:`delineation`).
        beat_classes: the AAMI class of every R peak (N, S, V, F, Q or "unknown" with
            the reason), classified on the cleaned :attr:`peak_lead`
            (:func:`medmodal.ecg.beat_classes.ecg_beat_classes`); None when not
            computed (``ecg_process(..., beat_model=None)`` or a result built by hand)
            and when they label other peaks than :attr:`peaks` (a result rebuilt with
            ``dataclasses.replace(result, peaks=...)``): they are dropped, not shown
            against beats they do not describe.
    """

    sampling_rate: float
    raw: FloatArray
    cleaned: FloatArray
    lead_names: tuple[str, ...]
    peaks: IntArray
    rate_bpm: FloatArray
    hrv: HRV | None
    rhythm: Rhythm
    quality: Quality
    delineation: Delineation | None
    peak_lead: int = 0
    rr: RRIntervals | None = None
    intervals: ClinicalIntervals | None = None
    powerline: Powerline | None = None
    peak_lead_reason: str = ""
    analysis_rate: float | None = None
    notes: tuple[str, ...] = ()
    af: AFResult | None = None
    beat_classes: BeatClasses | None = None

    def __post_init__(self) -> None:
        if self.analysis_rate is None:  # analysed at the caller's rate
            object.__setattr__(self, "analysis_rate", self.sampling_rate)
        af = self.af
        if af is None:  # built by hand: AF from the RR intervals
            af = ecg_af(self.peaks, self.sampling_rate, n_samples=self.n_samples)
            object.__setattr__(self, "af", af)
        if self.rr is None:  # built by hand: flag the intervals of the peaks given
            rr = ecg_rr(self.peaks, self.sampling_rate)
            object.__setattr__(self, "rr", rr.with_af(af.episode_start_s, af.episode_end_s))
        classes = self.beat_classes
        if classes is not None and not np.array_equal(classes.peaks, self.peaks):
            object.__setattr__(self, "beat_classes", None)  # they label other beats

    @property
    def n_samples(self) -> int:
        """Samples per lead."""
        return int(self.raw.shape[0])

    @property
    def duration_s(self) -> float:
        """Recording length in seconds."""
        return self.n_samples / self.sampling_rate

    def to_frame(self) -> pd.DataFrame:
        """One row per sample: time, raw and cleaned leads, rate, R-peak flag, labels."""
        single = self.raw.shape[1] == 1
        columns: dict[str, Any] = {"time_s": np.arange(self.n_samples) / self.sampling_rate}
        for i, name in enumerate(self.lead_names):
            suffix = "" if single else f"_{name}"
            columns[f"ecg_raw{suffix}"] = self.raw[:, i]
            columns[f"ecg_clean{suffix}"] = self.cleaned[:, i]
        columns["heart_rate_bpm"] = self.rate_bpm
        r_flag = np.zeros(self.n_samples, dtype=bool)
        r_flag[self.peaks] = True
        columns["r_peak"] = r_flag
        columns["rhythm"] = _per_sample(self.rhythm.to_frame(), self.n_samples, self.sampling_rate)
        columns["quality"] = _per_sample(
            self.quality.to_frame(), self.n_samples, self.sampling_rate
        )
        return pd.DataFrame(columns)

    @property
    def rr_intervals(self) -> RRIntervals:
        """:attr:`rr`, never None (typed access for callers)."""
        return self.rr if self.rr is not None else ecg_rr(self.peaks, self.sampling_rate)

    def beats_frame(self) -> pd.DataFrame:
        """One row per beat: sample, time, RR, heart rate, RR flag, beat class,
        fiducials, intervals.

        ``heart_rate_bpm`` is NaN where the interval ending at the beat is too short or
        too long (``rr_flag`` says which); ``beat_class`` is the AAMI class (N, S, V, F,
        Q or "unknown"; None when :attr:`beat_classes` was not computed) and
        ``beat_class_p`` its probability (NaN where unknown); the interval columns are
        those that may be reported (:class:`~medmodal.ecg.intervals.ClinicalIntervals`):
        NaN for beats that do not count and for withheld measurements.
        """
        rr = self.rr_intervals
        classes = self.beat_classes
        columns: dict[str, Any] = {
            "r_peak": self.peaks,
            "time_s": self.peaks / self.sampling_rate,
            "rr_s": np.diff(self.peaks, prepend=np.nan) / self.sampling_rate,
            "heart_rate_bpm": rr.per_beat_rate_bpm(),
            "rr_flag": list(rr.per_beat_flag()),
            "beat_class": [None] * self.peaks.size if classes is None else list(classes.label),
            "beat_class_p": np.full(self.peaks.size, np.nan)
            if classes is None
            else classes.confidence,
        }
        # One frame built from columns (concatenating frames costs more than the rest).
        if self.delineation is not None:
            points = self.delineation.points()
            columns |= {name: points[name] for name in points if name != "r_peak"}
            if self.intervals is not None:
                beats = self.intervals.beats
                columns |= {str(k): beats[k].to_numpy() for k in beats.columns if k != "rr_ms"}
        frame = pd.DataFrame(columns)
        frame.index.name = "beat"
        return frame

    def summary(self) -> dict[str, Any]:
        """The headline numbers every output shows (see :mod:`medmodal.ecg.rr` and
        :mod:`medmodal.ecg.intervals` for how each is measured).

        Keys: ``duration_s``, ``sampling_rate_hz``, ``leads``, ``n_beats``,
        ``peak_lead`` and ``peak_lead_reason``, ``powerline`` (``hz``, ``source``,
        ``detail``, ``text``), ``heart_rate`` (:meth:`RRIntervals.summary`), ``rhythm``
        and ``rhythm_fractions`` (``rhythm_name``: the rhythm in words, "atrial
        fibrillation" where :func:`~medmodal.ecg.af.ecg_af` finds it in an irregular
        rhythm; ``rhythm_reason``: why, when it is undetermined),
        ``atrial_fibrillation`` (:meth:`AFResult.summary`), ``quality`` and
        ``quality_fractions``, ``hrv``
        (:meth:`HRV.to_dict`, when there are 3 beats) and ``intervals``
        (:meth:`ClinicalIntervals.summary`, when delineated); ``analysis_rate_hz`` and
        ``notes`` when the record was analysed at a lower rate (:mod:`.resample`).
        """
        out: dict[str, Any] = {
            "duration_s": self.duration_s,
            "sampling_rate_hz": self.sampling_rate,
            "leads": list(self.lead_names),
            "n_beats": int(self.peaks.size),
            "peak_lead": self.lead_names[self.peak_lead],
            "peak_lead_reason": self.peak_lead_reason,
            "powerline": None if self.powerline is None else self.powerline.to_dict(),
            "heart_rate": self.rr_intervals.summary(),
            "rhythm": self.rhythm.overall,
            "rhythm_fractions": self.rhythm.fractions,
            "rhythm_name": _rhythm_name(self.rhythm.overall, self.af),
            "rhythm_reason": _undetermined_reason(self.rhythm),
            "atrial_fibrillation": None if self.af is None else self.af.summary(),
            "beat_classes": None if self.beat_classes is None else self.beat_classes.summary(),
            "quality": self.quality.overall,
            "quality_fractions": self.quality.fractions,
        }
        if self.hrv is not None:
            out["hrv"] = self.hrv.to_dict()
        if self.intervals is not None:
            out["intervals"] = self.intervals.summary()
        if self.analysis_rate != self.sampling_rate:
            out["analysis_rate_hz"] = self.analysis_rate
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def _rhythm_name(overall: str, af: AFResult | None) -> str:
    """The rhythm label in words: "atrial fibrillation" where an irregular rhythm is AF."""
    if overall == "irregular" and af is not None and af.overall == "af":
        return "atrial fibrillation"
    return overall


def _undetermined_reason(rhythm: Rhythm) -> str:
    """Why the rhythm is undetermined (the most common reason of its undetermined
    windows), or "" when it is determined."""
    if rhythm.overall != "undetermined":
        return ""
    reasons = Counter(
        r for r, lab in zip(rhythm.reason, rhythm.label, strict=True) if lab == "undetermined"
    )
    return reasons.most_common(1)[0][0] if reasons else ""


def _per_sample(frame: pd.DataFrame, n_samples: int, sampling_rate: float) -> pd.Categorical:
    """Spread window labels (``start_s``/``end_s``/``label``) over the samples."""
    labels = np.full(n_samples, "", dtype=object)
    for start, end, label in zip(frame["start_s"], frame["end_s"], frame["label"], strict=True):
        labels[round(float(start) * sampling_rate) : round(float(end) * sampling_rate)] = label
    return pd.Categorical(labels)
