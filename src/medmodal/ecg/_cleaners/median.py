"""de Chazal et al. (2004) cleaning: two median filters for the baseline, then a low-pass.

The baseline is estimated by a 200 ms median filter (removes QRS complexes and P waves)
followed by a 600 ms median filter (removes T waves) and subtracted; the result is then
low-pass filtered at 35 Hz. de Chazal used a 12-tap FIR low-pass with its -3 dB point at
35 Hz; here a zero-phase 4th-order Butterworth low-pass is used (no phase distortion, the
same corner at any sampling rate). The powerline notch is applied when requested.

References:
    de Chazal P, O'Dwyer M, Reilly RB. Automatic classification of heartbeats using ECG
    morphology and heartbeat interval features. IEEE Trans Biomed Eng 51(7):1196-1206
    (2004). doi:10.1109/TBME.2004.827359
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage

from medmodal.ecg._cleaners._base import CLEANERS, filter_sections, filtfilt
from medmodal.types import FloatArray

SHORT_S = 0.2
LONG_S = 0.6
LOWPASS_HZ = 35.0


def _odd(n: float) -> int:
    return max(1, round(n) // 2 * 2 + 1)


@CLEANERS.register(
    "median",
    aliases=("dechazal", "dechazal2004"),
    description="de Chazal et al. 2004: baseline from 200 ms + 600 ms median filters "
    "subtracted, then a 35 Hz zero-phase low-pass (and powerline notch)",
)
def clean_median(data: FloatArray, sampling_rate: float, powerline: float | None) -> FloatArray:
    """Subtract the two-stage median baseline, then low-pass at 35 Hz."""
    short, long = _odd(SHORT_S * sampling_rate), _odd(LONG_S * sampling_rate)
    baseline = np.empty_like(data)
    for lead in range(data.shape[1]):  # scipy's fast median path is 1-D only
        first = scipy.ndimage.median_filter(data[:, lead], size=short, mode="nearest")
        baseline[:, lead] = scipy.ndimage.median_filter(first, size=long, mode="nearest")
    sos = filter_sections(None, LOWPASS_HZ, powerline, sampling_rate, 4)
    return filtfilt(sos, data - baseline, sampling_rate)
