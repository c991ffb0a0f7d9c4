"""Baseline wander: breathing at 0.15-0.3 Hz plus slow drift below 0.05 Hz.

The same model as the simulator's baseline wander (``medmodal.ecg.simulate``).
"""

from __future__ import annotations

import numpy as np

from medmodal.ecg._simulators._noise import _baseline
from medmodal.types import FloatArray


def generate(n_samples: int, sampling_rate: float, rng: np.random.Generator) -> FloatArray:
    """``n_samples`` of unit-RMS baseline wander at ``sampling_rate`` Hz."""
    out = _baseline(n_samples, sampling_rate, 1, rng)[:, 0]
    out -= out.mean()
    return out / max(float(np.sqrt(np.mean(out**2))), 1e-300)
