"""ECG delineation: QRS onset/offset, P and T waves of every beat: ``ecg_delineate``.

The default method is a multiscale derivative (wavelet) delineator after Martínez et al.
(2004), vectorised over beats; see :mod:`medmodal.ecg._delineators.derivative`. It is
tested against the known fiducial points of :func:`medmodal.ecg.simulate.ecg_simulate`
and validated against cardiologists' marks on the QT database by
``benchmarks/ecg_delineation.py`` (results in ``benchmarks/results/ecg_delineation.md``;
the lead-0 and both-leads figures ship as :data:`VALIDATION_FILE`). Several leads can be
delineated separately and combined beat by beat (``leads="all"``; see
:mod:`medmodal.ecg._delineators._multilead`).

Example:
    >>> from medmodal.ecg.simulate import ecg_simulate_annotated
    >>> from medmodal.ecg.delineate import ecg_delineate
    >>> sim = ecg_simulate_annotated(10, 250, heart_rate=60, seed=0)
    >>> d = ecg_delineate(sim.signal, 250, peaks=sim.r_peaks)
    >>> d.n_beats == sim.n_beats, bool((d.p_peak >= 0).all())
    (True, True)
    >>> round(float(d.intervals()["qrs_ms"].median()), -1)
    100.0
    >>> two = ecg_simulate_annotated(10, 250, heart_rate=60, n_leads=2, seed=0)
    >>> both = ecg_delineate(two.signal, 250, peaks=two.r_peaks, leads="all")
    >>> both.leads, both.lead
    ((0, 1), -1)

References:
    Martínez JP, Almeida R, Olmos S, Rocha AP, Laguna P. A wavelet-based ECG delineator:
    evaluation on standard databases. IEEE Trans Biomed Eng 51(4):570-581 (2004).
    Laguna P, Jané R, Caminal P. Automatic detection of wave boundaries in multilead ECG
    signals: validation with the CSE database. Comput Biomed Res 27(1):45-60 (1994).
    Bazett HC. An analysis of the time-relations of electrocardiograms. Heart 7:353-370
    (1920) (QTc). Fridericia LS. Die Systolendauer im Elektrokardiogramm bei normalen
    Menschen und bei Herzkranken. Acta Med Scand 53:469-486 (1920) (QTc).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from medmodal.ecg._delineators import derivative
from medmodal.ecg._delineators._multilead import LeadMarks, combine
from medmodal.ecg._validate import CheckedSignal, as_signal, check_sampling_rate
from medmodal.ecg.peaks import _peaks_unchecked
from medmodal.errors import InvalidParameterError, MedmodalWarning
from medmodal.registry import Registry
from medmodal.types import ArrayLike, FloatArray, IntArray

__all__ = [
    "DELINEATORS",
    "FIDUCIAL_NAMES",
    "LEAD_CHOICES",
    "VALIDATION_FILE",
    "BeatFiducials",
    "Delineation",
    "available_methods",
    "ecg_delineate",
]

#: A delineator: ``(one lead (n,), sampling_rate, R peaks) -> LeadMarks`` (the fiducial
#: points and per-beat wave sizes, used to combine leads).
Delineator = Callable[[FloatArray, float, IntArray], LeadMarks]
#: The named ``leads=`` choices of :func:`ecg_delineate`.
LEAD_CHOICES = ("largest", "all")
#: QT database validation of the default method (written by
#: ``benchmarks/ecg_delineation.py``): Se, mean and SD of the error per fiducial, on lead
#: 0 alone and on both leads together, with the peers' on the same beats.
VALIDATION_FILE = Path(__file__).with_name("delineation_validation.json")

#: The delineation methods that ``ecg_delineate(..., method=...)`` accepts.
DELINEATORS: Registry[Delineator] = Registry("delineation method")
DELINEATORS.add(
    "derivative",
    derivative.delineate_lead,
    aliases=("default", "martinez2004", "martinez"),
    description="multiscale derivative-of-Gaussian delineator after Martínez et al. (2004) "
    "with isoelectric-segment QRS boundaries, tangent P boundaries and threshold T end",
)

#: Half-width (s) of the window around R used to size each lead's QRS complexes.
_LEAD_WINDOW = 0.05


@dataclass(frozen=True, eq=False)  # arrays inside: equality is identity
class BeatFiducials:
    """Fiducial points of every beat (int64 samples; -1 where a wave is absent).

    The layout shared by a delineation (:class:`Delineation`) and by annotated
    reference points (:class:`medmodal.data.qtdb.Fiducials`), so that one can be scored
    against the other point by point (:func:`medmodal.metrics.score_delineation`).

    Attributes:
        r_peak: the QRS (R) peak of each beat.
        p_onset: P-wave onset.
        p_peak: P-wave peak (absent in atrial fibrillation and ventricular beats).
        p_offset: P-wave end.
        qrs_onset: QRS onset.
        qrs_offset: QRS offset (J point).
        t_peak: T-wave peak.
        t_offset: T-wave end.
    """

    r_peak: IntArray
    p_onset: IntArray
    p_peak: IntArray
    p_offset: IntArray
    qrs_onset: IntArray
    qrs_offset: IntArray
    t_peak: IntArray
    t_offset: IntArray

    @property
    def n_beats(self) -> int:
        """Number of beats."""
        return int(self.r_peak.size)

    def points(self) -> dict[str, IntArray]:
        """``{fiducial name: samples}`` for every fiducial (``r_peak`` included)."""
        return {name: getattr(self, name) for name in FIDUCIAL_NAMES}


#: The fiducial point names of :class:`BeatFiducials`, in column order.
FIDUCIAL_NAMES: tuple[str, ...] = tuple(f.name for f in fields(BeatFiducials))


@dataclass(frozen=True)
class Delineation(BeatFiducials):
    """Fiducial points of every beat found by :func:`ecg_delineate`.

    Attributes:
        r_peak, p_onset, p_peak, p_offset, qrs_onset, qrs_offset, t_peak, t_offset: the
            :class:`BeatFiducials` (``r_peak``: the R peaks delineated, as given or
            detected).
        sampling_rate: Hz.
        lead: index of the lead that was delineated; -1 when several leads were
            combined (see ``leads``).
        method: canonical method name.
        leads: indices of every lead delineated (one entry for a single lead).
    """

    sampling_rate: float
    lead: int = 0
    method: str = "derivative"
    leads: tuple[int, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per beat, one column per fiducial point (samples, -1 = absent)."""
        frame = pd.DataFrame(self.points())
        frame.index.name = "beat"
        return frame

    def intervals(self) -> pd.DataFrame:
        """Per-beat intervals in ms (NaN where a boundary is missing).

        Columns: ``rr_ms`` (from the previous beat), ``pr_ms`` (P onset to QRS onset),
        ``qrs_ms`` (QRS onset to offset), ``qt_ms`` (QRS onset to T end), and QT
        corrected for the rate with the RR interval ending at the beat (in s):
        ``qtc_bazett_ms`` (QT / RR^1/2, Bazett 1920) and ``qtc_fridericia_ms``
        (QT / RR^1/3, Fridericia 1920).

        Every beat is measured here, ectopic beats and irregular rhythm included, and QT
        whatever its validation: :func:`medmodal.ecg.intervals.ecg_intervals` decides
        what may be reported.
        """
        frame = pd.DataFrame(self._interval_columns())
        frame.index.name = "beat"
        return frame

    def _interval_columns(self) -> dict[str, FloatArray]:
        """The columns of :meth:`intervals` as arrays (no DataFrame: for hot paths)."""
        ms = 1000.0 / self.sampling_rate

        def span(start: IntArray, stop: IntArray) -> FloatArray:
            ok = (start >= 0) & (stop >= 0)
            return np.where(ok, (stop - start) * ms, np.nan)

        rr = np.full(self.n_beats, np.nan)
        rr[1:] = np.diff(self.r_peak) * ms
        qt = span(self.qrs_onset, self.t_offset)
        return {
            "rr_ms": rr,
            "pr_ms": span(self.p_onset, self.qrs_onset),
            "qrs_ms": span(self.qrs_onset, self.qrs_offset),
            "qt_ms": qt,
            "qtc_bazett_ms": qt / np.sqrt(rr / 1000.0),
            "qtc_fridericia_ms": qt / np.cbrt(rr / 1000.0),
        }


def available_methods() -> tuple[str, ...]:
    """Canonical names of the registered delineation methods."""
    return DELINEATORS.names()


def ecg_delineate(
    signal: ArrayLike,
    sampling_rate: float,
    *,
    peaks: ArrayLike | None = None,
    method: str = "default",
    leads: str | int | Sequence[int] = "largest",
) -> Delineation:
    """Delineate every beat: QRS onset/offset, P and T waves where present.

    Args:
        signal: ECG in any unit, raw or cleaned, ``(n_samples,)`` or
            ``(n_samples, n_leads)``.
        sampling_rate: Hz.
        peaks: R-peak samples; detected with :func:`medmodal.ecg.peaks.ecg_peaks`
            when None. They are used as given (not moved); unsorted or repeated peaks
            are sorted and deduplicated with a warning.
        method: delineation method (see :func:`available_methods`).
        leads: which leads of multi-lead input to delineate:

            - ``"largest"`` (default): ONE lead, the one whose QRS complexes are largest
              (median peak-to-peak within 50 ms of the R peaks);
            - ``"all"``: every lead that is not flat, each delineated on its own and
              combined beat by beat (QRS onset and offset: the median over the leads;
              T wave: from the lead where it is largest over the record; P wave: from
              the lead where it is largest in the beat);
            - an index, or a sequence of indices to combine as for ``"all"``.

            ``Delineation.lead`` names the lead delineated (-1 when several were
            combined) and ``Delineation.leads`` all of them.

    Returns:
        A :class:`Delineation` with one entry per peak.

    Raises:
        InvalidParameterError: unknown ``method`` or ``leads``, a lead index out of
            range or flat, bad ``sampling_rate``, or ``peaks`` that are not integer
            sample indices inside the signal.
        InvalidSignalError: the signal cannot be analysed (see ``ecg_peaks``).
    """
    func = "ecg_delineate"
    rate = check_sampling_rate(sampling_rate, func=func)
    name = DELINEATORS.resolve(method)
    checked = as_signal(signal, rate, func=func)
    r = (
        _peaks_unchecked(checked, rate)
        if peaks is None
        else _check_peaks(peaks, checked.n_samples, func=func)
    )
    return _delineate(checked, rate, r, name, leads)


def _delineate_unchecked(
    checked: CheckedSignal,
    sampling_rate: float,
    *,
    peaks: IntArray,
    method: str = "default",
    leads: str | int | Sequence[int] = "largest",
) -> Delineation:
    """:func:`ecg_delineate` of a signal already validated (by the caller's ``as_signal``)
    with sorted, unique R peaks inside it. For pipelines that validate once."""
    return _delineate(checked, sampling_rate, peaks, DELINEATORS.resolve(method), leads)


def _delineate(
    checked: CheckedSignal, rate: float, r: IntArray, name: str, leads: object
) -> Delineation:
    """Delineate the chosen leads of a validated signal at the R peaks ``r``."""
    usable = [k for k in range(checked.n_leads) if k not in checked.flat_leads]
    chosen = _choose_leads(leads, checked.n_leads, usable, func="ecg_delineate")
    if chosen is None:
        chosen = [_largest_qrs_lead(checked.data, usable, r, rate)]
    if r.size == 0:
        points = {n: np.zeros(0, dtype=np.int64) for n in FIDUCIAL_NAMES}
    else:
        marks = [DELINEATORS.get(name)(_rescale(checked.data[:, k]), rate, r) for k in chosen]
        points = combine(marks)
    return Delineation(
        **{n: np.asarray(points[n], dtype=np.int64) for n in FIDUCIAL_NAMES},
        sampling_rate=rate,
        lead=chosen[0] if len(chosen) == 1 else -1,
        method=name,
        leads=tuple(chosen),
    )


def _choose_leads(leads: object, n_leads: int, usable: list[int], *, func: str) -> list[int] | None:
    """The lead indices asked for (None: the largest-QRS lead, chosen later)."""
    if isinstance(leads, str):
        key = leads.strip().lower()
        if key not in LEAD_CHOICES:
            raise InvalidParameterError(
                f"{func}: leads must be one of {', '.join(map(repr, LEAD_CHOICES))}, a lead "
                f"index or a sequence of indices, got {leads!r}"
            )
        return None if key == "largest" else list(usable)
    picked: list[object] = []
    if isinstance(leads, (int, np.integer)):
        picked = [leads]
    elif isinstance(leads, Sequence | np.ndarray):
        picked = list(leads)
    if not picked or any(
        isinstance(k, bool) or not isinstance(k, (int, np.integer)) for k in picked
    ):
        raise InvalidParameterError(
            f"{func}: leads must be 'largest', 'all', a lead index or a non-empty sequence "
            f"of indices, got {leads!r}"
        )
    chosen = list(dict.fromkeys(int(k) for k in picked))  # type: ignore[call-overload]
    bad = [k for k in chosen if not 0 <= k < n_leads]
    flat = [k for k in chosen if k not in bad and k not in usable]
    if bad or flat:
        what = f"out of range for {n_leads} lead(s)" if bad else "flat (no signal)"
        raise InvalidParameterError(f"{func}: lead(s) {bad or flat} {what}; usable leads: {usable}")
    return chosen


def _check_peaks(peaks: ArrayLike, n_samples: int, *, func: str) -> IntArray:
    try:
        array = np.asarray(peaks)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"{func}: peaks cannot be read as an array: {exc}") from exc
    if array.ndim != 1 or array.dtype.kind not in "iuf" or array.dtype == np.bool_:
        raise InvalidParameterError(
            f"{func}: peaks must be a 1-D array of integer sample indices, got "
            f"{array.ndim}-D {array.dtype}"
        )
    if array.dtype.kind == "f" and not (
        np.isfinite(array).all() and (array == np.round(array)).all()
    ):
        raise InvalidParameterError(f"{func}: peaks must be whole sample indices")
    if array.size and (array.min() < 0 or array.max() >= n_samples):
        raise InvalidParameterError(
            f"{func}: peaks must lie in [0, {n_samples - 1}] (the signal's samples), got "
            f"values from {array.min()} to {array.max()}"
        )
    r = np.unique(array.astype(np.int64))
    if r.size != array.size or (array.size > 1 and (np.diff(array) <= 0).any()):
        warnings.warn(
            f"{func}: peaks were not strictly increasing; sorted and deduplicated",
            MedmodalWarning,
            stacklevel=3,
        )
    return r


def _largest_qrs_lead(data: FloatArray, usable: list[int], r: IntArray, rate: float) -> int:
    """Index of the usable lead with the largest median QRS peak-to-peak amplitude."""
    if len(usable) == 1 or r.size == 0:
        return usable[0]
    half = max(1, round(_LEAD_WINDOW * rate))
    idx = np.clip(r[:, None] + np.arange(-half, half + 1)[None, :], 0, data.shape[0] - 1)
    log_sizes = []  # log of the size, so that huge values cannot overflow
    for lead in usable:
        top = float(np.abs(data[:, lead]).max())
        seg = data[:, lead][idx] / top
        size = float(np.median(seg.max(axis=1) - seg.min(axis=1)))
        log_sizes.append(np.log(max(size, 1e-300)) + np.log(top))
    return usable[int(np.argmax(log_sizes))]


def _rescale(x: FloatArray) -> FloatArray:
    """``x`` scaled into [-1, 1] and centred (thresholds are relative; avoids overflow)."""
    top = float(np.abs(x).max())
    y = x / top if top > 0 else x.copy()
    return y - float(np.median(y))
