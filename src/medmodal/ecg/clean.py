"""Clean an ECG: detrend, band-pass, powerline notch and baseline-wander removal.

Example:
    >>> import numpy as np
    >>> from medmodal.ecg.clean import ecg_clean
    >>> t = np.arange(0, 10, 1 / 250)
    >>> raw = np.sin(2 * np.pi * 5 * t) + 0.5 * t + 0.3 * np.sin(2 * np.pi * 50 * t)
    >>> clean = ecg_clean(raw, 250, powerline=50)
    >>> clean.shape
    (2500,)
    >>> bool(np.abs(clean[250:-250] - np.sin(2 * np.pi * 5 * t[250:-250])).max() < 0.05)
    True
"""

from __future__ import annotations

import numpy as np

from medmodal.ecg._cleaners import CLEANERS, Cleaner
from medmodal.ecg._validate import CheckedSignal, as_signal, check_sampling_rate
from medmodal.ecg.powerline import CANDIDATES_HZ, check_powerline, detect_powerline
from medmodal.errors import InvalidParameterError, InvalidSignalError
from medmodal.types import ArrayLike, FloatArray

__all__ = ["POWERLINE_CANDIDATES", "available_methods", "detect_powerline", "ecg_clean"]

#: Lowest sampling rate (Hz) at which an ECG can be cleaned meaningfully.
MIN_SAMPLING_RATE = 10.0
#: Candidate mains frequencies for ``powerline="auto"`` (see :mod:`medmodal.ecg.powerline`).
POWERLINE_CANDIDATES = CANDIDATES_HZ
#: Leads with larger magnitudes are filtered at unit scale (avoids overflow).
HUGE = 1e100


def ecg_clean(
    signal: ArrayLike,
    sampling_rate: float,
    *,
    method: str = "default",
    powerline: float | str | None = "auto",
) -> FloatArray:
    """Clean an ECG lead by lead; the result has the input's shape.

    Methods:
    {methods}

    Args:
        signal: ``(n_samples,)`` or ``(n_samples, n_leads)`` samples (any real dtype;
            NaN/inf gaps up to 1 s are interpolated with a warning).
        sampling_rate: Hz, at least 10.
        method: cleaning method name (see above; aliases accepted).
        powerline: mains frequency to notch out in Hz (50 or 60), ``"auto"`` (default)
            to notch the 50 or 60 Hz line found in the spectrum, if one stands out (see
            :func:`medmodal.ecg.powerline.detect_powerline`), or ``None`` for no notch.
            The notch is skipped when the frequency is at or above Nyquist.
            :func:`medmodal.ecg.powerline.resolve_powerline` says which frequency
            ``"auto"`` picks and why.

    Returns:
        The cleaned float64 signal, same shape as ``signal``.

    Raises:
        InvalidSignalError: bad signal (see :func:`medmodal.ecg._validate.as_signal`),
            or values so large that filtering overflows.
        InvalidParameterError: unknown method, bad sampling rate or powerline.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> ecg_clean(rng.normal(size=(1000, 2)), 100, method="median").shape
        (1000, 2)

    References:
        Kligfield P et al. Recommendations for the standardization and interpretation of
        the electrocardiogram, part I. Circulation 115(10):1306-1324 (2007).
        de Chazal P, O'Dwyer M, Reilly RB. IEEE Trans Biomed Eng 51(7):1196-1206 (2004)
        (the ``median`` method).
    """
    func = "ecg_clean"
    rate = check_sampling_rate(sampling_rate, func=func)
    cleaner, line = _settings(rate, method, powerline)
    checked = as_signal(signal, rate, func=func)
    return checked.restore(_clean(checked, rate, cleaner, line))


def _clean_unchecked(
    checked: CheckedSignal,
    sampling_rate: float,
    *,
    method: str = "default",
    powerline: float | str | None = "auto",
) -> FloatArray:
    """:func:`ecg_clean` of a signal already validated (by the caller's ``as_signal``);
    the result is ``(n_samples, n_leads)``. For pipelines that validate once."""
    cleaner, line = _settings(sampling_rate, method, powerline)
    return _clean(checked, sampling_rate, cleaner, line)


def _settings(
    rate: float, method: str, powerline: float | str | None
) -> tuple[Cleaner, float | str | None]:
    """The cleaner and the checked powerline setting (raises on bad ones)."""
    func = "ecg_clean"
    if rate < MIN_SAMPLING_RATE:
        raise InvalidParameterError(
            f"{func}: sampling_rate {rate:g} Hz is too low to clean an ECG "
            f"(at least {MIN_SAMPLING_RATE:g} Hz is needed)"
        )
    return CLEANERS.get(method), check_powerline(powerline, func=func)


def _clean(
    checked: CheckedSignal, rate: float, cleaner: Cleaner, line: float | str | None
) -> FloatArray:
    """Clean every lead of a validated signal; ``(n_samples, n_leads)``."""
    data = checked.data
    notch = detect_powerline(data, rate) if isinstance(line, str) else line  # "auto"
    scales = [max(hi, -lo) for lo, hi in checked.extremes]
    if checked.n_leads == 1:
        return _clean_lead(data, scales[0], rate, notch, cleaner, func="ecg_clean")
    out = np.empty_like(data)
    for k in range(checked.n_leads):
        # One contiguous (n, 1) lead at a time: numpy reduces an (n, L) array along axis
        # 0 up to 40x slower than L single columns.
        lead = np.ascontiguousarray(data[:, k : k + 1])
        out[:, k : k + 1] = _clean_lead(lead, scales[k], rate, notch, cleaner, func="ecg_clean")
    return out


def _clean_lead(
    lead: FloatArray,
    scale: float,
    rate: float,
    notch: float | None,
    cleaner: Cleaner,
    *,
    func: str,
) -> FloatArray:
    """Clean one ``(n, 1)`` lead (largest magnitude ``scale``); it is not modified."""
    # Linear filters commute with scaling: a huge lead is brought to unit scale so that
    # it cannot overflow inside the filter, and scaled back afterwards.
    rescale = scale > HUGE
    if rescale:
        lead = lead / scale
    with np.errstate(over="ignore", invalid="ignore"):
        out = cleaner(lead, rate, notch)
        if rescale:
            out *= scale
    # Below HUGE the filters' bounded gain cannot overflow: only rescaled output is checked.
    if rescale and not np.isfinite(out).all():
        raise InvalidSignalError(
            f"{func}: the cleaned signal overflowed (input magnitude up to {scale:.3g}); "
            "rescale the signal to physical units (mV)"
        )
    return out


def available_methods() -> tuple[str, ...]:
    """Names of the registered cleaning methods.

    Example:
        >>> "default" in available_methods()
        True
    """
    return CLEANERS.names()


CLEANERS.document(ecg_clean)  # the list comes from the registry: it cannot drift
