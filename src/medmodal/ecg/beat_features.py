"""Beat features for AAMI beat classification, at any sampling rate and on any lead.

Each beat becomes a morphology window resampled to a fixed internal rate
(:data:`INTERNAL_RATE` Hz, from :data:`WINDOW_S` around the R peak), scaled by the
record's median beat amplitude, the same window minus the record's median beat, and the
RR context of :mod:`medmodal.ecg._beats.rr` (intervals as log-ratios to the record's
median RR). Every constant is in seconds; the only per-record statistics (median RR,
median beat, median amplitude) use no labels, so they are legitimate on a new patient.

Beats that cannot be described get ``valid=False`` and a reason (the R peak outside the
signal, missing samples in the window, an artefact amplitude), and input too short,
flat or sparse for any beat gives the reason for all: odd input never raises.

Example:
    >>> from medmodal.ecg.simulate import ecg_simulate_annotated
    >>> sim = ecg_simulate_annotated(30, 250, heart_rate=70, seed=0)
    >>> feats = ecg_beat_features(sim.signal, 250, sim.r_peaks)
    >>> feats.matrix().shape[1] == N_FEATURES, bool(feats.valid.all())
    (True, True)
    >>> ecg_beat_features(sim.signal[:200], 250, [100]).reason
    ('the signal is 0.8 s long; at least 2 s are needed',)

References:
    Mondéjar-Guerra V, Novo J, Rouco J, Penedo MG, Ortega M. Heartbeat classification
    fusing temporal and morphological information of ECGs via ensemble of classifiers.
    Biomed Signal Process Control 47:41-48 (2019) (RR normalised by the patient's own
    rhythm).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from medmodal.ecg._beats.rr import RR_NAMES, rr_context
from medmodal.ecg._validate import as_peaks, check_sampling_rate
from medmodal.ecg.clean import ecg_clean
from medmodal.errors import InvalidParameterError, InvalidSignalError
from medmodal.types import ArrayLike, BoolArray, FloatArray, IntArray

__all__ = [
    "INTERNAL_RATE",
    "N_FEATURES",
    "RR_NAMES",
    "WINDOW_S",
    "BeatFeatures",
    "ecg_beat_features",
    "record_standardise",
]

#: Rate (Hz) every beat window is resampled to.
INTERNAL_RATE = 128.0
#: Window around the R peak (s): the P wave before, the T wave after.
WINDOW_S = (-0.25, 0.45)
#: Samples per window at :data:`INTERNAL_RATE`.
N_WINDOW = round((WINDOW_S[1] - WINDOW_S[0]) * INTERNAL_RATE)
#: Length of one row of :meth:`BeatFeatures.matrix`.
N_FEATURES = 2 * N_WINDOW + len(RR_NAMES)
#: Floor (in feature units) of the spread in :func:`record_standardise`.
SPREAD_FLOOR = 0.05
#: Fewest beats in a record for the record statistics (median RR and beat).
MIN_BEATS = 5
#: Lowest sampling rate (Hz) at which a QRS complex keeps its shape.
MIN_RATE = 50.0
#: Shortest signal (s) the cleaning filters accept.
MIN_SECONDS = 2.0
#: A beat whose window spans more than this many times the record's median beat
#: amplitude is an artefact.
ARTEFACT_RATIO = 8.0


@dataclass(frozen=True, eq=False)  # arrays inside: equality is identity
class BeatFeatures:
    """Features of every beat (row ``i`` is the beat at ``peaks[i]``).

    Attributes:
        peaks: ``(n,)`` R-peak samples, as given.
        morphology: ``(n, N_WINDOW)`` window at :data:`INTERNAL_RATE`, minus its median,
            over the record's median beat amplitude (0 where not valid).
        deviation: ``(n, N_WINDOW)`` morphology minus the record's median beat.
        rhythm: ``(n, len(RR_NAMES))`` RR context (columns ``RR_NAMES``).
        valid: ``(n,)`` whether the beat could be described.
        reason: per beat, why it could not (``None`` where valid).
        sampling_rate: Hz of the input.
        duration_s: length of the analysed signal (s).
        lead: name (or index as text) of the lead used.
        record_rr_s: the record's median RR (s), NaN when unknown.
    """

    peaks: IntArray
    morphology: FloatArray
    deviation: FloatArray
    rhythm: FloatArray
    valid: BoolArray
    reason: tuple[str | None, ...]
    sampling_rate: float
    duration_s: float
    lead: str | None
    record_rr_s: float

    def __len__(self) -> int:
        return int(self.peaks.size)

    def matrix(self) -> FloatArray:
        """The model input: ``(n, N_FEATURES)`` float32 (morphology, deviation, rhythm)."""
        return np.concatenate([self.morphology, self.deviation, self.rhythm], axis=1).astype(
            np.float32
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per beat: sample, time, valid, reason and the RR context."""
        frame = pd.DataFrame(
            {
                "sample": self.peaks,
                "time_s": self.peaks / self.sampling_rate,
                "valid": self.valid,
                "reason": list(self.reason),
            }
        )
        return pd.concat([frame, pd.DataFrame(self.rhythm, columns=list(RR_NAMES))], axis=1)


def _pick_lead(
    signal: ArrayLike, lead: int | str, lead_names: Sequence[str] | None, func: str
) -> tuple[FloatArray, str]:
    """The chosen lead as float64 (NaN kept) and its name."""
    try:
        array = np.asarray(signal, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidSignalError(f"{func}: signal cannot be read as numbers: {exc}") from exc
    if array.ndim not in (1, 2):
        raise InvalidSignalError(
            f"{func}: signal must be (n_samples,) or (n_samples, n_leads), got {array.shape}"
        )
    data = array[:, None] if array.ndim == 1 else array
    try:
        names = [str(n) for n in lead_names] if lead_names is not None else None
    except TypeError as exc:
        raise InvalidParameterError(
            f"{func}: lead_names must be a sequence of names, got {lead_names!r}"
        ) from exc
    if names is not None and len(names) != data.shape[1]:
        raise InvalidParameterError(
            f"{func}: lead_names has {len(names)} names for {data.shape[1]} lead(s)"
        )
    if isinstance(lead, str):
        if names is None or lead not in names:
            raise InvalidParameterError(
                f"{func}: lead {lead!r} is not among the lead names {names}"
            )
        index = names.index(lead)
    elif isinstance(lead, (int, np.integer)) and not isinstance(lead, bool):
        index = int(lead)
        if not 0 <= index < data.shape[1]:
            raise InvalidParameterError(
                f"{func}: lead {lead} is out of range for {data.shape[1]} lead(s)"
            )
    else:
        raise InvalidParameterError(f"{func}: lead must be an index or a name, got {lead!r}")
    return data[:, index], (names[index] if names is not None else str(index))


def _whole_record_problem(x: FloatArray, rate: float, n_beats: int) -> str | None:
    """Why no beat of this lead can be classified, or None."""
    if rate < MIN_RATE:
        return f"the sampling rate {rate:g} Hz is below {MIN_RATE:g} Hz"
    if x.size / rate < MIN_SECONDS:
        return f"the signal is {x.size / rate:.2g} s long; at least {MIN_SECONDS:g} s are needed"
    finite = np.isfinite(x)
    if not finite.any():
        return "the lead has no finite samples"
    if np.ptp(x[finite]) <= 1e-12 * max(1.0, float(np.abs(x[finite]).max())):
        return "the lead is flat"
    if n_beats < MIN_BEATS:
        return f"{n_beats} beat(s) in the signal; at least {MIN_BEATS} are needed"
    return None


def _clean_lead(x: FloatArray, rate: float, clean: bool) -> tuple[FloatArray, BoolArray]:
    """The lead with NaN/inf gaps interpolated (then cleaned) and its missing mask."""
    missing = ~np.isfinite(x)
    if missing.any():
        idx = np.arange(x.size)
        x = x.copy()
        x[missing] = np.interp(idx[missing], idx[~missing], x[~missing])
    return (ecg_clean(x, rate) if clean else x), missing


def _windows(x: FloatArray, peaks: IntArray, rate: float) -> FloatArray:
    """``(n, N_WINDOW)`` windows at the internal rate (linear interpolation, edges held)."""
    offsets = (np.arange(N_WINDOW) / INTERNAL_RATE + WINDOW_S[0]) * rate  # (T,)
    pos = np.clip(peaks[:, None] + offsets[None, :], 0, x.size - 1)  # (n, T)
    return np.interp(pos.ravel(), np.arange(x.size, dtype=np.float64), x).reshape(pos.shape)


def _touches(mask: BoolArray, peaks: IntArray, rate: float) -> BoolArray:
    """Whether each beat's window holds a True sample of ``mask``."""
    csum = np.concatenate([[0], np.cumsum(mask)])
    lo = np.clip(peaks + int(np.floor(WINDOW_S[0] * rate)), 0, mask.size)
    hi = np.clip(peaks + int(np.ceil(WINDOW_S[1] * rate)) + 1, 0, mask.size)
    return np.asarray((csum[hi] - csum[lo]) > 0)


def _empty(peaks: IntArray, rate: float, duration: float, lead: str | None, reason: str | None
           ) -> BeatFeatures:  # fmt: skip
    n = peaks.size
    return BeatFeatures(
        peaks=peaks,
        morphology=np.zeros((n, N_WINDOW)),
        deviation=np.zeros((n, N_WINDOW)),
        rhythm=np.zeros((n, len(RR_NAMES))),
        valid=np.zeros(n, bool),
        reason=(reason,) * n,
        sampling_rate=rate,
        duration_s=duration,
        lead=lead,
        record_rr_s=float("nan"),
    )


def ecg_beat_features(
    signal: ArrayLike,
    sampling_rate: float,
    peaks: ArrayLike,
    *,
    lead: int | str = 0,
    lead_names: Sequence[str] | None = None,
    clean: bool = True,
) -> BeatFeatures:
    """Describe every beat for :func:`medmodal.ecg.beat_classes.ecg_beat_classes`.

    Args:
        signal: ``(n_samples,)`` or ``(n_samples, n_leads)`` ECG (raw: it is cleaned
            with :func:`medmodal.ecg.clean.ecg_clean` unless ``clean=False``).
        sampling_rate: Hz, any rate (beats below :data:`MIN_RATE` Hz are "unknown").
        peaks: sorted R-peak samples.
        lead: index or name (with ``lead_names``) of the lead to describe.
        lead_names: one name per lead.
        clean: clean the lead first (pass False for an already cleaned signal).

    Returns:
        :class:`BeatFeatures`; beats that cannot be described carry the reason.

    Raises:
        InvalidParameterError: bad sampling rate, peaks (unsorted, negative), lead or
            lead names; a signal that is not a 1-D or 2-D array of numbers.
    """
    func = "ecg_beat_features"
    rate = check_sampling_rate(sampling_rate, func=func)
    at = as_peaks(peaks, func=func)
    x, name = _pick_lead(signal, lead, lead_names, func)
    duration = x.size / rate
    inside = at < x.size
    problem = _whole_record_problem(x, rate, int(inside.sum()))
    if problem is not None:
        return _empty(at, rate, duration, name, problem)
    try:
        cleaned, missing = _clean_lead(x, rate, clean)
    except InvalidSignalError as exc:  # e.g. values so large that filtering overflows
        return _empty(at, rate, duration, name, str(exc))
    return _describe(cleaned, missing, at, inside, rate, name)


def _describe(x: FloatArray, missing: BoolArray, at: IntArray, inside: BoolArray, rate: float,
              name: str) -> BeatFeatures:  # fmt: skip
    """Features of the beats of a cleaned lead (the record is known to be usable)."""
    reason: list[str | None] = [None] * at.size
    for i in np.flatnonzero(~inside):
        reason[i] = "the R peak is outside the signal"
    use = at[inside]
    win = _windows(x, use, rate)
    win -= np.median(win, axis=1, keepdims=True)
    ptp = np.ptp(win, axis=1)
    gaps = _touches(missing, use, rate)
    scale = float(np.median(ptp[~gaps])) if (~gaps).any() else 0.0
    if not scale > 0:
        return _empty(at, rate, x.size / rate, name, "no beat has any amplitude")
    artefact = ptp > ARTEFACT_RATIO * scale
    ok = ~gaps & ~artefact & (ptp > 0)
    morph = win / scale
    median_beat = np.median(morph[ok], axis=0) if ok.any() else np.zeros(N_WINDOW)
    rhythm, record_rr = rr_context(use / rate)
    where = np.flatnonzero(inside)
    for j in np.flatnonzero(~ok):
        reason[where[j]] = (
            "missing samples (NaN/inf) in the beat window"
            if gaps[j]
            else f"amplitude over {ARTEFACT_RATIO:g} x the record's median beat (artefact)"
            if artefact[j]
            else "flat beat window"
        )
    valid = np.zeros(at.size, bool)
    valid[where[ok]] = True
    full = np.zeros((at.size, N_WINDOW))
    full[where] = np.where(ok[:, None], morph, 0.0)
    dev = np.zeros_like(full)
    dev[where] = np.where(ok[:, None], morph - median_beat, 0.0)
    rr = np.zeros((at.size, len(RR_NAMES)))
    rr[where] = rhythm
    return BeatFeatures(at, full, dev, rr, valid, tuple(reason), rate, x.size / rate, name,
                        record_rr)  # fmt: skip


def record_standardise(matrix: ArrayLike) -> FloatArray:
    """Each column of one record's feature matrix in units of that record's own beats.

    Every column minus its median over the rows, over its interquartile range (plus
    :data:`SPREAD_FLOOR`): a beat then reads as typical or atypical *for this patient*,
    which uses the patient's unlabelled beats only. Pass the valid beats of one record.

    Args:
        matrix: ``(n_beats, n_features)`` rows of :meth:`BeatFeatures.matrix` of one record.

    Returns:
        ``(n_beats, n_features)`` float32, finite for any finite input (an empty input
        gives an empty result).

    Example:
        >>> x = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
        >>> [round(float(v), 3) for v in record_standardise(x)[:, 0]]
        [-0.952, 0.0, 0.952]
    """
    x = np.asarray(matrix, dtype=np.float64)
    if x.ndim != 2:
        raise InvalidParameterError(f"record_standardise: matrix must be 2-D, got {x.ndim}-D")
    if x.shape[0] == 0:
        return x.astype(np.float32)
    q25, q50, q75 = np.percentile(x, [25, 50, 75], axis=0)
    return ((x - q50) / (q75 - q25 + SPREAD_FLOOR)).astype(np.float32)
