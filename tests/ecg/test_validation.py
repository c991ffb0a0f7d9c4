"""Tests of medmodal.ecg.validation: the shipped QT-database figures and the QT gate."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from medmodal.ecg import validation as val
from medmodal.ecg.validation import (
    T_OFFSET_MAX_SD_MS,
    load_delineation_validation,
    qt_gate,
)
from medmodal.errors import DataFormatError, DataNotFoundError

PassingFile = Callable[..., Path]


def _error(mean: float, sd: float) -> dict[str, float | None]:
    return {"se_pct": 99.0, "mean_ms": mean, "sd_ms": sd, "n": 1000}


def _passes(figures: val.ConventionFigures) -> bool:
    """The gate's rule, written out independently of validation.py."""
    ours = figures.fiducials
    return (
        all(
            ours[f] is not None
            and abs(ours[f].mean_ms) <= val.MAX_ABS_MEAN_MS
            and all(
                peer[f] is None or ours[f].sd_ms < peer[f].sd_ms for peer in figures.peers.values()
            )
            for f in val.QT_FIDUCIALS
        )
        and ours["t_offset"] is not None
        and ours["t_offset"].sd_ms <= T_OFFSET_MAX_SD_MS
    )


def test_shipped_file_has_the_schema_and_the_gate_follows_its_figures() -> None:
    raw = json.loads(val.VALIDATION_FILE.read_text())
    assert set(raw) == {
        "source",
        "generated",
        "database",
        "convention",
        "method",
        "fiducials",
        "peers",
        "conventions",
    }
    assert set(raw["fiducials"]) == set(val.FIDUCIALS)
    assert set(raw["peers"]) == {"neurokit2_dwt", "ecgpuwave"}
    for peer in raw["peers"].values():
        assert set(peer["fiducials"]) == set(val.FIDUCIALS)
    assert set(raw["conventions"]) == {val.SINGLE_LEAD, val.MULTI_LEAD}
    # The top-level figures are the lead-0 convention's (the file's first schema).
    lead0 = raw["conventions"][val.SINGLE_LEAD]
    assert lead0["fiducials"] == raw["fiducials"] and lead0["peers"] == raw["peers"]
    # Both leads together: ecgpuwave's two-lead marks are the only peer measured so.
    assert set(raw["conventions"][val.MULTI_LEAD]["peers"]) == {"ecgpuwave"}
    shipped = load_delineation_validation()
    for convention, figures in shipped.conventions.items():
        assert figures.description
        gate = qt_gate(convention=convention)
        assert gate.passed is _passes(figures), convention
        if not gate.passed:
            assert "benchmarks/results/ecg_delineation.md" in gate.reason


def test_shipped_file_is_the_committed_benchmark_output() -> None:
    """The shipped figures are the numbers of benchmarks/ecg_delineation.py's run."""
    results = Path(__file__).resolve().parents[2] / "benchmarks/results/ecg_delineation.json"
    if not results.is_file():
        pytest.skip("benchmarks/results/ecg_delineation.json is not in this checkout")
    pooled = json.loads(results.read_text())["results"]["all"]
    shipped = json.loads(val.VALIDATION_FILE.read_text())
    blocks = {"lead0": shipped, **shipped["conventions"]}
    for convention, block in blocks.items():
        measured_all = pooled["lead0" if block is shipped else convention]
        for method, summary in {"medmodal": block, **block["peers"]}.items():
            for fiducial, figures in summary["fiducials"].items():
                measured = measured_all[method]["fiducials"][fiducial]
                if figures is None:
                    assert measured is None or measured["n"] == 0
                    continue
                assert figures["n"] == measured["n"]
                for key in ("se_pct", "mean_ms", "sd_ms"):
                    assert figures[key] == pytest.approx(measured[key], abs=0.01)


def test_convention_follows_the_number_of_leads() -> None:
    assert val.convention_for(1) == val.SINGLE_LEAD
    assert val.convention_for(2) == val.convention_for(12) == val.MULTI_LEAD


def test_a_passing_file_opens_the_gate(passing_validation: PassingFile) -> None:
    figures = load_delineation_validation(passing_validation())
    for convention in (val.SINGLE_LEAD, val.MULTI_LEAD):
        gate = qt_gate(figures, convention=convention)
        assert gate.passed and gate.reason == ""


def test_each_convention_is_judged_on_its_own_figures(
    tmp_path: Path, passing_validation: PassingFile
) -> None:
    only_lead0 = load_delineation_validation(passing_validation(conventions=("lead0",)))
    assert qt_gate(only_lead0, convention=val.SINGLE_LEAD).passed
    missing = qt_gate(only_lead0, convention=val.MULTI_LEAD)
    assert not missing.passed
    assert missing.reason == (
        "QT withheld: delineation on both leads together has no validation on the QT database"
    )
    # A both-leads block that fails closes the gate for two-lead QT only.
    raw = json.loads(passing_validation().read_text())
    raw["conventions"]["both_leads"]["fiducials"]["t_offset"] = _error(1.0, 33.0)
    path = tmp_path / "split.json"
    path.write_text(json.dumps(raw))
    split = load_delineation_validation(path)
    assert qt_gate(split, convention=val.SINGLE_LEAD).passed
    two = qt_gate(split, convention=val.MULTI_LEAD)
    assert not two.passed and "SD 33.0 ms (> 30.6 ms CSE tolerance)" in two.reason
    assert "both leads together" in two.reason


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"qrs_onset": _error(12.0, 8.0)}, "QRS-onset error mean +12.0 ms (|mean| > 10 ms)"),
        ({"qrs_onset": _error(1.0, 15.5)}, "not below ecgpuwave's 15.5 ms"),
        ({"t_offset": _error(1.0, 31.0)}, "SD 31.0 ms (> 30.6 ms CSE tolerance)"),
        ({"t_offset": None}, "T-offset is not delineated"),
    ],
)
def test_each_rule_withholds_qt(
    passing_validation: PassingFile,
    override: dict[str, dict[str, float | None] | None],
    expected: str,
) -> None:
    gate = qt_gate(load_delineation_validation(passing_validation(**override)))
    assert not gate.passed
    assert gate.reason.startswith("QT withheld:") and expected in gate.reason


def test_other_method_and_broken_files_withhold_without_raising(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, passing_validation: PassingFile
) -> None:
    passing = load_delineation_validation(passing_validation())
    assert "no validation" in qt_gate(passing, method="other").reason
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(DataFormatError, match="not a delineation validation file"):
        load_delineation_validation(broken)
    with pytest.raises(DataNotFoundError):
        load_delineation_validation(tmp_path / "missing.json")
    monkeypatch.setattr(val, "VALIDATION_FILE", broken)
    gate = qt_gate()
    assert not gate.passed and "no delineation validation" in gate.reason
