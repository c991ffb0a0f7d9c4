"""MIT-BIH loader: constants, header parsing, episodes, and the real records (skip without)."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from medmodal.data import mitdb
from medmodal.errors import DataNotFoundError, InvalidParameterError
from medmodal.io import Annotations


def test_constants_are_consistent() -> None:
    assert len(mitdb.RECORDS) == 48
    assert len(set(mitdb.RECORDS)) == 48
    assert len(mitdb.DS1) == len(mitdb.DS2) == 22
    assert not set(mitdb.DS1) & set(mitdb.DS2)
    # de Chazal's split covers every record except the four paced ones.
    assert set(mitdb.DS1) | set(mitdb.DS2) | set(mitdb.PACED_RECORDS) == set(mitdb.RECORDS)
    assert set(mitdb.AAMI_CLASSES) <= mitdb.BEAT_SYMBOLS
    assert Counter(mitdb.AAMI_CLASSES.values()) == {"N": 5, "S": 4, "V": 2, "F": 1, "Q": 3}


def test_unknown_record_suggests_close_ids(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match=r"'110'.*Did you mean"):
        mitdb.load_record("110", root=tmp_path)


def test_missing_data_says_where_it_belongs(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="mitdb"):
        mitdb.load_record(100, root=tmp_path)


def test_vf_episodes_pairs_brackets_and_closes_open_ones() -> None:
    ann = Annotations([10, 20, 30, 50, 60, 70], ["[", "!", "]", "N", "[", "!"], sampling_rate=360)
    assert mitdb.vf_episodes(ann) == [(10, 30), (60, 70)]
    assert mitdb.vf_episodes(ann, n_samples=100) == [(10, 30), (60, 100)]
    assert mitdb.vf_episodes(Annotations([5], ["N"], sampling_rate=360)) == []


def test_aami_classes_follow_the_beats() -> None:
    ann = Annotations(range(9), ["N", "+", "L", "A", "V", "F", "/", "Q", "~"], sampling_rate=360)
    assert mitdb.aami_classes(ann).tolist() == ["N", "N", "S", "V", "F", "Q", "Q"]


@pytest.mark.data
def test_record_100_has_2273_beats(mitdb_dir: Path) -> None:
    rec = mitdb.load_record("100", root=mitdb_dir)
    assert rec.sampling_rate == 360.0
    assert rec.signal.shape == (650000, 2)
    assert rec.lead_names == ("MLII", "V5")
    assert rec.units == ("mV", "mV")
    assert rec.annotations is not None
    assert len(rec.annotations.beats()) == 2273
    assert len(mitdb.load_annotations(100, root=mitdb_dir, beats_only=True)) == 2273
    # Physical units: an R wave in MLII is around 1-2 mV, not ADC counts.
    assert 0.5 < np.percentile(np.abs(rec.lead("MLII")), 99.9) < 5
    assert rec.meta["age"] == 69
    assert rec.meta["sex"] == "M"
    assert rec.meta["medications"] == ("Aldomet", "Inderal")


@pytest.mark.data
def test_record_114_mlii_is_stored_second(mitdb_dir: Path) -> None:
    full = mitdb.load_record(114, root=mitdb_dir.parent)
    assert full.lead_names == ("V5", "MLII")
    mlii = mitdb.load_record(114, root=mitdb_dir, leads="MLII")
    assert mlii.lead_names == ("MLII",)
    np.testing.assert_array_equal(mlii.signal[:, 0], full.signal[:, 1])


@pytest.mark.data
def test_record_info_parses_the_headers(mitdb_dir: Path) -> None:
    info = mitdb.record_info(207, root=mitdb_dir)
    assert (info.age, info.sex, info.medications) == (89, "F", ("Digoxin", "Quinaglute"))
    assert "ventricular flutter" in " ".join(info.comments)
    unknown = mitdb.record_info("103", root=mitdb_dir)
    assert unknown.age is None  # the header says -1
    assert mitdb.record_info("115", root=mitdb_dir).medications == ()
    assert np.isnan(unknown.to_frame().loc["103", "age"])
    table = mitdb.record_table(root=mitdb_dir)
    assert table.shape[0] == 48
    # 47 subjects, 25 men and 22 women; records 201 and 202 come from the same man.
    assert table["sex"].value_counts().to_dict() == {"M": 26, "F": 22}
    assert table["age"].isna().sum() == 2  # records 103 and 219 give -1
    assert table.loc["114", "leads"] == "V5, MLII"


@pytest.mark.data
def test_record_207_flutter_episodes(mitdb_dir: Path) -> None:
    episodes = mitdb.vf_episodes(mitdb.load_annotations(207, root=mitdb_dir))
    assert len(episodes) == 6
    assert all(0 < s < e for s, e in episodes)
    total = sum(e - s for s, e in episodes) / mitdb.SAMPLING_RATE
    assert 100 < total < 200  # 207 holds about 2.5 minutes of ventricular flutter


@pytest.mark.data
def test_record_119_rhythms_alternate_sinus_and_bigeminy(mitdb_dir: Path) -> None:
    episodes = mitdb.rhythm_episodes(mitdb.load_annotations(119, root=mitdb_dir))
    assert {r for r, _, _ in episodes} == {"N", "B", "T"}
    assert all(s < e for _, s, e in episodes)
    assert all(a[2] == b[1] for a, b in itertools.pairwise(episodes))


@pytest.mark.data
def test_all_48_records_load_with_beats(mitdb_dir: Path) -> None:
    total = 0
    for rid in mitdb.RECORDS:
        ann = mitdb.load_annotations(rid, root=mitdb_dir, beats_only=True)
        total += len(ann)
        assert ann.sampling_rate == 360.0
    assert total == 109494  # the figure PhysioNet quotes for the 48 records
