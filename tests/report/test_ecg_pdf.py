"""The one-page PDF, rendered to PNG by poppler's ``pdftoppm`` and read back as text.

Skips, saying why, without poppler-utils (Debian: apt-get install poppler-utils; .ci/run
installs it).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from medmodal.data.bundled import load_bundled
from medmodal.ecg.process import ECGResult, ecg_process
from medmodal.ecg.simulate import ecg_simulate
from medmodal.report.ecg_pdf import PAGE_MM, ecg_pdf, write_ecg_pdf
from medmodal.viz.ecg_12lead import STANDARD_LEADS

PDFTOPPM = shutil.which("pdftoppm")
PDFTOTEXT = shutil.which("pdftotext")
needs_poppler = pytest.mark.skipif(
    PDFTOPPM is None,
    reason="pdftoppm is not installed (Debian: apt-get install -y poppler-utils; .ci/run does it)",
)
needs_text = pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) missing")
DPI = 100


def render(pdf: Path) -> list[np.ndarray]:
    """Every page of ``pdf`` as an RGB array (pdftoppm, 100 dpi)."""
    prefix = pdf.with_suffix("")
    subprocess.run([str(PDFTOPPM), "-r", str(DPI), "-png", str(pdf), str(prefix)], check=True)
    pages = sorted(pdf.parent.glob(f"{prefix.name}-*.png"))
    return [np.asarray(Image.open(p).convert("RGB")).astype(int) for p in pages]


def text_of(pdf: Path) -> str:
    out = subprocess.run(
        [str(PDFTOTEXT), "-layout", str(pdf), "-"], check=True, capture_output=True
    )
    return out.stdout.decode("utf-8")


def grid_fraction(page: np.ndarray) -> float:
    """Share of pixels in the ECG paper's pink (grid lines, anti-aliased on white)."""
    r, g, b = page[..., 0], page[..., 1], page[..., 2]
    return float(((r > 200) & (r - g > 20) & (np.abs(g - b) < 15)).mean())


@pytest.fixture(scope="module")
def result_100() -> ECGResult:
    record = load_bundled("mitdb-100").crop(0, 30)
    return ecg_process(
        record.signal, record.sampling_rate, lead_names=record.lead_names, metadata=record.meta
    )


@pytest.fixture(scope="module")
def result_12() -> ECGResult:
    base = ecg_simulate(12, 500, heart_rate=70, seed=3)
    signal = np.stack([base * (0.4 + 0.1 * k) for k in range(12)], axis=1)
    return ecg_process(signal, 500, lead_names=STANDARD_LEADS)


@needs_poppler
def test_pdf_is_one_a4_page_with_ink_and_paper_grid(tmp_path: Path, result_100: ECGResult) -> None:
    pdf = write_ecg_pdf(tmp_path / "100.pdf", result_100, record_name="100", units="mV")
    pages = render(pdf)
    assert len(pages) == 1
    page = pages[0]
    width_px, height_px = (round(mm / 25.4 * DPI) for mm in PAGE_MM)
    assert abs(page.shape[1] - width_px) <= 2 and abs(page.shape[0] - height_px) <= 2
    dark = float((page.sum(axis=2) < 3 * 128).mean())
    assert dark > 0.01  # traces and text: not a blank page (about 2 % here)
    assert grid_fraction(page) > 0.05  # the ECG paper's grid (about 11 % here)
    # the grid sits in the upper half, the text columns below it
    top, bottom = page[: page.shape[0] // 2], page[page.shape[0] // 2 :]
    assert grid_fraction(top) > 4 * grid_fraction(bottom)


@needs_poppler
@needs_text
def test_pdf_text_holds_the_page(tmp_path: Path, result_100: ECGResult) -> None:
    pdf = write_ecg_pdf(tmp_path / "a.pdf", result_100, record_name="rec-100", notes=["careful"])
    text = text_of(pdf)
    summary = result_100.summary()
    for expected in (
        "ECG analysis: rec-100",
        "Sampling rate: 360 Hz",
        "Measurements",
        f"{summary['heart_rate']['mean_bpm']:.0f} bpm",
        "60-100 bpm",
        "120-200 ms",
        "Findings",
        "Lead used and why",
        "Withheld and why",
        "QT withheld",
        "careful",
        "MLII",
        "25 mm/s, 10 mm/mV",
        "not a medical device",
    ):
        assert expected in text, expected


@needs_poppler
@needs_text
def test_twelve_lead_record_gets_the_standard_page(tmp_path: Path, result_12: ECGResult) -> None:
    pdf = write_ecg_pdf(tmp_path / "twelve.pdf", result_12, record_name="sim12")
    pages = render(pdf)
    assert len(pages) == 1 and grid_fraction(pages[0]) > 0.05
    text = text_of(pdf)
    assert "3 x 4 leads of 2.5 s" in text and "rhythm strip II" in text
    for lead in ("aVR", "aVL", "aVF", "V1", "V6"):
        assert lead in text


@needs_poppler
@needs_text
def test_overflowing_notes_stay_on_one_page(tmp_path: Path, result_12: ECGResult) -> None:
    notes = [f"note {i}: " + "a long caveat that wraps over lines " * 3 for i in range(40)]
    pdf = tmp_path / "long.pdf"
    pdf.write_bytes(ecg_pdf(result_12, record_name="long", notes=notes, units="uV"))
    assert len(render(pdf)) == 1
    text = text_of(pdf)
    assert "the HTML page has the rest" in text
    assert "note 0:" in text and "note 39:" not in text


def test_pdf_bytes_without_poppler(result_100: ECGResult) -> None:
    """Runs everywhere: a PDF with one page object and its title in the metadata."""
    data = ecg_pdf(result_100, record_name="100")
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") == 1
    assert b"ECG analysis: 100" in data  # /Title


@pytest.mark.data
@needs_poppler
@needs_text
def test_ptbxl_record_on_the_standard_page(tmp_path: Path, ptbxl_dir: Path) -> None:
    """A real PTB-XL 12-lead record (leads named AVR, AVL, AVF) gets the 3 x 4 page."""
    from medmodal.io import read_record

    header = sorted((ptbxl_dir / "records100").rglob("*.hea"))[0]
    record = read_record(header)
    result = ecg_process(record.signal, record.sampling_rate, lead_names=record.lead_names)
    pdf = write_ecg_pdf(tmp_path / "ptbxl.pdf", result, record_name=record.name, units=record.units)
    pages = render(pdf)
    assert len(pages) == 1 and grid_fraction(pages[0]) > 0.05
    text = text_of(pdf)
    assert "3 x 4 leads of 2.5 s" in text and "aVR" in text
    assert "amplitude unit" not in text  # PTB-XL is in mV: no uncalibrated-unit note
