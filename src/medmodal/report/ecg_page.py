"""The clinician's ECG page: what one analysis says, in the order a reader needs it.

:func:`ecg_page` turns an :class:`~medmodal.ecg.process.ECGResult` into an
:class:`ECGPage`: a patient-free header (record name, date of analysis, medmodal version,
sampling rate, duration), measurements with their units and adult resting normal ranges,
the rhythm, atrial-fibrillation and beat findings, the lead each measurement used and
why, and what was withheld and why. The one-page PDF (:mod:`medmodal.report.ecg_pdf`)
and the HTML page (:mod:`medmodal.report.ecg_html`) both render this one object, so
they cannot disagree. Every number is :meth:`ECGResult.summary
<medmodal.ecg.process.ECGResult.summary>`'s, as in ``medmodal ecg analyze`` and the API.

Normal ranges are those of resting adults; the page says so. HRV ranges are short-term
(5-min) norms and are quoted as such (a shorter record is flagged in the note).

References:
    Kligfield P, et al. Recommendations for the standardization and interpretation of
    the electrocardiogram, part I. Circulation 2007;115:1306-24 (heart rate, PR).
    Surawicz B, et al. Part III: intraventricular conduction disturbances. Circulation
    2009;119:e235-40 (QRS >= 120 ms: complete bundle-branch block range).
    Rautaharju PM, et al. Part IV: the ST segment, T and U waves, and the QT interval.
    Circulation 2009;119:e241-50 (QTc > 450 ms men, > 460 ms women: prolonged).
    Nunan D, Sandercock GRH, Brodie DA. A quantitative systematic review of normal values
    for short-term heart rate variability in healthy adults. Pacing Clin Electrophysiol
    2010;33:1407-17 (SDNN 32-93 ms, RMSSD 19-75 ms, LF/HF 1.1-11.6).

Example:
    >>> from medmodal.ecg.simulate import ecg_simulate
    >>> from medmodal.ecg.process import ecg_process
    >>> page = ecg_page(ecg_process(ecg_simulate(20, 250, seed=0), 250), record_name="sim")
    >>> page.title, [row.name for row in page.measurements][:2]
    ('ECG analysis: sim', ['Heart rate, mean', 'Heart rate, median'])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import medmodal

#: Adult resting normal ranges shown beside each measurement (see the References).
NORMAL_RANGES = {
    "heart_rate": "60-100 bpm",
    "pr": "120-200 ms",
    "qrs": "< 120 ms",
    "qt": "rate-dependent: see QTc",
    "qtc": "\u2264 450 ms (M), \u2264 460 ms (F)",
    "sdnn": "32-93 ms (5 min)",
    "rmssd": "19-75 ms (5 min)",
    "lf_hf": "1.1-11.6 (5 min)",
}
#: Length (s) of the recordings the HRV norms come from.
HRV_NORM_S = 300.0
DISCLAIMER = "Research software, not a medical device: a clinician reads every result."


@dataclass(frozen=True)
class Row:
    """One measurement: its name, value with unit, normal range and a note."""

    name: str
    value: str
    normal: str = ""
    note: str = ""


@dataclass(frozen=True)
class ECGPage:
    """The content of the clinician's page (rendered as PDF or HTML).

    Attributes:
        title: ``"ECG analysis: <record>"``.
        header: (label, value) pairs: record, analysed (UTC), medmodal version, sampling
            rate, duration, leads. No patient data (the record's age, sex and
            medications are never shown).
        measurements: rate, PR, QRS, QT/QTc and HRV rows (withheld ones say so).
        findings: (label, text): rhythm, atrial fibrillation, signal quality, beats.
        leads_used: (what, lead and why): R peaks and the intervals.
        withheld: what was not reported, each with its reason.
        notes: caveats of the analysis (warnings, resampling, flagged RR intervals).
        disclaimer: the research-software line.
    """

    title: str
    header: tuple[tuple[str, str], ...]
    measurements: tuple[Row, ...]
    findings: tuple[tuple[str, str], ...]
    leads_used: tuple[tuple[str, str], ...]
    withheld: tuple[str, ...]
    notes: tuple[str, ...]
    disclaimer: str = DISCLAIMER

    def to_dict(self) -> dict[str, Any]:
        """The page as plain lists and dicts (JSON-serialisable)."""
        return asdict(self)


def ecg_page(
    result: Any,
    *,
    record_name: str,
    notes: Sequence[str] = (),
    analysed_at: datetime | None = None,
) -> ECGPage:
    """The clinician's page of one analysis.

    Args:
        result: an :class:`~medmodal.ecg.process.ECGResult`.
        record_name: the record's name or file name (shown in the title).
        notes: warnings raised while reading or analysing (shown under "Notes").
        analysed_at: date of the analysis (default: now, UTC).

    Returns:
        The :class:`ECGPage`.
    """
    summary = result.summary()
    when = (analysed_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        ("Record", record_name),
        ("Analysed", when),
        ("medmodal", medmodal.__version__),
        ("Sampling rate", f"{summary['sampling_rate_hz']:g} Hz"),
        ("Duration", f"{summary['duration_s']:.1f} s"),
        ("Leads", ", ".join(summary["leads"])),
    )
    withheld = _withheld(summary)
    return ECGPage(
        title=f"ECG analysis: {record_name}",
        header=header,
        measurements=tuple(rate_rows(summary) + interval_rows(summary) + hrv_rows(summary)),
        findings=tuple(finding_rows(summary)),
        leads_used=tuple(_leads_used(summary)),
        withheld=tuple(withheld),
        notes=tuple(dict.fromkeys([*summary.get("notes", []), *notes])),
    )


def rate_rows(summary: dict[str, Any]) -> list[Row]:
    """Mean and median heart rate, and the beat-to-beat range over NN intervals (and
    those in atrial fibrillation)."""
    hr = summary["heart_rate"]
    return [
        Row("Heart rate, mean", _num(hr["mean_bpm"], "bpm"), NORMAL_RANGES["heart_rate"]),
        Row("Heart rate, median", _num(hr["median_bpm"], "bpm"), NORMAL_RANGES["heart_rate"]),
        Row(
            "Heart rate, range",
            f"{_num(hr['min_bpm'], '')}-{_num(hr['max_bpm'], 'bpm')}",
            note=f"beat to beat, over {hr.get('min_max_over', 'NN intervals')}",
        ),
        Row("Beats", str(summary["n_beats"]), note=str(hr.get("note", ""))),
    ]


def interval_rows(summary: dict[str, Any]) -> list[Row]:
    """PR, QRS, QT and QTc (Bazett, Fridericia) with their beats, or "withheld"."""
    iv = summary.get("intervals")
    if not iv:
        return []
    out = [
        _interval("PR", iv["pr_ms"], iv["pr_withheld"], "pr", iv.get("pr_note", "")),
        _interval("QRS", iv["qrs_ms"], iv["qrs_withheld"], "qrs", f"{iv['qrs_n_beats']} beats"),
        _interval("QT", iv["qt_ms"], iv["qt_withheld"], "qt", f"{iv['qt_n_beats']} beats"),
    ]
    for key, name in (("qtc_bazett_ms", "QTc, Bazett"), ("qtc_fridericia_ms", "QTc, Fridericia")):
        out.append(_interval(name, iv[key], iv["qt_withheld"], "qtc", ""))
    return out


def hrv_rows(summary: dict[str, Any]) -> list[Row]:
    """SDNN, RMSSD, pNN50 and LF/HF; the norms are 5-min ones and the note says so."""
    hrv = summary.get("hrv")
    if not hrv:
        return []
    short = hrv["duration_s"] < HRV_NORM_S
    note = f"HRV over {hrv['duration_s']:.0f} s; the norms are of 5-min records" if short else ""
    lf_hf = "withheld" if _missing(hrv["lf_hf"]) else _num(hrv["lf_hf"], "", digits=2)
    return [
        Row("SDNN", _num(hrv["sdnn_ms"], "ms"), NORMAL_RANGES["sdnn"]),
        Row("RMSSD", _num(hrv["rmssd_ms"], "ms"), NORMAL_RANGES["rmssd"]),
        Row("pNN50", _num(hrv["pnn50_pct"], "%", digits=1)),
        Row("LF/HF", lf_hf, NORMAL_RANGES["lf_hf"], note),
    ]


def finding_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """Rhythm, atrial fibrillation, signal quality and (when present) beat classes."""
    rhythm = summary.get("rhythm_name", summary["rhythm"])
    out = [
        ("Rhythm", f"{rhythm} ({_fractions(summary['rhythm_fractions'])})"),
        ("Atrial fibrillation", _af(summary.get("atrial_fibrillation"))),
        ("Signal quality", f"{summary['quality']} ({_fractions(summary['quality_fractions'])})"),
    ]
    beats = summary.get("beat_classes")
    if beats:
        out.extend(beat_rows(beats))
    return out


def beat_rows(block: dict[str, Any]) -> list[tuple[str, str]]:
    """The beat-class findings: counts per class, PVC rate and burden, SVE rate."""
    if block.get("label") == "unknown":
        return [("Beat classes", f"unknown: {block.get('reason', 'no reason given')}")]
    counts = block.get("counts") or {}
    shown = " · ".join(f"{k} {v}" for k, v in counts.items())
    out = [("Beat classes", shown or "none")]
    pvc = (
        f"{_num(block.get('pvc_per_hour'), 'per hour', digits=1)}, burden "
        f"{_num(block.get('pvc_burden_pct'), '%', digits=1)}"
    )
    out.append(("Ventricular ectopics (V)", pvc))
    sve = (
        f"{block.get('sve_count', 'n/a')} ({_num(block.get('sve_per_hour'), 'per hour', digits=1)})"
    )
    out.append(("Supraventricular ectopics (S)", sve))
    where = ", ".join(str(block[k]) for k in ("model", "lead") if block.get(k))
    if where:
        out.append(("Beat model, lead", where))
    return out


def _leads_used(summary: dict[str, Any]) -> list[tuple[str, str]]:
    out = [("R peaks", summary.get("peak_lead_reason") or str(summary["peak_lead"]))]
    iv = summary.get("intervals")
    if iv:
        out.append(("PR, QRS, QT", str(iv.get("lead_reason") or iv.get("lead"))))
    beats = summary.get("beat_classes")
    if beats and beats.get("lead"):
        out.append(("Beat classes", str(beats["lead"])))
    return out


def _withheld(summary: dict[str, Any]) -> list[str]:
    out: list[str] = []
    iv = summary.get("intervals")
    if not iv:
        out.append("PR, QRS, QT: not delineated")
    else:
        out.extend(str(iv[k]) for k in ("pr_withheld", "qrs_withheld", "qt_withheld") if iv[k])
    hrv = summary.get("hrv")
    if not hrv:
        out.append("HRV: fewer than 3 beats")
    elif hrv.get("notes") and _missing(hrv.get("lf_hf")):
        out.append(f"HRV frequency measures (LF, HF, LF/HF): {hrv['notes']}")
    af = summary.get("atrial_fibrillation")
    if af and af.get("label") == "unknown":
        out.append(f"Atrial fibrillation: {af.get('reason') or 'could not be judged'}")
    return out


def _interval(name: str, value: float | None, withheld: str, key: str, note: str) -> Row:
    if withheld:
        return Row(name, "withheld", NORMAL_RANGES[key])
    return Row(name, _num(value, "ms"), NORMAL_RANGES[key], note)


def _af(block: dict[str, Any] | None) -> str:
    if not block:
        return "not assessed"
    if block["label"] == "unknown":
        return "unknown (see Withheld)"
    text = f"{block['label']}: {block['burden_pct']:.1f} % burden, {block['n_episodes']} episode(s)"
    spans = ", ".join(f"{e['start_s']:.0f}-{e['end_s']:.0f} s" for e in block["episodes"][:5])
    more = " ..." if block["n_episodes"] > 5 else ""
    return text + (f" at {spans}{more}" if spans else "")


def _fractions(fractions: dict[str, float]) -> str:
    return ", ".join(f"{k} {100 * v:.0f} %" for k, v in fractions.items() if v > 0) or "no windows"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _num(value: Any, unit: str, *, digits: int = 0) -> str:
    """``value`` with its unit, or ``"n/a"`` for None/NaN."""
    if _missing(value):
        return "n/a"
    text = f"{float(value):.{digits}f}"
    return f"{text} {unit}" if unit else text
