"""Recording noise added to simulated ECGs: baseline wander, muscle (EMG), powerline.

All components are drawn from the generator passed in (seeded by the caller) and each
lead gets its own realisation (baseline wander shares the breathing frequency).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, fields

import numpy as np
from scipy.signal import butter, sosfilt

from medmodal.errors import InvalidParameterError, MedmodalWarning
from medmodal.types import FloatArray

#: Breathing frequency range (Hz) of the respiratory baseline wander.
RESPIRATION_HZ = (0.15, 0.3)
#: Pass band (Hz) of muscle noise, the upper edge capped at 0.45 x the sampling rate.
EMG_BAND = (20.0, 150.0)
#: Muscle bursts per second, and the noise level between bursts (relative).
EMG_BURST_RATE, EMG_FLOOR = 0.2, 0.25


@dataclass(frozen=True)
class Noise:
    """Noise levels (mV) of each component; ``Noise()`` adds nothing.

    Attributes:
        baseline: amplitude of baseline wander: breathing at 0.15-0.3 Hz plus a slow
            drift below 0.05 Hz (half as large).
        emg: RMS of muscle noise: band-limited 20-150 Hz, in bursts.
        powerline: amplitude of mains interference.
        powerline_hz: mains frequency, 50 (Europe, Asia) or 60 Hz (Americas).
        white: RMS of white (amplifier / quantisation) noise.

    Example:
        >>> Noise.from_level(0.1)
        Noise(baseline=0.1, emg=0.025, powerline=0.02, powerline_hz=50.0, white=0.0)
    """

    baseline: float = 0.0
    emg: float = 0.0
    powerline: float = 0.0
    powerline_hz: float = 50.0
    white: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise InvalidParameterError(
                    f"Noise.{f.name} must be a number, got {type(value).__name__} {value!r}"
                )
            if not np.isfinite(value) or value < 0:
                raise InvalidParameterError(
                    f"Noise.{f.name} must be finite and >= 0, got {value!r}"
                )
            object.__setattr__(self, f.name, float(value))
        if self.powerline_hz <= 0:
            raise InvalidParameterError(
                f"Noise.powerline_hz must be > 0 (50 or 60 Hz), got {self.powerline_hz!r}"
            )

    @classmethod
    def from_level(cls, level: float) -> Noise:
        """One overall level (mV): wander ``level``, EMG ``level/4``, mains ``level/5``."""
        return cls(baseline=level, emg=level / 4, powerline=level / 5)

    @property
    def is_zero(self) -> bool:
        """Whether every component is 0."""
        return self.baseline == self.emg == self.powerline == self.white == 0.0


def _sinusoids(n: int, rate: float, hz: float, gain: FloatArray, phase: FloatArray) -> FloatArray:
    """(n, n_leads) ``gain * sin(2 pi hz t + phase)``, with one sin and one cos of length n.

    sin(wt + p) = sin(wt) cos(p) + cos(wt) sin(p): two trigonometric evaluations per
    sample, whatever the number of leads.
    """
    wt = 2 * np.pi * hz * np.arange(n) / rate
    out = np.sin(wt)[:, None] * (gain * np.cos(phase))[None, :]
    out += np.cos(wt)[:, None] * (gain * np.sin(phase))[None, :]
    return out


def _baseline(n: int, rate: float, n_leads: int, rng: np.random.Generator) -> FloatArray:
    f_resp = rng.uniform(*RESPIRATION_HZ)
    lead_gain = rng.uniform(0.6, 1.0, size=n_leads)
    phase = rng.uniform(0, 2 * np.pi, size=n_leads)
    out = _sinusoids(n, rate, f_resp, lead_gain, phase)
    for _ in range(3):  # slow drift
        f = rng.uniform(0.01, 0.05)
        gain = rng.uniform(0.1, 0.3, size=n_leads)
        out += _sinusoids(n, rate, f, gain, rng.uniform(0, 2 * np.pi, size=n_leads))
    return out


def _burst_envelope(n: int, rate: float, rng: np.random.Generator) -> FloatArray:
    envelope = np.full(n, EMG_FLOOR)
    n_bursts = rng.poisson(EMG_BURST_RATE * n / rate)
    for _ in range(n_bursts):
        length = max(2, int(rng.uniform(0.3, 2.0) * rate))
        start = int(rng.integers(-length // 2, n))
        window = rng.uniform(0.5, 1.5) * np.hanning(length)
        lo, hi = max(start, 0), min(start + length, n)
        if hi > lo:
            envelope[lo:hi] += window[lo - start : hi - start]
    return envelope


def _emg(n: int, rate: float, n_leads: int, rng: np.random.Generator) -> FloatArray:
    low = min(EMG_BAND[0], 0.25 * rate)
    high = min(EMG_BAND[1], 0.45 * rate)
    sos = butter(4, [low, high], btype="bandpass", fs=rate, output="sos")
    pad = int(rate)  # let the filter settle before sample 0
    white = rng.standard_normal((n_leads, n + pad))  # leads as rows: contiguous filtering
    band = sosfilt(sos, white, axis=-1)[:, pad:]
    out = band * np.stack([_burst_envelope(n, rate, rng) for _ in range(n_leads)])
    rms = np.sqrt(np.mean(out**2, axis=1, keepdims=True))
    return (out / np.where(rms > 0, rms, 1.0)).T


def _powerline(
    n: int, rate: float, n_leads: int, hz: float, rng: np.random.Generator
) -> FloatArray:
    gain = rng.uniform(0.7, 1.0, size=n_leads)
    return _sinusoids(n, rate, hz, gain, rng.uniform(0, 2 * np.pi, size=n_leads))


def make_noise(
    noise: Noise, n_samples: int, sampling_rate: float, n_leads: int, rng: np.random.Generator
) -> FloatArray:
    """(n_samples, n_leads) noise in mV; zeros when ``noise.is_zero``.

    Warns:
        MedmodalWarning: the powerline frequency is at or above the Nyquist frequency,
            so that component is left out.
    """
    out = np.zeros((n_samples, n_leads))
    if noise.baseline > 0:
        out += noise.baseline * _baseline(n_samples, sampling_rate, n_leads, rng)
    if noise.emg > 0:
        out += noise.emg * _emg(n_samples, sampling_rate, n_leads, rng)
    if noise.powerline > 0:
        if noise.powerline_hz >= sampling_rate / 2:
            warnings.warn(
                f"ecg_simulate: powerline interference at {noise.powerline_hz:g} Hz is at or "
                f"above the Nyquist frequency ({sampling_rate / 2:g} Hz) and is left out",
                MedmodalWarning,
                stacklevel=4,
            )
        else:
            out += noise.powerline * _powerline(
                n_samples, sampling_rate, n_leads, noise.powerline_hz, rng
            )
    if noise.white > 0:
        out += noise.white * rng.standard_normal((n_leads, n_samples)).T
    return out
