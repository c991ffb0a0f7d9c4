"""End-to-end runs of the ``medmodal`` command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from medmodal.cli.app import app
from medmodal.data.bundled import bundled_path
from medmodal.ecg.simulate import ecg_simulate

runner = CliRunner()


def _hea() -> str:
    return str(bundled_path("mitdb-119")) + ".hea"


def test_help_lists_command_groups() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "ecg" in result.output
    assert "demo" in result.output


def test_analyze_json_end_to_end_in_a_real_process(tmp_path: Path) -> None:
    plot = tmp_path / "overview.png"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "medmodal",
            "ecg",
            "analyze",
            _hea(),
            "--lead",
            "MLII",
            "--plot",
            str(plot),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    summary = payload["summary"]
    assert summary["leads"] == ["MLII"]
    assert 320 <= summary["n_beats"] <= 332  # 326 annotated beats in this excerpt
    assert 65 < summary["heart_rate_mean_bpm"] < 80
    assert len(payload["r_peaks"]) == summary["n_beats"]
    assert {"start_s", "end_s", "label"} <= set(payload["rhythm_windows"][0])
    assert plot.stat().st_size > 20_000


def test_analyze_table() -> None:
    result = runner.invoke(app, ["ecg", "analyze", _hea()])
    assert result.exit_code == 0, result.output
    assert "ECG analysis" in result.output
    assert "heart rate" in result.output
    assert "MLII, V1" in result.output


def test_csv_needs_a_sampling_rate(tmp_path: Path) -> None:
    path = tmp_path / "ecg.csv"
    np.savetxt(path, ecg_simulate(20, 250, seed=1), header="II", comments="", delimiter=",")
    missing = runner.invoke(app, ["ecg", "analyze", str(path)])
    assert missing.exit_code == 2
    assert "sampling" in missing.output
    ok = runner.invoke(app, ["ecg", "analyze", str(path), "--sampling-rate", "250", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["summary"]["n_beats"] > 15


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ecg", "analyze", "does/not/exist.hea"], "error:"),
        (["ecg", "analyze", "__HEA__", "--lead", "V9"], "V9"),
        (["ecg", "analyze", "__HEA__", "--powerline", "55Hz"], "--powerline"),
        (["ecg", "analyze", "__HEA__", "--method", "pantomkins"], "Did you mean"),
    ],
)
def test_errors_are_one_line(args: list[str], message: str) -> None:
    result = runner.invoke(app, [_hea() if a == "__HEA__" else a for a in args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_error_in_a_real_process_has_no_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "medmodal", "ecg", "analyze", "nope.hea"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error:")
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_verbose_shows_the_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "medmodal", "--verbose", "ecg", "analyze", "nope.hea"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr


@pytest.mark.slow
def test_demo_quick(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--quick", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "mitdb-100" in result.output
    assert len(list((tmp_path / "ecg").glob("*.png"))) == 5
