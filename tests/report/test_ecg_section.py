"""The ECG section on the excerpts shipped in the package."""

from __future__ import annotations

from pathlib import Path

import pytest

from medmodal.data.bundled import load_bundled
from medmodal.data.paths import has_dataset
from medmodal.report.ecg_section import analyse_excerpts, build, excerpt_table, intervals_table
from medmodal.report.section import SectionContext


def test_excerpt_table_scores_every_shipped_excerpt(tmp_path: Path) -> None:
    reports = analyse_excerpts(tmp_path, progress=False, figures=False)
    table = excerpt_table(reports)
    assert list(table["record"]) == ["mitdb-100", "mitdb-119", "mitdb-201"]
    assert (table["Se %"] > 97).all()
    assert (table["+P %"] > 99).all()
    assert list(table["rhythm"])[:2] == ["sinus", "irregular"]
    assert list(tmp_path.iterdir()) == []
    for rep, mean in zip(reports, table["HR mean bpm"], strict=True):
        record = load_bundled(rep.name)
        assert record.annotations is not None
        beats = record.annotations.beats().sample
        reference = 60 * (beats.size - 1) * record.sampling_rate / (beats[-1] - beats[0])
        # beats per minute; 201's excerpt loses 6 of its 319 beats to the detector
        assert abs(mean - reference) <= (1.5 if rep.name == "mitdb-201" else 1.0)
        low, high = (float(v) for v in table.loc[table["record"] == rep.name, "HR range bpm"]
                     .iloc[0].split("-"))  # fmt: skip
        assert 20 <= low <= high <= 300
        assert rep.summary["powerline"]["hz"] == 60.0  # MIT-BIH: US mains, from the loader
    intervals = intervals_table(reports)
    assert list(intervals["QT / QTc (Bazett, Fridericia) ms"]) == ["withheld (see the note)"] * 3
    assert intervals.loc[0, "PR ms"].isdigit() and intervals.loc[0, "PR beats"] > 300
    assert all("60 Hz" in text for text in intervals["mains notch"])


@pytest.mark.slow
def test_quick_ecg_section_scores_and_draws_one_excerpt(tmp_path: Path) -> None:
    content = build(SectionContext(tmp_path, quick=True, progress=False))
    table = content.tables[0].frame
    assert list(table["record"]) == ["mitdb-100"]
    assert table.loc[0, "beats"] == table.loc[0, "reference beats"] == 371
    assert table.loc[0, "Se %"] == pytest.approx(100.0)
    assert table.loc[0, "rhythm"] == "sinus"
    assert "QT withheld" in content.tables[1].note
    assert "the records it was developed on" in content.meaning
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
