"""What the per-window labels share: window bounds, the window check, fractions, frames.

:class:`~medmodal.ecg.rhythm.Rhythm` and :class:`~medmodal.ecg.quality.Quality` label
a recording window by window; both are :class:`WindowedLabels` and add their own
evidence columns and their own rule for the recording's :attr:`~WindowedLabels.overall`
label.

Example:
    >>> from medmodal.ecg._windows import window_bounds
    >>> [b.tolist() for b in window_bounds(2600, 100, 10)]  # 6 s remainder: own window
    [[0, 1000, 2000], [1000, 2000, 2600]]
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field, fields
from typing import ClassVar

import numpy as np
import pandas as pd

from medmodal.errors import InvalidParameterError
from medmodal.types import FloatArray, IntArray

#: Shortest window (s) a windowed label accepts.
MIN_WINDOW_S = 2.0


@dataclass(frozen=True, eq=False)
class WindowedLabels:
    """One label per window with its reason (arrays have one entry per window).

    Attributes:
        start_s, end_s: window bounds in seconds.
        label: one of the subclass's ``LABELS``.
        reason: the evidence behind the label, in words.
        window_s: requested window length (keyword-only; not a column of the frame).
    """

    #: The labels a window can get, in the subclass's order.
    LABELS: ClassVar[tuple[str, ...]] = ()

    start_s: FloatArray
    end_s: FloatArray
    label: tuple[str, ...]
    reason: tuple[str, ...]
    window_s: float = field(kw_only=True)

    @property
    def fractions(self) -> dict[str, float]:
        """Fraction of the recording's time under each label."""
        duration = self.end_s - self.start_s
        labels = np.asarray(self.label)
        total = float(duration.sum())
        return {lab: float(duration[labels == lab].sum()) / total for lab in self.LABELS}

    @property
    def overall(self) -> str:
        """The recording's label (each subclass says how it is chosen)."""
        raise NotImplementedError

    def to_frame(self) -> pd.DataFrame:
        """One row per window with its label, reason and evidence."""
        return pd.DataFrame(
            {f.name: getattr(self, f.name) for f in fields(self) if f.name != "window_s"}
        )


#: The most windows one call may label (10**6 ten-second windows = 116 days).
MAX_WINDOWS = 10**6


def window_bounds(
    n_samples: int, sampling_rate: float, window: float, *, func: str = "window_bounds"
) -> tuple[IntArray, IntArray]:
    """Non-overlapping windows of ``window`` s; a remainder shorter than half a window is
    merged into the last window (a signal shorter than one window is one window).

    Raises:
        InvalidParameterError: more than :data:`MAX_WINDOWS` windows (implausible peaks,
            rate or length: refused before any allocation).
    """
    span = window * sampling_rate
    if not np.isfinite(span) or n_samples / max(1.0, span) > MAX_WINDOWS:
        raise InvalidParameterError(
            f"{func}: {n_samples} samples at {sampling_rate:g} Hz in windows of {window:g} s "
            f"make more than {MAX_WINDOWS:.0e} windows (or overflow); check the peaks, "
            "sampling rate, window and n_samples"
        )
    size = max(1, round(span))
    starts = np.arange(0, n_samples, size, dtype=np.int64)
    if starts.size > 1 and n_samples - starts[-1] < size / 2:
        starts = starts[:-1]
    stops = np.append(starts[1:], n_samples).astype(np.int64)
    return starts, stops


def check_window(window: object, *, func: str) -> float:
    """``window`` as seconds (a finite number >= 2) or an error naming ``func``."""
    if isinstance(window, bool) or not isinstance(window, numbers.Real):
        raise InvalidParameterError(f"{func}: window must be a number of seconds, got {window!r}")
    value = float(window)
    if not (np.isfinite(value) and value >= MIN_WINDOW_S):
        raise InvalidParameterError(
            f"{func}: window must be at least {MIN_WINDOW_S:g} s, got {window!r}"
        )
    return value
