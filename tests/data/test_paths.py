from __future__ import annotations

from pathlib import Path

import pytest

from medmodal.data.paths import ENV_VAR, data_root, dataset_dir, has_dataset
from medmodal.errors import DataNotFoundError


def test_explicit_root_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, "/nonexistent")
    assert data_root(tmp_path) == tmp_path


def test_environment_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert data_root() == tmp_path


def test_missing_dataset_says_where_it_belongs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert not has_dataset("mitdb")
    with pytest.raises(DataNotFoundError, match=str(tmp_path / "mitdb")) as info:
        dataset_dir("mitdb")
    assert ENV_VAR in str(info.value)
    assert isinstance(info.value, FileNotFoundError)


def test_dataset_dir_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "ptbxl-500").mkdir()
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert dataset_dir("ptbxl") == tmp_path / "ptbxl-500"
    assert has_dataset("ptbxl")
