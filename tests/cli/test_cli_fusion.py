"""``medmodal fusion compare`` end to end: synthetic data, an .npz of modalities, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from medmodal.cli.app import app
from medmodal.data.synthetic import make_multimodal_classification

runner = CliRunner()
QUICK = ["--cv", "2", "--epochs", "2", "--n-boot", "10", "--methods", "early"]


def test_compare_synthetic_writes_table_and_figures(tmp_path: Path) -> None:
    out = tmp_path / "fusion"
    result = runner.invoke(
        app, ["fusion", "compare", "--n-samples", "120", "--missing", "--out", str(out), *QUICK]
    )
    assert result.exit_code == 0, result.output
    assert "Fusion comparison" in result.output  # the Rich table (wrapped to the terminal)
    for name in ("comparison.md", "comparison.csv", "comparison.png", "roc.png", "robustness.png"):
        assert (out / name).stat().st_size > 100, name
    markdown = (out / "comparison.md").read_text()
    assert "| early | all |" in markdown and "| unimodal:clinical | without image |" in markdown


def test_compare_npz_json(tmp_path: Path) -> None:
    d = make_multimodal_classification(100, missing_rate=0.2, seed=1)
    path = d.save_npz(tmp_path / "mine.npz")
    result = runner.invoke(app, ["fusion", "compare", "--data", str(path), "--json", *QUICK])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["method"] for r in rows] == ["early", "unimodal:clinical", "unimodal:image"]
    assert all(0 <= r["accuracy"] <= 1 for r in rows)


def test_errors_are_one_line_with_exit_code_2(tmp_path: Path) -> None:
    bad = runner.invoke(app, ["fusion", "compare", "--methods", "erly", *QUICK[:6]])
    assert bad.exit_code == 2
    assert "unknown fusion method 'erly'" in bad.output
    missing = runner.invoke(app, ["fusion", "compare", "--data", str(tmp_path / "no.npz")])
    assert missing.exit_code == 2 and "no file" in missing.output
    np.savez(tmp_path / "empty.npz", a=np.zeros(3))
    empty = runner.invoke(app, ["fusion", "compare", "--data", str(tmp_path / "empty.npz")])
    assert empty.exit_code == 2 and "must hold" in empty.output
    other = runner.invoke(app, ["fusion", "compare", "--data", "mitbih"])
    assert other.exit_code == 2 and "'synthetic', 'mitdb', 'ptbxl'" in other.output


@pytest.mark.parametrize(("data", "folder"), [("mitdb", "mitdb"), ("ptbxl", "ptbxl")])
def test_real_data_missing_is_one_line_naming_the_folder(
    tmp_path: Path, data: str, folder: str
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(
        app, ["fusion", "compare", "--data", data, "--data-root", str(empty), "--quick"]
    )
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert str(empty) in lines[0] and folder in lines[0]


@pytest.mark.data
@pytest.mark.slow
def test_compare_mitdb_grouped_by_patient(tmp_path: Path, mitdb_dir: Path) -> None:
    out = tmp_path / "mitdb"
    args = ["fusion", "compare", "--data", "mitdb", "--data-root", str(mitdb_dir)]
    args += ["--max-records", "3", "--out", str(out), "--json", *QUICK[:4], "--n-boot", "10"]
    result = runner.invoke(app, [*args, "--methods", "early"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    names = [r["method"] for r in rows]
    assert names[0] == "early" and "unimodal:other" in names and "unimodal:rhythm" in names
    assert all(0 <= r["balanced_accuracy"] <= 1 for r in rows)
    for name in ("comparison.md", "comparison.csv", "comparison.png", "roc.png"):
        assert (out / name).stat().st_size > 100, name


@pytest.mark.data
def test_compare_ptbxl_multilabel(tmp_path: Path, ptbxl_dir: Path) -> None:
    out = tmp_path / "ptbxl"
    args = ["fusion", "compare", "--data", "ptbxl", "--data-root", str(ptbxl_dir)]
    args += ["--max-records", "120", "--out", str(out), "--json", *QUICK]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["method"] for r in rows] == ["early", "unimodal:ecg", "unimodal:metadata"]
    assert all(0 <= r["auroc"] <= 1 for r in rows)
    assert (out / "comparison.csv").read_text().count("\n") == 4
