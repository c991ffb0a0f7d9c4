"""EC57 atrial-fibrillation statistics: episode and duration sensitivity and positive
predictivity against reference episodes, and false AF time.

Episodes are ``(start, end)`` pairs in seconds. Following ANSI/AAMI EC57:

- **episode Se**: share of reference episodes overlapped by a detected episode;
- **episode +P**: share of detected episodes that overlap a reference episode;
- **duration Se**: share of the reference AF time that was detected;
- **duration +P**: share of the detected AF time that is reference AF;
- **false AF time**: detected AF time outside reference AF, as a share of the recording
  (reported on records without AF).

Scores of several records pool by adding (:meth:`AFScores.__add__`: the gross
statistics of EC57).

Example:
    >>> from medmodal.metrics.af import af_scores
    >>> s = af_scores([(10, 70), (200, 260)], [(15, 80)], duration_s=600)
    >>> s.episode_se, s.episode_ppv, round(s.duration_se, 3), round(s.duration_ppv, 3)
    (0.5, 1.0, 0.458, 0.846)

References:
    ANSI/AAMI EC57:2012. Testing and reporting performance results of cardiac rhythm and
    ST segment measurement algorithms (AF detection statistics).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from medmodal.errors import InvalidParameterError

__all__ = ["AFScores", "af_scores", "as_episodes", "overlap_s"]


@dataclass(frozen=True)
class AFScores:
    """Counts behind the EC57 AF statistics of one record or a pool of records.

    Attributes:
        n_reference, n_detected: episodes.
        n_reference_hit: reference episodes overlapped by a detection.
        n_detected_true: detected episodes overlapping the reference.
        reference_s, detected_s: AF time (s) in the reference and the detections.
        overlap_s: time (s) in both.
        duration_s: length of the recording(s) (s).
    """

    n_reference: int
    n_detected: int
    n_reference_hit: int
    n_detected_true: int
    reference_s: float
    detected_s: float
    overlap_s: float
    duration_s: float

    def __add__(self, other: AFScores) -> AFScores:
        """Pool two records (gross statistics)."""
        return AFScores(
            *(a + b for a, b in zip(_values(self), _values(other), strict=True))  # type: ignore[arg-type]
        )

    @property
    def episode_se(self) -> float:
        """Episode sensitivity (NaN without reference episodes)."""
        return _ratio(self.n_reference_hit, self.n_reference)

    @property
    def episode_ppv(self) -> float:
        """Episode positive predictivity (NaN without detections)."""
        return _ratio(self.n_detected_true, self.n_detected)

    @property
    def duration_se(self) -> float:
        """Duration sensitivity (NaN without reference AF)."""
        return _ratio(self.overlap_s, self.reference_s)

    @property
    def duration_ppv(self) -> float:
        """Duration positive predictivity (NaN without detected AF)."""
        return _ratio(self.overlap_s, self.detected_s)

    @property
    def false_af_pct(self) -> float:
        """Detected AF time outside reference AF, % of the recording time."""
        return _ratio(100.0 * (self.detected_s - self.overlap_s), self.duration_s)

    def summary(self) -> dict[str, float]:
        """The five statistics (fractions; false AF time in %) and the counts."""
        return {
            "episode_se": self.episode_se,
            "episode_ppv": self.episode_ppv,
            "duration_se": self.duration_se,
            "duration_ppv": self.duration_ppv,
            "false_af_pct": self.false_af_pct,
            **{k: float(v) for k, v in self.__dict__.items()},
        }


def _values(s: AFScores) -> tuple[float, ...]:
    return tuple(s.__dict__.values())


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den > 0 else math.nan


def as_episodes(episodes: Iterable[Sequence[float]], *, func: str = "af_scores") -> np.ndarray:
    """``(n, 2)`` float array of ``(start, end)`` pairs, sorted, checked (end > start,
    finite, non-overlapping).

    Example:
        >>> as_episodes([(5, 9), (0, 2)]).tolist()
        [[0.0, 2.0], [5.0, 9.0]]
    """
    try:
        arr = np.asarray(list(episodes), dtype=float).reshape(-1, 2)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"{func}: episodes must be (start, end) pairs in seconds: {exc}"
        ) from exc
    if not np.isfinite(arr).all() or (arr[:, 1] <= arr[:, 0]).any() or (arr < 0).any():
        raise InvalidParameterError(
            f"{func}: every episode must be finite with 0 <= start < end, got {arr.tolist()}"
        )
    arr = arr[np.argsort(arr[:, 0], kind="stable")]
    if (arr[1:, 0] < arr[:-1, 1]).any():
        raise InvalidParameterError(f"{func}: episodes overlap each other: {arr.tolist()}")
    return arr


def overlap_s(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Overlap (s) of each episode of ``a`` with all episodes of ``b`` (``(len(a),)``)."""
    if a.size == 0 or b.size == 0:
        return np.zeros(len(a))
    lo = np.maximum(a[:, None, 0], b[None, :, 0])
    hi = np.minimum(a[:, None, 1], b[None, :, 1])
    return np.clip(hi - lo, 0.0, None).sum(axis=1)


def af_scores(
    reference: Iterable[Sequence[float]],
    detected: Iterable[Sequence[float]],
    *,
    duration_s: float,
) -> AFScores:
    """EC57 AF counts of one record.

    Args:
        reference: reference AF episodes ``(start_s, end_s)`` (non-overlapping).
        detected: detected AF episodes ``(start_s, end_s)`` (non-overlapping).
        duration_s: length of the record (s), > 0.

    Returns:
        An :class:`AFScores`; its properties give the statistics.

    Raises:
        InvalidParameterError: malformed episodes or duration.
    """
    if not (isinstance(duration_s, (int, float)) and math.isfinite(duration_s) and duration_s > 0):
        raise InvalidParameterError(
            f"af_scores: duration_s must be a positive number of seconds, got {duration_s!r}"
        )
    ref, det = as_episodes(reference), as_episodes(detected)
    hits = overlap_s(ref, det)
    return AFScores(
        n_reference=len(ref),
        n_detected=len(det),
        n_reference_hit=int((hits > 0).sum()),
        n_detected_true=int((overlap_s(det, ref) > 0).sum()),
        reference_s=float((ref[:, 1] - ref[:, 0]).sum()),
        detected_s=float((det[:, 1] - det[:, 0]).sum()),
        overlap_s=float(hits.sum()),
        duration_s=float(duration_s),
    )
