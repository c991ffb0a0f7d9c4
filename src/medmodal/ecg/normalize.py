"""Normalise an ECG lead by lead: z-score, robust (median/IQR) or min-max scaling.

Flat leads: a signal whose leads are all constant raises :class:`InvalidSignalError`
(there is nothing to scale); a constant lead among others is set to zero and a
:class:`MedmodalWarning` names it. Scaling is computed on unit-scale data, so huge
values (up to float64's range) do not overflow.

Example:
    >>> import numpy as np
    >>> from medmodal.ecg.normalize import ecg_normalize
    >>> x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    >>> ecg_normalize(x, method="minmax").tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from medmodal.ecg._validate import as_signal
from medmodal.errors import MedmodalWarning
from medmodal.registry import Registry
from medmodal.types import ArrayLike, FloatArray

#: (centre, spread) of each lead of a lead-major ``(n_leads, n_samples)`` array (numpy
#: reduces along the contiguous last axis far faster than down the columns).
Scaler = Callable[[FloatArray], tuple[FloatArray, FloatArray]]

NORMALIZERS: Registry[Scaler] = Registry("ECG normalisation method")


@NORMALIZERS.register("zscore", aliases=("standard", "z"), description="(x - mean) / std")
def _zscore(data: FloatArray) -> tuple[FloatArray, FloatArray]:
    return data.mean(axis=1), data.std(axis=1)


@NORMALIZERS.register(
    "robust",
    aliases=("iqr", "median"),
    description="(x - median) / IQR; leads with a zero IQR fall back to the std (warning)",
)
def _robust(data: FloatArray) -> tuple[FloatArray, FloatArray]:
    q25, median, q75 = np.percentile(data, [25, 50, 75], axis=1)
    spread = q75 - q25
    degenerate = ~(spread > 0) & (np.ptp(data, axis=1) > 0)
    if degenerate.any():
        warnings.warn(
            f"ecg_normalize: lead(s) {np.flatnonzero(degenerate).tolist()} have a zero "
            "interquartile range (mostly constant); scaled by their standard deviation",
            MedmodalWarning,
            stacklevel=4,
        )
        spread = np.where(degenerate, data.std(axis=1), spread)
    return median, spread


@NORMALIZERS.register("minmax", aliases=("range",), description="(x - min) / (max - min)")
def _minmax(data: FloatArray) -> tuple[FloatArray, FloatArray]:
    low = data.min(axis=1)
    return low, data.max(axis=1) - low


def ecg_normalize(signal: ArrayLike, *, method: str = "zscore") -> FloatArray:
    """Scale each lead of ``signal``; the result has the input's shape.

    Methods:
    {methods}

    Args:
        signal: ``(n_samples,)`` or ``(n_samples, n_leads)`` (any real dtype). Without a
            sampling rate, only isolated NaN/inf samples are interpolated (warning);
            longer gaps raise: fill them first, e.g. with :func:`ecg_clean`.
        method: normalisation name (aliases accepted).

    Returns:
        float64 array, same shape as ``signal``. Flat leads (among non-flat ones) are 0.

    Raises:
        InvalidSignalError: every lead is flat, or the signal is empty or badly shaped.
        InvalidParameterError: unknown method.

    Example:
        >>> import numpy as np
        >>> z = ecg_normalize(np.random.default_rng(0).normal(5, 3, size=(500, 2)))
        >>> bool(np.allclose(z.mean(axis=0), 0) and np.allclose(z.std(axis=0), 1))
        True
    """
    scaler = NORMALIZERS.get(method)
    # No sampling rate here: gaps are measured in samples (up to 1 "second" = 1 sample).
    checked = as_signal(signal, 1.0, func="ecg_normalize", min_seconds=1.0)
    data = checked.data.T.copy()  # (n_leads, n_samples), ours to scale in place
    magnitude = np.maximum(data.max(axis=1), -data.min(axis=1))
    extreme = (magnitude > 1e100) | ((magnitude < 1e-100) & (magnitude > 0))
    data[extreme] /= magnitude[extreme, None]  # unit scale: statistics cannot over/underflow
    centre, spread = scaler(data)
    flat = ~(spread > 0)
    flat[list(checked.flat_leads)] = True  # constant up to rounding (e.g. std 1e-16)
    spread[flat] = 1.0
    out = (data - centre[:, None]) / spread[:, None]
    out[flat] = 0.0
    return checked.restore(np.ascontiguousarray(out.T))


def available_methods() -> tuple[str, ...]:
    """Names of the registered normalisation methods.

    Example:
        >>> available_methods()
        ('zscore', 'robust', 'minmax')
    """
    return NORMALIZERS.names()


NORMALIZERS.document(ecg_normalize)  # the list comes from the registry: it cannot drift
