"""A run never deletes or overwrites what it did not create; a refused call changes nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from tests.train.conftest import build_tiny, make_tiny, mse_loss
from torch.utils.data import TensorDataset

from medmodal.errors import DataNotFoundError, InvalidParameterError
from medmodal.train import TrainConfig, check_run_dir, claim_run_dir, fit, load_checkpoint

TAG = "4194305-0123abcd"  # a save tag of a process that cannot exist


def _snapshot(folder: Path) -> dict[str, str]:
    """Every entry under ``folder`` (hidden ones too) with a hash of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        if p.is_file()
        else "dir"
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def cfg(quick_config: TrainConfig, tmp_path: Path) -> TrainConfig:
    return quick_config.replace(epochs=1, tensorboard=False, out_dir=str(tmp_path / "run"))


def test_fit_into_a_folder_holding_only_an_interrupted_last_is_refused(
    train_data: TensorDataset, val_data: TensorDataset, cfg: TrainConfig, tmp_path: Path
) -> None:
    fit(make_tiny(0), train_data, val_data, cfg, loss_fn=mse_loss)
    run = tmp_path / "run"
    (run / "last").rename(run / f".last.old-{TAG}")  # killed between the renames of a save
    before = _snapshot(run)
    with pytest.raises(InvalidParameterError, match="refusing to write into"):
        fit(make_tiny(1), train_data, val_data, cfg, loss_fn=mse_loss)
    assert _snapshot(run) == before  # best/ and everything else untouched
    fit(make_tiny(1), train_data, val_data, cfg, loss_fn=mse_loss, resume=True)
    assert (run / "last").is_dir() and not (run / f".last.old-{TAG}").exists()


def test_a_non_empty_folder_is_refused_unchanged_and_overwrite_keeps_other_files(
    train_data: TensorDataset, cfg: TrainConfig, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "notes.txt").write_text("mine")
    before = _snapshot(run)
    for call in (
        lambda: fit(make_tiny(), train_data, None, cfg, loss_fn=mse_loss),
        lambda: claim_run_dir(run),
        lambda: check_run_dir(run),
    ):
        with pytest.raises(InvalidParameterError, match=r"into .*run: it holds 1 entries \(notes"):
            call()
        assert _snapshot(run) == before
    with pytest.raises(DataNotFoundError, match="holds no checkpoint"):
        claim_run_dir(run, resume=True)
    assert _snapshot(run) == before
    fit(make_tiny(), train_data, None, cfg, loss_fn=mse_loss, overwrite=True)
    assert (run / "notes.txt").read_text() == "mine" and (run / "last").is_dir()


def test_overwrite_replaces_the_previous_run_and_only_its_files(
    train_data: TensorDataset, val_data: TensorDataset, cfg: TrainConfig, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    fit(make_tiny(0), train_data, val_data, cfg, loss_fn=mse_loss)
    (run / "notes.txt").write_text("mine")
    (run / f".best.tmp-{TAG}").mkdir()  # a killed save's leftovers go with the run
    result = fit(make_tiny(1), train_data, None, cfg, loss_fn=mse_loss, overwrite=True)
    assert result.checkpoint == run / "last"  # no stale best/ of the replaced run
    assert sorted(p.name for p in run.iterdir()) == [
        "last", "metrics.csv", "notes.txt", "train_config.json"
    ]  # fmt: skip
    assert load_checkpoint(run, build_model=build_tiny).path == run / "last"


def test_refusals_name_the_function_the_value_and_what_is_allowed(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidParameterError, match="is a file, not a folder"):
        claim_run_dir(tmp_path / "file", overwrite=True)
    with pytest.raises(InvalidParameterError, match="exclude each other"):
        claim_run_dir(tmp_path / "new", resume=True, overwrite=True)
    (tmp_path / "other" / "best").mkdir(parents=True)  # someone's folder, not a checkpoint
    before = _snapshot(tmp_path)
    with pytest.raises(InvalidParameterError, match="align train: overwrite=True would delete"):
        claim_run_dir(tmp_path / "other", overwrite=True, caller="align train")
    assert _snapshot(tmp_path) == before and not (tmp_path / "new").exists()
    assert claim_run_dir(tmp_path / "new") == tmp_path / "new"
    assert (tmp_path / "new").is_dir()
    assert claim_run_dir(tmp_path / "new") == tmp_path / "new"  # empty: fine
