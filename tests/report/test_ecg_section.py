"""The ECG section on the excerpts shipped in the package."""

from __future__ import annotations

from pathlib import Path

import pytest

from medmodal.data.paths import has_dataset
from medmodal.report.ecg_section import analyse_excerpts, build, excerpt_table
from medmodal.report.section import SectionContext


def test_excerpt_table_scores_every_shipped_excerpt(tmp_path: Path) -> None:
    reports = analyse_excerpts(tmp_path, progress=False, figures=False)
    table = excerpt_table(reports)
    assert list(table["record"]) == ["mitdb-100", "mitdb-119", "mitdb-201"]
    assert (table["Se %"] > 97).all()
    assert (table["+P %"] > 99).all()
    assert list(table["rhythm"])[:2] == ["sinus", "irregular"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_quick_ecg_section_scores_and_draws_one_excerpt(tmp_path: Path) -> None:
    content = build(SectionContext(tmp_path, quick=True, progress=False))
    table = content.tables[0].frame
    assert list(table["record"]) == ["mitdb-100"]
    assert table.loc[0, "beats"] == table.loc[0, "reference beats"] == 371
    assert table.loc[0, "Se %"] == pytest.approx(100.0)
    assert table.loc[0, "rhythm"] == "sinus"
    assert len(content.figures) == 5
    assert all(f.path.is_file() and f.path.parent == tmp_path for f in content.figures)
    assert content.metrics["sensitivity_pct"] == pytest.approx(100.0)
    assert "Se 100.00 %" in content.headline
    assert content.meaning


@pytest.mark.data
@pytest.mark.slow
def test_data_root_switches_to_full_records(tmp_path: Path) -> None:
    if not has_dataset("mitdb"):
        pytest.skip("shared MIT-BIH data not found (set MEDMODAL_DATA)")
    from medmodal.data.paths import data_root

    ctx = SectionContext(tmp_path, quick=True, progress=False, data_root=data_root())
    table = build(ctx).tables[0].frame
    assert list(table["record"]) == ["mitdb-100-full"]
    assert table.loc[0, "minutes"] == pytest.approx(30.0, abs=0.1)
    assert table.loc[0, "Se %"] > 99.5
