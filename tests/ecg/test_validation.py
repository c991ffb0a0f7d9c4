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


def test_shipped_file_has_the_schema_and_withholds_qt() -> None:
    raw = json.loads(val.VALIDATION_FILE.read_text())
    assert set(raw) == {
        "source",
        "generated",
        "database",
        "convention",
        "method",
        "fiducials",
        "peers",
    }
    assert set(raw["fiducials"]) == set(val.FIDUCIALS)
    assert set(raw["peers"]) == {"neurokit2_dwt", "ecgpuwave"}
    for peer in raw["peers"].values():
        assert set(peer["fiducials"]) == set(val.FIDUCIALS)
    shipped = load_delineation_validation()
    gate = qt_gate()
    # The gate's decision follows the rule from the shipped figures.
    expected = (
        all(
            abs(shipped.fiducials[f].mean_ms) <= val.MAX_ABS_MEAN_MS
            and all(shipped.fiducials[f].sd_ms < peer[f].sd_ms for peer in shipped.peers.values())
            for f in val.QT_FIDUCIALS
        )
        and shipped.fiducials["t_offset"].sd_ms <= T_OFFSET_MAX_SD_MS
    )
    assert gate.passed is expected
    if not gate.passed:
        assert "benchmarks/results/ecg_delineation.md" in gate.reason


def test_shipped_file_is_the_committed_benchmark_output() -> None:
    """The shipped figures are the lead-0 numbers of benchmarks/ecg_delineation.py's run."""
    results = Path(__file__).resolve().parents[2] / "benchmarks/results/ecg_delineation.json"
    if not results.is_file():
        pytest.skip("benchmarks/results/ecg_delineation.json is not in this checkout")
    lead0 = json.loads(results.read_text())["results"]["all"]["lead0"]
    shipped = json.loads(val.VALIDATION_FILE.read_text())
    names = {"medmodal": shipped, **shipped["peers"]}
    for method, summary in names.items():
        for fiducial, figures in summary["fiducials"].items():
            measured = lead0[method]["fiducials"][fiducial]
            if figures is None:
                assert measured is None or measured["n"] == 0
                continue
            assert figures["n"] == measured["n"]
            for key in ("se_pct", "mean_ms", "sd_ms"):
                assert figures[key] == pytest.approx(measured[key], abs=0.01)


def test_a_passing_file_opens_the_gate(passing_validation: PassingFile) -> None:
    gate = qt_gate(load_delineation_validation(passing_validation()))
    assert gate.passed and gate.reason == ""


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
