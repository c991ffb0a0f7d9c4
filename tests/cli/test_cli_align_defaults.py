"""``align train`` defaults: the model chosen on val for each MedPix evaluation, with its
ImageNet weights, its locked layers and its own recipe, unless the flags say otherwise."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from typer.testing import CliRunner

from medmodal.cli._align_run import run_settings
from medmodal.cli.app import app
from medmodal.models import create_model


def _stem(net: torch.nn.Module) -> torch.Tensor:
    return net.towers["image"]._conv_stem.weight.detach()  # type: ignore[index,union-attr]


def test_default_model_per_evaluation_and_the_pretrained_flag(tmp_path: Path) -> None:
    imagenet = _stem(create_model("medpix-clip-effnet", pretrained=True))
    common: dict[str, Any] = {
        "resume": False,
        "overwrite": False,
        "data": None,
        "text": None,
        "seed": None,
    }
    run = run_settings(tmp_path / "a", model=None, **common)
    assert (run.net.config.name, run.pretrained, run.text) == (
        "medpix-clip-effnet",
        True,
        "structured",
    )
    assert torch.equal(_stem(run.net), imagenet)
    image = run.net.config.image
    assert image is not None and (image.lock, image.image_size) == (12, 96)
    assert not any(p.requires_grad for p in run.net.towers["image"]._conv_stem.parameters())  # type: ignore[union-attr]
    bare = run_settings(tmp_path / "b", model=None, pretrained=False, **common)
    assert not bare.pretrained and not torch.equal(_stem(bare.net), imagenet)
    zero_shot = run_settings(tmp_path / "c", model=None, evaluation="zero-shot", **common)
    assert (zero_shot.net.config.name, zero_shot.pretrained) == ("medpix-clip", False)
    unlocked = run_settings(tmp_path / "d", model="medpix-clip-effnet", lock_image=0, **common)
    assert unlocked.pretrained and unlocked.net.config.image.lock == 0  # type: ignore[union-attr]


def test_quick_run_with_defaults_trains_the_pretrained_tower(
    medpix_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    args = ["align", "train", "--data-root", str(medpix_dir), "--out", str(out), "--quick",
            "--batch-size", "16"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (
        "training medpix-clip-effnet; image tower efficientnet-lite0 (ImageNet weights, "
        "12 layers locked, 96 px); 1 epoch at peak lr 0.0005" in " ".join(result.output.split())
    )
    info = json.loads((out / "align.json").read_text())
    assert (info["model"], info["pretrained"]) == ("medpix-clip-effnet", True)
    recipe = json.loads((out / "train_config.json").read_text())
    assert (recipe["epochs"], recipe["lr"]) == (1, 5e-4)  # --quick: 1 epoch; the model's lr
