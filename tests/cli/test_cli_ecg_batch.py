"""``medmodal ecg batch``: end to end on a generated corpus, resume, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from medmodal.cli.app import app
from medmodal.data.ecg_corpus import make_ecg_corpus

runner = CliRunner()


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("batch") / "records"
    make_ecg_corpus(folder, 5, seed=2, corrupt=1, pathological=0, sampling_rate=250.0, n_leads=2)
    return folder


def test_batch_writes_a_table_then_resume_skips_it(records: Path, tmp_path: Path) -> None:
    out = tmp_path / "features.parquet"
    args = ["ecg", "batch", str(records), "--out", str(out), "--engine", "joblib", "-w", "1"]
    result = runner.invoke(app, [*args, "--beats", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert (payload["found"], payload["ok"], payload["error"], payload["timeout"]) == (5, 4, 1, 0)
    frame = pd.read_parquet(out)
    assert len(frame) == 5
    assert (
        frame.loc[frame["status"] == "error", "reason"].str.contains("WFDB|truncated|header").all()
    )
    beats = pd.read_parquet(payload["beats"])
    assert set(beats["record"]) == set(frame.loc[frame["status"] == "ok", "record"])

    refused = runner.invoke(app, args)
    assert refused.exit_code == 2
    assert "--resume" in refused.output
    assert "Traceback" not in refused.output

    again = runner.invoke(app, [*args, "--resume"])
    assert again.exit_code == 0, again.output
    assert "already written (--resume)" in again.stdout
    assert len(pd.read_parquet(out)) == 5


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["-w", "0"], "workers must be"),
        (["--timeout", "-2"], "timeout must be"),
        (["--engine", "spark"], "unknown batch engine"),
    ],
)
def test_bad_options_give_one_line(records: Path, tmp_path: Path, option, message) -> None:
    result = runner.invoke(app, ["ecg", "batch", str(records), "-o", str(tmp_path / "o"), *option])
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_missing_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ecg", "batch", str(tmp_path / "nope"), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "does not exist" in result.output
