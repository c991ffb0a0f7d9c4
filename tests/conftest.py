"""Shared fixtures: seeded generators and the shared data sets (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from medmodal.data.paths import DATASET_DIRS, data_root, has_dataset


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator: every test sees the same numbers."""
    return np.random.default_rng(20261128)


def _require(name: str) -> Path:
    if not has_dataset(name):
        pytest.skip(f"shared data set {name!r} not found under {data_root()} (set MEDMODAL_DATA)")
    return data_root() / DATASET_DIRS[name]


@pytest.fixture(scope="session")
def mitdb_dir() -> Path:
    """The shared MIT-BIH folder; skips the test when it is not available."""
    return _require("mitdb")


@pytest.fixture(scope="session")
def ptbxl_dir() -> Path:
    """The shared PTB-XL subset folder; skips the test when it is not available."""
    return _require("ptbxl")


@pytest.fixture(scope="session")
def qtdb_dir() -> Path:
    """The shared QT database folder (53 records); skips the test when it is not there."""
    return _require("qtdb")


@pytest.fixture(autouse=True)
def _no_network_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach a hub: make any accidental download fail fast."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
