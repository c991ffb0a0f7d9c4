"""PR, QRS and QT intervals as a clinician reads them, each with its lead and its gate.

:meth:`medmodal.ecg.delineate.Delineation.intervals` measures every beat; this module
decides which beats and which measurements may be reported:

- only **dominant beats** count: beats that end an NN interval
  (:func:`medmodal.ecg.rr.ecg_rr`), so premature beats, the beat after a pause and
  beats next to an extra detection are left out;
- **PR** needs a P wave, and is only defined in a regular rhythm: beats in windows
  labelled ``irregular`` or ``undetermined`` (``PR_EXCLUDED_RHYTHMS``) and beats in
  windows that :func:`medmodal.ecg.af.ecg_af` labels ``"af"`` (atrial fibrillation has
  no P waves; the reason says "atrial fibrillation") are left out, and PR is withheld
  when P waves were found before fewer than half of the
  dominant beats in regular windows (``MIN_P_SHARE``: scattered "P waves" in an
  irregular record are fibrillation waves or noise);
- **QRS** duration is reported from the dominant beats;
- **QT and QTc** are reported only when the delineator passes the QT-database bar of
  :func:`medmodal.ecg.validation.qt_gate` under the lead convention it was used in (one
  lead, or both leads together); QTc is given with both Bazett's
  (``QT / RR^1/2``) and Fridericia's (``QT / RR^1/3``) formula, RR in seconds being the
  interval that ends at the beat.

A median needs ``MIN_BEATS`` (3) beats; otherwise the value is withheld with the reason.

Example:
    >>> from medmodal.ecg import ecg_simulate_annotated, ecg_delineate, ecg_rhythm
    >>> from medmodal.ecg.rr import ecg_rr
    >>> from medmodal.ecg.intervals import ecg_intervals
    >>> sim = ecg_simulate_annotated(30, 250, heart_rate=70, seed=0)
    >>> d = ecg_delineate(sim.signal, 250, peaks=sim.r_peaks)
    >>> rr = ecg_rr(sim.r_peaks, 250)
    >>> iv = ecg_intervals(d, rr, ecg_rhythm(sim.r_peaks, 250, n_samples=7500))
    >>> iv.summary()["pr_ms"] > 100, iv.summary()["qt_ms"], iv.qt_withheld[:11]
    (True, None, 'QT withheld')

References:
    Bazett HC. An analysis of the time-relations of electrocardiograms. Heart 7:353-370
    (1920). Fridericia LS. Die Systolendauer im Elektrokardiogramm bei normalen Menschen
    und bei Herzkranken. Acta Med Scand 53:469-486 (1920).
    Kligfield P et al. Recommendations for the standardization and interpretation of the
    electrocardiogram, part I. Circulation 115(10):1306-1324 (2007) (lead II as the
    rhythm and interval lead of the standard 12-lead ECG).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from medmodal.ecg.af import AFResult
from medmodal.ecg.delineate import Delineation
from medmodal.ecg.rhythm import Rhythm
from medmodal.ecg.rr import RRIntervals
from medmodal.ecg.validation import DelineationValidation, convention_for, qt_gate
from medmodal.errors import InvalidParameterError
from medmodal.types import BoolArray, FloatArray

__all__ = [
    "INTERVAL_LEADS",
    "MIN_BEATS",
    "MIN_P_SHARE",
    "PR_EXCLUDED_RHYTHMS",
    "QTC_FORMULAS",
    "ClinicalIntervals",
    "choose_interval_lead",
    "ecg_intervals",
]

#: Rhythm labels in which PR is not defined (AF/flutter labels belong here too).
PR_EXCLUDED_RHYTHMS = frozenset({"irregular", "undetermined"})
#: Fewest beats behind a reported median.
MIN_BEATS = 3
#: Smallest share of dominant beats in regular windows with a P wave for PR.
MIN_P_SHARE = 0.5
#: Lead names preferred for intervals when a record has them (the 12-lead convention).
INTERVAL_LEADS = ("II",)
#: QTc formulas by name.
QTC_FORMULAS = {
    "bazett": "QT / RR^(1/2), RR in s (Bazett 1920)",
    "fridericia": "QT / RR^(1/3), RR in s (Fridericia 1920)",
}
_COLUMNS = ("rr_ms", "pr_ms", "qrs_ms", "qt_ms", "qtc_bazett_ms", "qtc_fridericia_ms")


@dataclass(frozen=True, eq=False)
class ClinicalIntervals:
    """The reportable PR, QRS and QT of one recording.

    Attributes:
        beats: one row per beat, columns ``rr_ms``, ``pr_ms``, ``qrs_ms``, ``qt_ms``,
            ``qtc_bazett_ms``, ``qtc_fridericia_ms``: NaN where the beat does not count
            or the measurement is withheld.
        lead: the lead delineated.
        lead_reason: why that lead.
        method: the delineation method.
        n_dominant: beats that end an NN interval.
        pr_withheld: why PR is not reported (``""`` when it is).
        qrs_withheld: why QRS duration is not reported (``""`` when it is).
        qt_withheld: why QT/QTc are not reported (``""`` when they are).
        pr_note: how many beats gave the PR, and which were left out.
    """

    beats: pd.DataFrame
    lead: str
    lead_reason: str
    method: str
    n_dominant: int
    pr_withheld: str
    qrs_withheld: str
    qt_withheld: str
    pr_note: str = ""

    def median(self, column: str) -> float | None:
        """Median of one column over the beats that count (None when withheld)."""
        values = self.beats[column].to_numpy(dtype=np.float64)
        values = values[np.isfinite(values)]
        return float(np.median(values)) if values.size >= MIN_BEATS else None

    def n_beats(self, column: str) -> int:
        """Beats behind one column's median."""
        return int(np.isfinite(self.beats[column].to_numpy(dtype=np.float64)).sum())

    def summary(self) -> dict[str, Any]:
        """Medians (ms; None when withheld), beats behind each, reasons, lead, formulas."""
        return {
            "lead": self.lead,
            "lead_reason": self.lead_reason,
            "method": self.method,
            "beats_used": "dominant beats (ending an NN interval)",
            "n_dominant": self.n_dominant,
            "pr_ms": self.median("pr_ms"),
            "pr_n_beats": self.n_beats("pr_ms"),
            "pr_withheld": self.pr_withheld,
            "pr_note": self.pr_note,
            "qrs_ms": self.median("qrs_ms"),
            "qrs_n_beats": self.n_beats("qrs_ms"),
            "qrs_withheld": self.qrs_withheld,
            "qt_ms": self.median("qt_ms"),
            "qtc_bazett_ms": self.median("qtc_bazett_ms"),
            "qtc_fridericia_ms": self.median("qtc_fridericia_ms"),
            "qt_n_beats": self.n_beats("qt_ms"),
            "qt_withheld": self.qt_withheld,
            "qtc_formulas": dict(QTC_FORMULAS),
        }

    def to_frame(self) -> pd.DataFrame:
        """The per-beat table (a copy)."""
        return self.beats.copy()


def choose_interval_lead(
    lead_names: Sequence[str], usable: Sequence[int]
) -> tuple[int | None, str]:
    """The lead to delineate for intervals, and why; None lets the delineator choose.

    A record with a lead named ``II`` (a standard 12-lead ECG) is measured on lead II,
    the convention for PR, QRS and QT: leads differ (an early or late T end on one lead
    changes QT by tens of ms), so the number must name a fixed lead. Other multi-lead
    records (e.g. two-lead Holter ``MLII``/``V1``) get None: all their leads are
    delineated together (``ecg_delineate(..., leads=...)``), as on the QT database, whose
    cardiologists read both leads at once.

    Example:
        >>> choose_interval_lead(["I", "II", "III", "V1"], [0, 1, 2, 3])
        (1, 'lead II: the standard lead for PR, QRS and QT on a 12-lead ECG')
        >>> choose_interval_lead(["MLII", "V1"], [0, 1])
        (None, '')
    """
    if len(usable) == 1:
        return usable[0], f"{lead_names[usable[0]]}: the only lead analysed"
    for preferred in INTERVAL_LEADS:
        for k in usable:
            if lead_names[k].strip().upper() == preferred:
                return k, f"lead {preferred}: the standard lead for PR, QRS and QT on a 12-lead ECG"
    return None, ""


def ecg_intervals(
    delineation: Delineation,
    rr: RRIntervals,
    rhythm: Rhythm | None = None,
    *,
    lead_name: str | None = None,
    lead_reason: str = "",
    validation: DelineationValidation | None = None,
    af: AFResult | None = None,
) -> ClinicalIntervals:
    """Gate the per-beat intervals of ``delineation`` (see the module for the rules).

    Args:
        delineation: fiducial points of every beat.
        rr: the flagged RR intervals of the same beats.
        rhythm: rhythm per window (None: PR is withheld, the rhythm being unknown).
        lead_name: name of the delineated lead (default ``lead<k>``).
        lead_reason: why that lead, for the outputs.
        validation: QT-database figures for the QT gate (default: the shipped file).
        af: AF per window (:func:`medmodal.ecg.af.ecg_af`): beats in windows labelled
            ``"af"`` give no PR (None: no AF windows known).

    Raises:
        InvalidParameterError: ``rr`` was measured on other beats than ``delineation``.
    """
    if not np.array_equal(rr.peaks, delineation.r_peak):
        raise InvalidParameterError(
            f"ecg_intervals: rr holds {rr.peaks.size} beats and delineation "
            f"{delineation.n_beats}; both must come from the same R peaks"
        )
    beats = delineation._interval_columns()  # arrays: pandas indexing is slow per record
    dominant = np.concatenate([[False], rr.nn]) if rr.peaks.size else np.zeros(0, dtype=bool)
    for name in _COLUMNS[1:]:
        beats[name][~dominant] = np.nan
    times = delineation.r_peak / delineation.sampling_rate
    in_af = _in_af(af, times)
    regular = _regular(rhythm, times) & ~in_af
    pr_withheld, pr_note = _gate_pr(beats, dominant, regular, rhythm, af_share=_af_share(af))
    leads = delineation.leads or (delineation.lead,)
    gate = qt_gate(validation, method=delineation.method, convention=convention_for(len(leads)))
    if not gate.passed:
        for name in ("qt_ms", "qtc_bazett_ms", "qtc_fridericia_ms"):
            beats[name][:] = np.nan
    frame = pd.DataFrame({name: beats[name] for name in _COLUMNS})
    frame.index.name = "beat"
    return ClinicalIntervals(
        beats=frame,
        lead=lead_name or "+".join(f"lead{k}" for k in leads),
        lead_reason=lead_reason,
        method=delineation.method,
        n_dominant=int(dominant.sum()),
        pr_withheld=pr_withheld,
        qrs_withheld=_too_few("QRS", beats["qrs_ms"], int(dominant.sum())),
        qt_withheld=gate.reason or _too_few("QT", beats["qt_ms"], int(dominant.sum())),
        pr_note=pr_note,
    )


def _regular(rhythm: Rhythm | None, times: FloatArray) -> BoolArray:
    """Whether each beat lies in a window whose label allows PR."""
    if rhythm is None or times.size == 0:
        return np.zeros(times.size, dtype=bool)
    window = np.clip(np.searchsorted(rhythm.end_s, times, side="right"), 0, len(rhythm.label) - 1)
    allowed = np.array([lab not in PR_EXCLUDED_RHYTHMS for lab in rhythm.label], dtype=bool)
    return allowed[window]


def _in_af(af: AFResult | None, times: FloatArray) -> BoolArray:
    """Whether each beat lies in a window that ``af`` labels ``"af"``."""
    if af is None or times.size == 0 or not len(af.label):
        return np.zeros(times.size, dtype=bool)
    window = np.clip(np.searchsorted(af.end_s, times, side="right"), 0, len(af.label) - 1)
    return np.array([lab == "af" for lab in af.label], dtype=bool)[window]


def _af_share(af: AFResult | None) -> float:
    """Share of the windows labelled ``"af"`` (0 without AF)."""
    if af is None or not len(af.label):
        return 0.0
    return sum(lab == "af" for lab in af.label) / len(af.label)


def _gate_pr(
    beats: dict[str, FloatArray],
    dominant: BoolArray,
    regular: BoolArray,
    rhythm: Rhythm | None,
    *,
    af_share: float = 0.0,
) -> tuple[str, str]:
    """Blank PR where it does not count; return (withheld reason, note)."""
    candidates = dominant & regular
    has_p = candidates & np.isfinite(beats["pr_ms"])
    beats["pr_ms"][~has_p] = np.nan
    if rhythm is None:
        beats["pr_ms"][:] = np.nan
        return "PR withheld: the rhythm is unknown", ""
    shares = {k: v for k, v in rhythm.fractions.items() if k in PR_EXCLUDED_RHYTHMS and v > 0}
    time_out = ", ".join(f"{100 * v:.0f} % of the time {k}" for k, v in shares.items())
    if af_share > 0:
        af_text = f"{100 * af_share:.0f} % of the time atrial fibrillation"
        time_out = f"{af_text}, {time_out}" if time_out else af_text
    if candidates.sum() == 0 and af_share > 0:
        return (
            f"PR withheld: atrial fibrillation ({time_out}); PR needs a P wave in a regular rhythm",
            "",
        )
    if candidates.sum() == 0:
        why = f" ({time_out})" if time_out else ""
        return (
            f"PR withheld: no dominant beat in a regular rhythm window{why}; PR needs a "
            "P wave in a regular rhythm",
            "",
        )
    share = has_p.sum() / candidates.sum()
    if share < MIN_P_SHARE:
        beats["pr_ms"][:] = np.nan
        return (
            f"PR withheld: P waves found before {100 * share:.0f} % of the {candidates.sum()} "
            f"dominant beats in regular windows (at least {100 * MIN_P_SHARE:.0f} % needed)",
            "",
        )
    note = (
        f"median of {has_p.sum()} of {dominant.sum()} dominant beats: those with a P wave in "
        "a regular rhythm window" + (f"; left out: {time_out}" if time_out else "")
    )
    return _too_few("PR", beats["pr_ms"], int(dominant.sum())), note


def _too_few(name: str, column: FloatArray, n_dominant: int) -> str:
    n = int(np.isfinite(column).sum())
    if n >= MIN_BEATS:
        return ""
    return f"{name} withheld: measured on {n} of {n_dominant} dominant beats ({MIN_BEATS} needed)"
