"""API errors in the client's words: its own file names, the form field, the missing part."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from tests.serve.conftest import one_file, wfdb_parts

from medmodal.ecg.simulate import ecg_simulate


@pytest.fixture(scope="module")
def csv_without_rate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("csv") / "203.csv"
    np.savetxt(path, ecg_simulate(10, 250, seed=1), header="II", comments="", delimiter=",")
    return path


def test_api_names_the_uploaded_file_and_its_form_field(
    client: TestClient, csv_without_rate: Path
) -> None:
    r = client.post("/v1/ecg/analyze", files=one_file("203.csv", csv_without_rate.read_bytes()))
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["field"] == "sampling_rate"
    assert "203.csv" in error["message"] and "record.csv" not in error["message"]
    assert "sampling_rate=" not in error["message"]


def test_api_names_the_missing_dat(client: TestClient, record_files: dict[str, Path]) -> None:
    header_only = wfdb_parts(record_files["wfdb"])[:1]  # r100.hea without r100.dat
    r = client.post("/v1/ecg/analyze", files=header_only)
    assert r.status_code == 422
    message = r.json()["error"]["message"]
    assert "r100.hea" in message and "r100.dat" in message and "not uploaded" in message
    dat_only = wfdb_parts(record_files["wfdb"])[1:]
    r = client.post("/v1/ecg/analyze", files=dat_only)
    assert r.status_code == 422 and "r100.dat" in r.json()["error"]["message"]
    assert ".hea" in r.json()["error"]["message"]
