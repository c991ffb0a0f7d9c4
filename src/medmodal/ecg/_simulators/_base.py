"""Shared pieces of the ECG simulators: registries, the beat schedule, event rendering.

A rhythm (``_rhythms.py``) turns a heart rate into a :class:`BeatSchedule` (R-peak
times, beat labels, which beats have a P wave, the cycle length that sets each beat's
morphology). A method (``ecgsyn.py``, ``gaussian.py``) renders the schedule as a
noise-free multi-lead signal plus the sample of every fiducial point.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from medmodal.registry import Registry
from medmodal.types import BoolArray, FloatArray, IntArray

#: Names of the per-beat fiducial points, in the order they occur within a beat.
FIDUCIALS = (
    "p_onset",
    "p_peak",
    "qrs_onset",
    "q",
    "r",
    "s",
    "qrs_offset",
    "t_peak",
    "t_offset",
)


@dataclass(frozen=True)
class RhythmOptions:
    """Rhythm-specific knobs (each rhythm reads the ones it understands).

    Attributes:
        ectopic_rate: fraction of sinus beats replaced by premature ventricular beats.
        f_wave_amplitude: amplitude (mV) of the fibrillatory waves of atrial fibrillation.
    """

    ectopic_rate: float = 0.1
    f_wave_amplitude: float = 0.05


@dataclass(frozen=True)
class BeatSchedule:
    """When beats happen and what kind they are (times in seconds, may start before 0).

    Attributes:
        r_times: R-peak time of every beat, increasing.
        labels: MIT-BIH beat symbol per beat (``"N"`` or ``"V"``).
        has_p: whether the beat is preceded by a P wave.
        cycle: cycle length (s) that sets the beat's wave timing and widths (the
            preceding sinus RR; premature beats keep the underlying sinus cycle).
        heart_rate: mean heart rate (bpm) the rhythm aimed at.
        f_wave_amplitude: amplitude (mV) of atrial fibrillatory waves, 0 for none.
    """

    r_times: FloatArray
    labels: tuple[str, ...]
    has_p: BoolArray
    cycle: FloatArray
    heart_rate: float
    f_wave_amplitude: float = 0.0


@dataclass(frozen=True)
class Rendered:
    """What a simulation method returns: the noise-free signal and fiducial samples."""

    signal: FloatArray  # (n_samples, n_leads), mV
    fiducials: Mapping[str, IntArray]  # each (n_beats,), -1 where absent / outside


@dataclass(frozen=True)
class RhythmRequest:
    """What a rhythm generator is asked for: beats over ``[t_start, t_stop]`` seconds.

    Attributes:
        t_start: first time (s) the schedule must cover (may be negative).
        t_stop: last time (s) the schedule must cover.
        heart_rate: requested mean heart rate (bpm); a rhythm may replace it.
        options: rhythm-specific knobs.
    """

    t_start: float
    t_stop: float
    heart_rate: float
    options: RhythmOptions = RhythmOptions()


@dataclass(frozen=True)
class Grid:
    """The sample grid a method renders on: ``n_samples`` x ``n_leads`` at ``sampling_rate``."""

    n_samples: int
    sampling_rate: float
    n_leads: int


#: A registered rhythm generator: ``(request, rng) -> BeatSchedule``.
RhythmFn = Callable[[RhythmRequest, np.random.Generator], BeatSchedule]
#: A registered simulation method: ``(schedule, grid, rng) -> Rendered``.
MethodFn = Callable[[BeatSchedule, Grid, np.random.Generator], Rendered]

#: Rhythm generators, by name.
RHYTHMS: Registry[RhythmFn] = Registry("rhythm")
#: Simulation methods (morphology models), by name.
METHODS: Registry[MethodFn] = Registry("ECG simulation method")


def to_samples(times: FloatArray, sampling_rate: float, n_samples: int) -> IntArray:
    """Nearest sample of each time (s); -1 for NaN times or samples outside the record."""
    out = np.full(times.shape, -1, dtype=np.int64)
    ok = np.isfinite(times)
    idx = np.rint(times[ok] * sampling_rate).astype(np.int64)
    idx[(idx < 0) | (idx >= n_samples)] = -1
    out[ok] = idx
    return out


def rendered(signal: FloatArray, times: Mapping[str, FloatArray], grid: Grid) -> Rendered:
    """A method's result: ``signal`` and the nearest sample of every fiducial time (s)."""
    fiducials = {
        name: to_samples(t, grid.sampling_rate, grid.n_samples) for name, t in times.items()
    }
    return Rendered(signal=signal, fiducials=fiducials)


def add_events(
    out: FloatArray,
    centres: FloatArray,
    sigmas: FloatArray,
    amplitudes: FloatArray,
    rate: float,
    t0: float,
    *,
    derivative: bool = False,
) -> None:
    """Add one Gaussian event per beat to the 1-D accumulator ``out`` in place.

    Vectorised: every event's window is a row of a (K, W) index matrix and all rows are
    summed with one ``np.bincount``; leads are combined later as a matrix product.

    Args:
        out: (n,) accumulator sampled at ``rate`` Hz, ``out[j]`` at ``t0 + j / rate``.
        centres: (K,) event centres in seconds.
        sigmas: (K,) event widths (standard deviations) in seconds, all > 0.
        amplitudes: (K,) peak amplitude of each event.
        rate: sampling rate of ``out``.
        t0: time of ``out[0]``.
        derivative: add the time derivative of the Gaussian instead (ECGSYN forcing).
    """
    if centres.size == 0:
        return
    n = out.shape[0]
    pos = (centres - t0) * rate
    half = int(np.ceil(4.0 * float(sigmas.max()) * rate)) + 1
    offsets = np.arange(-half, half + 1)
    idx = np.floor(pos).astype(np.int64)[:, None] + offsets[None, :]  # (K, W)
    dt = (idx - pos[:, None]) / rate
    s = sigmas[:, None]
    shape = np.exp(-0.5 * (dt / s) ** 2) * amplitudes[:, None]
    if derivative:
        shape *= -dt / s**2
    keep = (idx >= 0) & (idx < n)
    out += np.bincount(idx[keep], weights=shape[keep], minlength=n)


def fibrillatory_waves(
    n_samples: int,
    sampling_rate: float,
    amplitude: float,
    gains: FloatArray,
    rng: np.random.Generator,
) -> FloatArray:
    """Atrial f-waves: a 4-9 Hz oscillation with wandering frequency and amplitude.

    Returns:
        (n_samples, n_leads) array in mV (zeros when ``amplitude`` is 0).
    """
    out = np.zeros((n_samples, gains.size))
    if amplitude <= 0 or sampling_rate <= 2 * 9.0:
        return out
    t = np.arange(n_samples) / sampling_rate
    f0 = rng.uniform(5.0, 7.5)
    # Slow (< 0.5 Hz) random modulations of frequency and amplitude.
    knots = np.arange(-1.0, t[-1] + 2.0, 2.0)
    freq = np.clip(f0 + 0.6 * np.interp(t, knots, rng.standard_normal(knots.size)), 4, 9)
    envelope = 1.0 + 0.3 * np.interp(t, knots, rng.standard_normal(knots.size))
    phase = 2 * np.pi * np.cumsum(freq) / sampling_rate + rng.uniform(0, 2 * np.pi)
    wave = amplitude * np.clip(envelope, 0.3, None) * np.sin(phase)
    return wave[:, None] * gains[None, :]
