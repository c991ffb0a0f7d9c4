from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medmodal.errors import DataFormatError, DataNotFoundError, InvalidParameterError
from medmodal.train import TrainConfig


def test_defaults_are_valid_and_documented() -> None:
    cfg = TrainConfig()
    assert cfg.mode == "min" and cfg.monitor == "val_loss" and cfg.patience is None
    source = Path(__file__).parents[2] / "src/medmodal/train/config.py"
    lines = [ln for ln in source.read_text().splitlines() if ln.startswith("    ") and ": " in ln]
    for name in cfg.to_dict():
        field_line = next(ln for ln in lines if ln.strip().startswith(f"{name}:"))
        assert "#" in field_line, f"{name} has no comment"


def test_unknown_key_is_rejected_with_a_suggestion() -> None:
    with pytest.raises(InvalidParameterError, match=r"unknown key 'weight_decy'.*'weight_decay'"):
        TrainConfig.from_dict({"weight_decy": 0.1})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"epochs": 0}, "epochs must be an integer >= 1"),
        ({"batch_size": 2.5}, "batch_size must be an integer"),
        ({"lr": -1.0}, "lr must be a finite number > 0"),
        ({"lr": float("nan")}, "lr must be a finite number > 0"),
        ({"warmup_ratio": 1.5}, r"warmup_ratio must be a number in \[0.0, 1.0\]"),
        ({"warmup_steps": -3}, "warmup_steps must be an integer >= 0"),
        ({"grad_clip": 0.0}, "grad_clip must be a finite number > 0"),
        ({"mode": "maximum"}, r"mode must be one of \('min', 'max'\)"),
        ({"patience": 0}, "patience must be an integer >= 1"),
        ({"betas": (0.9, 1.0)}, "betas must be two numbers"),
        ({"device": "tpu"}, "device must be"),
        ({"epochs": True}, "epochs must be an integer"),
        ({"num_threads": 0}, "num_threads must be an integer >= 1"),
    ],
)
def test_invalid_values_name_the_field(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        TrainConfig(**changes)


def test_warmup_steps_override_the_ratio() -> None:
    assert TrainConfig(warmup_ratio=0.1).warmup_for(200) == 20
    assert TrainConfig(warmup_ratio=0.1, warmup_steps=7).warmup_for(200) == 7
    assert TrainConfig(warmup_steps=500).warmup_for(200) == 200


def test_json_round_trip_and_replace(tmp_path: Path) -> None:
    cfg = TrainConfig(epochs=3, betas=(0.8, 0.95), patience=2, monitor="mean_R@10", mode="max")
    path = cfg.to_json(tmp_path / "train.json")
    assert json.loads(path.read_text())["betas"] == [0.8, 0.95]
    assert TrainConfig.from_json(path) == cfg
    assert cfg.replace(lr=0.5).lr == 0.5
    with pytest.raises(InvalidParameterError, match="unknown key"):
        cfg.replace(learning_rate=0.5)


def test_from_json_errors(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError):
        TrainConfig.from_json(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DataFormatError, match="cannot read"):
        TrainConfig.from_json(tmp_path / "bad.json")


configs = st.builds(
    TrainConfig,
    epochs=st.integers(1, 1000),
    batch_size=st.integers(1, 4096),
    lr=st.floats(1e-8, 10.0),
    weight_decay=st.floats(0.0, 1.0),
    warmup_ratio=st.floats(0.0, 1.0),
    warmup_steps=st.none() | st.integers(0, 10_000),
    grad_clip=st.none() | st.floats(1e-3, 100.0),
    bf16=st.booleans(),
    seed=st.integers(0, 2**31),
    patience=st.none() | st.integers(1, 50),
    monitor=st.sampled_from(["val_loss", "mean_R@10", "a_to_b_R@1"]),
    mode=st.sampled_from(["min", "max"]),
    out_dir=st.none() | st.just("runs/x"),
    num_threads=st.none() | st.integers(1, 64),
)


@settings(max_examples=50, deadline=None)
@given(configs)
def test_any_valid_config_round_trips_through_json(cfg: TrainConfig) -> None:
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
