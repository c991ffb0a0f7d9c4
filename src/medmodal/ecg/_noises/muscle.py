"""Muscle (EMG) noise: broadband 20-150 Hz Gaussian noise in bursts of 0.3-2 s.

The same model as the simulator's muscle noise (``medmodal.ecg.simulate``): skeletal
muscle activity is broadband (most of its power above 20 Hz, overlapping the upper
part of the QRS spectrum) and comes in bursts of contraction over a lower background.

References:
    Clifford GD, Azuaje F, McSharry PE (eds). Advanced Methods and Tools for ECG Data
    Analysis. Artech House (2006), ch. 3.
"""

from __future__ import annotations

import numpy as np

from medmodal.ecg._simulators._noise import _emg
from medmodal.types import FloatArray


def generate(n_samples: int, sampling_rate: float, rng: np.random.Generator) -> FloatArray:
    """``n_samples`` of unit-RMS muscle noise at ``sampling_rate`` Hz."""
    return _emg(n_samples, sampling_rate, 1, rng)[:, 0]
