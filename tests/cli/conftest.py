"""Shared CLI fixtures: a tiny MedPix-layout folder, a tiny model config, folder snapshots."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REGIONS = ("Head", "Thorax")
#: dev images: enough that R@10 (the early-stopping monitor) does not saturate at once
DEV_N = 40
TINY_MODEL = {
    "name": "tiny-clip",
    "embed_dim": 16,
    "image": {"widths": [8, 16], "image_size": 32},
    "text": {"max_length": 32},
    "image_head": {"hidden": 32},
    "text_head": {"hidden": 32},
}


def _image(modality: str, rng: np.random.Generator) -> np.ndarray:
    """CT: a bright disc on black; MR: horizontal stripes. Random size, offset and a
    random shading ramp (no two patients' images are near-duplicates)."""
    h, w = rng.integers(40, 64, size=2)
    yy, xx = np.mgrid[:h, :w]
    if modality == "CT":
        cy, cx = h / 2 + rng.integers(-6, 7), w / 2 + rng.integers(-6, 7)
        r = min(h, w) / rng.uniform(2.6, 4.0)
        img = ((yy - cy) ** 2 + (xx - cx) ** 2 < r**2) * 220.0
    else:
        img = (np.sin(yy / rng.uniform(1.5, 3.0)) > 0) * 160.0 + 40
    angle = rng.uniform(0, 2 * np.pi)
    ramp = 120 * ((xx / w - 0.5) * np.cos(angle) + (yy / h - 0.5) * np.sin(angle))
    return np.clip(img + ramp + rng.normal(0, 10, (h, w)), 0, 255).astype(np.uint8)


def _write(folder: Path, split: str, n: int, first_case: int, rng: np.random.Generator) -> None:
    rows = []
    for i in range(n):
        modality = "CT" if i % 2 == 0 else "MR"
        case = f"MPX{first_case + i // 2}"
        image = f"{case}_synpic{first_case * 100 + i}"
        Image.fromarray(_image(modality, rng)).save(folder / "images" / f"{image}.png")
        caption = "round dense structure" if modality == "CT" else "striped signal pattern"
        rows.append({
            "Type": modality, "U_id": case, "image": image,
            "Description": {"Caption": caption, "Modality": modality, "Plane": "Axial"},
            "Location": "Generalized", "Location Category": REGIONS[i // 2 % 2],
        })  # fmt: skip
    text = "\n".join(json.dumps(r) for r in rows) + "\n"
    (folder / "splits" / f"descriptions_{split}.jsonl").write_text(text)


@pytest.fixture(scope="session")
def medpix_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("medpix")
    (folder / "images").mkdir()
    (folder / "splits").mkdir()
    rng = np.random.default_rng(7)
    _write(folder, "train", 48, 1000, rng)
    _write(folder, "val", DEV_N, 3000, rng)  # the folder's own val: not carved from train
    _write(folder, "dev", DEV_N, 2000, rng)
    return folder


@pytest.fixture(scope="session")
def tiny_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JSON config of a tiny image-text CLIP model (trains in seconds)."""
    config = tmp_path_factory.mktemp("cfg") / "tiny.json"
    config.write_text(json.dumps(TINY_MODEL))
    return config


def _snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every entry under ``folder``: relative path -> (content hash, mtime in ns)."""
    shot = {}
    for path in sorted(folder.rglob("*")):
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        shot[str(path.relative_to(folder))] = (digest, path.stat().st_mtime_ns)
    return shot


@pytest.fixture
def snapshot() -> Callable[[Path], dict[str, tuple[str, int]]]:
    """``snapshot(folder)``: hashes and mtimes of everything in it (to prove nothing changed)."""
    return _snapshot
