"""The clinician's page content (:mod:`medmodal.report.ecg_page`) on a real record."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

import medmodal
from medmodal.data.bundled import load_bundled
from medmodal.ecg.process import ECGResult, ecg_process
from medmodal.ecg.simulate import ecg_simulate
from medmodal.report.ecg_page import NORMAL_RANGES, beat_rows, ecg_page, finding_rows, rate_rows


@pytest.fixture(scope="module")
def result_100() -> ECGResult:
    record = load_bundled("mitdb-100").crop(0, 30)
    return ecg_process(
        record.signal, record.sampling_rate, lead_names=record.lead_names, metadata=record.meta
    )


def test_header_is_patient_free_and_names_the_analysis(result_100: ECGResult) -> None:
    when = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    page = ecg_page(result_100, record_name="100", analysed_at=when)
    header = dict(page.header)
    assert header == {
        "Record": "100",
        "Analysed": "2026-01-02 03:04 UTC",
        "medmodal": medmodal.__version__,
        "Sampling rate": "360 Hz",
        "Duration": "30.0 s",
        "Leads": "MLII, V5",
    }
    text = json.dumps(page.to_dict())
    # the record's header holds age 69, sex M and two drugs: none reaches the page
    for private in ("Aldomet", "Inderal", "69 M", '"M"', "age", "sex"):
        assert private not in text


def test_measurements_have_units_ranges_and_the_summary_numbers(result_100: ECGResult) -> None:
    summary = result_100.summary()
    rows = {r.name: r for r in ecg_page(result_100, record_name="100").measurements}
    assert rows["Heart rate, mean"].value == f"{summary['heart_rate']['mean_bpm']:.0f} bpm"
    assert rows["Heart rate, mean"].normal == NORMAL_RANGES["heart_rate"] == "60-100 bpm"
    assert rows["PR"].value == f"{summary['intervals']['pr_ms']:.0f} ms"
    assert rows["PR"].normal == "120-200 ms"
    assert rows["QRS"].value.endswith(" ms") and rows["QRS"].normal == "< 120 ms"
    assert rows["SDNN"].value == f"{summary['hrv']['sdnn_ms']:.0f} ms"
    # 30 s of HRV against 5-min norms: the page says so
    assert "5-min" in rows["LF/HF"].note
    # QT is withheld on this record (T-offset error over tolerance): value and reason
    assert summary["intervals"]["qt_withheld"]
    assert rows["QT"].value == rows["QTc, Bazett"].value == "withheld"


def test_withheld_lists_every_reason_and_leads_say_why(result_100: ECGResult) -> None:
    page = ecg_page(result_100, record_name="100", notes=["a reader warning"])
    summary = result_100.summary()
    assert summary["intervals"]["qt_withheld"] in page.withheld
    assert any(w.startswith("HRV frequency measures") for w in page.withheld)  # 30 s < 120 s
    leads = dict(page.leads_used)
    assert leads["R peaks"] == summary["peak_lead_reason"]
    assert leads["PR, QRS, QT"] == summary["intervals"]["lead_reason"]
    assert "a reader warning" in page.notes
    findings = dict(page.findings)
    assert findings["Rhythm"].startswith("sinus")
    assert findings["Atrial fibrillation"].startswith("none")


def test_short_record_withholds_hrv_and_af_with_reasons() -> None:
    signal = ecg_simulate(3, 250, heart_rate=60, seed=1)
    page = ecg_page(ecg_process(signal, 250), record_name="short")
    withheld = " | ".join(page.withheld)
    assert "Atrial fibrillation:" in withheld
    assert dict(page.findings)["Atrial fibrillation"] == "unknown (see Withheld)"


def _beats_block(**extra: Any) -> dict[str, Any]:
    return {
        "n_beats": 100,
        "counts": {"N": 90, "S": 3, "V": 7, "F": 0, "Q": 0, "unknown": 0},
        "pvc_per_hour": 840.0,
        "pvc_burden_pct": 7.0,
        "sve_count": 3,
        "sve_per_hour": 360.0,
        "model": "aami-beats-v1",
        "lead": "MLII",
        "label": "classified",
        **extra,
    }


def test_beat_classes_are_rendered_when_the_summary_has_them(result_100: ECGResult) -> None:
    real = result_100.summary()
    assert dict(finding_rows(real))["Beat classes"].startswith("N ")  # ecg_process adds them
    summary = {key: value for key, value in real.items() if key != "beat_classes"}
    assert "Beat classes" not in dict(finding_rows(summary))
    findings = dict(finding_rows({**summary, "beat_classes": _beats_block()}))
    assert findings["Beat classes"] == "N 90 · S 3 · V 7 · F 0 · Q 0 · unknown 0"
    assert findings["Ventricular ectopics (V)"] == "840.0 per hour, burden 7.0 %"
    assert findings["Supraventricular ectopics (S)"] == "3 (360.0 per hour)"
    assert findings["Beat model, lead"] == "aami-beats-v1, MLII"
    unknown = dict(beat_rows(_beats_block(label="unknown", reason="fewer than 8 beats")))
    assert unknown == {"Beat classes": "unknown: fewer than 8 beats"}


def test_nan_values_read_n_a_not_nan() -> None:
    flat = np.zeros(2500)
    flat[::250] = 1.0  # spikes only: a rate, no waves
    page = ecg_page(ecg_process(flat + 1e-3 * np.sin(np.arange(2500)), 250), record_name="x")
    values = [row.value for row in page.measurements]
    assert not [v for v in values if "nan" in v.lower()], values
    assert "withheld" in values  # LF/HF over 8 s of NN intervals


def test_rate_rows_count_af_intervals_and_label_the_range() -> None:
    """Issue 14: in AF the page names the intervals in AF and what the range is over."""
    from medmodal.ecg import ecg_simulate_annotated

    sim = ecg_simulate_annotated(120, 250, rhythm="afib", seed=2)
    rows = {row.name: row for row in rate_rows(ecg_process(sim.signal, 250).summary())}
    assert rows["Heart rate, range"].note == (
        "beat to beat, over NN intervals and the intervals in atrial fibrillation"
    )
    assert "RR intervals in atrial fibrillation" in rows["Beats"].note
