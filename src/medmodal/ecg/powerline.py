"""Mains (powerline) frequency: take it from the record, or find its spectral line.

Mains interference is a spectral *line*: a narrow peak at 50 Hz (Europe, Asia, Africa)
or 60 Hz (the Americas) standing above the spectrum of the ECG around it. Broad power
near 50 or 60 Hz (muscle noise) is not a line, and neither is one tooth of the comb of
heart-rate harmonics that a very regular ECG draws. So each candidate's peak in a ±0.5 Hz
band (mains drifts by tenths of a hertz) is compared with the spectrum 2-5 Hz away on
either side, twice: it must stand ``MIN_LINE_DB`` (8 dB) above the median there and
``MIN_PEAK_DB`` (3 dB) above the highest bin there. The stronger of 50/60 Hz that passes
both is the mains frequency; when neither does, there is no line to notch and the
answer is None, with the reason.

Where the thresholds come from (``benchmarks/ecg_powerline.py`` writes the numbers):
on the 48 MIT-BIH records (US, 60 Hz mains) the 50 Hz band never rises 3 dB above the
median of its neighbours, while 60 Hz lines reach 25 dB; on simulated ECGs without
mains the highest-neighbour test alone fires on a few records and the rule on none of
those run (short records, whose spectrum is averaged over few segments, are the risk).
The thresholds were chosen on those two (in-sample); the QT database was run afterwards:
no record gave the wrong frequency, most gave none.

Example:
    >>> import numpy as np
    >>> from medmodal.ecg.powerline import detect_powerline, resolve_powerline
    >>> t = np.arange(0, 20, 1 / 360)
    >>> x = np.random.default_rng(1).normal(size=t.size) + np.sin(2 * np.pi * 60 * t)
    >>> detect_powerline(x[:, None], 360)
    60.0
    >>> resolve_powerline("auto", x[:, None], 360).describe()
    '60 Hz (detected: a line 23.6 dB above its neighbours; 50 Hz: 0.6 dB)'
    >>> resolve_powerline("auto", x[:, None], 360, metadata_hz=50).describe()
    '50 Hz (from the record: its metadata names 50 Hz mains)'
"""

from __future__ import annotations

import functools
import numbers
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import numpy as np
import scipy.signal

from medmodal.errors import InvalidParameterError
from medmodal.types import FloatArray

__all__ = [
    "CANDIDATES_HZ",
    "MIN_LINE_DB",
    "MIN_PEAK_DB",
    "Line",
    "Powerline",
    "detect_powerline",
    "line_strength",
    "resolve_powerline",
]

#: Candidate mains frequencies for ``powerline="auto"``.
CANDIDATES_HZ = (50.0, 60.0)
#: How far (dB) a candidate's peak must rise above the median of its neighbours.
MIN_LINE_DB = 8.0
#: How far (dB) it must rise above the highest of its neighbours.
MIN_PEAK_DB = 3.0
#: Half-width (Hz) of the band searched for the line's peak (mains drifts).
LINE_HALF_WIDTH_HZ = 0.5
#: Distance (Hz) of the neighbouring bands the line is compared with.
NEIGHBOURS_HZ = (2.0, 5.0)
#: Seconds of signal examined (from the start) and Welch segment length.
EXCERPT_S = 120.0
SEGMENT_S = 4.0
#: Shortest signal (s) on which a line is looked for.
MIN_SECONDS = 4.0
#: How the mains frequency was chosen.
SOURCES = ("requested", "metadata", "detected", "none")


@dataclass(frozen=True)
class Powerline:
    """The mains frequency notched out of a recording, and how it was chosen.

    Attributes:
        hz: the notch frequency, or None for no notch.
        source: ``"requested"`` (given by the caller), ``"metadata"`` (the record
            names it), ``"detected"`` (``"auto"`` found a spectral line) or ``"none"``
            (``"auto"`` found no line, or could not look for one).
        detail: the evidence in words.
    """

    hz: float | None
    source: str
    detail: str

    def describe(self) -> str:
        """One line for tables, e.g. ``"60 Hz (detected: a line 13.2 dB above ...)"``."""
        value = f"{self.hz:g} Hz" if self.hz is not None else "no notch"
        return f"{value} ({self.detail})"

    def to_dict(self) -> dict[str, Any]:
        """``hz``, ``source``, ``detail`` and the one-line ``text``."""
        return {**asdict(self), "text": self.describe()}


class Line(NamedTuple):
    """How far a candidate's peak rises above its neighbouring frequencies (dB)."""

    over_median_db: float
    over_peak_db: float

    @property
    def stands_out(self) -> bool:
        """Both margins reached (``MIN_LINE_DB`` and ``MIN_PEAK_DB``)."""
        return self.over_median_db >= MIN_LINE_DB and self.over_peak_db >= MIN_PEAK_DB


def line_strength(data: FloatArray, sampling_rate: float) -> dict[float, Line]:
    """How far (dB) each candidate's peak rises above its neighbouring frequencies.

    Uses the first ``EXCERPT_S`` seconds, every lead's Welch spectrum summed (segments
    of ``SEGMENT_S`` s, shorter for short signals), each lead scaled to unit peak.
    Candidates within ``LINE_HALF_WIDTH_HZ`` of Nyquist, and signals shorter than
    ``MIN_SECONDS`` or not finite, give an empty answer.

    Args:
        data: ``(n_samples, n_leads)`` (or ``(n_samples,)``) finite samples.
        sampling_rate: Hz.

    Returns:
        candidate Hz -> :class:`Line` (dB above the median and above the highest bin
        2-5 Hz away).

    Example:
        >>> t = np.arange(0, 30, 1 / 250)
        >>> x = np.random.default_rng(0).normal(size=t.size) + 0.3 * np.sin(2 * np.pi * 50 * t)
        >>> {f: round(line.over_median_db) for f, line in line_strength(x, 250).items()}
        {50.0: 13, 60.0: 1}
    """
    array = np.asarray(data, dtype=np.float64)
    array = array[:, None] if array.ndim == 1 else array
    excerpt = array[: int(EXCERPT_S * sampling_rate)]
    candidates = [f for f in CANDIDATES_HZ if f + LINE_HALF_WIDTH_HZ < sampling_rate / 2.0]
    if not candidates or excerpt.shape[0] < MIN_SECONDS * sampling_rate:
        return {}
    # Each lead at unit scale: the ratios do not depend on it, and huge values cannot
    # overflow inside the spectrum.
    scale = np.abs(excerpt).max(axis=0)
    excerpt = excerpt / np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    if not np.isfinite(excerpt).all():
        return {}
    nperseg = int(min(SEGMENT_S, excerpt.shape[0] / sampling_rate / 2.0) * sampling_rate)
    freqs, total = _summed_welch(excerpt, sampling_rate, nperseg)
    out = {}
    for f in candidates:
        distance = np.abs(freqs - f)
        peak = float(total[distance <= LINE_HALF_WIDTH_HZ].max())
        around = total[(distance >= NEIGHBOURS_HZ[0]) & (distance <= NEIGHBOURS_HZ[1])]
        out[f] = Line(_db(peak, float(np.median(around))), _db(peak, float(around.max())))
    return out


@functools.lru_cache(maxsize=8)
def _hann(n: int) -> FloatArray:
    """scipy's periodic Hann window of ``n`` samples (read-only, cached)."""
    window = scipy.signal.get_window("hann", n)
    window.setflags(write=False)
    return window


def _summed_welch(
    x: FloatArray, sampling_rate: float, nperseg: int
) -> tuple[FloatArray, FloatArray]:
    """Welch spectra of the ``(n, n_leads)`` ``x``, summed over leads.

    The same estimate as ``scipy.signal.welch(x, fs, nperseg=nperseg, axis=0)`` (Hann
    window, half-overlapping segments, each segment's mean removed, density scaling)
    summed over leads, with all segments transformed in one batched FFT (scipy's
    general-purpose path costs about 2 ms per 120 s at 360 Hz, this about a third).
    """
    step = nperseg - nperseg // 2
    window = _hann(nperseg)
    scale = 1.0 / (sampling_rate * float(np.sum(window * window)))
    total = np.zeros(nperseg // 2 + 1)
    for lead in range(x.shape[1]):
        segments = np.lib.stride_tricks.sliding_window_view(x[:, lead], nperseg)[::step]
        segments = segments - segments.mean(axis=1, keepdims=True)
        segments *= window
        spectra = np.fft.rfft(segments, axis=1)
        power = spectra.real**2 + spectra.imag**2
        total += power.mean(axis=0)
    total *= scale
    total[1 : None if nperseg % 2 else -1] *= 2.0  # one-sided: DC and Nyquist once
    freqs = np.fft.rfftfreq(nperseg, 1.0 / sampling_rate).astype(np.float64, copy=False)
    return freqs, total


def _db(value: float, reference: float) -> float:
    return float(10.0 * np.log10(value / reference)) if value > 0 and reference > 0 else 0.0


def detect_powerline(data: FloatArray, sampling_rate: float) -> float | None:
    """The mains frequency whose spectral line stands out, or None (see the module).

    Example:
        >>> t = np.arange(0, 20, 1 / 360)
        >>> noise = np.random.default_rng(1).normal(size=(t.size, 1))
        >>> detect_powerline(noise, 360) is None
        True
    """
    return _strongest(line_strength(data, sampling_rate))


def _strongest(strength: dict[float, Line]) -> float | None:
    """The candidate that stands out the most above its median, or None."""
    standing = {f: line for f, line in strength.items() if line.stands_out}
    return max(standing, key=lambda f: standing[f].over_median_db) if standing else None


def resolve_powerline(
    powerline: object,
    data: FloatArray,
    sampling_rate: float,
    *,
    metadata_hz: object = None,
    metadata_source: object = None,
    func: str = "ecg_clean",
) -> Powerline:
    """The notch to apply for ``powerline`` (a frequency, ``"auto"`` or None).

    ``"auto"`` takes ``metadata_hz`` (the record's header, e.g. an EDF+ prefilter field
    ``N:60Hz``, or what its database documents) when given, else
    :func:`detect_powerline`. ``metadata_source`` says where the record's value comes
    from, for the outputs.

    Raises:
        InvalidParameterError: ``powerline`` is not a positive frequency, ``"auto"`` or
            None; or ``metadata_hz`` is not a positive frequency.
    """
    choice = check_powerline(powerline, func=func)
    if choice is None:
        return Powerline(None, "requested", "requested")
    if not isinstance(choice, str):
        return Powerline(choice, "requested", "requested")
    if metadata_hz is not None:
        real = isinstance(metadata_hz, numbers.Real) and not isinstance(metadata_hz, bool)
        hz = float(metadata_hz) if real else float("nan")  # type: ignore[arg-type]
        if not (np.isfinite(hz) and hz > 0):
            raise InvalidParameterError(
                f"{func}: the record's mains frequency must be a positive number of Hz, "
                f"got {metadata_hz!r}"
            )
        where = str(metadata_source) if metadata_source else f"its metadata names {hz:g} Hz mains"
        return Powerline(hz, "metadata", f"from the record: {where}")
    return _detected(data, sampling_rate)


def _detected(data: FloatArray, sampling_rate: float) -> Powerline:
    strength = line_strength(data, sampling_rate)
    if not strength:
        usable = [f for f in CANDIDATES_HZ if f + LINE_HALF_WIDTH_HZ < sampling_rate / 2.0]
        why = (
            f"the signal is shorter than {MIN_SECONDS:g} s"
            if usable
            else f"50 and 60 Hz are at or above Nyquist, {sampling_rate / 2:g} Hz"
        )
        return Powerline(None, "none", f"auto: {why}")
    hz = _strongest(strength)  # the spectrum once: as detect_powerline(data, sampling_rate)
    if hz is None:
        levels = ", ".join(
            f"{f:g} Hz {line.over_median_db:.1f}/{line.over_peak_db:.1f} dB"
            for f, line in strength.items()
        )
        return Powerline(
            None,
            "none",
            f"auto: no 50/60 Hz line stands {MIN_LINE_DB:g} dB above the median and "
            f"{MIN_PEAK_DB:g} dB above the highest of its neighbours ({levels})",
        )
    others = "; ".join(
        f"{f:g} Hz: {line.over_median_db:.1f} dB" for f, line in strength.items() if f != hz
    )
    detail = f"detected: a line {strength[hz].over_median_db:.1f} dB above its neighbours"
    return Powerline(hz, "detected", f"{detail}; {others}" if others else detail)


def check_powerline(powerline: object, *, func: str) -> float | str | None:
    """``powerline`` as a float (Hz), ``"auto"`` or None; anything else raises."""
    if powerline is None:
        return None
    if isinstance(powerline, str):
        if powerline.strip().lower() == "auto":
            return "auto"
    elif isinstance(powerline, numbers.Real) and not isinstance(powerline, bool):
        value = float(powerline)
        if np.isfinite(value) and value > 0:
            return value
    raise InvalidParameterError(
        f"{func}: powerline must be a positive frequency in Hz (50 or 60), 'auto' or None, "
        f"got {powerline!r}"
    )
