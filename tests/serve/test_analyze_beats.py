"""POST /v1/ecg/analyze carries the beat classes: counts, PVC burden, one class per beat
(issue 14 item 2)."""

from __future__ import annotations

import base64
import io

import numpy as np
from fastapi.testclient import TestClient
from tests.serve.conftest import one_file, wfdb_parts

from medmodal.data.bundled import bundled_path
from medmodal.ecg import ecg_simulate
from medmodal.serve.schemas import ECGAnalysis

URL = "/v1/ecg/analyze"


def test_reply_has_beat_classes_for_mitdb_119(client: TestClient) -> None:
    """The bundled MIT-BIH 119 excerpt (bigeminy): many V beats, one class per R peak."""
    r = client.post(URL + "?plot=true", files=wfdb_parts(bundled_path("mitdb-119"), "119"))
    assert r.status_code == 200, r.text
    body = r.json()
    ECGAnalysis.model_validate(body)
    block = body["beat_classes"]
    assert block["label"] == "classified" and block["reason"] == ""
    assert block["lead"] == "MLII"
    assert block["n_beats"] == body["n_beats"] == len(body["r_peaks"])
    assert block["counts"]["V"] > 60 and 15 < block["pvc_burden_pct"] < 40
    assert sum(block["counts"].values()) == block["n_beats"]
    classes = body["beats"]["beat_class"]
    assert len(classes) == len(body["beats"]["beat_class_p"]) == body["n_beats"]
    assert classes.count("V") == block["counts"]["V"]
    assert all(0 < p <= 1 for p in body["beats"]["beat_class_p"])
    assert base64.b64decode(body["plot_png"]).startswith(b"\x89PNG")


def test_short_record_says_unknown_not_an_error(client: TestClient) -> None:
    buffer = io.StringIO()
    np.savetxt(buffer, ecg_simulate(3, 250, heart_rate=70, seed=1), header="II", comments="")
    r = client.post(
        URL, files=one_file("short.csv", buffer.getvalue().encode()), data={"sampling_rate": "250"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    block = body["beat_classes"]
    assert block["label"] == "unknown" and "at least" in block["reason"]
    assert block["pvc_burden_pct"] is None and block["counts"]["unknown"] == body["n_beats"]
    assert set(body["beats"]["beat_class"]) <= {"unknown"}
    assert all(p is None for p in body["beats"]["beat_class_p"])


def test_schema_documents_the_beat_block(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert "beat_classes" in schema["ECGAnalysis"]["properties"]
    assert set(schema["BeatClassCounts"]["properties"]) == {"N", "S", "V", "F", "Q", "unknown"}
    assert {"beat_class", "beat_class_p"} <= set(schema["BeatSeries"]["properties"])


def test_flat_record_is_200_with_unknowns(client: TestClient) -> None:
    """A flat record (electrodes off, a blank export) is a well-formed request whose
    answer is "nothing to measure": 200 with the unknowns and the reason, as for a record
    too short for AF or beat labels (a 4xx would say the client sent something wrong)."""
    buffer = io.StringIO()
    np.savetxt(buffer, np.zeros(5000), header="II", comments="")
    r = client.post(
        URL, files=one_file("flat.csv", buffer.getvalue().encode()), data={"sampling_rate": "250"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    ECGAnalysis.model_validate(body)
    assert body["n_beats"] == 0 and body["r_peaks"] == [] and body["hrv"] is None
    assert body["heart_rate"]["mean_bpm"] is None and body["intervals"] is None
    assert body["rhythm"]["overall"] == "undetermined"
    assert all("flat" in w["reason"] for w in body["rhythm"]["windows"])
    assert body["atrial_fibrillation"]["label"] == "unknown"
    assert body["beat_classes"]["label"] == "unknown"
    assert (
        "flat" in body["beat_classes"]["reason"] and "flat" in body["atrial_fibrillation"]["reason"]
    )
    assert body["quality"]["overall"] == "unacceptable"
    assert any("the signal is flat" in note for note in body["notes"])
