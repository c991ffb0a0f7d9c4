"""Shared pieces of the ECG cleaners: the registry and the zero-phase filter step.

Every cleaner takes a validated float64 ``(n_samples, 1)`` lead (read-only: it may be
the caller's data), the sampling rate in Hz and the resolved powerline frequency
(``None``: no notch), and returns a new array of the same shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import numpy as np

from medmodal.ecg._filters import butter_sos, notch_sos, zero_phase
from medmodal.registry import Registry
from medmodal.types import FloatArray

Cleaner: TypeAlias = Callable[[FloatArray, float, float | None], FloatArray]

#: The ECG cleaning methods, by name.
CLEANERS: Registry[Cleaner] = Registry("ECG cleaning method")

#: Odd-extension padding (s) added at both ends before zero-phase filtering.
PAD_SECONDS = 1.0


def filter_sections(
    low: float | None, high: float | None, powerline: float | None, sampling_rate: float, order: int
) -> FloatArray:
    """The Butterworth band (``None`` edges open) followed by the powerline notch."""
    return np.vstack(
        [butter_sos(low, high, sampling_rate, order), notch_sos(powerline, sampling_rate)]
    )


def filtfilt(
    sos: FloatArray, lead: FloatArray, sampling_rate: float, *, detrend: bool = False
) -> FloatArray:
    """Zero-phase filtering of one ``(n, 1)`` lead with ``PAD_SECONDS`` of padding.

    The long pad lets the slow high-pass settle before the record starts (with scipy's
    default of ~20 samples a 0.15 Hz wander leaves a 10x larger error in the first
    second). With ``detrend`` the lead's least-squares line is removed first.

    Example:
        >>> import numpy as np
        >>> lead = (np.arange(1000.0) * 0.01)[:, None]  # a pure ramp
        >>> sos = filter_sections(0.5, 40.0, 50.0, 250.0, 2)
        >>> bool(np.abs(filtfilt(sos, lead, 250.0, detrend=True)).max() < 1e-9)
        True
    """
    pad = round(PAD_SECONDS * sampling_rate)
    return zero_phase(sos, lead[:, 0], pad=pad, detrend=detrend)[:, None]
