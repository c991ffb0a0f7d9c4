"""Beats unlike their neighbours' dominant QRS shape: ventricular or aberrant beats,
fusion beats and noise, which are no evidence of atrial fibrillation.

AF is a supraventricular rhythm: its beats share the shape of the normally conducted
QRS. Each beat's QRS (:data:`QRS_WINDOW` around the R peak, band-passed
:data:`BAND` Hz, every lead side by side) is compared with the template of its
neighbourhood (:data:`SPAN` beats around each block of :data:`BLOCK`): the median of the
beats that correlate best with the neighbourhood's median, so that even in bigeminy
(half the beats ectopic) the template is one of the two shapes, not their blend. A beat
is *odd* when its correlation with that template is below :data:`MIN_CORRELATION` or
its size (norm) is outside :data:`SIZE_RANGE` times the template's. A local template
follows a record whose dominant shape changes (e.g. paced stretches and conducted
stretches in a paced patient). Constants chosen on the development half of MIT-BIH
(``benchmarks/ecg_af.py``).

References:
    Petrenas A, Marozas V, Sörnmo L. Low-complexity detection of atrial fibrillation in
    continuous long-term monitoring. Comput Biol Med 65:184-191 (2015) (ectopic beats
    are removed before the irregularity measure).
"""

from __future__ import annotations

import numpy as np
import scipy.signal

from medmodal.types import BoolArray, FloatArray, IntArray

#: QRS window (s before, after the R peak).
QRS_WINDOW = (0.06, 0.10)
#: Band-pass (Hz) before the comparison; the upper edge is capped below Nyquist.
BAND = (1.0, 40.0)
#: Beats judged with one template, and the beats the template is taken from.
BLOCK, SPAN = 32, 96
#: Odd below this correlation with the template...
MIN_CORRELATION = 0.8
#: ...or with a size (norm) outside this range, in units of the template's.
SIZE_RANGE = (0.5, 1.6)


def qrs_windows(data: FloatArray, rate: float, beats: IntArray) -> FloatArray:
    """``(n_beats, n_leads * width)`` band-passed, mean-removed QRS windows."""
    high = min(BAND[1], 0.45 * rate)
    sos = scipy.signal.butter(2, [BAND[0], high], btype="bandpass", fs=rate, output="sos")
    pad = min(data.shape[0] - 1, 3 * int(rate))
    filtered = scipy.signal.sosfiltfilt(sos, data, axis=0, padlen=pad)
    before, after = max(1, round(QRS_WINDOW[0] * rate)), max(2, round(QRS_WINDOW[1] * rate))
    index = np.clip(beats[:, None] + np.arange(-before, after)[None, :], 0, data.shape[0] - 1)
    windows = filtered[index]  # (beats, width, leads)
    windows = windows - windows.mean(axis=1, keepdims=True)
    return windows.transpose(0, 2, 1).reshape(beats.size, -1)


def _template(windows: FloatArray, norms: FloatArray) -> FloatArray:
    """Median of the better-correlating half of ``windows`` (twice refined)."""
    template = np.median(windows, axis=0)
    for _ in range(2):
        corr = windows @ template / (norms * (np.linalg.norm(template) + 1e-12))
        template = np.median(windows[corr >= np.quantile(corr, 0.5)], axis=0)
    return np.asarray(template)


def odd_beats(data: FloatArray, rate: float, beats: IntArray) -> BoolArray:
    """Whether each beat's QRS differs from its neighbourhood's dominant shape.

    Args:
        data: ``(n_samples, n_leads)`` ECG (validated).
        rate: sampling rate (Hz).
        beats: sorted R-peak samples inside ``data``.

    Example:
        >>> from medmodal.ecg.simulate import ecg_simulate_annotated
        >>> sim = ecg_simulate_annotated(60, 250, rhythm="pvc", seed=5)
        >>> odd = odd_beats(sim.signal[:, None], 250, sim.r_peaks)
        >>> bool(odd.mean() < 0.5)
        True
    """
    if beats.size < 3 or data.shape[0] < 16:
        return np.zeros(beats.size, dtype=bool)
    windows = qrs_windows(data, rate, beats)
    norms = np.linalg.norm(windows, axis=1) + 1e-12
    odd = np.zeros(beats.size, dtype=bool)
    for start in range(0, beats.size, BLOCK):
        lo = max(0, min(start + BLOCK // 2 - SPAN // 2, beats.size - SPAN))
        hi = min(beats.size, lo + SPAN)
        template = _template(windows[lo:hi], norms[lo:hi])
        size = float(np.linalg.norm(template)) + 1e-12
        block = slice(start, min(start + BLOCK, beats.size))
        corr = windows[block] @ template / (norms[block] * size)
        ratio = norms[block] / size
        odd[block] = (corr < MIN_CORRELATION) | (ratio < SIZE_RANGE[0]) | (ratio > SIZE_RANGE[1])
    return odd
