"""Simulated ECGs with known beats and fiducial points: ``ecg_simulate``.

The default model is ECGSYN (McSharry et al. 2003): realistic P-QRS-T morphology whose
wave times are known exactly, so detectors and delineators can be scored against the
truth. Rhythms, lead projections and recording noise are separate, seeded pieces.

Example:
    >>> from medmodal.ecg.simulate import ecg_simulate, ecg_simulate_annotated
    >>> ecg = ecg_simulate(10, 360, heart_rate=60, seed=0)
    >>> ecg.shape, ecg.dtype
    ((3600,), dtype('float64'))
    >>> sim = ecg_simulate_annotated(20, 250, rhythm="pvc", ectopic_rate=0.3, seed=1)
    >>> sorted(set(sim.beat_labels))
    ['N', 'V']

References:
    McSharry PE, Clifford GD, Tarassenko L, Smith LA. A dynamical model for generating
    synthetic electrocardiogram signals. IEEE Trans Biomed Eng 50(3):289-294 (2003).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypedDict, Unpack

import numpy as np
import pandas as pd

from medmodal.ecg._simulators import FIDUCIALS, METHODS, RHYTHMS
from medmodal.ecg._simulators._base import BeatSchedule, Grid, RhythmOptions, RhythmRequest
from medmodal.ecg._simulators._leads import lead_names
from medmodal.ecg._simulators._noise import Noise, make_noise
from medmodal.ecg._validate import check_sampling_rate
from medmodal.errors import InvalidParameterError, MedmodalWarning
from medmodal.types import FloatArray, IntArray

__all__ = [
    "Noise",
    "SimulateOptions",
    "SimulatedECG",
    "available_methods",
    "available_rhythms",
    "ecg_simulate",
    "ecg_simulate_annotated",
]

#: Accepted heart rates (bpm).
HEART_RATE_RANGE = (20.0, 250.0)
#: Default heart rate (bpm); rhythms with their own range replace it silently.
DEFAULT_HEART_RATE = 70.0
#: Accepted sampling rates (Hz).
SAMPLING_RATE_RANGE = (50.0, 20_000.0)
#: Most leads simulated at once.
MAX_LEADS = 64
#: Largest simulation (samples x leads at max(sampling_rate, 500 Hz)).
MAX_VALUES = 100_000_000
#: Extra time (s) simulated on each side so beats straddling the ends are complete.
MARGIN = 4.5


@dataclass(frozen=True)
class SimulatedECG:
    """A simulated ECG with its ground truth.

    Attributes:
        signal: (n_samples,) for one lead or (n_samples, n_leads), float64, mV.
        sampling_rate: Hz.
        r_peaks: (n_beats,) int64 R-peak samples (beats whose R lies in the record).
        beat_labels: MIT-BIH symbol per beat: ``"N"`` normal, ``"V"`` ventricular.
        fiducials: per-beat int64 samples of ``p_onset``, ``p_peak``, ``qrs_onset``,
            ``q``, ``r``, ``s``, ``qrs_offset``, ``t_peak``, ``t_offset``; -1 where the
            wave is absent (no P in AF or ventricular beats) or falls outside the record.
        rhythm: canonical rhythm name.
        heart_rate: mean heart rate (bpm) the rhythm aimed at.
        method: canonical simulation method name.
        lead_names: name of each simulated lead (``"II"``, ``"V1"``, ...).
        noise: the noise levels that were added.
    """

    signal: FloatArray
    sampling_rate: float
    r_peaks: IntArray
    beat_labels: tuple[str, ...]
    fiducials: Mapping[str, IntArray]
    rhythm: str
    heart_rate: float
    method: str
    lead_names: tuple[str, ...]
    noise: Noise = field(default_factory=Noise)

    @property
    def n_beats(self) -> int:
        """Number of annotated beats."""
        return int(self.r_peaks.size)

    @property
    def duration(self) -> float:
        """Length of the record in seconds."""
        return self.signal.shape[0] / self.sampling_rate

    def to_frame(self) -> pd.DataFrame:
        """One row per beat: time, label, RR interval and every fiducial sample."""
        rr = np.diff(self.r_peaks, prepend=-1).astype(float) / self.sampling_rate
        if rr.size:
            rr[0] = np.nan
        frame = pd.DataFrame(
            {
                "time_s": self.r_peaks / self.sampling_rate,
                "label": list(self.beat_labels),
                "rr_s": rr,
                **{name: self.fiducials[name] for name in FIDUCIALS},
            }
        )
        frame.index.name = "beat"
        return frame


def available_methods() -> tuple[str, ...]:
    """Names accepted by ``method=``."""
    return METHODS.names()


def available_rhythms() -> tuple[str, ...]:
    """Names accepted by ``rhythm=``."""
    return RHYTHMS.names()


class SimulateOptions(TypedDict, total=False):
    """The keyword arguments of :func:`ecg_simulate_annotated` (see there)."""

    heart_rate: float
    rhythm: str
    n_leads: int
    noise: float | Noise | Mapping[str, float]
    seed: int | np.random.Generator | None
    method: str
    ectopic_rate: float | None
    f_wave_amplitude: float | None


def ecg_simulate(
    duration: float, sampling_rate: float, **options: Unpack[SimulateOptions]
) -> FloatArray:
    """Simulate an ECG (mV); the signal of :func:`ecg_simulate_annotated`.

    Same arguments as :func:`ecg_simulate_annotated` (keywords: :class:`SimulateOptions`).

    Returns:
        float64 array, ``(n,)`` for one lead or ``(n, n_leads)``, with
        ``n = round(duration * sampling_rate)``.

    Example:
        >>> ecg = ecg_simulate(5, 500, n_leads=3, noise=0.05, seed=3)
        >>> ecg.shape
        (2500, 3)
    """
    return ecg_simulate_annotated(duration, sampling_rate, **options).signal


def ecg_simulate_annotated(
    duration: float,
    sampling_rate: float,
    *,
    heart_rate: float = DEFAULT_HEART_RATE,
    rhythm: str = "sinus",
    n_leads: int = 1,
    noise: float | Noise | Mapping[str, float] = 0.0,
    seed: int | np.random.Generator | None = None,
    method: str = "ecgsyn",
    ectopic_rate: float | None = None,
    f_wave_amplitude: float | None = None,
) -> SimulatedECG:
    """Simulate an ECG together with its beats, beat labels and fiducial points.

    Args:
        duration: seconds (> 0).
        sampling_rate: Hz, 50 to 20000.
        heart_rate: mean heart rate in bpm (20-250). The rhythm wins where they
            disagree: ``"tachycardia"`` uses ``heart_rate`` only if it is above 100 bpm
            (else 120), ``"bradycardia"`` only if below 60 bpm (else 45); a non-default
            ``heart_rate`` that is replaced raises a MedmodalWarning. ``"afib"`` and
            ``"pvc"`` use it as the mean ventricular / sinus rate.
        rhythm: one of the rhythms below (aliases accepted).
        n_leads: number of leads (1-64): II, V1, V5, I, III, aVR, aVL, aVF, V2, V3, V4,
            V6, then mixtures; all share the beat timing.
        noise: overall noise level in mV (``Noise.from_level``: baseline wander
            ``noise``, muscle noise ``noise/4`` RMS, 50 Hz mains ``noise/5``), or a
            :class:`Noise` / mapping of its fields for each component (e.g.
            ``{"powerline": 0.1, "powerline_hz": 60}``).
        seed: seed or generator. The rhythm, the morphology and the noise draw from
            separate streams, so the same seed with more noise gives the same clean ECG.
        method: simulation model, one of the methods below.
        ectopic_rate: ``"pvc"`` only: fraction of sinus beats replaced by premature
            ventricular beats (0-1, never two in a row; default 0.1).
        f_wave_amplitude: ``"afib"`` only: fibrillatory wave amplitude in mV (default
            0.05; 0 for none).

    Rhythms:
        <rhythms>

    Methods:
        <methods>

    Returns:
        A :class:`SimulatedECG`.

    Raises:
        InvalidParameterError: an argument is out of range or of the wrong type, or
            ``rhythm`` / ``method`` is unknown (with suggestions).

    Example:
        >>> sim = ecg_simulate_annotated(10, 360, rhythm="afib", seed=0)
        >>> bool((sim.fiducials["p_peak"] == -1).all())
        True
    """
    func = "ecg_simulate"
    rate = _check_range(
        "sampling_rate", check_sampling_rate(sampling_rate, func=func), SAMPLING_RATE_RANGE
    )
    n_samples = _n_samples(duration, rate)
    leads = _check_leads(n_leads, n_samples, rate)
    hr = _check_range("heart_rate", _real("heart_rate", heart_rate), HEART_RATE_RANGE)
    noise_spec = _as_noise(noise)
    options = _options(ectopic_rate, f_wave_amplitude)
    rhythm_name, method_name = RHYTHMS.resolve(rhythm), METHODS.resolve(method)
    rng_rhythm, rng_shape, rng_noise = _generators(seed)
    duration_s = n_samples / rate
    request = RhythmRequest(-MARGIN, duration_s + MARGIN, hr, options)
    schedule = RHYTHMS.get(rhythm_name)(request, rng_rhythm)
    _warn_if_rate_replaced(rhythm_name, hr, schedule)
    rendered = METHODS.get(method_name)(schedule, Grid(n_samples, rate, leads), rng_shape)
    signal = rendered.signal + make_noise(noise_spec, n_samples, rate, leads, rng_noise)
    keep = rendered.fiducials["r"] >= 0
    fiducials = {name: np.ascontiguousarray(rendered.fiducials[name][keep]) for name in FIDUCIALS}
    return SimulatedECG(
        signal=signal[:, 0] if leads == 1 else signal,
        sampling_rate=rate,
        r_peaks=fiducials["r"].copy(),
        beat_labels=tuple(lab for lab, k in zip(schedule.labels, keep, strict=True) if k),
        fiducials=fiducials,
        rhythm=rhythm_name,
        heart_rate=schedule.heart_rate,
        method=method_name,
        lead_names=lead_names(leads),
        noise=noise_spec,
    )


def _indent(text: str, spaces: int) -> str:
    return text.replace("\n", "\n" + " " * spaces)


if ecg_simulate_annotated.__doc__:
    ecg_simulate_annotated.__doc__ = ecg_simulate_annotated.__doc__.replace(
        "<rhythms>", _indent(RHYTHMS.describe(), 8)
    ).replace("<methods>", _indent(METHODS.describe(), 8))


def _real(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameterError(
            f"ecg_simulate: {name} must be a real number, got {type(value).__name__} {value!r}"
        )
    out = float(value)
    if not np.isfinite(out):
        raise InvalidParameterError(f"ecg_simulate: {name} must be finite, got {value!r}")
    return out


def _check_range(name: str, value: float, bounds: tuple[float, float]) -> float:
    lo, hi = bounds
    if not lo <= value <= hi:
        raise InvalidParameterError(
            f"ecg_simulate: {name} must lie in [{lo:g}, {hi:g}], got {value:g}"
        )
    return value


def _n_samples(duration: object, rate: float) -> int:
    seconds = _real("duration", duration)
    if seconds <= 0:
        raise InvalidParameterError(f"ecg_simulate: duration must be > 0 s, got {seconds:g}")
    if seconds * max(rate, 500.0) > MAX_VALUES:
        raise InvalidParameterError(
            f"ecg_simulate: duration {seconds:g} s at {rate:g} Hz is too long to simulate "
            f"at once (limit {MAX_VALUES:.0e} samples x leads); simulate it in pieces"
        )
    n = round(seconds * rate)
    if n < 1:
        raise InvalidParameterError(
            f"ecg_simulate: duration {seconds:g} s at {rate:g} Hz gives no sample"
        )
    return n


def _check_leads(n_leads: object, n_samples: int, rate: float) -> int:
    if isinstance(n_leads, bool) or not isinstance(n_leads, numbers.Integral):
        raise InvalidParameterError(
            f"ecg_simulate: n_leads must be an int, got {type(n_leads).__name__} {n_leads!r}"
        )
    leads = int(n_leads)
    if not 1 <= leads <= MAX_LEADS:
        raise InvalidParameterError(
            f"ecg_simulate: n_leads must lie in [1, {MAX_LEADS}], got {leads}"
        )
    if n_samples / rate * max(rate, 500.0) * leads > MAX_VALUES:
        raise InvalidParameterError(
            f"ecg_simulate: {leads} leads of {n_samples} samples exceed the limit of "
            f"{MAX_VALUES:.0e} samples x leads; simulate fewer leads or a shorter record"
        )
    return leads


def _as_noise(noise: object) -> Noise:
    if isinstance(noise, Noise):
        return noise
    if isinstance(noise, Mapping):
        unknown = set(noise) - set(Noise.__dataclass_fields__)
        if unknown:
            raise InvalidParameterError(
                f"ecg_simulate: unknown noise component(s) {sorted(map(str, unknown))}; "
                f"allowed: {', '.join(Noise.__dataclass_fields__)}"
            )
        return Noise(**noise)
    level = _real("noise", noise)
    if level < 0:
        raise InvalidParameterError(f"ecg_simulate: noise must be >= 0 mV, got {level:g}")
    return Noise.from_level(level)


def _options(ectopic_rate: float | None, f_wave_amplitude: float | None) -> RhythmOptions:
    defaults = RhythmOptions()
    ectopic = defaults.ectopic_rate if ectopic_rate is None else _real("ectopic_rate", ectopic_rate)
    if not 0.0 <= ectopic <= 1.0:
        raise InvalidParameterError(
            f"ecg_simulate: ectopic_rate must lie in [0, 1], got {ectopic:g}"
        )
    amp = (
        defaults.f_wave_amplitude
        if f_wave_amplitude is None
        else _real("f_wave_amplitude", f_wave_amplitude)
    )
    if amp < 0:
        raise InvalidParameterError(f"ecg_simulate: f_wave_amplitude must be >= 0 mV, got {amp:g}")
    return RhythmOptions(ectopic_rate=ectopic, f_wave_amplitude=amp)


def _generators(seed: object) -> list[np.random.Generator]:
    """Three independent streams (rhythm, morphology, noise) from one seed."""
    try:
        parent = np.random.default_rng(seed)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"ecg_simulate: seed must be None, a non-negative int or a numpy Generator, "
            f"got {type(seed).__name__} {seed!r}"
        ) from exc
    return parent.spawn(3)


def _warn_if_rate_replaced(rhythm: str, heart_rate: float, schedule: BeatSchedule) -> None:
    if heart_rate != DEFAULT_HEART_RATE and schedule.heart_rate != heart_rate:
        warnings.warn(
            f"ecg_simulate: rhythm {rhythm!r} runs at {schedule.heart_rate:g} bpm; "
            f"heart_rate={heart_rate:g} is outside its range and was not used",
            MedmodalWarning,
            stacklevel=3,
        )
