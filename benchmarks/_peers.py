"""The R-peak detectors of other libraries that the ECG benchmarks run beside ours."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: A detector: (one lead, sampling rate in Hz) -> R-peak sample indices.
Method = Callable[[np.ndarray, float], np.ndarray]


def neurokit(method: str) -> Method:
    """NeuroKit2's ``ecg_clean`` then ``ecg_peaks`` with the same ``method``."""
    import neurokit2 as nk

    def run(x: np.ndarray, fs: float) -> np.ndarray:
        cleaned = nk.ecg_clean(x, sampling_rate=fs, method=method)
        _, info = nk.ecg_peaks(cleaned, sampling_rate=fs, method=method)
        return np.asarray(info["ECG_R_Peaks"], dtype=np.int64)

    return run


def xqrs(x: np.ndarray, fs: float) -> np.ndarray:
    """wfdb's XQRS detector with its defaults."""
    from wfdb.processing import XQRS

    detector = XQRS(sig=x, fs=fs)
    detector.detect(verbose=False)
    return np.asarray(detector.qrs_inds, dtype=np.int64)
