"""Tests of medmodal.ecg.rhythm: constructed RR series, simulated rhythms, MIT-BIH."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from medmodal.ecg.peaks import ecg_peaks
from medmodal.ecg.rhythm import LABELS, Rhythm, ecg_rhythm
from medmodal.ecg.simulate import ecg_simulate_annotated
from medmodal.errors import InvalidParameterError, MedmodalError

FS = 250.0
BEAT_SYMBOLS = set("NLRBAaJSVrFejnE/fQ?")
AF_RECORDS = ("201", "202", "203", "210", "219", "221", "222")


def _peaks(rr_s: np.ndarray, fs: float = FS) -> np.ndarray:
    return np.round(np.cumsum(np.r_[0.3, rr_s]) * fs).astype(np.int64)


def _jittered(mean_rr: float, n: int, seed: int = 0, sd: float = 0.01) -> np.ndarray:
    return mean_rr + np.random.default_rng(seed).normal(0, sd, n)


@pytest.mark.parametrize(
    ("mean_rr", "label"), [(0.8, "sinus"), (0.5, "tachycardia"), (1.25, "bradycardia")]
)
def test_regular_rhythms_named_by_rate(mean_rr: float, label: str) -> None:
    rhythm = ecg_rhythm(_peaks(_jittered(mean_rr, int(60 / mean_rr))), FS)
    assert isinstance(rhythm, Rhythm)
    assert set(rhythm.label) == {label}
    assert rhythm.overall == label
    np.testing.assert_allclose(rhythm.heart_rate_bpm, 60 / mean_rr, rtol=0.03)
    assert (rhythm.irregularity < 0.06).all()
    assert all(reason.startswith("regular") for reason in rhythm.reason)


def test_random_rr_is_irregular_at_any_rate() -> None:
    rng = np.random.default_rng(3)
    for low, high in [(0.3, 0.6), (0.5, 1.2), (0.9, 1.6)]:  # fast, normal and slow AF
        rr = rng.uniform(low, high, size=int(90 / ((low + high) / 2)))
        rhythm = ecg_rhythm(_peaks(rr), FS)
        assert set(rhythm.label) == {"irregular"}, (low, high, rhythm.irregularity)
        assert (rhythm.nrmssd > 0.1).all()


def test_isolated_ectopic_beat_keeps_the_window_regular() -> None:
    rr = _jittered(0.8, 40, seed=1)
    rr[5], rr[6] = 0.5, 1.1  # premature beat + compensatory pause
    rhythm = ecg_rhythm(_peaks(rr), FS)
    assert rhythm.label[0] == "sinus"
    assert rhythm.rmssd_ms[0] > 100  # the raw RMSSD does see it


def test_bigeminy_is_irregular() -> None:
    rr = np.tile([0.55, 1.05], 30)
    assert ecg_rhythm(_peaks(rr), FS).overall == "irregular"


def test_too_few_beats_are_undetermined_with_a_reason() -> None:
    peaks = _peaks(np.full(30, 0.8))
    sparse = np.r_[peaks[:3], peaks[-10:]]  # nothing from 2 s to 16 s
    rhythm = ecg_rhythm(sparse, FS)
    assert rhythm.label[0] == "undetermined"
    assert "RR interval(s) in the window" in rhythm.reason[0]
    empty = ecg_rhythm([], FS, n_samples=int(30 * FS))
    assert set(empty.label) == {"undetermined"}
    assert empty.overall == "undetermined"
    assert np.isnan(empty.heart_rate_bpm).all()


def test_windows_frame_and_fractions() -> None:
    rhythm = ecg_rhythm(_peaks(np.full(40, 0.8)), FS, n_samples=int(40 * FS), window=10)
    np.testing.assert_allclose(rhythm.start_s, [0, 10, 20, 30])
    frame = rhythm.to_frame()
    assert list(frame.columns[:4]) == ["start_s", "end_s", "label", "reason"]
    assert len(frame) == 4
    assert sum(rhythm.fractions.values()) == pytest.approx(1.0)
    assert set(rhythm.fractions) == set(LABELS)


@pytest.mark.parametrize(
    ("rhythm_name", "label"),
    [
        ("sinus", "sinus"),
        ("tachycardia", "tachycardia"),
        ("bradycardia", "bradycardia"),
        ("afib", "irregular"),
    ],
)
def test_simulated_rhythms(rhythm_name: str, label: str) -> None:
    for seed in (1, 2):
        sim = ecg_simulate_annotated(60, FS, rhythm=rhythm_name, seed=seed, noise=0.05)
        peaks = ecg_peaks(sim.signal, FS)
        rhythm = ecg_rhythm(peaks, FS, n_samples=sim.signal.shape[0])
        assert rhythm.overall == label
        assert rhythm.fractions[label] >= 5 / 6


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"window": 1.0}, "at least 2 s"),
        ({"window": None}, "window"),
        ({"n_samples": 0}, "n_samples"),
        ({"n_samples": 2.5}, "n_samples"),
        ({"n_samples": 100}, "outside"),
    ],
)
def test_bad_parameters(kwargs, match) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        ecg_rhythm([10, 200, 400], FS, **kwargs)


@pytest.mark.parametrize(
    ("peaks", "match"),
    [([], "n_samples is needed"), ([3, 1], "increasing"), ([[1, 2]], "1-D"), ([-4], "negative")],
)
def test_bad_peaks(peaks, match) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        ecg_rhythm(peaks, FS)


@settings(max_examples=100, deadline=None)
@given(
    peaks=st.one_of(
        hnp.arrays(
            dtype=st.sampled_from([np.int64, np.float64, np.uint8]),
            shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=50),
        ),
        st.lists(st.integers(1, 2000), max_size=200).map(np.cumsum),
    ),
    rate=st.sampled_from([1.0, 100.0, 360.0, -1.0]),
    n_samples=st.one_of(st.none(), st.integers(-1, 500_000)),
    window=st.sampled_from([2.0, 10.0, 60.0, 0.5]),
)
def test_property_result_or_medmodal_error(peaks, rate, n_samples, window) -> None:
    try:
        rhythm = ecg_rhythm(peaks, rate, n_samples=n_samples, window=window)
    except MedmodalError:
        return
    assert set(rhythm.label) <= set(LABELS)
    assert len(rhythm.label) == rhythm.start_s.size == rhythm.irregularity.size
    determined = np.array([lab != "undetermined" for lab in rhythm.label])
    assert np.isfinite(rhythm.heart_rate_bpm[determined]).all()


def _reference(mitdb_dir, record: str) -> tuple[np.ndarray, np.ndarray, list[tuple[int, str]], int]:
    wfdb = pytest.importorskip("wfdb")
    ann = wfdb.rdann(str(mitdb_dir / record), "atr")
    n = wfdb.rdheader(str(mitdb_dir / record)).sig_len
    beats = np.array([s for s, y in zip(ann.sample, ann.symbol, strict=True) if y in BEAT_SYMBOLS])
    changes = [
        (int(s), note.strip("\x00"))
        for s, y, note in zip(ann.sample, ann.symbol, ann.aux_note, strict=True)
        if y == "+"
    ]
    return beats, np.array([s for s, _ in changes] + [n]), changes, n


def test_mitdb_af_windows_are_irregular_and_record_100_sinus(mitdb_dir) -> None:
    irregular, total = 0, 0
    for record in AF_RECORDS:
        beats, bounds, changes, n = _reference(mitdb_dir, record)
        rhythm = ecg_rhythm(beats, 360, n_samples=n)
        for (start, note), stop in zip(changes, bounds[1:], strict=True):
            if note != "(AFIB":
                continue
            inside = (rhythm.start_s * 360 >= start) & (rhythm.end_s * 360 <= stop)
            irregular += sum(rhythm.label[i] == "irregular" for i in np.flatnonzero(inside))
            total += int(inside.sum())
    assert total > 600
    assert irregular / total > 0.95  # measured: 0.969 (694 of 716 windows)
    beats, _, _, n = _reference(mitdb_dir, "100")
    rhythm = ecg_rhythm(beats, 360, n_samples=n)
    assert rhythm.overall == "sinus"
    assert rhythm.fractions["sinus"] > 0.95  # measured: 0.978


@pytest.mark.slow
def test_mitdb_af_windows_with_detected_peaks(mitdb_dir) -> None:
    wfdb = pytest.importorskip("wfdb")
    irregular, total = 0, 0
    for record in AF_RECORDS:
        _, bounds, changes, n = _reference(mitdb_dir, record)
        x = wfdb.rdrecord(str(mitdb_dir / record), channels=[0]).p_signal[:, 0]
        rhythm = ecg_rhythm(ecg_peaks(x, 360), 360, n_samples=n)
        for (start, note), stop in zip(changes, bounds[1:], strict=True):
            if note == "(AFIB":
                inside = (rhythm.start_s * 360 >= start) & (rhythm.end_s * 360 <= stop)
                irregular += sum(rhythm.label[i] == "irregular" for i in np.flatnonzero(inside))
                total += int(inside.sum())
    assert irregular / total > 0.95  # measured: 0.968
