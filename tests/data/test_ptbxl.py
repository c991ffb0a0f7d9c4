"""PTB-XL loader: metadata parsing, superclasses, folds and signals (real data; skip without)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from medmodal.data import ptbxl
from medmodal.errors import DataFormatError, DataNotFoundError, InvalidParameterError
from medmodal.io import read_record


def _statements() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "diagnostic": [1.0, 1.0, 1.0, np.nan, np.nan],
            "diagnostic_class": ["NORM", "MI", "MI", np.nan, np.nan],
        },
        index=["NORM", "IMI", "AMI", "SR", "LVOLT"],
    )


def test_superclasses_use_diagnostic_codes_only() -> None:
    meta = pd.DataFrame(
        {"scp_codes": [{"NORM": 100.0, "SR": 0.0}, {"IMI": 35.0, "AMI": 80.0}, {"SR": 0.0}]},
        index=pd.Index([7, 8, 9], name="ecg_id"),
    )
    labels = ptbxl.superclasses(meta, statements=_statements())
    assert list(labels.columns) == list(ptbxl.SUPERCLASSES)
    assert labels.loc[7].tolist() == [1, 0, 0, 0, 0]
    assert labels.loc[8].tolist() == [0, 1, 0, 0, 0]
    assert labels.loc[9].sum() == 0  # rhythm statements alone give no superclass
    strict = ptbxl.superclasses(meta, statements=_statements(), min_likelihood=50)
    assert strict.loc[8, "MI"] == 1  # AMI at 80 % still counts
    only_imi = meta.loc[[8]].assign(scp_codes=[{"IMI": 35.0}])
    weak = ptbxl.superclasses(only_imi, statements=_statements(), min_likelihood=50)
    assert weak.to_numpy().sum() == 0


def test_split_follows_the_recommended_folds() -> None:
    meta = pd.DataFrame({"strat_fold": [1, 8, 9, 10, 3]}, index=[11, 12, 13, 14, 15])
    parts = ptbxl.split(meta)
    assert parts["train"].tolist() == [11, 12, 15]
    assert parts["val"].tolist() == [13]
    assert parts["test"].tolist() == [14]


def test_missing_data_set(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="ptbxl-500"):
        ptbxl.load_metadata(root=tmp_path)


def test_bad_scp_codes_are_a_format_error(tmp_path: Path) -> None:
    header = "ecg_id,patient_id,scp_codes,strat_fold,filename_lr,report\n"
    row = "1,5.0,__import__('os'),1,x,r\n"  # literal_eval refuses code
    (tmp_path / "ptbxl_database.csv").write_text(header + row)
    with pytest.raises(DataFormatError, match="scp_codes"):
        ptbxl.load_metadata(root=tmp_path)


@pytest.mark.data
def test_metadata_types_and_missing_values(ptbxl_dir: Path) -> None:
    meta = ptbxl.load_metadata(root=ptbxl_dir)
    assert len(meta) == 500
    assert meta.index.name == "ecg_id"
    assert meta.index.min() == 1 and meta.index.max() == 500
    assert isinstance(meta.loc[1, "scp_codes"], dict)
    assert meta.loc[1, "scp_codes"]["NORM"] == 100.0
    assert meta["height"].dtype == np.float64
    assert meta["height"].isna().sum() > 100  # height is missing for most of these ECGs
    assert np.isnan(meta.loc[1, "height"])
    assert set(meta["sex"].unique()) == {0.0, 1.0}
    assert meta["age"].between(0, 120).sum() + meta["age"].isna().sum() == 500
    assert sorted(meta["strat_fold"].unique()) == list(range(1, 11))
    assert meta["patient_id"].notna().all()
    assert "sinusrhythmus" in meta.loc[1, "report"]
    # The caller's copy is its own: editing it leaves the next load untouched.
    meta.loc[1, "scp_codes"]["NORM"] = 0.0
    assert ptbxl.load_metadata(root=ptbxl_dir).loc[1, "scp_codes"]["NORM"] == 100.0


@pytest.mark.data
def test_superclass_counts_are_plausible(ptbxl_dir: Path) -> None:
    labels = ptbxl.superclasses(ptbxl.load_metadata(root=ptbxl_dir), root=ptbxl_dir)
    counts = labels.sum()
    assert counts.idxmax() == "NORM"  # as in the full set, normal ECGs dominate
    assert all(counts > 20)
    assert 0.4 < counts["NORM"] / 500 < 0.7
    assert (labels.sum(axis=1) == 0).sum() < 25


@pytest.mark.data
def test_load_record_is_12_lead_100_hz(ptbxl_dir: Path) -> None:
    rec = ptbxl.load_record(1, root=ptbxl_dir)
    assert rec.sampling_rate == 100.0
    assert rec.signal.shape == (1000, 12)
    assert rec.lead_names == ptbxl.LEADS
    assert rec.units == ("mV",) * 12
    assert rec.meta["superclasses"] == ["NORM"]
    assert rec.meta["sex"] == 1.0 and rec.meta["age"] == 56.0
    assert rec.lead("aVR").shape == (1000,)  # lead names match case-insensitively
    v1 = ptbxl.load_record("1", root=ptbxl_dir, leads=["V1"])
    np.testing.assert_array_equal(v1.signal[:, 0], rec.lead("V1"))


@pytest.mark.data
def test_unknown_ids(ptbxl_dir: Path) -> None:
    with pytest.raises(DataNotFoundError, match="ecg_id 501 is not in this copy"):
        ptbxl.load_record(501, root=ptbxl_dir)
    with pytest.raises(InvalidParameterError, match="integer"):
        ptbxl.load_record("abc", root=ptbxl_dir)


@pytest.mark.data
def test_load_signals_matches_the_wfdb_reader(ptbxl_dir: Path) -> None:
    ids = [1, 2, 250, 500]
    batch = ptbxl.load_signals(ids, root=ptbxl_dir)
    assert batch.shape == (4, 1000, 12)
    assert batch.dtype == np.float32
    meta = ptbxl.load_metadata(root=ptbxl_dir)
    for row, key in enumerate(ids):
        ref = read_record(ptbxl_dir / f"{meta.loc[key, 'filename_lr']}.hea").signal
        np.testing.assert_allclose(batch[row], ref, rtol=1e-6, atol=1e-6)
    assert ptbxl.load_signals([], root=ptbxl_dir).shape == (0, 1000, 12)
