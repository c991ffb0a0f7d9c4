"""Analysis rate: very high sampling rates are analysed on a resampled copy.

Several ECG steps (median and moving-window filters, template matching, the
delineator's search windows) cost samples x window, and a window of fixed duration
holds more samples the higher the rate: their work grows with duration x rate^2. An
ECG carries nothing above a few hundred hertz (diagnostic bandwidth 150 Hz, AHA 2007;
QRS energy below 100 Hz), so :func:`~medmodal.ecg.process.ecg_process` analyses a
record sampled above :data:`ANALYSIS_RATE` on a polyphase-resampled copy
(:func:`scipy.signal.resample_poly`, a rational ``up/down`` ratio) and maps every
sample index back to the caller's rate. Records at or below the analysis rate are not
touched (MIT-BIH 360 Hz, PTB-XL 100/500 Hz, QTDB 250 Hz).

Example:
    >>> plan = analysis_plan(20_000)
    >>> plan.resamples, plan.up, plan.down, plan.analysis_rate
    (True, 1, 20, 1000.0)
    >>> analysis_plan(360).resamples
    False
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import resample_poly

from medmodal.types import FloatArray, IntArray

#: Highest rate (Hz) analysed as given: 1 ms resolution, the unit intervals are reported
#: in, and well above the ECG's bandwidth; every bundled data set is at or below it.
ANALYSIS_RATE = 1000.0
#: Largest denominator tried for the rational ratio (keeps the polyphase filter short).
MAX_DENOMINATOR = 50


@dataclass(frozen=True)
class AnalysisPlan:
    """How a record at ``sampling_rate`` is analysed.

    Attributes:
        sampling_rate: the caller's rate (Hz).
        up: interpolation factor of the polyphase resampler.
        down: decimation factor.
    """

    sampling_rate: float
    up: int = 1
    down: int = 1

    @property
    def resamples(self) -> bool:
        """Whether the record is analysed on a resampled copy."""
        return self.up != self.down

    @property
    def analysis_rate(self) -> float:
        """Rate (Hz) the analysis runs at: ``sampling_rate * up / down``."""
        return self.sampling_rate * self.up / self.down

    def note(self) -> str:
        """One sentence for the result's notes ("" when nothing was resampled)."""
        if not self.resamples:
            return ""
        return (
            f"analysed at {self.analysis_rate:.6g} Hz (resampled {self.up}/{self.down} from "
            f"{self.sampling_rate:g} Hz, above the {ANALYSIS_RATE:g} Hz analysis rate); "
            "sample indices refer to the original signal"
        )

    def to_analysis(self, data: FloatArray) -> FloatArray:
        """Resample ``(n_samples, n_leads)`` to the analysis rate.

        Each lead's median is removed first and added back after, so that the
        resampler's zero padding adds no edge step and a constant lead stays constant.
        """
        if not self.resamples:
            return data
        offset = np.median(data, axis=0)
        out = resample_poly(data - offset, self.up, self.down, axis=0)
        return np.asarray(out + offset, dtype=np.float64)

    def to_original(self, data: FloatArray, n_samples: int) -> FloatArray:
        """Resample analysis-rate ``data`` back to ``n_samples`` at the caller's rate."""
        if not self.resamples:
            return data
        offset = np.median(data, axis=0)
        out = resample_poly(data - offset, self.down, self.up, axis=0)[:n_samples] + offset
        if out.shape[0] < n_samples:  # rounding: repeat the last sample
            out = np.concatenate([out, np.repeat(out[-1:], n_samples - out.shape[0], axis=0)])
        return np.asarray(out, dtype=np.float64)

    def index_to_original(self, index: IntArray, n_samples: int) -> IntArray:
        """Analysis-rate sample indices at the caller's rate; ``-1`` (absent) stays."""
        index = np.asarray(index, dtype=np.int64)
        mapped = np.rint(index * (self.down / self.up)).astype(np.int64)
        return np.where(index < 0, index, np.clip(mapped, 0, n_samples - 1))

    def refine_peaks(self, peaks: IntArray, lead: FloatArray) -> IntArray:
        """Map analysis-rate R peaks back and move each to the largest ``|lead|`` sample
        within one analysis sample, so peaks sit on extrema at the caller's rate."""
        mapped = self.index_to_original(peaks, lead.shape[0])
        if not self.resamples or mapped.size == 0:
            return mapped
        half = max(1, math.ceil(self.down / self.up))
        offsets = np.arange(-half, half + 1)
        window = np.clip(mapped[:, None] + offsets[None, :], 0, lead.shape[0] - 1)
        refined = window[np.arange(mapped.size), np.argmax(np.abs(lead[window]), axis=1)]
        # Peaks must stay strictly increasing (one per beat): should two refined peaks
        # meet, keep the mapped ones (distinct, since down/up > 1).
        return refined if bool(np.all(np.diff(refined) > 0)) else mapped


def analysis_plan(sampling_rate: float) -> AnalysisPlan:
    """The resampling plan for ``sampling_rate`` (already validated, in Hz).

    Above :data:`ANALYSIS_RATE`, ``up/down`` is the largest fraction with ``down`` at
    most :data:`MAX_DENOMINATOR` (or ``1/ceil(rate / ANALYSIS_RATE)`` when no such
    fraction reaches down to it) that brings the rate to the analysis rate or below.

    Example:
        >>> analysis_plan(1024).analysis_rate < 1000 < 1024
        True
        >>> analysis_plan(1_000_000).down
        1000
    """
    rate = float(sampling_rate)
    if rate <= ANALYSIS_RATE:
        return AnalysisPlan(rate)
    best = (1, math.ceil(rate / ANALYSIS_RATE))
    for down in range(1, MAX_DENOMINATOR + 1):
        up = math.floor(ANALYSIS_RATE * down / rate)
        if up >= 1 and up * best[1] > best[0] * down:
            best = (up, down)
    up, down = best
    common = math.gcd(up, down)
    return AnalysisPlan(rate, up // common, down // common)
