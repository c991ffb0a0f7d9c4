"""The report page: self-contained, escaped, every section and figure linked."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from medmodal.errors import InvalidParameterError
from medmodal.report.html import render_report, write_report
from medmodal.report.section import (
    ReportFigure,
    ReportTable,
    SectionContent,
    SectionContext,
    SectionResult,
    save_figure,
)


def _sections(root: Path) -> list[SectionResult]:
    (root / "a").mkdir(parents=True)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    png = save_figure(fig, root / "a", "line")
    table = ReportTable(
        "scores",
        pd.DataFrame({"method": ["early", "<b>late</b>"], "AUROC": [0.91234, float("nan")]}),
        note="95 % CI by bootstrap",
        float_format="{:.2f}",
    )
    ok = SectionResult(
        "a",
        "Section A",
        "ok",
        1.5,
        SectionContent(
            intro="Intro <script>alert(1)</script>",
            tables=[table],
            figures=[ReportFigure(png, "A falling line.", group="group 1")],
            meaning="Higher is better.",
            headline="AUROC 0.91",
        ),
    )
    failed = SectionResult(
        "b", "Section B", "error", 0.1, SectionContent(), error="RuntimeError: boom", details="tb"
    )
    return [ok, failed]


def test_page_links_every_section_and_figure(tmp_path: Path) -> None:
    page = render_report(_sections(tmp_path), root=tmp_path, settings={"seed": 3})
    assert page.count('href="#a"') == 2  # contents and overview
    assert 'id="a"' in page
    assert 'id="b"' in page
    assert 'src="a/line.png"' in page
    assert "group 1" in page
    assert "seed=3" in page
    assert "What the numbers mean." in page
    assert "Higher is better." in page


def test_page_is_offline_and_escaped(tmp_path: Path) -> None:
    page = render_report(_sections(tmp_path), root=tmp_path, settings={})
    assert "http://" not in page
    assert "https://" not in page
    assert "<script" not in page
    assert "&lt;script&gt;" in page
    assert "&lt;b&gt;late&lt;/b&gt;" in page


def test_tables_format_numbers_and_missing_values(tmp_path: Path) -> None:
    page = render_report(_sections(tmp_path), root=tmp_path, settings={})
    assert '<td class="num">0.91</td>' in page
    assert '<td class="num">–</td>' in page
    assert "95 % CI by bootstrap" in page


def test_failed_section_shows_its_error(tmp_path: Path) -> None:
    page = render_report(_sections(tmp_path), root=tmp_path, settings={})
    assert "This section failed:</strong> RuntimeError: boom" in page
    assert page.count("badge failed") == 3  # contents, overview, heading


def test_write_report_creates_index(tmp_path: Path) -> None:
    out = tmp_path / "report"
    path = write_report(_sections(out), out, settings={})
    assert path == out / "index.html"
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_save_figure_rejects_paths(tmp_path: Path) -> None:
    fig, _ = plt.subplots()
    with pytest.raises(InvalidParameterError, match="plain file stem"):
        save_figure(fig, tmp_path, "../escape")
    plt.close(fig)


@pytest.mark.parametrize(("quick", "expected"), [(False, 10), (True, 5)])
def test_context_scale_halves_in_quick_mode(quick: bool, expected: int) -> None:
    assert SectionContext(Path("."), quick=quick).scale(10) == expected
    assert SectionContext(Path("."), quick=True).scale(1) == 1


def test_a_quick_run_says_so_at_the_top_of_the_page(tmp_path: Path) -> None:
    """--quick pages carry the smoke-run line before any number; full runs do not."""
    from medmodal.report.html import SMOKE_BANNER

    sections = _sections(tmp_path)
    quick = render_report(sections, root=tmp_path, settings={"quick": True})
    full = render_report(sections, root=tmp_path, settings={"quick": False})
    assert SMOKE_BANNER.split(":")[0] in quick and 'class="smoke"' in quick
    assert quick.index('class="smoke"') < quick.index("<section")
    assert 'class="smoke"' not in full
