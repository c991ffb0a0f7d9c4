"""RR intervals with a flag each, and the heart rate every output reports: ``ecg_rr``.

One place decides which RR intervals count for what, so that the summary, the command
line, the service, the report and the figures cannot disagree:

- an interval shorter than 0.2 s (> 300 bpm) is **too_short**: an extra detection (a
  double-counted QRS, a T wave taken for a beat). Its beat is not counted;
- an interval longer than 3 s (< 20 bpm) is **too_long**: a pause or missed beats;
- an interval inside an atrial-fibrillation episode (:meth:`RRIntervals.with_af`, which
  :func:`~medmodal.ecg.process.ecg_process` applies with the episodes of
  :func:`~medmodal.ecg.af.ecg_af`) is **af**: irregular because of AF, not an ectopic
  beat or an artefact (AF has no normal-to-normal intervals, so none inside an episode
  is ``nn`` either);
- an interval next to a too-short one (the other piece of a split interval), or more
  than 20 % away from the median of the 11 intervals around it, is
  **ectopic_or_artefact**: the rule of :func:`medmodal.ecg.hrv.nn_mask`, the same mask
  HRV uses;
- every other interval is **nn** (normal-to-normal).

The physiological limits win: an interval too short or too long, or next to a too-short
one, is flagged so even inside AF.

Heart rate:

- **mean** = beats per minute over the analysed time: ``60 x counted intervals / time
  from the first to the last beat``, where an extra detection (``too_short``) removes one
  beat from the count. Pauses and ectopic beats are real time and real beats, so they
  count; averaging per-beat ``60 / RR`` instead would overweight short intervals.
- **median** = median of the per-beat rates of the plausible intervals (not too short,
  not too long);
- **min/max** = over the NN intervals, so an ectopic beat or an artefact never sets
  them; with AF, over the NN and the AF intervals (the ventricular rate range a
  cardiologist reads in AF: every beat-to-beat rate within 20-300 bpm), and
  ``summary()["min_max_over"]`` says so;
- the per-beat rate is NaN where an interval is too short or too long: no output shows a
  beat-to-beat rate outside 20-300 bpm.

Example:
    >>> import numpy as np
    >>> from medmodal.ecg.rr import ecg_rr
    >>> peaks = np.arange(0, 360 * 60, 300)  # 72 bpm for a minute, at 360 Hz
    >>> peaks = np.sort(np.append(peaks, 642))  # a double detection 42 ms after a beat
    >>> rr = ecg_rr(peaks, 360)
    >>> round(rr.mean_bpm, 1), rr.flag_counts["too_short"], rr.min_bpm, rr.max_bpm
    (72.0, 1, 72.0, 72.0)
    >>> rr.note()[:60]
    '3 of 72 RR intervals flagged (kept out of min/max heart rate'
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from medmodal.ecg._validate import as_peaks, check_sampling_rate
from medmodal.ecg.hrv import NN_BOUNDS, _check_threshold, nn_mask
from medmodal.errors import InvalidParameterError
from medmodal.types import ArrayLike, BoolArray, FloatArray, IntArray

__all__ = ["FLAGS", "MIN_MAX_OVER", "PLAUSIBLE_BPM", "RRIntervals", "ecg_rr"]

#: Beat-to-beat rates (bpm) that a heart can produce: the NN bounds of HRV, inverted.
PLAUSIBLE_BPM = (60.0 / NN_BOUNDS[1], 60.0 / NN_BOUNDS[0])
#: Flag of each RR interval -> what it means (in the order outputs list them).
FLAGS = {
    "nn": "normal-to-normal: kept for min/max heart rate and HRV",
    "af": "inside an atrial-fibrillation episode: irregular because of AF (kept for the "
    "min/max heart rate; HRV is not interpretable in AF)",
    "too_short": f"shorter than {1000 * NN_BOUNDS[0]:.0f} ms (> {PLAUSIBLE_BPM[1]:.0f} bpm), "
    "an extra detection",
    "too_long": f"longer than {NN_BOUNDS[1]:g} s (< {PLAUSIBLE_BPM[0]:.0f} bpm), "
    "a pause or missed beats",
    "ectopic_or_artefact": "next to a too-short interval, or more than 20 % from the median "
    "of the 11 intervals around it (ectopic beat or artefact)",
}
_SHORT_TEXT = {
    "too_short": f"too short (> {PLAUSIBLE_BPM[1]:.0f} bpm, an extra detection)",
    "too_long": f"too long (< {PLAUSIBLE_BPM[0]:.0f} bpm, a pause or missed beats)",
    "ectopic_or_artefact": "ectopic or artefact",
}
#: ``min_max_over`` of the summary without and with AF intervals.
MIN_MAX_OVER = ("NN intervals", "NN intervals and the intervals in atrial fibrillation")


@dataclass(frozen=True, eq=False)
class RRIntervals:
    """The RR intervals of one recording, each with its flag (arrays: one per interval).

    Attributes:
        peaks: the R peaks (samples) the intervals lie between.
        sampling_rate: Hz.
        rr_s: interval lengths in seconds, ``(n_peaks - 1,)``.
        flag: one of :data:`FLAGS` per interval.
        artifact_threshold: the relative deviation used for ``ectopic_or_artefact``
            (None: that rule was off).
        reason: why there are no beats, when known (e.g. the signal is flat), for
            :meth:`note`.
    """

    peaks: IntArray
    sampling_rate: float
    rr_s: FloatArray
    flag: tuple[str, ...]
    artifact_threshold: float | None = 0.2
    reason: str = ""

    @property
    def n_intervals(self) -> int:
        """Number of RR intervals (beats - 1, or 0)."""
        return int(self.rr_s.size)

    @property
    def times_s(self) -> FloatArray:
        """Time (s) of the beat that ends each interval."""
        return self.peaks[1:] / self.sampling_rate

    @property
    def nn(self) -> BoolArray:
        """True for the NN intervals (identical to :func:`medmodal.ecg.hrv.nn_mask`
        outside AF episodes)."""
        return np.array([f == "nn" for f in self.flag], dtype=bool)

    @property
    def in_range(self) -> BoolArray:
        """True for the intervals min/max heart rate is taken over: NN and AF."""
        return np.array([f in ("nn", "af") for f in self.flag], dtype=bool)

    @property
    def n_af(self) -> int:
        """Intervals inside atrial-fibrillation episodes (flag ``af``)."""
        return self.flag.count("af")

    @property
    def plausible(self) -> BoolArray:
        """True where the interval lies within 0.2-3 s (20-300 bpm)."""
        return (self.rr_s >= NN_BOUNDS[0]) & (self.rr_s <= NN_BOUNDS[1])

    @property
    def rate_bpm(self) -> FloatArray:
        """Beat-to-beat rate ``60 / RR`` per interval; NaN where too short or too long."""
        with np.errstate(divide="ignore"):
            return np.where(self.plausible, 60.0 / self.rr_s, np.nan)

    @property
    def flag_counts(self) -> dict[str, int]:
        """Intervals under each flag (every flag listed, zeros included)."""
        return {name: self.flag.count(name) for name in FLAGS}

    @property
    def n_flagged(self) -> int:
        """Intervals kept out of the min/max heart rate: neither NN nor AF."""
        return self.n_intervals - self.flag_counts["nn"] - self.n_af

    @property
    def analysed_s(self) -> float:
        """Time from the first to the last beat (s); 0 with fewer than 2 beats."""
        return (
            float(self.peaks[-1] - self.peaks[0]) / self.sampling_rate if self.n_intervals else 0.0
        )

    @property
    def n_counted(self) -> int:
        """Intervals counted for the mean rate: extra detections removed (see the module)."""
        return _counted_intervals(self.peaks, NN_BOUNDS[0] * self.sampling_rate)

    @property
    def mean_bpm(self) -> float:
        """Beats per minute over the analysed time (NaN with fewer than 2 beats)."""
        span = self.analysed_s
        return 60.0 * self.n_counted / span if span > 0 else float("nan")

    @property
    def median_bpm(self) -> float:
        """Median beat-to-beat rate of the plausible intervals."""
        return _stat(np.median, self.rate_bpm[self.plausible])

    @property
    def min_bpm(self) -> float:
        """Lowest beat-to-beat rate over the NN (and AF) intervals."""
        return _stat(np.min, 60.0 / self.rr_s[self.in_range])

    @property
    def max_bpm(self) -> float:
        """Highest beat-to-beat rate over the NN (and AF) intervals."""
        return _stat(np.max, 60.0 / self.rr_s[self.in_range])

    def with_af(self, start_s: ArrayLike, end_s: ArrayLike) -> RRIntervals:
        """The same intervals with every one inside an AF episode flagged ``af``
        (``too_short``/``too_long`` kept: the physiological limits win; so are the two
        neighbours of a too-short interval, the pieces of one split interval).

        An interval is inside an episode when both its beats lie within ``[start_s,
        end_s]`` (half a sample of tolerance: the episodes of
        :func:`~medmodal.ecg.af.ecg_af` start and end on beats).

        Example:
            >>> rr = ecg_rr([0, 250, 400, 700, 730, 1000, 1250, 1500], 250)
            >>> rr.flag[:5]
            ('nn', 'ectopic_or_artefact', 'ectopic_or_artefact', 'too_short', 'ectopic_or_artefact')
            >>> rr.with_af([1.0], [4.0]).flag[:5]
            ('nn', 'af', 'ectopic_or_artefact', 'too_short', 'ectopic_or_artefact')
        """
        starts = np.atleast_1d(np.asarray(start_s, dtype=np.float64))
        ends = np.atleast_1d(np.asarray(end_s, dtype=np.float64))
        if starts.shape != ends.shape or starts.ndim != 1 or np.any(ends < starts):
            raise InvalidParameterError(
                f"RRIntervals.with_af: need episodes as matching start/end times with end >= "
                f"start, got start_s={starts.tolist()}, end_s={ends.tolist()}"
            )
        beats = self.peaks / self.sampling_rate
        tol = 0.5 / self.sampling_rate
        inside = np.zeros(self.n_intervals, dtype=bool)
        for start, end in zip(starts, ends, strict=True):
            inside |= (beats[:-1] >= start - tol) & (beats[1:] <= end + tol)
        short = np.array([f == "too_short" for f in self.flag], dtype=bool)
        split = np.zeros_like(short)  # the other pieces of a split interval stay artefacts
        split[1:] |= short[:-1]
        split[:-1] |= short[1:]
        inside &= ~short & ~split & (np.asarray(self.flag, dtype=object) != "too_long")
        flags = tuple("af" if hit else f for hit, f in zip(inside.tolist(), self.flag, strict=True))
        return replace(self, flag=flags)

    def per_beat_rate_bpm(self) -> FloatArray:
        """One rate per beat: that of the interval ending at it (NaN for the first beat)."""
        return np.concatenate([[np.nan], self.rate_bpm]) if self.peaks.size else np.zeros(0)

    def per_beat_flag(self) -> tuple[str, ...]:
        """One flag per beat: that of the interval ending at it (``""`` for the first)."""
        return ("", *self.flag) if self.peaks.size else ()

    def note(self) -> str:
        """The flags in one sentence, e.g. ``"3 of 2986 RR intervals flagged ..."``."""
        if self.n_intervals == 0:
            beats = "no beats" if self.peaks.size == 0 else "a single beat"
            if self.reason:
                return f"{beats} found: {self.reason}"
            return f"no RR intervals: {beats} found"
        af = ""
        if self.n_af:
            af = (
                f"{self.n_af} of {self.n_intervals} RR intervals in atrial fibrillation "
                "(irregular because of AF, not ectopy: kept in the min/max heart rate)"
            )
        if self.n_flagged == 0:
            if af:
                return f"{af}; no other RR interval flagged"
            return f"no RR interval flagged ({self.n_intervals} intervals, all NN)"
        parts = [
            f"{count} {_SHORT_TEXT[name]}"
            for name, count in self.flag_counts.items()
            if name in _SHORT_TEXT and count
        ]
        flagged = (
            f"{self.n_flagged} of {self.n_intervals} RR intervals flagged (kept out of min/max "
            f"heart rate and HRV): {', '.join(parts)}"
        )
        return f"{af}; {flagged}" if af else flagged

    def summary(self) -> dict[str, Any]:
        """The heart-rate block of every output (see the module docstring for each number)."""
        return {
            "mean_bpm": self.mean_bpm,
            "median_bpm": self.median_bpm,
            "min_bpm": self.min_bpm,
            "max_bpm": self.max_bpm,
            "analysed_s": self.analysed_s,
            "n_intervals": self.n_intervals,
            "n_counted": self.n_counted,
            "n_flagged": self.n_flagged,
            "n_af": self.n_af,
            "flagged": {k: v for k, v in self.flag_counts.items() if k in _SHORT_TEXT},
            "note": self.note(),
            "mean_method": "beats per minute over the analysed time: 60 x RR intervals / time "
            "from the first to the last beat, extra detections (< 200 ms) not counted",
            "min_max_over": MIN_MAX_OVER[bool(self.n_af)],
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per interval: end time, RR (ms), rate (bpm, NaN if implausible), flag."""
        frame = pd.DataFrame(
            {
                "time_s": self.times_s,
                "rr_ms": 1000.0 * self.rr_s,
                "heart_rate_bpm": self.rate_bpm,
                "flag": list(self.flag),
            }
        )
        frame.index.name = "interval"
        return frame


def ecg_rr(
    peaks: ArrayLike, sampling_rate: float, *, artifact_threshold: float | None = 0.2
) -> RRIntervals:
    """The RR intervals between R peaks, each flagged (see the module docstring).

    Args:
        peaks: sorted, unique, non-negative R-peak sample indices (any number, even 0).
        sampling_rate: Hz.
        artifact_threshold: relative deviation from the local median above which an
            interval is ``ectopic_or_artefact`` (as :func:`medmodal.ecg.hrv.ecg_hrv`;
            default 0.2), or None to skip that rule.

    Returns:
        An :class:`RRIntervals`.

    Raises:
        InvalidParameterError: bad peaks, sampling rate or threshold.

    Example:
        >>> rr = ecg_rr([0, 250, 500, 760, 1000], 250)
        >>> rr.flag, round(rr.mean_bpm, 1)
        (('nn', 'nn', 'nn', 'nn'), 60.0)

    References:
        Task Force of the European Society of Cardiology and the North American Society
        of Pacing and Electrophysiology. Heart rate variability: standards of
        measurement, physiological interpretation and clinical use. Circulation
        93(5):1043-1065 (1996) (NN intervals).
    """
    func = "ecg_rr"
    rate = check_sampling_rate(sampling_rate, func=func)
    beats = as_peaks(peaks, func=func)
    threshold = _check_threshold(artifact_threshold, func=func)
    rr = np.diff(beats) / rate
    keep = nn_mask(rr, artifact_threshold=threshold) if rr.size else np.zeros(0, dtype=bool)
    flags = np.where(keep, "nn", "ectopic_or_artefact").astype(object)
    flags[rr < NN_BOUNDS[0]] = "too_short"
    flags[rr > NN_BOUNDS[1]] = "too_long"
    return RRIntervals(
        peaks=beats,
        sampling_rate=rate,
        rr_s=rr,
        flag=tuple(str(f) for f in flags),
        artifact_threshold=threshold,
    )


def _counted_intervals(peaks: IntArray, min_gap: float) -> int:
    """Intervals left when every beat closer than ``min_gap`` samples to the last kept
    beat is dropped (an extra detection), scanning forwards."""
    if peaks.size < 2:
        return 0
    short = np.flatnonzero(np.diff(peaks) < min_gap)
    if short.size == 0:  # the usual case: nothing to scan
        return int(peaks.size - 1)
    dropped = 0
    last = int(peaks[0])
    for beat in peaks[1:].tolist():
        if beat - last < min_gap:
            dropped += 1
        else:
            last = beat
    return int(peaks.size - 1 - dropped)


def _stat(func: Any, values: FloatArray) -> float:
    return float(func(values)) if values.size else float("nan")
