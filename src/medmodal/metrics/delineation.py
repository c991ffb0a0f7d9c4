"""Scoring wave delineation against annotated fiducial points (P, QRS, T boundaries).

A method's beats are matched one to one to the annotated beats by their QRS peaks
(within 150 ms, nearest pairs first). For every fiducial point:

* Se: the share of the points annotated in matched beats that the method also gave,
  within ``tolerance`` (150 ms by default) of the annotation;
* errors: method - annotation in ms of those points, with their mean, SD and count.

A mark farther than ``tolerance`` from the annotation is another wave taken for this
one (a U wave for a T wave, a noise bump for a P wave): it counts as a miss, not as a
150+ ms error that would swamp the SD. ``tolerance=None`` keeps every error.

Records are scored one at a time and pooled (errors concatenated, counts summed). With
two or more leads delineated separately, a *lead convention* says which lead's point
counts (:data:`CONVENTIONS`):

* ``single``: the one lead given (e.g. lead 0);
* ``best_per_beat``: per annotated beat and fiducial, the lead whose point is closer to
  the annotation, found if any lead gave it. This is how Martínez et al. (2004) scored
  their single-lead delineator on the QT database, whose cardiologists marked each beat
  looking at both leads at once; it is an a-posteriori choice and flatters any method;
* ``best_lead_per_record``: per record and fiducial, the one lead that is closer in more
  annotated beats (ties: the lead given first), then scored alone: a lead a user could
  have chosen for the whole record.

A point is missing when it is negative (``-1``) or not finite (``NaN``); a fiducial a
method does not give at all is left out of ``detected`` (its Se is then ``None``).

Example:
    >>> import numpy as np
    >>> from medmodal.metrics.delineation import score_delineation
    >>> ref = {"r_peak": [100, 350], "qrs_onset": [90, 338], "t_offset": [200, 450]}
    >>> det = {"r_peak": [102, 352], "qrs_onset": [91, -1], "t_offset": [205, 440]}
    >>> s = score_delineation(ref, det, 250, record="demo")
    >>> s.fiducials["qrs_onset"].se_pct, s.fiducials["qrs_onset"].errors_ms.tolist()
    (50.0, [4.0])
    >>> s.fiducials["t_offset"].mean_ms
    -10.0
    >>> float(s.to_frame().loc["t_offset", "se_pct"]), s.n_matched
    (100.0, 2)

References:
    Martínez JP, Almeida R, Olmos S, Rocha AP, Laguna P. A wavelet-based ECG delineator:
    evaluation on standard databases. IEEE Trans Biomed Eng 51(4):570-581 (2004).
    Laguna P, Mark RG, Goldberger AL, Moody GB. A database for evaluation of algorithms
    for measurement of QT and other waveform intervals in the ECG. Computers in
    Cardiology 24:673-676 (1997).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
import pandas as pd

from medmodal.errors import InvalidParameterError
from medmodal.registry import Registry
from medmodal.types import ArrayLike, BoolArray, FloatArray, IntArray

__all__ = [
    "CONVENTIONS",
    "FIDUCIALS",
    "MATCH_WINDOW",
    "TOLERANCE",
    "DelineationScore",
    "FiducialScore",
    "match_beats",
    "pool",
    "score_delineation",
]

#: The fiducial points scored, in this order.
FIDUCIALS: tuple[str, ...] = (
    "p_onset",
    "p_peak",
    "p_offset",
    "qrs_onset",
    "qrs_offset",
    "t_peak",
    "t_offset",
)
#: Largest distance (s) between a method's QRS peak and the annotated one that matches.
MATCH_WINDOW = 0.150
#: Largest |error| (s) of a mark that still counts as the annotated point.
TOLERANCE = 0.150
#: The key of the QRS peak in both the reference and the method's points.
PEAK = "r_peak"


@dataclass(frozen=True)
class FiducialScore:
    """Errors of one fiducial point (one record, or pooled).

    Attributes:
        fiducial: e.g. ``"t_offset"``.
        n_reference: points annotated in the matched beats (the Se denominator).
        errors_ms: method - annotation (ms) of every annotated point the method gave.
        lead: the lead (position in the leads given) each error comes from.
        delineated: whether the method gives this fiducial at all.
    """

    fiducial: str
    n_reference: int
    errors_ms: FloatArray
    lead: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    delineated: bool = True

    @property
    def n(self) -> int:
        """Number of errors (annotated points the method also gave)."""
        return int(self.errors_ms.size)

    @property
    def se_pct(self) -> float | None:
        """Se in % (None when the method does not give this fiducial; NaN: none annotated)."""
        if not self.delineated:
            return None
        return 100.0 * self.n / self.n_reference if self.n_reference else float("nan")

    @property
    def mean_ms(self) -> float | None:
        """Mean error (ms); None without errors."""
        return float(np.mean(self.errors_ms)) if self.n else None

    @property
    def sd_ms(self) -> float | None:
        """Standard deviation of the errors (ms, n - 1 in the denominator); None below 2."""
        return float(np.std(self.errors_ms, ddof=1)) if self.n > 1 else None

    def summary(self) -> dict[str, float | int | None]:
        """``{"se_pct", "mean_ms", "sd_ms", "n"}`` (all None if not delineated)."""
        if not self.delineated:
            return {"se_pct": None, "mean_ms": None, "sd_ms": None, "n": None}
        return {"se_pct": self.se_pct, "mean_ms": self.mean_ms, "sd_ms": self.sd_ms, "n": self.n}


@dataclass(frozen=True)
class DelineationScore:
    """Scores of every fiducial point for one record (or a pool of records).

    Attributes:
        record: record name (``"pooled"`` for a pool).
        convention: the lead convention (see :data:`CONVENTIONS`).
        n_annotated: annotated beats.
        n_matched: annotated beats matched by a method beat.
        fiducials: ``{name: FiducialScore}`` in :data:`FIDUCIALS` order.
    """

    record: str
    convention: str
    n_annotated: int
    n_matched: int
    fiducials: dict[str, FiducialScore]

    @property
    def beat_se_pct(self) -> float:
        """Share (%) of annotated beats that a method beat matches."""
        return 100.0 * self.n_matched / self.n_annotated if self.n_annotated else float("nan")

    def summary(self) -> dict[str, dict[str, float | int | None]]:
        """``{fiducial: {"se_pct", "mean_ms", "sd_ms", "n"}}``, JSON-ready."""
        return {name: score.summary() for name, score in self.fiducials.items()}

    def to_frame(self) -> pd.DataFrame:
        """One row per fiducial: ``se_pct``, ``mean_ms``, ``sd_ms``, ``n``, ``n_reference``."""
        rows = {
            name: {**score.summary(), "n_reference": score.n_reference}
            for name, score in self.fiducials.items()
        }
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "fiducial"
        return frame


def _points(values: ArrayLike | None, n: int, *, what: str) -> FloatArray:
    """Samples as float with NaN for missing (negative or not finite) points."""
    if values is None:
        return np.full(n, np.nan)
    try:
        x = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"score_delineation: {what} cannot be read as sample indices: {exc}"
        ) from exc
    if x.size != n:
        raise InvalidParameterError(
            f"score_delineation: {what} has {x.size} entries for {n} beats; every fiducial "
            f"needs one entry per beat (-1 or NaN where missing)"
        )
    return np.where(np.isfinite(x) & (x >= 0), x, np.nan)


def match_beats(
    reference: ArrayLike, detected: ArrayLike, sampling_rate: float, *, window: float = MATCH_WINDOW
) -> tuple[IntArray, IntArray]:
    """Pairs ``(reference index, detected index)`` of beats at most ``window`` s apart.

    One to one, nearest pairs first; missing peaks (-1, NaN) never match.

    Example:
        >>> match_beats([100, 300, 500], [305, 98, 900], 250)
        (array([0, 1]), array([1, 0]))
    """
    if not (np.isfinite(sampling_rate) and sampling_rate > 0):
        raise InvalidParameterError(
            f"match_beats: sampling_rate must be a positive number in Hz, got {sampling_rate!r}"
        )
    ref = _points(reference, np.asarray(reference).size, what="reference peaks")
    det = _points(detected, np.asarray(detected).size, what="detected peaks")
    limit = window * sampling_rate + 1e-6
    order = np.argsort(det, kind="stable")  # NaN (missing) last
    ordered = det[order]
    lo = np.searchsorted(ordered, ref - limit, side="left")
    hi = np.searchsorted(ordered, ref + limit, side="right")
    hi = np.where(np.isfinite(ref), np.maximum(hi, lo), lo)
    counts = hi - lo
    ri = np.repeat(np.arange(ref.size), counts)
    di = order[np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(ri.size)]
    dist = np.abs(det[di] - ref[ri])
    used_r = np.zeros(ref.size, dtype=bool)
    used_d = np.zeros(det.size, dtype=bool)
    keep = []
    for k in np.lexsort((di, ri, dist)).tolist():  # nearest pairs first
        if not used_r[ri[k]] and not used_d[di[k]]:
            used_r[ri[k]] = used_d[di[k]] = True
            keep.append(k)
    pick = np.sort(np.array(keep, dtype=np.int64))
    return ri[pick].astype(np.int64), di[pick].astype(np.int64)


# --- lead conventions ----------------------------------------------------------------------

#: ``(matched (beats, leads), errors (beats, leads), annotated (beats,)) ->
#: (Se denominator, errors, lead of each error)``.
_Scored: TypeAlias = tuple[int, FloatArray, IntArray]
Convention: TypeAlias = Callable[[BoolArray, FloatArray, BoolArray], _Scored]

#: The lead conventions that ``score_delineation(..., convention=...)`` accepts.
CONVENTIONS: Registry[Convention] = Registry("lead convention")


def _single(matched: BoolArray, err: FloatArray, annotated: BoolArray) -> _Scored:
    if matched.shape[1] != 1:
        raise InvalidParameterError(
            f"score_delineation: convention 'single' scores one lead, got {matched.shape[1]}; "
            f"use 'best_per_beat' or 'best_lead_per_record' for several"
        )
    return _one_lead(matched, err, annotated, 0)


def _one_lead(matched: BoolArray, err: FloatArray, annotated: BoolArray, lead: int) -> _Scored:
    found = np.isfinite(err[:, lead])
    n_ref = int(np.count_nonzero(annotated & matched[:, lead]))
    return n_ref, err[found, lead], np.full(int(found.sum()), lead, dtype=np.int64)


def _best_per_beat(matched: BoolArray, err: FloatArray, annotated: BoolArray) -> _Scored:
    n_ref = int(np.count_nonzero(annotated & matched.any(axis=1)))
    found = np.isfinite(err).any(axis=1)
    best = np.argmin(np.where(np.isfinite(err), np.abs(err), np.inf), axis=1)
    rows = np.flatnonzero(found)
    return n_ref, err[rows, best[rows]], best[rows].astype(np.int64)


def _best_lead_per_record(matched: BoolArray, err: FloatArray, annotated: BoolArray) -> _Scored:
    _, _, wins = _best_per_beat(matched, err, annotated)
    lead = int(np.argmax(np.bincount(wins, minlength=err.shape[1]))) if wins.size else 0
    return _one_lead(matched, err, annotated, lead)


CONVENTIONS.add("single", _single, aliases=("lead0", "one_lead"), description="the one lead given")
CONVENTIONS.add(
    "best_per_beat",
    _best_per_beat,
    aliases=("martinez2004",),
    description="per annotated beat and fiducial, the lead closer to the annotation "
    "(Martínez et al. 2004 on the QT database)",
)
CONVENTIONS.add(
    "best_lead_per_record",
    _best_lead_per_record,
    description="per record and fiducial, the lead closer to the annotation in more beats",
)


def score_delineation(
    reference: Mapping[str, ArrayLike],
    detected: Mapping[str, ArrayLike] | Sequence[Mapping[str, ArrayLike]],
    sampling_rate: float,
    *,
    convention: str = "single",
    window: float = MATCH_WINDOW,
    tolerance: float | None = TOLERANCE,
    record: str = "",
    fiducials: Sequence[str] = FIDUCIALS,
) -> DelineationScore:
    """Score one record's delineation against its annotated fiducial points.

    Args:
        reference: ``{"r_peak": ..., fiducial: ...}`` of the annotated beats (one entry
            per beat, -1 / NaN where not marked), e.g.
            :meth:`medmodal.data.qtdb.Fiducials.points`.
        detected: the method's points in the same layout (its own beats), or a sequence
            of them, one per lead delineated separately.
        sampling_rate: Hz.
        convention: how several leads are combined (see :data:`CONVENTIONS`).
        window: largest QRS-peak distance (s) at which beats match.
        tolerance: largest |error| (s) of a mark that counts as found; farther marks
            count as misses (None: every mark counts, whatever its error).
        record: name kept with the score.
        fiducials: the points to score (default :data:`FIDUCIALS`).

    Returns:
        A :class:`DelineationScore`.

    Raises:
        InvalidParameterError: no ``r_peak``, arrays of the wrong length, an unknown
            convention, or several leads with ``convention="single"``.
    """
    name = CONVENTIONS.resolve(convention)
    leads = [detected] if isinstance(detected, Mapping) else list(detected)
    if not leads or any(PEAK not in points for points in [reference, *leads]):
        raise InvalidParameterError(
            f"score_delineation: the reference and every lead need {PEAK!r} (the QRS peaks)"
        )
    ref_r = np.asarray(reference[PEAK]).reshape(-1)
    n_ref = ref_r.size
    matched = np.zeros((n_ref, len(leads)), dtype=bool)
    pairs = [match_beats(ref_r, lead[PEAK], sampling_rate, window=window) for lead in leads]
    for j, (ri, _) in enumerate(pairs):
        matched[ri, j] = True
    scores = {}
    for fid in fiducials:
        ref = _points(reference.get(fid), n_ref, what=f"reference {fid}")
        err = np.full((n_ref, len(leads)), np.nan)
        for j, (lead, (ri, di)) in enumerate(zip(leads, pairs, strict=True)):
            n_det = np.asarray(lead[PEAK]).size
            det = _points(lead.get(fid), n_det, what=f"detected {fid}")
            err[ri, j] = (det[di] - ref[ri]) * 1000.0 / sampling_rate
        if tolerance is not None:
            err[np.abs(err) > tolerance * 1000.0 + 1e-9] = np.nan
        delineated = any(fid in lead for lead in leads)
        n, errors, which = CONVENTIONS.get(name)(matched, err, np.isfinite(ref))
        scores[fid] = FiducialScore(fid, n, errors, which, delineated)
    return DelineationScore(
        record=record,
        convention=name,
        n_annotated=int(n_ref),
        n_matched=int(np.count_nonzero(matched.any(axis=1))),
        fiducials=scores,
    )


def pool(scores: Iterable[DelineationScore], *, record: str = "pooled") -> DelineationScore:
    """Gross statistics over records: errors concatenated, counts summed.

    Raises:
        InvalidParameterError: no scores, or scores of different conventions or fiducials.
    """
    items = list(scores)
    if not items:
        raise InvalidParameterError("pool: no delineation scores to pool")
    names = list(items[0].fiducials)
    if any(s.convention != items[0].convention or list(s.fiducials) != names for s in items):
        raise InvalidParameterError(
            "pool: the scores must share one convention and the same fiducials"
        )
    merged = {
        fid: FiducialScore(
            fid,
            sum(s.fiducials[fid].n_reference for s in items),
            np.concatenate([s.fiducials[fid].errors_ms for s in items]),
            np.concatenate([s.fiducials[fid].lead for s in items]),
            any(s.fiducials[fid].delineated for s in items),
        )
        for fid in names
    }
    return DelineationScore(
        record=record,
        convention=items[0].convention,
        n_annotated=sum(s.n_annotated for s in items),
        n_matched=sum(s.n_matched for s in items),
        fiducials=merged,
    )
