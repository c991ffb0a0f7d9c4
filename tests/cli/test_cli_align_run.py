"""``align train --out``: a run folder is new, resumed (--resume) or replaced (--overwrite).

Every refused command leaves the folder exactly as it was (hashes and mtimes).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medmodal.cli.app import app

Snapshot = Callable[[Path], dict[str, tuple[str, int]]]


def _train(medpix: Path, config: Path, out: Path, *extra: str) -> list[str]:
    return ["align", "train", "--model", str(config), "--data-root", str(medpix),
            "--out", str(out), "--batch-size", "16", "--threads", "1", "--quiet",
            *extra]  # fmt: skip


def _one_line_error(output: str, *needles: str) -> None:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), output
    assert "Traceback" not in output
    for needle in needles:
        assert needle in output, output


@pytest.fixture(scope="module")
def one_epoch_run(
    medpix_dir: Path, tiny_config: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("runs") / "run"
    result = CliRunner().invoke(app, _train(medpix_dir, tiny_config, out, "--epochs", "1"))
    assert result.exit_code == 0, result.output
    return out


def test_non_empty_out_is_refused_untouched(
    medpix_dir: Path, tiny_config: Path, tmp_path: Path, snapshot: Snapshot
) -> None:
    """The issue: train deleted DIR/best/ and overwrote DIR/metrics.csv of the user."""
    (tmp_path / "best").mkdir()
    (tmp_path / "best" / "mine.txt").write_text("user file")
    (tmp_path / "metrics.csv").write_text("my,own\n1,2\n")
    before = snapshot(tmp_path)
    result = CliRunner().invoke(app, _train(medpix_dir, tiny_config, tmp_path, "--epochs", "1"))
    assert result.exit_code == 2
    _one_line_error(result.output, "not empty", "--resume", "--overwrite")
    assert snapshot(tmp_path) == before
    # --overwrite removes only a previous *run*: a best/ that is no checkpoint is kept
    result = CliRunner().invoke(
        app, _train(medpix_dir, tiny_config, tmp_path, "--epochs", "1", "--overwrite")
    )
    assert result.exit_code == 2
    _one_line_error(result.output, "not a medmodal checkpoint")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--text", "caption"], "--resume"),  # no flag: refused, align.json not rewritten
        (["--resume", "--text", "caption"], "--text caption (the run's: structured)"),
        (["--resume", "--seed", "3"], "--seed 3 (the run's: 0)"),
        (["--resume", "--data", "ptbxl"], "--data ptbxl"),
        (["--resume", "--overwrite"], "pass one of them"),
        (["--resume", "--evaluation", "zero-shot"], "--evaluation zero-shot (the run's: prompted)"),
        (["--resume", "--pretrained"], "apply to a new run"),
        (["--overwrite", "--lr", "-1"], "lr"),  # recipe checked before anything is written
    ],
)
def test_refused_run_leaves_the_run_as_it_was(
    one_epoch_run: Path,
    medpix_dir: Path,
    tiny_config: Path,
    snapshot: Snapshot,
    extra: list[str],
    message: str,
) -> None:
    before = snapshot(one_epoch_run)
    result = CliRunner().invoke(app, _train(medpix_dir, tiny_config, one_epoch_run, *extra))
    assert result.exit_code == 2
    _one_line_error(result.output, message)
    assert snapshot(one_epoch_run) == before
    assert json.loads((one_epoch_run / "align.json").read_text())["text"] == "structured"


def test_bad_recipe_writes_nothing(medpix_dir: Path, tiny_config: Path, tmp_path: Path) -> None:
    out = tmp_path / "new"
    result = CliRunner().invoke(app, _train(medpix_dir, tiny_config, out, "--lr", "-1"))
    assert result.exit_code == 2
    _one_line_error(result.output, "lr")
    assert not out.exists()


def test_resume_without_a_run_is_refused(
    medpix_dir: Path, tiny_config: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, _train(medpix_dir, tiny_config, tmp_path, "--resume"))
    assert result.exit_code == 2
    _one_line_error(result.output, "holds no checkpoint")
    assert list(tmp_path.iterdir()) == []


def test_resume_continues_an_interrupted_run_from_its_last_epoch(
    medpix_dir: Path,
    tiny_config: Path,
    tmp_path: Path,
    snapshot: Snapshot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Interrupted after epoch 1 of 2, then ``--resume``: epoch 1 is kept, epoch 2 runs
    with the run's own settings.

    (Not bit for bit against a straight run: MedPix's image augmentation draws from a
    generator of its own that a resumed process restarts; see the report of issue 13.)
    """
    import medmodal.train.loop as loop

    straight = tmp_path / "straight"
    args = ["--epochs", "2", "--text", "caption", "--seed", "5"]
    ok = CliRunner().invoke(app, _train(medpix_dir, tiny_config, straight, *args))
    assert ok.exit_code == 0, ok.output

    def interrupt(run: object) -> None:
        raise KeyboardInterrupt

    broken = tmp_path / "broken"
    with monkeypatch.context() as patch:
        patch.setattr(loop, "_print_summary", interrupt)  # after epoch 1's checkpoint
        cut = CliRunner().invoke(app, _train(medpix_dir, tiny_config, broken, *args))
    assert cut.exit_code == 130
    run_file = snapshot(broken)["align.json"]
    resumed = CliRunner().invoke(
        app,
        [
            "align",
            "train",
            "--out",
            str(broken),
            "--resume",
            "--data-root",
            str(medpix_dir),
            "--json",
            "--threads",
            "1",
        ],
    )
    assert resumed.exit_code == 0, resumed.output
    payload = json.loads(resumed.stdout)
    assert (payload["text"], payload["seed"], payload["epochs_run"]) == ("caption", 5, 2)
    assert snapshot(broken)["align.json"] == run_file  # the run's own settings, unchanged
    rows = (broken / "metrics.csv").read_text().strip().splitlines()
    straight_rows = (straight / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) == len(straight_rows) == 1 + 2
    header = rows[0].split(",")
    assert header[-1] == "time_s" and straight_rows[0] == rows[0]
    # epoch 1 (all but its wall time) continued, not retrained
    assert rows[1].split(",")[:-1] == straight_rows[1].split(",")[:-1]


def test_overwrite_replaces_the_run_and_keeps_other_files(
    medpix_dir: Path, tiny_config: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    first = CliRunner().invoke(app, _train(medpix_dir, tiny_config, out, "--epochs", "1"))
    assert first.exit_code == 0, first.output
    (out / "notes.txt").write_text("mine")
    again = CliRunner().invoke(
        app,
        _train(medpix_dir, tiny_config, out, "--epochs", "1", "--overwrite", "--text", "caption"),
    )
    assert again.exit_code == 0, again.output
    assert (out / "notes.txt").read_text() == "mine"
    assert json.loads((out / "align.json").read_text())["text"] == "caption"
    assert len((out / "metrics.csv").read_text().strip().splitlines()) == 2


def test_eval_refuses_an_existing_out_file(
    one_epoch_run: Path, medpix_dir: Path, tmp_path: Path, snapshot: Snapshot
) -> None:
    out = tmp_path / "dev.json"
    out.write_text("my results")
    args = ["align", "eval", "--checkpoint", str(one_epoch_run), "--data-root", str(medpix_dir),
            "--out", str(out), "--quiet", "--threads", "1"]  # fmt: skip
    before = snapshot(tmp_path)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    _one_line_error(result.output, "already exists", "--overwrite")
    assert snapshot(tmp_path) == before
    assert CliRunner().invoke(app, [*args, "--overwrite"]).exit_code == 0
    assert json.loads(out.read_text())["split"] == "dev"


def test_gallery_refuses_another_models_folder(
    one_epoch_run: Path, medpix_dir: Path, tmp_path: Path, snapshot: Snapshot
) -> None:
    """The issue: ``align gallery --out`` overwrote a fusion model's files."""
    fusion_model = tmp_path / "fusion-model"
    fusion_model.mkdir()
    (fusion_model / "config.json").write_text('{"kind": "fusion"}')
    (fusion_model / "model.safetensors").write_bytes(b"fusion weights")
    args = ["align", "gallery", "--checkpoint", str(one_epoch_run), "--data-root",
            str(medpix_dir), "--out", str(fusion_model), "--quiet", "--threads", "1"]  # fmt: skip
    before = snapshot(tmp_path)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    _one_line_error(result.output, "not empty", "--overwrite")
    assert snapshot(tmp_path) == before


def test_gallery_in_the_checkpoint_folder_is_written_once(
    medpix_dir: Path, tiny_config: Path, tmp_path: Path, snapshot: Snapshot
) -> None:
    run = tmp_path / "run"
    trained = CliRunner().invoke(app, _train(medpix_dir, tiny_config, run, "--epochs", "1"))
    assert trained.exit_code == 0, trained.output
    args = ["align", "gallery", "--checkpoint", str(run), "--data-root", str(medpix_dir),
            "--quiet", "--threads", "1"]  # fmt: skip
    assert CliRunner().invoke(app, args).exit_code == 0
    before = snapshot(run)
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 2
    _one_line_error(again.output, "gallery.safetensors", "--overwrite")
    assert snapshot(run) == before
    assert CliRunner().invoke(app, [*args, "--overwrite"]).exit_code == 0
