from __future__ import annotations

import json
import pickle
from functools import partial
from pathlib import Path

import pytest
import torch
from tests.train.conftest import TinyConfig, TinyNet, build_tiny, make_tiny
from torch import nn

import medmodal.train.checkpoint as ckpt_module
from medmodal._torch import AdamW
from medmodal.errors import DataFormatError, DataNotFoundError, InvalidParameterError
from medmodal.train import (
    TrainConfig,
    TrainState,
    find_checkpoint,
    load_checkpoint,
    restore_checkpoint,
    save_checkpoint,
)
from medmodal.train.optim import LRSchedule, build_optimizer, build_scheduler, warmup_cosine


def _trained_objects() -> tuple[TinyNet, AdamW, LRSchedule]:
    model = make_tiny(0)
    cfg = TrainConfig(lr=0.01)
    optimizer = build_optimizer(model, cfg)
    scheduler = build_scheduler(optimizer, cfg, total_steps=20)
    for _ in range(3):
        model(torch.randn(5, 4)).pow(2).mean().backward()
        optimizer.step()
        scheduler.step()
    return model, optimizer, scheduler


def _equal_params(a: nn.Module, b: nn.Module) -> bool:
    pairs = zip(a.parameters(), b.parameters(), strict=True)
    return all(torch.equal(x, y) for x, y in pairs)


def test_round_trip_of_weights_optimizer_scheduler_and_state(tmp_path: Path) -> None:
    model, optimizer, scheduler = _trained_objects()
    state = TrainState(epoch=2, step=3, best_metric=0.25, best_epoch=1, history=[{"epoch": 1}])
    cfg = TrainConfig(epochs=7)
    folder = save_checkpoint(
        tmp_path / "ck", model, train_config=cfg, optimizer=optimizer, scheduler=scheduler,
        state=state,
    )  # fmt: skip
    record = json.loads((folder / "config.json").read_text())
    assert record["model_config"] == {"dim_in": 4, "hidden": 8, "dropout": 0.2}
    assert record["state"]["epoch"] == 2 and record["state"]["best_metric"] == 0.25

    loaded = load_checkpoint(folder, build_model=build_tiny)
    assert all(
        torch.equal(a, b)
        for a, b in zip(loaded.model.parameters(), model.parameters(), strict=True)
    )
    assert not loaded.model.training
    assert loaded.train_config == cfg and loaded.state == state

    fresh = make_tiny(5)
    optimizer2 = build_optimizer(fresh, TrainConfig(lr=0.01))
    scheduler2 = build_scheduler(optimizer2, TrainConfig(lr=0.01), total_steps=20)
    restore_checkpoint(folder, fresh, optimizer=optimizer2, scheduler=scheduler2)
    sd1, sd2 = optimizer.state_dict(), optimizer2.state_dict()
    assert sd1["param_groups"] == sd2["param_groups"]
    for i, s in sd1["state"].items():
        assert all(torch.equal(s[k], sd2["state"][i][k]) for k in s)
    assert scheduler2.state_dict() == scheduler.state_dict()
    assert [g["lr"] for g in optimizer2.param_groups] == [g["lr"] for g in optimizer.param_groups]


def test_a_checkpoint_of_torch_optim_objects_resumes_exactly(tmp_path: Path) -> None:
    """Run folders written while fit used torch.optim.AdamW + LambdaLR still resume."""

    def steps(model: TinyNet, optimizer: object, scheduler: object, n: int) -> None:
        g = torch.Generator().manual_seed(n)
        model.eval()  # no dropout: both runs see the same function
        for _ in range(n):
            optimizer.zero_grad()  # type: ignore[attr-defined]
            model(torch.randn(5, 4, generator=g)).pow(2).mean().backward()
            optimizer.step()  # type: ignore[attr-defined]
            scheduler.step()  # type: ignore[attr-defined]

    cfg = TrainConfig(lr=0.01, warmup_steps=2)
    ref, model = make_tiny(0), make_tiny(0)
    groups = [
        {"params": g["params"], "weight_decay": g["weight_decay"]}
        for g in build_optimizer(ref, cfg).param_groups
    ]
    old = torch.optim.AdamW(groups, lr=0.01)
    old_scheduler = torch.optim.lr_scheduler.LambdaLR(
        old, partial(warmup_cosine, warmup=2, total=20)
    )
    steps(ref, old, old_scheduler, 3)
    folder = save_checkpoint(tmp_path / "ck", ref, optimizer=old, scheduler=old_scheduler)
    optimizer = build_optimizer(model, cfg)
    scheduler = build_scheduler(optimizer, cfg, total_steps=20)
    restore_checkpoint(folder, model, optimizer=optimizer, scheduler=scheduler)
    assert scheduler.last_epoch == 3
    assert [g["lr"] for g in optimizer.param_groups] == [g["lr"] for g in old.param_groups]
    steps(ref, old, old_scheduler, 4)
    steps(model, optimizer, scheduler, 4)
    assert _equal_params(ref, model)


def test_loading_never_unpickles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model, optimizer, scheduler = _trained_objects()
    folder = save_checkpoint(tmp_path / "ck", model, optimizer=optimizer, scheduler=scheduler)

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("unpickling attempted")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    restore_checkpoint(folder, make_tiny(1), optimizer=build_optimizer(make_tiny(1), TrainConfig()))
    for file in folder.iterdir():
        assert not file.read_bytes().startswith(b"\x80")  # no pickle protocol header


def test_a_failure_mid_save_leaves_the_previous_checkpoint_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = make_tiny(0)
    folder = save_checkpoint(tmp_path / "last", old, state=TrainState(epoch=1))
    real_save_file = ckpt_module.save_file

    def save_then_die(tensors: dict[str, torch.Tensor], filename: str) -> None:
        real_save_file(tensors, filename)  # the new files are half written...
        raise OSError("disk full")  # ...when the save fails

    monkeypatch.setattr(ckpt_module, "save_file", save_then_die)
    model, optimizer, _ = _trained_objects()
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(folder, model, optimizer=optimizer, state=TrainState(epoch=2))
    loaded = load_checkpoint(folder, build_model=build_tiny)
    assert loaded.state.epoch == 1
    assert all(
        torch.equal(a, b) for a, b in zip(loaded.model.parameters(), old.parameters(), strict=True)
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last"]  # temp folder removed


def test_a_crash_between_the_two_renames_is_recovered(tmp_path: Path) -> None:
    save_checkpoint(tmp_path / "last", make_tiny(0), state=TrainState(epoch=3))
    (tmp_path / "last").rename(tmp_path / ".last.old-123-0123abcd")  # the moment of the crash
    assert find_checkpoint(tmp_path / "last") == tmp_path / ".last.old-123-0123abcd"
    assert load_checkpoint(tmp_path / "last", build_model=build_tiny).state.epoch == 3


def test_a_config_that_does_not_match_the_weights_is_a_clear_error(tmp_path: Path) -> None:
    folder = save_checkpoint(tmp_path / "ck", make_tiny(0))
    with pytest.raises(
        DataFormatError, match=r"shapes differ: body\.0\.weight: file \(8, 4\), model \(16, 4\)"
    ):
        load_checkpoint(folder, build_model=lambda cfg: TinyNet(TinyConfig(hidden=16)))

    def bigger(cfg: dict) -> nn.Module:
        net = build_tiny(cfg)
        net.extra = nn.Linear(2, 2)
        return net

    with pytest.raises(DataFormatError, match=r"missing: extra\.bias, extra\.weight"):
        load_checkpoint(folder, build_model=bigger)
    record = json.loads((folder / "config.json").read_text())
    record["model_config"]["hidden"] = 32  # an edited config.json
    (folder / "config.json").write_text(json.dumps(record))
    with pytest.raises(DataFormatError, match="do not match the TinyNet built from its config"):
        load_checkpoint(folder, build_model=build_tiny)


def test_tied_weights_survive_a_round_trip(tmp_path: Path) -> None:
    class Tied(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encode = nn.Linear(3, 3, bias=False)
            self.decode = nn.Linear(3, 3, bias=False)
            self.decode.weight = self.encode.weight

    torch.manual_seed(0)
    net = Tied()
    folder = save_checkpoint(tmp_path / "ck", net)
    loaded = load_checkpoint(folder, build_model=lambda cfg: Tied()).model
    assert torch.equal(loaded.decode.weight, net.encode.weight)
    assert loaded.decode.weight is loaded.encode.weight


def test_missing_and_broken_checkpoints(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "nothing", build_model=build_tiny)
    folder = save_checkpoint(tmp_path / "ck", nn.Linear(2, 2))
    with pytest.raises(InvalidParameterError, match="has no model config"):
        load_checkpoint(folder)
    (folder / "config.json").write_text("{broken")
    with pytest.raises(DataFormatError, match="cannot read checkpoint file"):
        load_checkpoint(folder, build_model=build_tiny)
    (folder / "config.json").write_text('{"format": "something-else"}')
    with pytest.raises(DataFormatError, match="is not a medmodal checkpoint"):
        load_checkpoint(folder, build_model=build_tiny)
    folder2 = save_checkpoint(tmp_path / "ck2", make_tiny())
    (folder2 / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(DataFormatError, match="cannot read weights"):
        load_checkpoint(folder2, build_model=build_tiny)
    with pytest.raises(DataFormatError, match="holds no optimiser state"):
        restore_checkpoint(
            save_checkpoint(tmp_path / "ck3", make_tiny()),
            make_tiny(),
            optimizer=build_optimizer(make_tiny(), TrainConfig()),
        )


def test_run_folder_resolves_to_best_then_last(tmp_path: Path) -> None:
    save_checkpoint(tmp_path / "run" / "last", make_tiny(0), state=TrainState(epoch=5))
    assert find_checkpoint(tmp_path / "run") == tmp_path / "run" / "last"
    save_checkpoint(tmp_path / "run" / "best", make_tiny(0), state=TrainState(epoch=3))
    assert load_checkpoint(tmp_path / "run", build_model=build_tiny).state.epoch == 3
