"""The report's beat-class table: the model's AAMI classes beside the reference counts
(issue 14 item 2)."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from medmodal.data.bundled import load_bundled
from medmodal.report.ecg_beats import NOTE, beat_table, reference_counts
from medmodal.report.ecg_section import ExcerptReport, analyse_excerpts

#: The analysed excerpt and its row of the beat-class table.
Row119 = tuple[ExcerptReport, dict[str, Any]]


@pytest.fixture(scope="module")
def table_119(tmp_path_factory: pytest.TempPathFactory) -> Row119:
    out = tmp_path_factory.mktemp("ecg")
    (report,) = analyse_excerpts(out, names=["mitdb-119"], progress=False, figures=True)
    return report, {str(k): v for k, v in beat_table([report]).iloc[0].items()}


def _model_and_reference(cell: object) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+) \((\d+)\)", str(cell))
    assert match is not None, cell
    return int(match.group(1)), int(match.group(2))


def test_mitdb_119_counts_beside_the_reference(
    table_119: Row119,
) -> None:
    report, row = table_119
    assert report.record_id == "119"
    v_model, v_ref = _model_and_reference(row["V model (ref)"])
    assert v_ref > 60 and abs(v_model - v_ref) <= 0.1 * v_ref
    n_model, n_ref = _model_and_reference(row["N model (ref)"])
    assert abs(n_model - n_ref) <= 0.1 * n_ref
    assert row["model trained on it"] == "yes (DS1: in-sample)"  # 119 is in DS1
    block = report.summary["beat_classes"]
    assert row["PVC burden %"] == pytest.approx(block["pvc_burden_pct"])
    assert row["lead"] == "MLII"
    assert "in-sample" in NOTE


def test_figures_of_the_section_mark_the_beats(
    table_119: Row119,
) -> None:
    report, _ = table_119
    figures = report.figures
    assert {"overview", "peaks", "rhythm_strip"} <= set(figures)
    assert all(Path(p).stat().st_size > 10_000 for p in figures.values())


def test_reference_counts_of_a_bundled_record() -> None:
    counts = reference_counts(load_bundled("mitdb-100"))
    assert set(counts) == {"N", "S", "V", "F", "Q"} and counts["N"] > 300


def test_unknown_and_missing_blocks_are_said() -> None:
    unknown = {"label": "unknown", "reason": "4 beat(s) in the signal; at least 5 are needed"}
    reports = [
        SimpleNamespace(name="a", summary={"beat_classes": unknown}, reference_classes={},
                        record_id="100"),
        SimpleNamespace(name="b", summary={}, reference_classes={}, record_id=None),
    ]  # fmt: skip
    table = beat_table(reports)
    assert table.loc[0, "beat classes"] == f"unknown: {unknown['reason']}"
    assert table.loc[0, "model trained on it"] == "no (DS2: held out)"
    assert table.loc[1, "beat classes"] == "unknown: not computed"
    assert table.loc[1, "model trained on it"] == "no"
