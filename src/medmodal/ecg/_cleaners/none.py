"""No cleaning: the validated signal (NaN gaps interpolated, float64) is returned as is."""

from __future__ import annotations

from medmodal.ecg._cleaners._base import CLEANERS
from medmodal.types import FloatArray


@CLEANERS.register(
    "none", aliases=("raw", "identity"), description="no filtering (validation only)"
)
def clean_none(data: FloatArray, sampling_rate: float, powerline: float | None) -> FloatArray:
    """Return a copy of ``data`` unchanged."""
    return data.copy()
