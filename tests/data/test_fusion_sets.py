"""Fusion-ready MIT-BIH and PTB-XL sets: layout, groups, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medmodal.data.fusion_sets import MITDB_ORDER, mitdb_beats, ptbxl_superclass
from medmodal.errors import DataNotFoundError, InvalidParameterError


def test_missing_data_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match=str(tmp_path / "mitdb")):
        mitdb_beats(root=tmp_path)
    with pytest.raises(DataNotFoundError, match="ptbxl"):
        ptbxl_superclass(root=tmp_path)


def test_bad_parameters_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match="max_records"):
        mitdb_beats(root=tmp_path, max_records=1)
    with pytest.raises(InvalidParameterError, match="n_fraction"):
        mitdb_beats(root=tmp_path, n_fraction=0.0)
    with pytest.raises(InvalidParameterError, match="rate"):
        ptbxl_superclass(root=tmp_path, rate=30)


def test_record_order_has_no_paced_records_and_no_duplicates() -> None:
    assert len(MITDB_ORDER) == len(set(MITDB_ORDER)) == 44
    assert not {"102", "104", "107", "217"} & set(MITDB_ORDER)


@pytest.mark.data
def test_mitdb_beats_layout(mitdb_dir: Path) -> None:
    fs = mitdb_beats(root=mitdb_dir, records=("201", "202", "119"), n_fraction=0.2, seed=1)
    n = len(fs)
    assert fs.X["mlii"].shape == fs.X["other"].shape == (n, 2, 128)
    assert fs.X["rhythm"].shape == (n, 10) and fs.X["demographics"].shape == (n, 2)
    assert set(fs.groups) == {"201", "119"}  # 201 and 202 are one subject
    assert set(fs.y) <= {"N", "S", "V", "F"} and "V" in set(fs.y)
    assert sum(fs.info["class_counts"].values()) == n
    # every non-N beat is kept, about a fifth of the N beats
    full = mitdb_beats(root=mitdb_dir, records=("119",), n_fraction=1.0)
    part = mitdb_beats(root=mitdb_dir, records=("119",), n_fraction=0.2)
    assert (part.y == "V").sum() == (full.y == "V").sum()
    assert 0.1 < (part.y == "N").sum() / (full.y == "N").sum() < 0.3
    assert np.isfinite(fs.X["rhythm"]).all()


@pytest.mark.data
def test_ptbxl_superclass_layout(ptbxl_dir: Path) -> None:
    fs = ptbxl_superclass(root=ptbxl_dir, max_records=40, rate=50)
    assert fs.X["ecg"].shape == (40, 12, 500) and fs.X["metadata"].shape == (40, 6)
    assert fs.y.shape == (40, 5) and (fs.y.sum(axis=1) > 0).all()
    assert fs.groups.shape == (40,)
    assert set(np.unique(fs.X["metadata"][:, 4:])) <= {0.0, 1.0}  # missing indicators
