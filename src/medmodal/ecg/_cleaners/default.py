"""The default cleaner: detrend, 0.5-40 Hz Butterworth band-pass and powerline notch.

One zero-phase pass (``sosfiltfilt``) of a single cascade of second-order sections: the
band-pass (order 2 per edge, i.e. 4th order per edge after the forward-backward pass)
and the notch are stacked and applied block-wise (see :mod:`medmodal.ecg._filters`;
its time is part of "clean + detect" in ``benchmarks/results/ecg_qrs.md``). The
0.5 Hz high-pass edge is the baseline-wander removal: it takes out respiration-driven
drift (0.1-0.4 Hz) and electrode drift while keeping the ST segment largely intact
(the cut-off recommended for monitoring ECGs by Kligfield et al. 2007 is 0.5 Hz; the
0.05 Hz diagnostic cut-off leaves too much wander for R-peak detection).
"""

from __future__ import annotations

from medmodal.ecg._cleaners._base import CLEANERS, filter_sections, filtfilt
from medmodal.types import FloatArray

LOW_HZ = 0.5
HIGH_HZ = 40.0
ORDER = 2


@CLEANERS.register(
    "default",
    aliases=("butterworth", "bandpass"),
    description="linear detrend, zero-phase Butterworth 0.5-40 Hz band-pass "
    "(second-order sections; the 0.5 Hz edge removes baseline wander) and powerline notch",
)
def clean_default(data: FloatArray, sampling_rate: float, powerline: float | None) -> FloatArray:
    """Detrend, band-pass 0.5-40 Hz and notch ``powerline`` in one zero-phase pass."""
    sos = filter_sections(LOW_HZ, HIGH_HZ, powerline, sampling_rate, ORDER)
    return filtfilt(sos, data, sampling_rate, detrend=True)
