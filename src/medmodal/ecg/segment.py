"""Cut an ECG into beat windows around its R peaks.

Example:
    >>> import numpy as np
    >>> from medmodal.ecg.segment import ecg_segment
    >>> ecg = np.sin(np.linspace(0, 20 * np.pi, 2000))
    >>> beats = ecg_segment(ecg, 200, peaks=[30, 500, 1990], before=0.2, after=0.3)
    >>> beats.windows.shape, beats.peaks.tolist()  # the first and last run off the ends
    ((1, 100), [500])
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from medmodal.ecg._validate import as_peaks, as_signal, check_sampling_rate
from medmodal.errors import InvalidParameterError
from medmodal.registry import Registry
from medmodal.types import ArrayLike, BoolArray, FloatArray, IntArray

#: ``(data (n, L), peaks, offsets) -> (windows (k, W, L), kept mask over peaks)``.
EdgePolicy = Callable[[FloatArray, IntArray, IntArray], tuple[FloatArray, BoolArray]]
EDGES: Registry[EdgePolicy] = Registry("beat-window edge policy")


@dataclass(frozen=True, eq=False)
class Beats:
    """Beat windows cut around R peaks.

    Attributes:
        windows: ``(n_beats, n_window)`` for a 1-D signal, ``(n_beats, n_window,
            n_leads)`` for a 2-D one; the R peak sits at ``time == 0``.
        peaks: R-peak sample of each window (the kept beats), int64.
        time: ``(n_window,)`` offsets in seconds of the window samples from the peak.
        sampling_rate: Hz.
        padded: per beat, whether part of its window lay outside the signal and was
            filled (always False with ``edges="drop"``).
    """

    windows: FloatArray
    peaks: IntArray
    time: FloatArray
    sampling_rate: float
    padded: BoolArray

    @property
    def n_beats(self) -> int:
        """Number of beat windows."""
        return int(self.windows.shape[0])

    def template(self) -> FloatArray:
        """The median beat, ``(n_window,)`` or ``(n_window, n_leads)`` (NaN padding ignored).

        Raises:
            InvalidParameterError: there are no beats.
        """
        if self.n_beats == 0:
            raise InvalidParameterError("Beats.template: there are no beats to average")
        finite = np.isfinite(self.windows).any(axis=0)
        out = np.zeros(self.windows.shape[1:])
        out[finite] = np.nanmedian(self.windows[:, finite], axis=0)
        return out

    def to_frame(self) -> pd.DataFrame:
        """Long format: one row per beat, sample (and lead) with ``beat``, ``peak``,
        ``time_s``, ``lead`` (multi-lead only) and ``value``."""
        n_beats, n_window = self.windows.shape[:2]
        n_leads = self.windows.shape[2] if self.windows.ndim == 3 else 1
        columns: dict[str, np.ndarray] = {
            "beat": np.repeat(np.arange(n_beats), n_window * n_leads),
            "peak": np.repeat(self.peaks, n_window * n_leads),
            "time_s": np.tile(np.repeat(self.time, n_leads), n_beats),
        }
        if self.windows.ndim == 3:
            columns["lead"] = np.tile(np.arange(n_leads), n_beats * n_window)
        columns["value"] = self.windows.reshape(-1)
        return pd.DataFrame(columns)


@EDGES.register("drop", description="beats whose window leaves the signal are dropped")
def _drop(data: FloatArray, peaks: IntArray, offsets: IntArray) -> tuple[FloatArray, BoolArray]:
    n = data.shape[0]
    kept = (peaks + offsets[0] >= 0) & (peaks + offsets[-1] < n)
    return data[peaks[kept, None] + offsets[None, :]], kept


@EDGES.register("nan", aliases=("pad",), description="out-of-signal samples are NaN")
def _nan(data: FloatArray, peaks: IntArray, offsets: IntArray) -> tuple[FloatArray, BoolArray]:
    index = peaks[:, None] + offsets[None, :]
    inside = (index >= 0) & (index < data.shape[0])
    windows = data[np.clip(index, 0, data.shape[0] - 1)]
    windows[~inside] = np.nan
    return windows, np.ones(peaks.shape, dtype=bool)


@EDGES.register("edge", description="out-of-signal samples repeat the first/last sample")
def _edge(data: FloatArray, peaks: IntArray, offsets: IntArray) -> tuple[FloatArray, BoolArray]:
    index = np.clip(peaks[:, None] + offsets[None, :], 0, data.shape[0] - 1)
    return data[index], np.ones(peaks.shape, dtype=bool)


def ecg_segment(
    signal: ArrayLike,
    sampling_rate: float,
    *,
    peaks: ArrayLike | None = None,
    before: float = 0.25,
    after: float = 0.45,
    edges: str = "drop",
) -> Beats:
    """Cut one window per beat, from ``before`` s before to ``after`` s after each R peak.

    A window holds ``round(before * fs) + round(after * fs)`` samples, the R peak at
    index ``round(before * fs)``.

    Edge policies (beats whose window would leave the signal):
    {edges}

    Args:
        signal: ``(n_samples,)`` or ``(n_samples, n_leads)`` ECG (cleaned, usually).
        sampling_rate: Hz.
        peaks: R-peak samples; detected with :func:`medmodal.ecg.peaks.ecg_peaks`
            (default method) when None.
        before, after: window extent in seconds (``>= 0``, together ``> 0``).
        edges: edge policy (see above).

    Returns:
        :class:`Beats` (possibly with zero beats when none fits).

    Raises:
        InvalidSignalError: bad signal. InvalidParameterError: bad peaks (unsorted,
        negative, outside the signal...), window or edge policy.

    Example:
        >>> x = np.arange(1000.0)
        >>> b = ecg_segment(x, 100, peaks=[5, 500], before=0.1, after=0.1, edges="nan")
        >>> b.windows.shape, int(np.isnan(b.windows[0]).sum()), b.padded.tolist()
        ((2, 20), 5, [True, False])
    """
    func = "ecg_segment"
    rate = check_sampling_rate(sampling_rate, func=func)
    cut = EDGES.get(edges)
    n_before = _samples("before", before, rate, func=func)
    n_after = _samples("after", after, rate, func=func)
    if n_before + n_after < 1:
        raise InvalidParameterError(
            f"{func}: the window before={before!r} s + after={after!r} s holds no sample at "
            f"{rate:g} Hz"
        )
    checked = as_signal(signal, rate, func=func, min_seconds=0.0)
    if peaks is None:
        from medmodal.ecg.peaks import ecg_peaks

        peaks = ecg_peaks(checked.restore(checked.data), rate)
    beats = as_peaks(peaks, func=func, n_samples=checked.n_samples)
    offsets = np.arange(-n_before, n_after, dtype=np.int64)
    windows, kept = cut(checked.data, beats, offsets)
    index = beats[kept, None] + offsets[None, :]
    padded = np.asarray(((index < 0) | (index >= checked.n_samples)).any(axis=1), dtype=bool)
    return Beats(
        windows=windows[:, :, 0] if checked.was_1d else windows,
        peaks=beats[kept],
        time=offsets / rate,
        sampling_rate=rate,
        padded=padded,
    )


def _samples(name: str, seconds: object, rate: float, *, func: str) -> int:
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, numbers.Real)
        or not 0 <= float(seconds) <= 60
    ):
        raise InvalidParameterError(
            f"{func}: {name} must be a number of seconds in [0, 60], got {seconds!r}"
        )
    return round(float(seconds) * rate)


def available_edge_policies() -> tuple[str, ...]:
    """Names accepted by ``edges=``.

    Example:
        >>> available_edge_policies()
        ('drop', 'nan', 'edge')
    """
    return EDGES.names()


EDGES.document(ecg_segment, "{edges}")  # the list comes from the registry: it cannot drift
