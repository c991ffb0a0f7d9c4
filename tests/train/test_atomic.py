"""The checkpoint swap is crash-safe: a kill at every step leaves a run that loads and resumes."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import torch
from tests.train.conftest import build_tiny, make_tiny, mse_loss
from torch import nn
from torch.utils.data import TensorDataset

import medmodal.train._atomic as atomic
from medmodal.train import (
    TrainConfig,
    TrainState,
    find_checkpoint,
    fit,
    load_checkpoint,
    save_checkpoint,
)

NO_PID = 4_194_305  # above the largest pid_max Linux allows: no process has it
TAG = f"{NO_PID}-0123abcd"


class _KilledError(RuntimeError):
    """The process died here: this and every later disk operation fails."""


@contextmanager
def _kill_at(step: int | None, mp: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Count the swap's renames, fsyncs and removals; from number ``step`` on, fail them."""
    done: list[str] = []

    def wrap(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def op(*args: Any, **kwargs: Any) -> Any:
            if step is not None and len(done) >= step:
                raise _KilledError(f"killed before {name} (step {len(done)})")
            done.append(name)
            return real(*args, **kwargs)

        return op

    with mp.context() as m:
        m.setattr(os, "rename", wrap("rename", os.rename))
        m.setattr(os, "replace", wrap("replace", os.replace))
        m.setattr(shutil, "rmtree", wrap("rmtree", shutil.rmtree))
        m.setattr(atomic, "_fsync", wrap("fsync", atomic._fsync))
        yield done


def _weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_kill_between_any_two_steps_of_the_saves_leaves_a_consistent_resumable_run(
    train_data: TensorDataset, val_data: TensorDataset, quick_config: TrainConfig,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    cfg = quick_config.replace(epochs=2, tensorboard=False, restore_best=False)
    straight = make_tiny(0)
    with _kill_at(None, monkeypatch) as ops:
        expected = fit(straight, train_data, val_data, cfg.replace(out_dir=str(tmp_path / "ref")),
                       loss_fn=mse_loss)  # fmt: skip
    assert expected.best_epoch == 2  # both epochs save best/ and last/
    best_ref = _weights(load_checkpoint(tmp_path / "ref", build_model=build_tiny).model)
    assert len(ops) > 30  # every rename, fsync and removal of four saves

    for step in range(len(ops)):
        run = tmp_path / f"run{step}"
        with _kill_at(step, monkeypatch), pytest.raises(_KilledError):
            fit(make_tiny(0), train_data, val_data, cfg.replace(out_dir=str(run)), loss_fn=mse_loss)
        best, last = atomic.resolve(run / "best"), atomic.resolve(run / "last")
        if best is not None:  # a run folder is served its best copy, never last/
            served = load_checkpoint(run, build_model=build_tiny)
            assert served.path == best and served.state.best_epoch == served.state.epoch
        if last is not None:
            state = load_checkpoint(last, build_model=build_tiny).state
            assert state.epoch in (1, 2) and best is not None
            assert (
                state.best_epoch is not None
                and state.best_epoch <= load_checkpoint(best, build_model=build_tiny).state.epoch
            )  # best/ holds the best epoch last/ names (or a later one)
        # resumed: every weight comes from last/; restarted (no last/ yet): same init
        resumed = make_tiny(5) if last is not None else make_tiny(0)
        how = {"resume": True} if last is not None else {"overwrite": True}
        result = fit(resumed, train_data, val_data, cfg.replace(out_dir=str(run)),
                     loss_fn=mse_loss, **how)  # fmt: skip
        assert _same(_weights(resumed), _weights(straight)), f"kill at step {step}"
        assert result.best_epoch == 2 and result.checkpoint == run / "best"
        assert _same(_weights(load_checkpoint(run, build_model=build_tiny).model), best_ref)
        assert sorted(p.name for p in run.iterdir() if p.name.startswith(".")) == []


def test_a_run_folder_serves_best_while_a_save_of_best_is_interrupted(tmp_path: Path) -> None:
    run = tmp_path / "run"
    save_checkpoint(run / "best", make_tiny(0), state=TrainState(epoch=3, best_epoch=3))
    save_checkpoint(run / "last", make_tiny(1), state=TrainState(epoch=4, best_epoch=3))
    (run / "best").rename(run / f".best.old-{TAG}")  # killed between the two renames
    assert find_checkpoint(run) == run / f".best.old-{TAG}"
    assert load_checkpoint(run, build_model=build_tiny).state.epoch == 3
    save_checkpoint(run / ".best.tmp", make_tiny(2), state=TrainState(epoch=5, best_epoch=5))
    (run / ".best.tmp").rename(run / f".best.new-{TAG}")  # the complete new copy wins
    assert load_checkpoint(run, build_model=build_tiny).state.epoch == 5
    before = sorted(p.name for p in run.iterdir())
    find_checkpoint(run)
    assert sorted(p.name for p in run.iterdir()) == before  # reading changes nothing


def test_stale_temp_folders_of_a_killed_save_are_removed_on_the_next_save(tmp_path: Path) -> None:
    save_checkpoint(tmp_path / "last", make_tiny(0), state=TrainState(epoch=1))
    stale = [f".last.tmp-{TAG}", f".last.new-{NO_PID}-89abcdef"]
    alive = f".last.tmp-{os.getppid()}-0123abcd"  # another live process's save
    kept = [alive, ".last.tmp-mine", f".last.tmp-{TAG}.keep", f".best.tmp-{TAG}", "notes"]
    for name in stale + kept:
        (tmp_path / name).mkdir()
        (tmp_path / name / "model.safetensors").write_bytes(b"half")
    save_checkpoint(tmp_path / "last", make_tiny(1), state=TrainState(epoch=2))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*kept, "last"])
    assert load_checkpoint(tmp_path, build_model=build_tiny).state.epoch == 2
