"""POST /v1/ecg/analyze carries the atrial fibrillation block (issue 14)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from tests.serve.conftest import one_file

from medmodal.ecg import ecg_simulate_annotated
from medmodal.serve.schemas import ECGAnalysis

URL = "/v1/ecg/analyze"


def _csv_bytes(rhythm: str) -> bytes:
    sim = ecg_simulate_annotated(120, 250, rhythm=rhythm, heart_rate=70, seed=2)
    buffer = io.StringIO()
    np.savetxt(buffer, sim.signal, header="II", comments="", delimiter=",")
    return buffer.getvalue().encode()


@pytest.mark.parametrize(("rhythm", "label"), [("afib", "atrial fibrillation"), ("sinus", "none")])
def test_reply_has_the_af_block(client: TestClient, rhythm: str, label: str) -> None:
    r = client.post(
        URL, files=one_file("ecg.csv", _csv_bytes(rhythm)), data={"sampling_rate": "250"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    ECGAnalysis.model_validate(body)
    block = body["atrial_fibrillation"]
    assert block["label"] == label
    if rhythm == "sinus":
        assert block["burden_pct"] == 0.0 and block["episodes"] == []
        assert body["rhythm_name"] == "sinus"
    else:
        assert block["n_episodes"] >= 1 and body["rhythm_name"] == "atrial fibrillation"
        assert body["intervals"]["pr_ms"] is None
        heart = body["heart_rate"]
        assert heart["n_af"] > 0.9 * heart["n_intervals"]
        assert heart["min_max_over"] == "NN intervals and the intervals in atrial fibrillation"
        assert body["beats"]["rr_flag"].count("af") == heart["n_af"]
