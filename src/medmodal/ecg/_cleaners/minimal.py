"""Minimal cleaning: baseline-wander removal (0.5 Hz high-pass) and powerline notch only.

Keeps the full high-frequency content (sharp QRS onsets, pacemaker spikes), for users who
filter later or study morphology above 40 Hz.
"""

from __future__ import annotations

from medmodal.ecg._cleaners._base import CLEANERS, filter_sections, filtfilt
from medmodal.types import FloatArray


@CLEANERS.register(
    "minimal",
    aliases=("highpass",),
    description="linear detrend, zero-phase 0.5 Hz Butterworth high-pass and powerline notch",
)
def clean_minimal(data: FloatArray, sampling_rate: float, powerline: float | None) -> FloatArray:
    """Detrend, high-pass at 0.5 Hz and notch ``powerline``."""
    sos = filter_sections(0.5, None, powerline, sampling_rate, 2)
    return filtfilt(sos, data, sampling_rate, detrend=True)
