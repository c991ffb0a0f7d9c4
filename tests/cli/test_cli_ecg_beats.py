"""``medmodal ecg analyze`` shows beat classes in its table and JSON (issue 14 item 2)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from medmodal.cli.app import app
from medmodal.cli.ecg import beat_rows
from medmodal.data.bundled import bundled_path
from medmodal.ecg import ecg_simulate

runner = CliRunner()


@pytest.fixture(scope="module")
def record_119() -> str:
    """The bundled MIT-BIH 119 excerpt (ventricular bigeminy) as a WFDB header path."""
    return str(bundled_path("mitdb-119").with_suffix(".hea"))


def test_json_has_the_beat_block_and_a_class_per_beat(record_119: str) -> None:
    result = runner.invoke(app, ["ecg", "analyze", record_119, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    block = payload["summary"]["beat_classes"]
    assert block["label"] == "classified" and block["lead"] == "MLII"
    assert block["counts"]["V"] > 60 and block["pvc_burden_pct"] > 15
    assert block["pvc_per_hour"] == pytest.approx(block["counts"]["V"] * 3600 / 300, rel=0.01)
    beats = payload["beats"]
    n = len(payload["r_peaks"])
    assert beats["sample"] == payload["r_peaks"]
    assert {k: len(v) for k, v in beats.items()} == dict.fromkeys(beats, n)
    assert beats["beat_class"].count("V") == block["counts"]["V"]
    assert np.allclose(beats["time_s"], np.array(beats["sample"]) / 360, atol=1e-4)
    assert all(0 < p <= 1 for p in beats["beat_class_p"])


def test_table_has_counts_pvc_and_sve_lines(record_119: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["ecg", "analyze", record_119, "--out", str(tmp_path / "figs")])
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip() for line in result.output.splitlines() if "│" in line}
    assert {"beat classes", "PVCs", "supraventricular ectopics"} <= rows
    lines = result.output.splitlines()
    counts = next(line for line in lines if "beat classes" in line)
    v_beats = re.search(r"\bV (\d+)", counts)
    assert v_beats is not None and int(v_beats.group(1)) > 60  # 119's excerpt: bigeminy
    assert "per hour; burden" in next(line for line in lines if "PVCs" in line)
    assert (tmp_path / "figs" / "119.png").stat().st_size > 10_000
    assert (tmp_path / "figs" / "119_paper.png").stat().st_size > 10_000


def test_short_record_says_unknown_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"  # 3 s: 4 beats, fewer than the classifier's context
    signal = ecg_simulate(3, 250, heart_rate=70, seed=1)
    np.savetxt(path, signal, header="II", comments="", delimiter=",")
    args = ["ecg", "analyze", str(path), "--sampling-rate", "250", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    block = json.loads(result.stdout)["summary"]["beat_classes"]
    assert block["label"] == "unknown" and block["reason"]
    assert beat_rows(block) == [("beat classes", f"unknown: {block['reason']}")]


def test_flat_record_is_analysed_with_unknowns_and_exit_0(tmp_path: Path) -> None:
    """A flat record (electrodes off) is a result, not an error: exit 0, every label
    "unknown"/"undetermined" with the reason, and the warning on stderr."""
    path = tmp_path / "flat.csv"
    np.savetxt(path, np.full(2500, 0.2), header="II", comments="", delimiter=",")
    args = ["ecg", "analyze", str(path), "--sampling-rate", "250"]
    table = runner.invoke(app, args)
    assert table.exit_code == 0, table.output
    out = " ".join(table.stdout.split())  # the table wraps long cells
    assert "beats │ 0 (no R peaks: the signal is flat" in out
    assert "atrial fibrillation │ unknown: the signal is flat" in out
    assert "beat classes │ unknown: the signal is flat" in out
    assert "rhythm │ undetermined" in out and "quality │ unacceptable" in out
    # Plain words, not "undetermined (undetermined 100 %)" or "0 intervals, all NN".
    assert "rhythm │ undetermined: the signal is flat" in out
    assert "RR intervals │ no beats found: the signal is flat" in out
    assert "heart rate │ n/a: it needs two beats or more" in out
    assert "100 %" not in out.split("rhythm │")[1].split("│")[0]
    assert "all NN" not in out
    assert "warning: ecg_process: the signal is flat" in " ".join(table.stderr.split())
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    summary = payload["summary"]
    assert summary["n_beats"] == 0 and payload["r_peaks"] == []
    assert summary["heart_rate"]["mean_bpm"] is None
    assert summary["beat_classes"]["label"] == summary["atrial_fibrillation"]["label"] == "unknown"
    assert "flat" in summary["beat_classes"]["reason"] and "flat" in payload["warnings"][0]
