"""The clinician's HTML page: same content as the PDF, semantic, script-free, escaped."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from html.parser import HTMLParser

import pytest
from PIL import Image

from medmodal.data.bundled import load_bundled
from medmodal.ecg.process import ECGResult, ecg_process
from medmodal.report.ecg_html import PAGE_CSS, STRIPS_DPI, css_hash, ecg_html
from medmodal.report.ecg_page import ecg_page
from medmodal.report.ecg_strips import GRID_WIDTH_MM


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def result_100() -> ECGResult:
    record = load_bundled("mitdb-100").crop(0, 30)
    return ecg_process(
        record.signal, record.sampling_rate, lead_names=record.lead_names, metadata=record.meta
    )


def test_page_is_semantic_and_holds_the_pdf_content(result_100: ECGResult) -> None:
    html = ecg_html(result_100, record_name="100", units=("mV", "mV"))
    parser = _Tags()
    parser.feed(html)
    names = [t for t, _ in parser.tags]
    assert names.count("h1") == 1 and names.count("h2") >= 5
    assert "script" not in names and "link" not in names  # nothing runs, nothing is fetched
    assert "http" not in html
    assert all(a.get("scope") in ("row", "col") for t, a in parser.tags if t == "th")
    lang = next(a for t, a in parser.tags if t == "html")
    assert lang.get("lang") == "en"
    text = " ".join(" ".join(parser.text).split())
    page = ecg_page(result_100, record_name="100")
    for row in page.measurements:
        assert row.name in text and row.value in text and row.normal in text
    for label, value in (*page.findings, *page.leads_used):
        assert label in text and value in text
    for reason in page.withheld:
        assert reason in text


def test_strips_image_is_true_size_with_a_text_alternative(result_100: ECGResult) -> None:
    html = ecg_html(result_100, record_name="100")
    parser = _Tags()
    parser.feed(html)
    (img,) = [a for t, a in parser.tags if t == "img"]
    assert "MLII" in str(img["alt"]) and "25 mm/s" in str(img["alt"])
    src = str(img["src"])
    assert src.startswith("data:image/png;base64,")
    png = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
    assert abs(png.width - GRID_WIDTH_MM * STRIPS_DPI / 25.4) <= 2  # 260 mm at 150 dpi
    assert re.search(r"@media print\{.*figure img\{width:260mm", PAGE_CSS, re.S)
    assert ".screen-only{display:none}" in PAGE_CSS


def test_record_name_and_notes_are_escaped(result_100: ECGResult) -> None:
    html = ecg_html(result_100, record_name="<script>x</script>", notes=["a & <b>"])
    assert "<script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "a &amp; &lt;b&gt;" in html


def test_css_hash_matches_the_inline_style() -> None:
    digest = base64.b64encode(hashlib.sha256(PAGE_CSS.encode()).digest()).decode()
    assert css_hash() == f"'sha256-{digest}'"
