"""``benchmarks/align_cli.py``: the page states the settings the run used, read back from
its folder, and the committed page matches its JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests._benchmarks import BENCH, import_benchmarks


@pytest.fixture(scope="module")
def align_cli() -> Any:
    return import_benchmarks("align_cli")[0]


def _run_folder(folder: Path, *, pretrained: bool, lock: int) -> Path:
    (folder / "best").mkdir(parents=True)
    (folder / "align.json").write_text(json.dumps({
        "data": "medpix", "evaluation": "prompted", "text": "structured",
        "model": "medpix-clip-effnet", "seed": 0, "pretrained": pretrained,
    }))  # fmt: skip
    recipe = {"epochs": 15, "batch_size": 64, "lr": 5e-4, "weight_decay": 0.05}
    (folder / "train_config.json").write_text(json.dumps(recipe))
    image = {"kind": "efficientnet-lite0", "image_size": 96, "lock": lock}
    (folder / "best" / "config.json").write_text(json.dumps({"model_config": {"image": image}}))
    return folder


def test_settings_are_read_from_the_run_and_shown(align_cli: Any, tmp_path: Path) -> None:
    settings = align_cli.run_settings(_run_folder(tmp_path / "a", pretrained=True, lock=12))
    assert settings["model"] == "medpix-clip-effnet" and settings["pretrained"] is True
    assert (settings["epochs"], settings["lr"], settings["image_lock"]) == (15, 5e-4, 12)
    line = align_cli._settings_line(settings)
    assert "ImageNet-pretrained, 12 image layers locked, 96 px), 15 epochs, peak lr 0.0005" in line
    scratch = align_cli.run_settings(_run_folder(tmp_path / "b", pretrained=False, lock=0))
    assert "from scratch, 96 px" in align_cli._settings_line(scratch)


def test_committed_page_matches_its_json(align_cli: Any) -> None:
    results = BENCH / "results"
    payload = json.loads((results / "align_cli.json").read_text())
    assert (results / "align_cli.md").read_text() == align_cli.render(payload)
