"""The ECG pipeline: clean, detect R peaks, rate, HRV, rhythm, quality and delineation.

:func:`ecg_process` runs every step on one recording and returns one typed
:class:`ECGResult`; each step is also a public function of its own.

Example:
    >>> from medmodal.ecg.simulate import ecg_simulate
    >>> from medmodal.ecg.process import ecg_process
    >>> ecg = ecg_simulate(30, 250, heart_rate=80, seed=2)
    >>> result = ecg_process(ecg, 250)
    >>> round(result.summary()["heart_rate_mean_bpm"])
    80
    >>> result.to_frame().columns[:3].tolist()
    ['time_s', 'ecg_raw', 'ecg_clean']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from medmodal.ecg._validate import as_signal, check_sampling_rate
from medmodal.ecg.clean import ecg_clean
from medmodal.ecg.delineate import Delineation, ecg_delineate
from medmodal.ecg.hrv import HRV, ecg_hrv
from medmodal.ecg.peaks import ecg_peaks
from medmodal.ecg.quality import Quality, ecg_quality
from medmodal.ecg.rate import ecg_rate
from medmodal.ecg.rhythm import Rhythm, ecg_rhythm
from medmodal.errors import InvalidParameterError
from medmodal.types import ArrayLike, FloatArray, IntArray

#: Fewest R peaks for HRV (three give two intervals and one successive difference).
MIN_BEATS_HRV = 3


@dataclass(frozen=True, eq=False)
class ECGResult:
    """Everything :func:`ecg_process` measured on one recording.

    Attributes:
        sampling_rate: Hz.
        raw: the validated input, ``(n_samples, n_leads)`` (short NaN gaps filled).
        cleaned: the cleaned signal, same shape.
        lead_names: one name per lead.
        peaks: R-peak sample indices, one fused set over the leads.
        rate_bpm: instantaneous heart rate interpolated to every sample (NaN with < 2 beats).
        hrv: heart-rate variability (None with fewer than 3 beats).
        rhythm: rhythm label per window with its evidence.
        quality: signal quality per window with its evidence.
        delineation: fiducial points per beat (None when not requested).
        peak_lead: index of the lead whose R extrema the peaks sit on (multi-lead input
            places the fused beats on its most informative lead); figures draw the
            peaks on this lead.
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

    def beats_frame(self) -> pd.DataFrame:
        """One row per beat: sample, time, RR, heart rate and fiducial points/intervals."""
        rr = np.diff(self.peaks, prepend=np.nan) / self.sampling_rate
        frame = pd.DataFrame(
            {
                "r_peak": self.peaks,
                "time_s": self.peaks / self.sampling_rate,
                "rr_s": rr,
                "heart_rate_bpm": 60.0 / rr,
            }
        )
        if self.delineation is not None:
            fiducials = self.delineation.to_frame().drop(columns="r_peak", errors="ignore")
            intervals = self.delineation.intervals().drop(columns="rr_ms", errors="ignore")
            frame = pd.concat([frame, fiducials.reset_index(drop=True), intervals], axis=1)
        frame.index.name = "beat"
        return frame

    def summary(self) -> dict[str, Any]:
        """The headline numbers: duration, beats, heart rate, HRV, rhythm and quality."""
        hr = 60.0 * self.sampling_rate / np.diff(self.peaks).astype(np.float64)
        out: dict[str, Any] = {
            "duration_s": self.duration_s,
            "sampling_rate_hz": self.sampling_rate,
            "leads": list(self.lead_names),
            "n_beats": int(self.peaks.size),
            "heart_rate_mean_bpm": _nan_stat(np.mean, hr),
            "heart_rate_min_bpm": _nan_stat(np.min, hr),
            "heart_rate_max_bpm": _nan_stat(np.max, hr),
            "rhythm": self.rhythm.overall,
            "rhythm_fractions": self.rhythm.fractions,
            "quality": self.quality.overall,
            "quality_fractions": self.quality.fractions,
        }
        if self.hrv is not None:
            out["hrv"] = self.hrv.to_dict()
        if self.delineation is not None:
            medians = self.delineation.intervals().median(numeric_only=True)
            out["intervals_median_ms"] = {k: float(v) for k, v in medians.items()}
        return out


def ecg_process(
    signal: ArrayLike,
    sampling_rate: float,
    *,
    method: str = "default",
    clean_method: str = "default",
    powerline: float | str | None = 50.0,
    window: float = 10.0,
    delineate: bool = True,
    lead_names: Sequence[str] | None = None,
) -> ECGResult:
    """Analyse one ECG recording end to end.

    Steps: :func:`~medmodal.ecg.clean.ecg_clean` per lead,
    :func:`~medmodal.ecg.peaks.ecg_peaks` (one fused set of beats over the leads),
    :func:`~medmodal.ecg.rate.ecg_rate`, :func:`~medmodal.ecg.hrv.ecg_hrv`,
    :func:`~medmodal.ecg.rhythm.ecg_rhythm` and :func:`~medmodal.ecg.quality.ecg_quality`
    per ``window`` seconds, and :func:`~medmodal.ecg.delineate.ecg_delineate`.

    Args:
        signal: ``(n_samples,)`` or ``(n_samples, n_leads)``, raw, in any unit (mV usual).
        sampling_rate: Hz.
        method: R-peak detector (see :func:`medmodal.ecg.peaks.available_methods`).
        clean_method: cleaning method (see :func:`medmodal.ecg.clean.available_methods`).
        powerline: mains frequency for the notch (50, 60, ``"auto"`` or None).
        window: seconds per rhythm/quality window.
        delineate: also find QRS onset/offset, P and T waves.
        lead_names: one name per lead (default ``lead0``, ``lead1``, ...).

    Returns:
        An :class:`ECGResult`.

    Raises:
        InvalidSignalError: the signal cannot be analysed (see
            :func:`medmodal.ecg._validate.as_signal`).
        InvalidParameterError: a bad parameter (unknown method, wrong lead names, ...).
    """
    rate = check_sampling_rate(sampling_rate, func="ecg_process")
    checked = as_signal(signal, rate, func="ecg_process")
    data = checked.data
    names = _lead_names(lead_names, checked.n_leads)
    cleaned = np.asarray(ecg_clean(data, rate, method=clean_method, powerline=powerline))
    usable = [i for i in range(checked.n_leads) if i not in checked.flat_leads]
    peaks = ecg_peaks(cleaned[:, usable], rate, method=method)
    n = checked.n_samples
    rate_bpm = ecg_rate(peaks, rate, desired_length=n) if peaks.size >= 2 else np.full(n, np.nan)
    hrv = ecg_hrv(peaks, rate) if peaks.size >= MIN_BEATS_HRV else None
    rhythm = ecg_rhythm(peaks, rate, n_samples=n, window=window)
    quality = ecg_quality(data, rate, peaks=peaks, window=window, cleaned=cleaned)
    delineation = ecg_delineate(cleaned, rate, peaks=peaks) if delineate and peaks.size else None
    return ECGResult(
        sampling_rate=rate,
        raw=data,
        cleaned=cleaned,
        lead_names=names,
        peaks=peaks,
        rate_bpm=np.asarray(rate_bpm, dtype=np.float64),
        hrv=hrv,
        rhythm=rhythm,
        quality=quality,
        delineation=delineation,
        peak_lead=usable[_peak_lead(cleaned[:, usable], peaks, rate)] if usable else 0,
    )


def _peak_lead(cleaned: FloatArray, peaks: IntArray, sampling_rate: float) -> int:
    """The lead on which most peaks sit on the largest |deviation| within +-20 ms."""
    if cleaned.shape[1] == 1 or peaks.size == 0:
        return 0
    half = max(1, round(0.02 * sampling_rate))
    index = np.clip(peaks[:, None] + np.arange(-half, half + 1)[None, :], 0, len(cleaned) - 1)
    hits = [
        np.count_nonzero(np.argmax(np.abs(cleaned[index, lead]), axis=1) == half)
        for lead in range(cleaned.shape[1])
    ]
    return int(np.argmax(hits))


def _lead_names(names: Sequence[str] | None, n_leads: int) -> tuple[str, ...]:
    if names is None:
        return tuple(f"lead{i}" for i in range(n_leads))
    if isinstance(names, str) or len(names) != n_leads:
        raise InvalidParameterError(
            f"ecg_process: lead_names must name each of the {n_leads} lead(s), got {names!r}"
        )
    return tuple(str(name) for name in names)


def _per_sample(frame: pd.DataFrame, n_samples: int, sampling_rate: float) -> pd.Categorical:
    """Spread window labels (``start_s``/``end_s``/``label``) over the samples."""
    labels = np.full(n_samples, "", dtype=object)
    for start, end, label in zip(frame["start_s"], frame["end_s"], frame["label"], strict=True):
        labels[round(float(start) * sampling_rate) : round(float(end) * sampling_rate)] = label
    return pd.Categorical(labels)


def _nan_stat(func: Any, values: FloatArray) -> float:
    return float(func(values)) if values.size else float("nan")
