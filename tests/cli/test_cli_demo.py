"""``medmodal demo`` end to end, and the consistency of the command line around it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medmodal.cli.app import app
from medmodal.report.runner import available_sections

runner = CliRunner()


def test_ecg_section_json_smoke(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["demo", "--quick", "--section", "ecg", "--out", str(tmp_path), "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["ok"] is True
    assert payload["settings"]["quick"] is True
    [section] = payload["sections"]
    assert section["key"] == "ecg"
    assert section["metrics"]["sensitivity_pct"] == pytest.approx(100.0)
    assert len(section["figures"]) == 5
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    for figure in section["figures"]:
        assert f'src="{figure}"' in page
        assert (tmp_path / figure).is_file()
    assert json.loads((tmp_path / "summary.json").read_text())["ok"] is True


def test_unknown_section_is_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "medmodal", "demo", "--section", "fusoin", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "fusion" in proc.stderr  # did you mean
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "index.html").exists()


def test_help_lists_every_command_group() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    listed = set(re.findall(r"^│ (\w+) ", result.output, re.M))
    assert {"ecg", "fusion", "align", "demo", "serve", "models"} <= listed


def test_demo_options_are_the_shared_ones() -> None:
    result = runner.invoke(app, ["demo", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--out", "--quick", "--data-root", "--seed", "--quiet", "--json"):
        assert option in result.output


def test_shell_completion_is_available() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert "--install-completion" in result.output
    assert "--show-completion" in result.output
    shown = subprocess.run(
        [sys.executable, "-m", "medmodal", "--show-completion", "bash"],
        capture_output=True,
        text=True,
        check=False,
        env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1", "PATH": ""},
    )
    assert shown.returncode == 0, shown.stderr
    assert "complete" in shown.stdout


@pytest.mark.slow
def test_quick_demo_writes_every_section_and_its_images(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--quick", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "report:" in result.output
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    for key in available_sections():
        assert f'<section id="{key}">' in page
        images = re.findall(rf'src="({key}/[^"]+\.png)"', page)
        assert images, f"no figures in section {key}"
        assert all((tmp_path / image).stat().st_size > 10_000 for image in images)
    assert "badge failed" not in page
    assert page.count("What the numbers mean.") == len(available_sections())
