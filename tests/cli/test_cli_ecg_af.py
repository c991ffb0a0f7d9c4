"""``medmodal ecg analyze`` shows atrial fibrillation in its table and JSON (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from medmodal.cli.app import app
from medmodal.ecg import ecg_simulate_annotated

runner = CliRunner()


def _csv(tmp_path: Path, rhythm: str) -> str:
    sim = ecg_simulate_annotated(120, 250, rhythm=rhythm, heart_rate=70, seed=2)
    path = tmp_path / f"{rhythm}.csv"
    np.savetxt(path, sim.signal, header="II", comments="", delimiter=",")
    return str(path)


@pytest.mark.parametrize(
    ("rhythm", "label", "name"),
    [("afib", "atrial fibrillation", "atrial fibrillation"), ("sinus", "none", "sinus")],
)
def test_json_has_the_af_block(tmp_path: Path, rhythm: str, label: str, name: str) -> None:
    args = ["ecg", "analyze", _csv(tmp_path, rhythm), "--sampling-rate", "250", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    block = summary["atrial_fibrillation"]
    assert block["label"] == label and summary["rhythm_name"] == name
    if rhythm == "sinus":
        assert block["burden_pct"] == 0.0 and block["n_episodes"] == 0
    else:
        assert block["burden_pct"] > 90 and block["episodes"][0]["end_s"] > 100
        assert "atrial fibrillation" in summary["intervals"]["pr_withheld"]
    # Issue 14: RR intervals inside AF are "af", not "ectopic or artefact".
    heart = summary["heart_rate"]
    flags = json.loads(result.stdout)["beats"]["rr_flag"]
    assert flags.count("af") == heart["n_af"]
    if rhythm == "sinus":
        assert heart["n_af"] == 0 and heart["min_max_over"] == "NN intervals"
    else:
        assert heart["n_af"] > 0.9 * heart["n_intervals"]
        assert heart["flagged"]["ectopic_or_artefact"] < 0.05 * heart["n_intervals"]


def test_table_has_one_af_line(tmp_path: Path) -> None:
    args = ["ecg", "analyze", _csv(tmp_path, "afib"), "--sampling-rate", "250"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "% burden" in line]
    assert len(lines) == 1 and "atrial fibrillation" in lines[0]
    wide = runner.invoke(app, args, env={"COLUMNS": "400"})
    # a cell may still wrap (the console width can be fixed earlier in the process): read
    # the table's text without its borders
    out = " ".join(wide.stdout.replace("│", " ").split())
    assert "over the NN intervals and the intervals in atrial fibrillation" in out
    assert "RR intervals in atrial fibrillation (irregular because of AF" in out
