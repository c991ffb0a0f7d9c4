"""Electrode-motion artefact: a model of what moving electrodes add to an ambulatory ECG.

Electrode motion changes the electrode-skin contact, and with it the half-cell
potential and the impedance, so the recording picks up large, irregular, low-frequency
deflections whose spectrum overlaps the QRS complex (most power at 1-10 Hz) and which
can look like ectopic beats; unlike muscle noise or baseline wander they cannot be
filtered out (Moody et al. 1984; Clifford et al. 2006, ch. 3). This module draws such
noise from three parts, all switched on and off by the same slowly varying activity
level (people move in bouts):

1. **Activity envelope**: ``exp(sigma * g(t))`` with ``g`` a Gaussian process of unit
   variance and about 3 s correlation time, so one second can be several times noisier
   than the next.
2. **Wandering contact** (half of the power): Gaussian noise with a ``1/f`` power
   spectrum between 0.5 and 20 Hz, scaled by the envelope.
3. **Transients** (the other half): a Poisson train of events, about one per second at
   the median activity and proportionally more in bouts, each with a log-normal
   amplitude and a random sign: a smooth pulse (Gaussian, its first or its second
   derivative) 15-120 ms wide - the QRS-like and ectopic-like deflections that make this
   noise hard - or a step that the recorder's high-pass lets decay over 0.2-1 s.

The output has unit RMS; callers scale it to a signal-to-noise ratio. It is a model,
calibrated to the descriptions above, not a copy of any recorded noise: its spectrum
(checked in ``tests/ecg/test_noise.py``) has most of its power between 0.5 and 15 Hz.

References:
    Moody GB, Muldrow WE, Mark RG. A noise stress test for arrhythmia detectors.
    Computers in Cardiology 11:381-384 (1984).
    Clifford GD, Azuaje F, McSharry PE (eds). Advanced Methods and Tools for ECG Data
    Analysis. Artech House (2006), ch. 3.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve

from medmodal.types import FloatArray

#: Standard deviation of the log activity, and its correlation time (s).
ACTIVITY_SIGMA, ACTIVITY_TIME = 0.8, 3.0
#: Band (Hz) of the 1/f wandering-contact noise.
WANDER_BAND = (0.5, 20.0)
#: Transients per second at the median activity.
EVENT_RATE = 1.0
#: Width range (s) of the smooth pulses (Gaussian sigma), and of the step recovery.
PULSE_WIDTH = (0.015, 0.12)
STEP_DECAY = (0.2, 1.0)
#: Share of the power carried by the transients (the rest is the wandering contact).
TRANSIENT_SHARE = 0.5
#: Log-normal spread of the transients' amplitudes.
AMPLITUDE_SIGMA = 0.6


def _activity(n: int, rate: float, rng: np.random.Generator) -> FloatArray:
    """The activity envelope (median 1): exp of a smooth unit-variance Gaussian process."""
    step = max(1, round(0.1 * rate))  # drawn at 10 Hz, then interpolated
    n_coarse = n // step + 2
    width = max(1.0, ACTIVITY_TIME * rate / step)
    kernel = np.exp(-0.5 * (np.arange(-3 * width, 3 * width + 1) / width) ** 2)
    coarse = fftconvolve(rng.standard_normal(n_coarse + kernel.size), kernel, mode="valid")
    coarse = coarse[:n_coarse] / np.sqrt(np.sum(kernel**2))
    fine = np.interp(np.arange(n) / step, np.arange(n_coarse), coarse)
    return np.exp(ACTIVITY_SIGMA * fine)


def _wander(n: int, rate: float, rng: np.random.Generator) -> FloatArray:
    """Unit-RMS Gaussian noise with a 1/f power spectrum inside ``WANDER_BAND``."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / rate)
    low, high = WANDER_BAND[0], min(WANDER_BAND[1], 0.45 * rate)
    shape = np.zeros_like(freqs)
    inside = freqs > 0
    f = freqs[inside]
    # 1/f power (amplitude 1/sqrt(f)) with second-order roll-offs outside the band
    shape[inside] = f**-0.5 / np.sqrt((1 + (low / f) ** 4) * (1 + (f / high) ** 4))
    out = np.fft.irfft(spectrum * shape, n)
    return out / max(float(np.sqrt(np.mean(out**2))), 1e-300)


def _kernels(rate: float, rng: np.random.Generator, count: int) -> list[tuple[FloatArray, int]]:
    """``count`` transient shapes of unit peak, each with the sample that marks its event.

    A quarter are steps that the recorder's high-pass lets decay (the event is their
    first sample); the rest are smooth pulses of random width - a Gaussian, its first or
    its second derivative - centred on the event.
    """
    shapes = []
    for _ in range(count):
        if rng.random() < 0.25:
            tau = rng.uniform(*STEP_DECAY) * rate
            t = np.arange(round(5 * tau) + 1)
            shapes.append((np.exp(-t / tau), 0))
            continue
        sigma = np.exp(rng.uniform(*np.log(PULSE_WIDTH))) * rate
        t = np.arange(-round(4 * sigma), round(4 * sigma) + 1) / max(sigma, 1e-9)
        order = rng.integers(0, 3)
        pulse = np.exp(-0.5 * t**2) * (t if order == 1 else (1 - t**2) if order == 2 else 1.0)
        shapes.append((pulse / max(float(np.abs(pulse).max()), 1e-300), t.size // 2))
    return shapes


def _transients(n: int, rate: float, activity: FloatArray, rng: np.random.Generator) -> FloatArray:
    """A Poisson train of pulses and decaying steps, denser where activity is high."""
    intensity = EVENT_RATE / rate * activity / np.mean(activity) * np.median(activity)
    times = np.flatnonzero(rng.random(n) < intensity)
    out = np.zeros(n)
    if times.size == 0:
        return out
    n_shapes = 12  # events share a few shapes (drawn per call): cheap, and still varied
    kernels = _kernels(rate, rng, n_shapes)
    which = rng.integers(0, n_shapes, size=times.size)
    amp = rng.lognormal(0.0, AMPLITUDE_SIGMA, size=times.size) * rng.choice([-1.0, 1.0], times.size)
    amp *= activity[times]
    for k, (kernel, centre) in enumerate(kernels):
        mine = which == k
        if not mine.any():
            continue
        train = np.zeros(n)
        train[times[mine]] = amp[mine]
        out += fftconvolve(train, kernel)[centre : centre + n]
    return out


def _unit(x: FloatArray) -> FloatArray:
    return x / max(float(np.sqrt(np.mean(x**2))), 1e-300)


def generate(n_samples: int, sampling_rate: float, rng: np.random.Generator) -> FloatArray:
    """``n_samples`` of unit-RMS electrode-motion noise at ``sampling_rate`` Hz."""
    activity = _activity(n_samples, sampling_rate, rng)
    wander = _unit(_wander(n_samples, sampling_rate, rng) * activity)
    events = _unit(_transients(n_samples, sampling_rate, activity, rng))
    out = np.sqrt(1 - TRANSIENT_SHARE) * wander + np.sqrt(TRANSIENT_SHARE) * events
    return _unit(out - out.mean())
