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
    assert 65 < summary["heart_rate"]["mean_bpm"] < 80
    # A WFDB header names no mains frequency, and 119's 60 Hz line is faint (2.4 dB):
    # "auto" finds none and says so.
    assert summary["powerline"]["hz"] is None and summary["powerline"]["source"] == "none"
    assert len(payload["r_peaks"]) == summary["n_beats"]
    assert len(payload["beats"]["rr_flag"]) == summary["n_beats"]
    assert {"start_s", "end_s", "label"} <= set(payload["rhythm_windows"][0])
    assert plot.stat().st_size > 20_000


def test_analyze_table() -> None:
    result = runner.invoke(app, ["ecg", "analyze", _hea()])
    assert result.exit_code == 0, result.output
    assert "ECG analysis" in result.output
    assert "heart rate" in result.output
    assert "beats per minute" in result.output
    assert "RR intervals" in result.output and "flagged" in result.output
    assert "mains notch" in result.output
    assert "QT withheld" not in result.output and "withheld: T-offset" in result.output
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


def _rates_inside_20_300(payload: dict[str, object]) -> None:
    summary = payload["summary"]
    assert isinstance(summary, dict)
    for key in ("mean_bpm", "median_bpm", "min_bpm", "max_bpm"):
        assert 20 <= summary["heart_rate"][key] <= 300
    beats = payload["beats"]
    assert isinstance(beats, dict)
    shown = [r for r in beats["heart_rate_bpm"] if r is not None]
    assert shown and all(20 <= r <= 300 for r in shown)


@pytest.mark.data
def test_mitdb_203_json_shows_the_corrected_numbers(mitdb_dir: Path) -> None:
    """Issue 11: 111 bpm mean and a 19-514 bpm range on a record with 99 bpm annotated."""
    from medmodal.data import mitdb

    result = runner.invoke(app, ["ecg", "analyze", str(mitdb_dir / "203.hea"), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    _rates_inside_20_300(payload)
    ann = mitdb.load_annotations("203", root=mitdb_dir.parent, beats_only=True)
    reference = 60 * (len(ann) - 1) * 360 / (ann.sample[-1] - ann.sample[0])
    summary = payload["summary"]
    assert abs(summary["heart_rate"]["mean_bpm"] - reference) <= 1.0
    assert summary["heart_rate"]["flagged"]["too_short"] >= 1
    assert "too_short" in payload["beats"]["rr_flag"]
    assert "af" in payload["beats"]["rr_flag"] and summary["heart_rate"]["n_af"] > 0
    intervals = summary["intervals"]
    assert intervals["pr_ms"] is None and intervals["pr_withheld"].startswith("PR withheld")
    assert intervals["qt_ms"] is None and intervals["qt_withheld"].startswith("QT withheld")
    assert set(intervals["qtc_formulas"]) == {"bazett", "fridericia"}
    assert summary["powerline"]["hz"] == 60.0


def test_bench_writes_to_medmodal_bench_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import runpy

    calls: list[list[str]] = []

    def fake_run_path(path: str, run_name: str) -> dict[str, object]:
        assert path.endswith("benchmarks/ecg_qrs.py")
        return {"main": lambda argv: calls.append(argv) or {}}

    monkeypatch.setattr(runpy, "run_path", fake_run_path)
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["ecg", "bench", "--quick"]).exit_code == 0
    out = calls[0][calls[0].index("--out") + 1]
    assert Path(out) == Path("medmodal-bench")  # relative: the current folder, not the repo
    assert runner.invoke(app, ["ecg", "bench", "--quick", "--out", "x"]).exit_code == 0
    assert calls[1][calls[1].index("--out") + 1] == "x"
    help_text = runner.invoke(app, ["ecg", "bench", "--help"]).output
    assert "medmodal-bench" in help_text


@pytest.mark.data
def test_bench_quick_run_leaves_the_repository_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mitdb_dir: Path
) -> None:
    committed = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "ecg_qrs.json"
    before = committed.read_bytes() if committed.is_file() else None
    monkeypatch.chdir(tmp_path)
    args = ["ecg", "bench", "--quick", "--records", "100", "--jobs", "1", "--quiet"]
    result = runner.invoke(app, [*args, "--data-root", str(mitdb_dir.parent)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "medmodal-bench" / "ecg_qrs.json").is_file()
    assert (committed.read_bytes() if committed.is_file() else None) == before


def test_edf_prefilter_sets_the_notch(tmp_path: Path) -> None:
    from medmodal.io import Record, write_record

    signal = ecg_simulate(20, 250, n_leads=2, seed=3)
    record = Record(signal, 250, ("II", "V5"), ("mV", "mV"), meta={"powerline_hz": 50.0})
    path = write_record(record, tmp_path / "r.edf")  # prefiltering field "N:50Hz"
    result = runner.invoke(app, ["ecg", "analyze", str(path), "--json"])
    assert result.exit_code == 0, result.output
    powerline = json.loads(result.stdout)["summary"]["powerline"]
    assert (powerline["hz"], powerline["source"]) == (50.0, "metadata")
    assert "N:50Hz" in powerline["text"]
    forced = runner.invoke(app, ["ecg", "analyze", str(path), "--json", "--powerline", "none"])
    assert json.loads(forced.stdout)["summary"]["powerline"]["source"] == "requested"
