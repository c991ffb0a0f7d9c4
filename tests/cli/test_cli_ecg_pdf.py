"""``medmodal ecg analyze RECORD --pdf out.pdf``: the one-page clinician's PDF."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from medmodal.cli.app import app
from medmodal.ecg.simulate import ecg_simulate

runner = CliRunner()


def _record(tmp_path: Path) -> Path:
    path = tmp_path / "sim-rec.npy"
    np.save(path, ecg_simulate(20, 250, heart_rate=72, seed=4))
    return path


def test_pdf_is_written_and_named_in_the_output(tmp_path: Path) -> None:
    record = _record(tmp_path)
    pdf = tmp_path / "out" / "page.pdf"
    args = ["ecg", "analyze", str(record), "--sampling-rate", "250", "--pdf", str(pdf)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"PDF (one page): {pdf}" in result.output.replace("\n", "")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") == 1
    pdftotext = shutil.which("pdftotext")
    if pdftotext:
        text = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, check=True).stdout
        assert b"ECG analysis: sim-rec" in text and b"Sampling rate: 250 Hz" in text
    # an existing PDF is kept unless --overwrite
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "already exists" in again.output
    assert pdf.read_bytes() == data


def test_pdf_path_must_end_pdf(tmp_path: Path) -> None:
    record = _record(tmp_path)
    args = ["ecg", "analyze", str(record), "--sampling-rate", "250", "--pdf"]
    result = runner.invoke(app, [*args, str(tmp_path / "page.png")])
    assert result.exit_code == 2
    assert "--pdf" in result.output and "must be a file ending .pdf" in result.output
    assert not (tmp_path / "page.png").exists()
