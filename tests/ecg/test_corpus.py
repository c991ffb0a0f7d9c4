"""ecg_process_corpus: Parquet rows per record, time limits, resume, the Dask engine."""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest

from medmodal.data.ecg_corpus import make_ecg_corpus
from medmodal.ecg._engines import available_engines
from medmodal.ecg._parquet import PartWriter
from medmodal.ecg.batch import ecg_process_many
from medmodal.ecg.corpus import BEAT_COLUMNS, RECORD_COLUMNS, beats_path, ecg_process_corpus
from medmodal.errors import InvalidParameterError, MedmodalWarning, MissingDependencyError
from medmodal.io import read_record

SMALL = {"duration": 10.0, "sampling_rate": 250.0, "n_leads": 2}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("corpus") / "records"
    return folder, make_ecg_corpus(folder, 8, seed=3, corrupt=1, pathological=1, **SMALL)


@pytest.fixture(scope="module")
def serial(corpus: tuple[Path, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("serial") / "features.parquet"
    run = ecg_process_corpus(
        corpus[0], out, engine="joblib", workers=1, timeout=None, beats=True, progress=False
    )
    return run


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns="processing_s").sort_values("path", ignore_index=True)


def test_one_row_per_record_with_status_and_units(serial, corpus) -> None:
    manifest = corpus[1]
    frame = serial.to_frame()
    assert list(frame.columns) == [name for name, _ in RECORD_COLUMNS]
    assert len(frame) == len(manifest) == serial.n_found
    status = dict(zip(frame["record"], frame["status"], strict=True))
    flat = set(manifest.loc[manifest["defect"] == "flat", "record"])
    assert flat  # seed 3: the one pathological record is a flat line
    for row in manifest.itertuples():
        # a flat line is a result (no beats, every measure unknown), not an error
        failed = row.kind == "corrupt" or (row.kind == "pathological" and row.record not in flat)
        assert status[row.record] == ("error" if failed else "ok")
    ok = frame[frame["status"] == "ok"]
    assert (ok["reason"] == "").all()
    beating = ok[~ok["record"].isin(flat)]
    assert beating["heart_rate_bpm"].between(30, 200).all()
    lines = ok[ok["record"].isin(flat)]
    assert lines["heart_rate_bpm"].isna().all() and (lines["quality"] == "unacceptable").all()
    assert (ok["n_leads"] == 2).all()
    assert (ok["sampling_rate_hz"] == 250.0).all()
    assert set(ok["quality"]) <= {"excellent", "acceptable", "unacceptable"}
    failed = frame[frame["status"] == "error"]
    assert failed["reason"].str.len().gt(0).all()
    assert failed["heart_rate_bpm"].isna().all()
    assert (serial.n_ok, serial.n_error, serial.n_timeout) == (7, 1, 0)


def test_polars_reads_the_same_tables(serial) -> None:
    """The README's reader: every part file of the dataset folder, one table."""
    pl = pytest.importorskip("polars")
    for path in (serial.path, serial.beats):
        ours = pl.read_parquet(path / "*.parquet").to_pandas()
        keys = ["record", "beat"] if "beat" in ours.columns else ["path"]
        expected = pd.read_parquet(path).sort_values(keys, ignore_index=True)
        got = ours.sort_values(keys, ignore_index=True)[list(expected.columns)]
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)
        assert len(got) > 0


def test_beat_table_matches_the_records(serial) -> None:
    beats = pd.read_parquet(serial.beats)
    assert serial.beats == beats_path(serial.path)
    assert list(beats.columns) == [name for name, _ in BEAT_COLUMNS]
    frame = serial.to_frame().set_index("record")
    counts = beats.groupby("record").size()
    assert (counts == frame.loc[counts.index, "n_beats"]).all()
    assert not beats.duplicated(["record", "beat"]).any()


def test_same_rows_as_ecg_process_many(serial, corpus) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MedmodalWarning)
        many = ecg_process_many(corpus[0], progress=False).to_frame()
    frame = serial.to_frame().set_index("record")
    ok = frame[frame["status"] == "ok"]
    assert sorted(ok.index) == sorted(many.index)
    pd.testing.assert_series_equal(  # NaN (the flat record) equals NaN
        ok["heart_rate_bpm"].astype(float),
        many.loc[ok.index, "heart_rate.mean_bpm"].astype(float),
        check_names=False,
    )


def test_a_record_past_the_limit_is_reported_and_the_rest_finish(
    corpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, manifest = corpus
    slow = manifest[manifest["kind"] == "normal"]["record"].iloc[1]
    monkeypatch.setenv("_MEDMODAL_TEST_DELAY_RECORDS", slow)
    monkeypatch.setenv("_MEDMODAL_TEST_DELAY_S", "120")
    began = time.perf_counter()
    run = ecg_process_corpus(
        folder, tmp_path / "t.parquet", engine="joblib", workers=1, timeout=4, progress=False
    )
    assert time.perf_counter() - began < 100
    frame = run.to_frame().set_index("record")
    assert frame.loc[slow, "status"] == "timeout"
    assert frame.loc[slow, "reason"] == "timeout: still running after 4 s"
    assert (run.n_ok, run.n_error, run.n_timeout) == (6, 1, 1)


def test_resume_after_an_interrupted_run_writes_no_duplicates(
    corpus, serial, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "features.parquet"
    original, calls = PartWriter.write, []

    def cut_off(self: PartWriter, task: int, rows: object) -> Path:
        calls.append(task)
        if len(calls) == 5:  # beats then records per task: the 3rd task's beats are written
            raise KeyboardInterrupt
        return original(self, task, rows)

    monkeypatch.setattr(PartWriter, "write", cut_off)
    kw = {"engine": "joblib", "workers": 1, "timeout": None, "beats": True, "progress": False}
    with pytest.raises(KeyboardInterrupt):
        ecg_process_corpus(corpus[0], out, records_per_task=2, **kw)
    monkeypatch.setattr(PartWriter, "write", original)
    assert len(pd.read_parquet(out)) == 4  # two whole tasks survived
    with pytest.raises(InvalidParameterError, match="resume"):
        ecg_process_corpus(corpus[0], out, **kw)
    run = ecg_process_corpus(corpus[0], out, resume=True, **kw)
    assert (run.n_skipped, run.n_ok + run.n_error + run.n_timeout) == (4, 4)
    pd.testing.assert_frame_equal(_comparable(run.to_frame()), _comparable(serial.to_frame()))
    beats = pd.read_parquet(run.beats)
    assert not beats.duplicated(["record", "beat"]).any()
    assert len(beats) == len(pd.read_parquet(serial.beats))
    again = ecg_process_corpus(corpus[0], out, resume=True, **kw)
    assert (again.n_skipped, again.n_ok) == (8, 0)


def test_bad_options(corpus, tmp_path: Path) -> None:
    folder = corpus[0]
    with pytest.raises(InvalidParameterError, match="Did you mean 'dask'"):
        ecg_process_corpus(folder, tmp_path / "o", engine="dusk")
    with pytest.raises(InvalidParameterError, match="workers must be"):
        ecg_process_corpus(folder, tmp_path / "o", workers=0)
    with pytest.raises(InvalidParameterError, match="timeout must be"):
        ecg_process_corpus(folder, tmp_path / "o", timeout=-1)
    with pytest.raises(InvalidParameterError, match="client= and scheduler= need"):
        ecg_process_corpus(folder, tmp_path / "o", engine="joblib", scheduler="tcp://x:1")
    with pytest.raises(InvalidParameterError, match="must be record files"):
        ecg_process_corpus([read_record(next(folder.glob("*.hea")))], tmp_path / "o")
    assert available_engines() == ("dask", "joblib")


@pytest.mark.slow
def test_two_dask_workers_equal_the_serial_run(serial, corpus, tmp_path: Path) -> None:
    dd = pytest.importorskip("dask.dataframe")
    run = ecg_process_corpus(
        corpus[0], tmp_path / "d.parquet", engine="dask", workers=2, timeout=60,
        records_per_task=3, beats=True, progress=False,
    )  # fmt: skip
    assert len(list(run.path.glob("part-*.parquet"))) == 3
    pd.testing.assert_frame_equal(_comparable(run.to_frame()), _comparable(serial.to_frame()))
    lazy = _comparable(dd.read_parquet(run.path).compute().reset_index(drop=True))
    expected = _comparable(serial.to_frame())
    pd.testing.assert_frame_equal(lazy.astype(expected.dtypes.to_dict()), expected)
    beats = pd.read_parquet(run.beats).sort_values(["record", "beat"], ignore_index=True)
    expected = pd.read_parquet(serial.beats).sort_values(["record", "beat"], ignore_index=True)
    pd.testing.assert_frame_equal(beats, expected)


@pytest.mark.slow
def test_ecg_process_many_on_dask_equals_joblib(corpus) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MedmodalWarning)
        local = ecg_process_many(corpus[0], progress=False)
        dask = ecg_process_many(corpus[0], engine="dask", n_jobs=2, progress=False, timeout=60)
    pd.testing.assert_frame_equal(local.to_frame(), dask.to_frame())
    assert local.errors == dask.errors


@pytest.mark.parametrize(("module", "engine"), [("distributed", "dask"), ("pyarrow", "joblib")])
def test_missing_optional_packages_name_the_extra(
    corpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, engine: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    with pytest.raises(MissingDependencyError, match=r"pip install 'medmodal\[scale\]'"):
        ecg_process_corpus(corpus[0], tmp_path / "o", engine=engine, workers=1, progress=False)
    if module == "pyarrow":
        assert not (tmp_path / "o").exists()
