"""POST /v1/ecg/analyze/report.pdf and .../report.html: the clinician's page of an upload."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.serve.conftest import one_file, wfdb_parts

from medmodal.report.ecg_html import css_hash

PDF_URL = "/v1/ecg/analyze/report.pdf"
HTML_URL = "/v1/ecg/analyze/report.html"


def test_pdf_of_a_wfdb_upload(
    client: TestClient, record_files: dict[str, Path], tmp_path: Path
) -> None:
    r = client.post(PDF_URL, files=wfdb_parts(record_files["wfdb"]))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    # named by the uploaded file's own name, not the server's temporary one
    assert r.headers["content-disposition"] == 'inline; filename="r100-ecg.pdf"'
    assert r.content.startswith(b"%PDF-")
    assert r.content.count(b"/Type /Page\n") + r.content.count(b"/Type /Page ") == 1
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.skip("pdftotext (poppler-utils) is not installed; the PDF text is not checked")
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(r.content)
    text = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, check=True).stdout
    assert b"ECG analysis: r100" in text and b"Sampling rate: 360 Hz" in text
    assert b"/tmp" not in text and b"record.hea" not in text


def test_html_page_with_its_options_and_a_strict_csp(
    client: TestClient, record_files: dict[str, Path]
) -> None:
    data = {"lead": "V5", "window": "5"}
    r = client.post(
        HTML_URL, files=one_file("r100.csv", record_files["csv"].read_bytes()), data=data
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert csp.startswith("default-src 'none'") and f"style-src {css_hash()}" in csp
    assert "script-src" not in csp  # falls back to 'none': nothing runs
    assert r.headers["x-content-type-options"] == "nosniff"
    page = r.text
    assert "<h1>ECG analysis: r100</h1>" in page
    assert "<dt>Leads</dt><dd>V5</dd>" in page  # the lead option was applied


def test_errors_are_the_analysis_errors_as_json(
    make_client: Callable[..., TestClient], record_files: dict[str, Path]
) -> None:
    client = make_client()
    bad = client.post(PDF_URL, files=one_file("notes.csv", b"not,an\necg,x\n"))
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/json"
    assert bad.json()["error"]["field"] == "file"
    r = client.post(HTML_URL, files=one_file("r100.npy", record_files["npy"].read_bytes()))
    assert r.status_code == 422 and r.json()["error"]["field"] == "sampling_rate"
    r = client.post(PDF_URL, files=one_file("r100.csv", b"x"), data={"window": "1"})
    assert r.status_code == 422
    keyed = make_client(api_key="k3y")
    csv = one_file("r100.csv", record_files["csv"].read_bytes())
    assert keyed.post(PDF_URL, files=csv).status_code == 401
    ok = keyed.post(PDF_URL, files=csv, headers={"X-API-Key": "k3y"})
    assert ok.status_code == 200 and ok.content.startswith(b"%PDF-")


def test_routes_are_in_the_openapi_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "application/pdf" in paths[PDF_URL]["post"]["responses"]["200"]["content"]
    assert "text/html" in paths[HTML_URL]["post"]["responses"]["200"]["content"]
