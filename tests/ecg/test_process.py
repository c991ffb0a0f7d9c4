from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from medmodal.data.bundled import load_bundled
from medmodal.data.io import Record, write_record
from medmodal.ecg.batch import ecg_process_many
from medmodal.ecg.process import ECGResult, ecg_process
from medmodal.ecg.simulate import ecg_simulate_annotated
from medmodal.errors import (
    DataNotFoundError,
    InvalidParameterError,
    InvalidSignalError,
    MedmodalError,
    MedmodalWarning,
)
from medmodal.metrics.qrs import match_beats

FS = 250


@pytest.fixture(scope="module")
def result() -> tuple[ECGResult, np.ndarray]:
    sim = ecg_simulate_annotated(60, FS, heart_rate=70, n_leads=2, noise=0.05, seed=11)
    return ecg_process(sim.signal, FS, lead_names=["II", "V1"]), sim.r_peaks


def test_pipeline_finds_every_beat(result: tuple[ECGResult, np.ndarray]) -> None:
    res, truth = result
    score = match_beats(truth, res.peaks, FS)
    assert score.fn == 0
    assert score.fp == 0
    assert res.peaks.dtype == np.int64


def test_summary_numbers_agree_with_simulation(result: tuple[ECGResult, np.ndarray]) -> None:
    res, truth = result
    summary = res.summary()
    true_rate = 60 * FS / np.diff(truth).mean()
    assert summary["heart_rate_mean_bpm"] == pytest.approx(true_rate, rel=0.01)
    assert summary["n_beats"] == truth.size
    assert summary["rhythm"] == "sinus"
    assert summary["quality"] in {"excellent", "acceptable"}
    assert summary["leads"] == ["II", "V1"]
    assert 60 <= summary["intervals_median_ms"]["qrs_ms"] <= 130
    json.dumps(summary, default=float)  # serialisable for the CLI and the service


def test_frames(result: tuple[ECGResult, np.ndarray]) -> None:
    res, _ = result
    frame = res.to_frame()
    assert len(frame) == res.n_samples
    assert {"ecg_raw_II", "ecg_clean_V1", "heart_rate_bpm", "r_peak", "rhythm", "quality"} <= set(
        frame.columns
    )
    assert frame["r_peak"].sum() == res.peaks.size
    assert set(frame["rhythm"].unique()) <= {
        "sinus",
        "tachycardia",
        "bradycardia",
        "irregular",
        "undetermined",
    }
    beats = res.beats_frame()
    assert len(beats) == res.peaks.size
    assert {"qrs_onset", "qrs_ms", "heart_rate_bpm"} <= set(beats.columns)


def test_atrial_fibrillation_is_irregular() -> None:
    sim = ecg_simulate_annotated(60, FS, rhythm="afib", seed=5)
    res = ecg_process(sim.signal, FS, delineate=False)
    assert res.summary()["rhythm"] == "irregular"
    assert res.delineation is None


def test_real_excerpt_without_shared_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MEDMODAL_DATA", str(tmp_path))
    record = load_bundled("mitdb-100")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MedmodalWarning)
        res = ecg_process(record.signal, record.sampling_rate, lead_names=record.lead_names)
    assert record.annotations is not None
    score = match_beats(record.annotations.beats().sample, res.peaks, record.sampling_rate)
    assert score.f1 > 0.995
    assert 65 < res.summary()["heart_rate_mean_bpm"] < 85


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"lead_names": ["only one"]}, InvalidParameterError),
        ({"method": "pantompkin"}, InvalidParameterError),
        ({"clean_method": "nope"}, InvalidParameterError),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], error: type[Exception]) -> None:
    x = ecg_simulate_annotated(10, FS, n_leads=2, seed=1).signal
    with pytest.raises(error):
        ecg_process(x, FS, **kwargs)  # type: ignore[arg-type]


def test_bad_signals() -> None:
    with pytest.raises(InvalidSignalError, match="flat"):
        ecg_process(np.zeros(FS * 10), FS)
    with pytest.raises(InvalidSignalError, match="at least 2 s"):
        ecg_process(np.ones(FS), FS)


def test_process_many_folder_with_a_bad_file(tmp_path: Path) -> None:
    for seed, rhythm in enumerate(["sinus", "afib"]):
        sim = ecg_simulate_annotated(20, FS, rhythm=rhythm, seed=seed)
        write_record(Record(sim.signal, FS, ("II",), name=rhythm), tmp_path / f"{rhythm}.npz")
    (tmp_path / "broken.csv").write_text("time,II\n0,abc\n")
    with pytest.warns(MedmodalWarning, match="1 of 3 record"):
        batch = ecg_process_many(tmp_path, progress=False, n_jobs=2)
    frame = batch.to_frame()
    assert sorted(frame.index) == ["afib", "sinus"]
    assert frame.loc["afib", "rhythm"] == "irregular"
    assert "broken" in batch.errors
    assert batch.results == {}


def test_process_many_records_and_keep_results() -> None:
    records = [load_bundled(name) for name in ("mitdb-100", "mitdb-119")]
    batch = ecg_process_many(records, lead="MLII", keep_results=True, progress=False)
    assert set(batch.results) == {"mitdb-100", "mitdb-119"}
    assert batch.results["mitdb-119"].lead_names == ("MLII",)
    assert batch.to_frame().loc["mitdb-100", "n_beats"] > 300


def test_process_many_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError):
        ecg_process_many(tmp_path / "nope", progress=False)
    with pytest.raises(DataNotFoundError, match="no ECG records"):
        ecg_process_many(tmp_path, progress=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    signal=hnp.arrays(
        np.float64,
        st.tuples(st.integers(150, 1500), st.integers(1, 3)),
        elements=st.one_of(st.floats(-1e6, 1e6), st.sampled_from([np.nan, np.inf, 0.0])),
    ),
    rate=st.sampled_from([50.0, 100.0, 250.0]),
)
def test_any_signal_gives_a_result_or_a_medmodal_error(signal: np.ndarray, rate: float) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MedmodalWarning)
            res = ecg_process(signal, rate)
    except MedmodalError:
        return
    assert res.peaks.dtype == np.int64
    assert np.all(np.diff(res.peaks) > 0)
    assert np.isfinite(res.cleaned).all()
    json.dumps(res.summary(), default=float)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), rate=st.sampled_from([128.0, 250.0, 500.0]))
def test_simulated_ecg_is_analysed_consistently(seed: int, rate: float) -> None:
    sim = ecg_simulate_annotated(12, rate, heart_rate=60 + seed % 60, noise=0.02, seed=seed)
    res = ecg_process(sim.signal, rate, delineate=False)
    # A beat cut by the record's edge may be detected on its visible part while the
    # simulator, whose R wave fell outside, does not list it: the edges are not scored.
    edge, n = round(0.2 * rate), sim.signal.shape[0]
    score = match_beats(sim.r_peaks, res.peaks, rate, exclude=[(0, edge), (n - edge, n)])
    assert score.fn + score.fp == 0


def test_peaks_sit_on_the_reported_lead(result: tuple[ECGResult, np.ndarray]) -> None:
    res, _ = result
    x = np.abs(res.cleaned[:, res.peak_lead])
    half = round(0.02 * FS)
    on_extremum = [x[p] == x[max(0, p - half) : p + half + 1].max() for p in res.peaks]
    assert np.mean(on_extremum) > 0.95
