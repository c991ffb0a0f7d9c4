"""A pandas row-index column in a CSV is not read as a lead (issue 16)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from medmodal.ecg.simulate import ecg_simulate
from medmodal.errors import MedmodalWarning
from medmodal.io import Record, read_record


@pytest.mark.parametrize("index", ["pandas", "counting", "counting from 1"])
def test_an_index_column_is_not_a_lead(tmp_path: Path, index: str) -> None:
    signal = ecg_simulate(10, 250, seed=2)
    frame = pd.DataFrame({"time": np.arange(len(signal)) / 250, "II": signal})
    path = tmp_path / "r.csv"
    if index == "pandas":
        frame.to_csv(path)  # the default: an unnamed index column first
    else:
        start = 0 if index == "counting" else 1
        frame.insert(0, "n", start + np.arange(len(signal)))
        frame.to_csv(path, index=False)
    with pytest.warns(MedmodalWarning, match="row index"):
        record = read_record(path)
    assert record.lead_names == ("II",) and record.sampling_rate == 250
    np.testing.assert_allclose(record.signal[:, 0], signal, atol=1e-9)


def test_a_real_first_lead_is_kept(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"I": rng.normal(size=500), "II": rng.normal(size=500)})
    frame.to_csv(tmp_path / "r.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MedmodalWarning)
        record = read_record(tmp_path / "r.csv", sampling_rate=250)
    assert record.lead_names == ("I", "II")
    assert isinstance(record, Record)
