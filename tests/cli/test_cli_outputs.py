"""Every command that writes: an existing output is refused unless --overwrite, a refused
command changes nothing (hashes and mtimes), and --overwrite deletes nothing it did not
write."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medmodal.cli.app import app
from medmodal.data.bundled import bundled_path

Snapshot = Callable[[Path], dict[str, tuple[str, int]]]
runner = CliRunner()
FUSION = ["fusion", "compare", "--n-samples", "120", "--cv", "2", "--epochs", "1",
          "--n-boot", "10", "--methods", "early", "--quiet"]  # fmt: skip


def _hea() -> str:
    return str(bundled_path("mitdb-119")) + ".hea"


def _refused(args: list[str], folder: Path, snapshot: Snapshot, *needles: str) -> None:
    """``args`` exits 2 with one error line (naming ``needles``), ``folder`` unchanged."""
    before = snapshot(folder)
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    for needle in needles:
        assert needle in result.output, result.output
    assert snapshot(folder) == before


@pytest.fixture
def user_folder(tmp_path: Path) -> Path:
    """A folder holding a user's files (names a command writes, too)."""
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in ("index.html", "summary.json", "comparison.csv", "ecg_qrs.json", "notes.txt"):
        (folder / name).write_text(f"user's {name}")
    return folder


@pytest.mark.parametrize(
    "command",
    [
        ["demo", "--quick", "--section", "ecg", "--quiet"],
        FUSION,
        ["ecg", "bench", "--quick", "--quiet"],
    ],
    ids=["demo", "fusion-compare", "ecg-bench"],
)
def test_folder_outputs_refuse_a_non_empty_out(
    command: list[str], user_folder: Path, snapshot: Snapshot
) -> None:
    _refused([*command, "--out", str(user_folder)], user_folder, snapshot, "--overwrite")


def test_folder_output_that_is_a_file_is_refused(tmp_path: Path, snapshot: Snapshot) -> None:
    (tmp_path / "report").write_text("a file")
    _refused(["demo", "--quick", "--out", str(tmp_path / "report")], tmp_path, snapshot, "file")


def test_demo_overwrite_keeps_the_users_other_files(user_folder: Path) -> None:
    args = ["demo", "--quick", "--section", "ecg", "--quiet", "--out", str(user_folder)]
    result = runner.invoke(app, [*args, "--overwrite"])
    assert result.exit_code == 0, result.output
    assert (user_folder / "notes.txt").read_text() == "user's notes.txt"
    assert "<html" in (user_folder / "index.html").read_text().lower()


def test_fusion_overwrite_keeps_the_users_other_files(user_folder: Path) -> None:
    result = runner.invoke(app, [*FUSION, "--out", str(user_folder), "--overwrite"])
    assert result.exit_code == 0, result.output
    assert (user_folder / "notes.txt").read_text() == "user's notes.txt"
    assert (user_folder / "comparison.csv").read_text().startswith("method")


def test_analyze_out_folder_writes_inside_never_beside(tmp_path: Path) -> None:
    """The issue: ``ecg analyze --out DIR`` wrote ``DIR.png``."""
    out = tmp_path / "figs"
    result = runner.invoke(app, ["ecg", "analyze", _hea(), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["119.png", "119_paper.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figs"]  # no figs.png
    # the same record again: its figures exist, so it is refused
    again = runner.invoke(app, ["ecg", "analyze", _hea(), "--out", str(out), "--quiet"])
    assert again.exit_code == 2 and "--overwrite" in again.output


@pytest.mark.parametrize("existing", ["fig.png", "fig_paper.png"])
def test_analyze_refuses_existing_figures(
    existing: str, tmp_path: Path, snapshot: Snapshot
) -> None:
    (tmp_path / existing).write_bytes(b"user's figure")
    args = ["ecg", "analyze", _hea(), "--out", str(tmp_path / "fig.png")]
    _refused(args, tmp_path, snapshot, existing, "--overwrite")
    result = runner.invoke(app, [*args, "--overwrite", "--quiet"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / existing).read_bytes().startswith(b"\x89PNG")


def test_analyze_refuses_an_unknown_suffix(tmp_path: Path, snapshot: Snapshot) -> None:
    args = ["ecg", "analyze", _hea(), "--out", str(tmp_path / "fig.txt")]
    _refused(args, tmp_path, snapshot, ".png", "folder")
