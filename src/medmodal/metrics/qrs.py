"""Beat-by-beat scoring of QRS detectors (ANSI/AAMI EC57, as PhysioNet's ``bxb`` does it).

A detection matches a reference beat when they are at most 150 ms apart; matching is
one-to-one, nearest pairs first. Only *beat* annotations are reference beats (MIT-BIH
symbols ``N L R B A a J S V r F e j n E / f Q ?``); rhythm, noise, comment, flutter-wave
(``!``) and other non-beat annotations are not.

Ventricular flutter/fibrillation, as ``bxb`` treats it: reference annotations between a
``[`` (VF onset) and the next ``]`` (VF offset) are ignored, and a detection inside such
an episode that matches no reference beat is not counted as a false positive (EC57 does
not score QRS detection during VF). Pass the episodes as ``exclude=`` intervals, e.g.
from :func:`vf_intervals`; without them every unmatched detection counts.

Example:
    >>> import numpy as np
    >>> from medmodal.metrics.qrs import match_beats, pool
    >>> ref = np.array([100, 460, 820, 1180])
    >>> det = np.array([103, 470, 1000, 1179])
    >>> s = match_beats(ref, det, 360, record="demo")
    >>> s.tp, s.fn, s.fp
    (3, 1, 1)
    >>> round(s.sensitivity, 3), round(s.ppv, 3), round(s.der, 3)
    (0.75, 0.75, 0.5)
    >>> pool([s, s]).tp
    6

References:
    ANSI/AAMI EC57:2012, Testing and reporting performance results of cardiac rhythm and
    ST segment measurement algorithms. Association for the Advancement of Medical
    Instrumentation (2012).
    Moody GB. bxb: ANSI/AAMI-standard beat-by-beat annotation file comparator, WFDB
    Software Package, PhysioNet (https://physionet.org/physiotools/wag/bxb-1.htm).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from medmodal.errors import InvalidParameterError
from medmodal.io import BEAT_SYMBOLS
from medmodal.types import ArrayLike, BoolArray, IntArray

#: EC57 match window (seconds).
MATCH_WINDOW = 0.150
VF_ONSET, VF_OFFSET = "[", "]"


def is_beat(symbols: Sequence[str] | ArrayLike) -> BoolArray:
    """Mask of the annotation symbols that are beats (see :data:`BEAT_SYMBOLS`)."""
    return np.array([str(s) in BEAT_SYMBOLS for s in np.asarray(symbols).ravel()], dtype=bool)


def vf_intervals(samples: ArrayLike, symbols: Sequence[str] | ArrayLike) -> IntArray:
    """Ventricular flutter/fibrillation episodes ``[`` ... ``]`` as ``(k, 2)`` sample bounds.

    An episode still open at the last annotation ends at the largest int64 value.

    Example:
        >>> vf_intervals([10, 50, 60, 90, 200], ["N", "[", "!", "]", "N"]).tolist()
        [[50, 90]]
    """
    times = np.asarray(samples, dtype=np.int64).ravel()
    syms = [str(s) for s in np.asarray(symbols).ravel()]
    if len(syms) != times.size:
        raise InvalidParameterError(
            f"vf_intervals: {times.size} samples but {len(syms)} symbols; they must pair up"
        )
    episodes: list[tuple[int, int]] = []
    onset: int | None = None
    for time, sym in zip(times.tolist(), syms, strict=True):
        if sym == VF_ONSET and onset is None:
            onset = time
        elif sym == VF_OFFSET and onset is not None:
            episodes.append((onset, time))
            onset = None
    if onset is not None:
        episodes.append((onset, int(np.iinfo(np.int64).max)))
    return np.array(episodes, dtype=np.int64).reshape(-1, 2)


def reference_beats(
    samples: ArrayLike, symbols: Sequence[str] | ArrayLike
) -> tuple[IntArray, IntArray]:
    """Reference beat times and VF episodes from one annotation file.

    Returns:
        ``(beats, vf)``: the sample indices of beat annotations and the ``(k, 2)`` VF
        episodes, ready for ``match_beats(beats, detected, fs, exclude=vf)``.
    """
    times = np.asarray(samples, dtype=np.int64).ravel()
    mask = is_beat(symbols)
    if mask.size != times.size:
        raise InvalidParameterError(
            f"reference_beats: {times.size} samples but {mask.size} symbols; they must pair up"
        )
    return times[mask], vf_intervals(times, symbols)


@dataclass(frozen=True)
class QRSScore:
    """Beat-by-beat detection counts for one record (or a pool of records).

    Attributes:
        record: record name (``"pooled"`` for gross statistics).
        tp: reference beats matched by a detection.
        fn: reference beats without a detection (missed beats).
        fp: detections matching no reference beat (outside excluded intervals).
        abs_error_sum_ms: sum of |detection - reference| over matched pairs (ms).
        missed: sample indices of the missed reference beats (empty when pooled).
        extra: sample indices of the false detections (empty when pooled).
    """

    record: str
    tp: int
    fn: int
    fp: int
    abs_error_sum_ms: float
    missed: IntArray = field(default_factory=lambda: np.zeros(0, np.int64), compare=False)
    extra: IntArray = field(default_factory=lambda: np.zeros(0, np.int64), compare=False)

    @property
    def n_reference(self) -> int:
        """Reference beats scored (TP + FN)."""
        return self.tp + self.fn

    @property
    def sensitivity(self) -> float:
        """Se = TP / (TP + FN) (NaN without reference beats)."""
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def ppv(self) -> float:
        """Positive predictivity +P = TP / (TP + FP) (NaN without detections)."""
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def f1(self) -> float:
        """F1 = 2 TP / (2 TP + FN + FP)."""
        return _ratio(2 * self.tp, 2 * self.tp + self.fn + self.fp)

    @property
    def der(self) -> float:
        """Detection error rate DER = (FN + FP) / reference beats."""
        return _ratio(self.fn + self.fp, self.tp + self.fn)

    @property
    def mean_abs_error_ms(self) -> float:
        """Mean absolute peak-location error over matched pairs (ms)."""
        return self.abs_error_sum_ms / self.tp if self.tp else float("nan")

    def as_dict(self) -> dict[str, float | int | str]:
        """The counts and rates as a flat dict (rates as fractions)."""
        return {
            "record": self.record,
            "n_reference": self.n_reference,
            "tp": self.tp,
            "fn": self.fn,
            "fp": self.fp,
            "se": self.sensitivity,
            "ppv": self.ppv,
            "f1": self.f1,
            "der": self.der,
            "mean_abs_error_ms": self.mean_abs_error_ms,
        }

    def to_frame(self) -> pd.DataFrame:
        """One-row table indexed by record."""
        return pd.DataFrame([self.as_dict()]).set_index("record")


def _ratio(num: float, den: float) -> float:
    return num / den if den else float("nan")


def _as_times(values: ArrayLike, name: str) -> IntArray:
    array = np.asarray(values)
    integral = array.dtype.kind in "iu" or (
        array.dtype.kind == "f" and bool(np.all(np.isfinite(array) & (array == np.round(array))))
    )
    if array.ndim != 1 or not integral:
        raise InvalidParameterError(
            f"match_beats: {name} must be a 1-D array of integer sample indices, got "
            f"shape {array.shape} dtype {array.dtype}"
        )
    return np.unique(array.astype(np.int64))


def _as_intervals(exclude: ArrayLike | None) -> IntArray:
    if exclude is None:
        return np.zeros((0, 2), dtype=np.int64)
    array = np.asarray(exclude)
    if array.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if array.ndim != 2 or array.shape[1] != 2 or array.dtype.kind not in "iu":
        raise InvalidParameterError(
            "match_beats: exclude must be (k, 2) integer [start, end] sample bounds, got "
            f"shape {array.shape} dtype {array.dtype}"
        )
    if np.any(array[:, 1] < array[:, 0]):
        raise InvalidParameterError("match_beats: each exclude interval needs start <= end")
    return array.astype(np.int64)


def _inside(times: IntArray, intervals: IntArray) -> BoolArray:
    """Which ``times`` fall in any closed interval ``[start, end]``."""
    mask = np.zeros(times.size, dtype=bool)
    for start, end in intervals:
        mask |= (times >= start) & (times <= end)
    return mask


def _pairs(ref: IntArray, det: IntArray, window: float) -> tuple[IntArray, IntArray]:
    """One-to-one matches within ``window`` samples, nearest pairs first."""
    lo = np.searchsorted(det, ref - window, side="left")
    hi = np.searchsorted(det, ref + window, side="right")
    counts = hi - lo
    ri = np.repeat(np.arange(ref.size), counts)
    offsets = np.repeat(np.cumsum(counts) - counts - lo, counts)
    di = np.arange(ri.size, dtype=np.int64) - offsets
    dist = np.abs(det[di] - ref[ri])
    order = np.lexsort((di, ri, dist))
    used_r = np.zeros(ref.size, dtype=bool)
    used_d = np.zeros(det.size, dtype=bool)
    out_r: list[int] = []
    out_d: list[int] = []
    for r, d in zip(ri[order].tolist(), di[order].tolist(), strict=True):
        if not used_r[r] and not used_d[d]:
            used_r[r] = used_d[d] = True
            out_r.append(r)
            out_d.append(d)
    return np.array(out_r, dtype=np.int64), np.array(out_d, dtype=np.int64)


def match_beats(
    reference: ArrayLike,
    detected: ArrayLike,
    sampling_rate: float,
    *,
    window: float = MATCH_WINDOW,
    exclude: ArrayLike | None = None,
    record: str = "",
) -> QRSScore:
    """Score detections against reference beats, one to one within ``window`` seconds.

    Args:
        reference: sample indices of the reference *beats* (see :func:`reference_beats`).
        detected: sample indices of the detections.
        sampling_rate: Hz, to convert the window and the errors.
        window: largest |detection - reference| (s) that still matches; a pair exactly
            ``window`` apart matches (EC57: 150 ms).
        exclude: ``(k, 2)`` closed sample intervals (e.g. VF episodes): reference beats
            inside are dropped; detections inside that match nothing are not counted.
        record: name stored in the result.

    Raises:
        InvalidParameterError: bad sampling rate, window, indices or intervals.
    """
    if isinstance(sampling_rate, bool) or not np.isfinite(sampling_rate) or sampling_rate <= 0:
        raise InvalidParameterError(
            f"match_beats: sampling_rate must be a positive number in Hz, got {sampling_rate!r}"
        )
    if not np.isfinite(window) or window < 0:
        raise InvalidParameterError(f"match_beats: window must be >= 0 s, got {window!r}")
    ref = _as_times(reference, "reference")
    det = _as_times(detected, "detected")
    intervals = _as_intervals(exclude)
    ref = ref[~_inside(ref, intervals)]
    # A hair of slack so that a pair exactly `window` apart matches despite rounding.
    ri, di = _pairs(ref, det, window * sampling_rate + 1e-6)
    matched_r = np.zeros(ref.size, dtype=bool)
    matched_r[ri] = True
    unmatched_d = np.ones(det.size, dtype=bool)
    unmatched_d[di] = False
    extra = det[unmatched_d]
    extra = extra[~_inside(extra, intervals)]
    errors = np.abs(det[di] - ref[ri]) * (1000.0 / sampling_rate)
    return QRSScore(
        record=record,
        tp=int(ri.size),
        fn=int(ref.size - ri.size),
        fp=int(extra.size),
        abs_error_sum_ms=float(errors.sum()),
        missed=ref[~matched_r],
        extra=extra,
    )


def pool(scores: Iterable[QRSScore], *, record: str = "pooled") -> QRSScore:
    """Gross statistics: counts summed over records (every beat weighs the same)."""
    items = list(scores)
    return QRSScore(
        record=record,
        tp=sum(s.tp for s in items),
        fn=sum(s.fn for s in items),
        fp=sum(s.fp for s in items),
        abs_error_sum_ms=float(sum(s.abs_error_sum_ms for s in items)),
    )


def scores_frame(scores: Iterable[QRSScore], *, pooled: bool = True) -> pd.DataFrame:
    """One row per record (plus a ``pooled`` row when ``pooled``), indexed by record."""
    items = list(scores)
    rows = [s.as_dict() for s in items]
    if pooled:
        rows.append(pool(items).as_dict())
    columns = list(QRSScore("", 0, 0, 0, 0.0).as_dict())
    return pd.DataFrame(rows, columns=columns).set_index("record")


__all__ = [
    "BEAT_SYMBOLS",
    "MATCH_WINDOW",
    "QRSScore",
    "is_beat",
    "match_beats",
    "pool",
    "reference_beats",
    "scores_frame",
    "vf_intervals",
]
