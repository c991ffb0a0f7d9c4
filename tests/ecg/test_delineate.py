"""Tests for medmodal.ecg.delineate, scored against the simulator's known fiducials."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from medmodal.ecg.delineate import Delineation, available_methods, ecg_delineate
from medmodal.ecg.simulate import SimulatedECG, ecg_simulate_annotated
from medmodal.errors import InvalidParameterError, MedmodalError, MedmodalWarning

#: Tolerances (ms) on the median absolute error against the simulator's fiducials.
TOLERANCE_MS = {
    "qrs_onset": 20.0,
    "qrs_offset": 20.0,
    "p_peak": 25.0,
    "t_peak": 25.0,
    "p_onset": 25.0,
    "t_offset": 25.0,
}


def _errors_ms(sim: SimulatedECG, d: Delineation, name: str) -> np.ndarray:
    true, found = sim.fiducials[name], getattr(d, name)
    both = (true >= 0) & (found >= 0)
    return (found[both] - true[both]) * 1000.0 / sim.sampling_rate


def _score(sim: SimulatedECG, d: Delineation) -> None:
    np.testing.assert_array_equal(d.r_peak, sim.r_peaks)
    for name, tol in TOLERANCE_MS.items():
        err = _errors_ms(sim, d, name)
        assert err.size > 0.8 * sim.n_beats, name
        assert np.median(np.abs(err)) <= tol, (name, np.median(np.abs(err)))
    has_p = sim.fiducials["p_peak"] >= 0
    assert (d.p_peak[has_p] >= 0).mean() >= 0.85
    assert (d.t_peak >= 0).mean() >= 0.95


@pytest.mark.parametrize(
    ("heart_rate", "rate", "noise", "seed"),
    [
        (60, 360, 0.0, 0),
        (45, 250, 0.05, 1),
        (75, 500, 0.1, 2),
        (100, 360, 0.2, 3),
        (130, 250, 0.1, 4),
        (150, 500, 0.0, 5),
    ],
)
def test_matches_simulated_fiducials(heart_rate: float, rate: int, noise: float, seed: int) -> None:
    sim = ecg_simulate_annotated(30, rate, heart_rate=heart_rate, noise=noise, seed=seed)
    _score(sim, ecg_delineate(sim.signal, rate, peaks=sim.r_peaks))


@pytest.mark.parametrize("lead", [0, 1, 2])  # II, V1 (negative QRS), V5
def test_matches_simulated_fiducials_on_each_lead(lead: int) -> None:
    sim = ecg_simulate_annotated(30, 360, n_leads=3, noise=0.05, seed=7)
    d = ecg_delineate(sim.signal[:, lead], 360, peaks=sim.r_peaks)
    _score(sim, d)


def test_detected_peaks_are_on_the_r_wave() -> None:
    sim = ecg_simulate_annotated(30, 360, seed=8, noise=0.05)
    d = ecg_delineate(sim.signal, 360)  # peaks from ecg_peaks
    matched = np.abs(d.r_peak[:, None] - sim.r_peaks[None, :]).min(axis=0)
    assert np.median(matched) * 1000 / 360 <= 10
    assert abs(d.n_beats - sim.n_beats) <= 1


def test_multilead_uses_the_lead_with_the_largest_qrs() -> None:
    sim = ecg_simulate_annotated(20, 360, n_leads=3, seed=9)
    d = ecg_delineate(sim.signal, 360, peaks=sim.r_peaks)
    sizes = [np.ptp(sim.signal[:, k]) for k in range(3)]
    assert d.lead == int(np.argmax(sizes))
    alone = ecg_delineate(sim.signal[:, d.lead], 360, peaks=sim.r_peaks)
    assert d.to_frame().equals(alone.to_frame())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_p_waves_in_atrial_fibrillation(seed: int) -> None:
    sim = ecg_simulate_annotated(60, 360, rhythm="afib", seed=seed, noise=0.05)
    d = ecg_delineate(sim.signal, 360, peaks=sim.r_peaks)
    assert (d.p_peak >= 0).mean() <= 0.15
    assert (d.t_peak >= 0).mean() >= 0.9
    err = _errors_ms(sim, d, "qrs_onset")
    assert np.median(np.abs(err)) <= 20


def test_sinus_p_waves_found_where_afib_has_none() -> None:
    sinus = ecg_simulate_annotated(60, 360, seed=3, noise=0.05)
    d = ecg_delineate(sinus.signal, 360, peaks=sinus.r_peaks)
    assert (d.p_peak >= 0).mean() >= 0.95


def test_no_p_wave_before_premature_ventricular_beats() -> None:
    sim = ecg_simulate_annotated(120, 360, rhythm="pvc", ectopic_rate=0.2, seed=10)
    d = ecg_delineate(sim.signal, 360, peaks=sim.r_peaks)
    v = np.array(sim.beat_labels) == "V"
    assert v.sum() >= 10
    assert (d.p_peak[v] == -1).mean() >= 0.95
    assert (d.p_peak[~v] >= 0).mean() >= 0.9
    qrs = d.intervals()["qrs_ms"].to_numpy()
    assert np.nanmedian(qrs[v]) > np.nanmedian(qrs[~v]) + 30
    for name in ("qrs_onset", "qrs_offset"):  # the wide ventricular QRS is bounded too
        true, found = sim.fiducials[name][v], getattr(d, name)[v]
        ok = (true >= 0) & (found >= 0)
        assert np.median(np.abs(found[ok] - true[ok])) * 1000 / 360 <= 20


def test_intervals_are_physiological() -> None:
    sim = ecg_simulate_annotated(30, 500, heart_rate=70, seed=11)
    iv = ecg_delineate(sim.signal, 500, peaks=sim.r_peaks).intervals()
    assert list(iv.columns) == [
        "rr_ms",
        "pr_ms",
        "qrs_ms",
        "qt_ms",
        "qtc_bazett_ms",
        "qtc_fridericia_ms",
    ]
    med = iv.median()
    assert 820 < med["rr_ms"] < 900
    assert 120 <= med["pr_ms"] <= 220
    assert 70 <= med["qrs_ms"] <= 120
    assert 320 <= med["qt_ms"] <= 460
    assert med["qtc_bazett_ms"] == pytest.approx(
        med["qt_ms"] / np.sqrt(med["rr_ms"] / 1000), rel=0.05
    )
    assert med["qtc_fridericia_ms"] == pytest.approx(
        med["qt_ms"] / np.cbrt(med["rr_ms"] / 1000), rel=0.05
    )
    assert np.isnan(iv["rr_ms"].iloc[0])


def test_frame_and_types() -> None:
    sim = ecg_simulate_annotated(10, 250, seed=12, rhythm="afib")
    d = ecg_delineate(sim.signal, 250, peaks=sim.r_peaks)
    frame = d.to_frame()
    assert list(frame.columns) == [
        "r_peak",
        "p_onset",
        "p_peak",
        "p_offset",
        "qrs_onset",
        "qrs_offset",
        "t_peak",
        "t_offset",
    ]
    assert len(frame) == d.n_beats == sim.n_beats
    assert all(dtype == np.int64 for dtype in frame.dtypes)
    assert (frame.to_numpy() >= -1).all() and (frame.to_numpy() < sim.signal.size).all()
    assert d.method == "derivative"


def test_boundaries_bracket_each_r_peak() -> None:
    sim = ecg_simulate_annotated(30, 360, seed=13, rhythm="pvc", noise=0.1)
    d = ecg_delineate(sim.signal, 360, peaks=sim.r_peaks)
    ok = (d.qrs_onset >= 0) & (d.qrs_offset >= 0)
    assert (d.qrs_onset[ok] < d.r_peak[ok]).all() and (d.r_peak[ok] < d.qrs_offset[ok]).all()
    p = d.p_peak >= 0
    assert (d.p_onset[p] < d.p_peak[p]).all() and (d.p_peak[p] < d.p_offset[p]).all()
    assert (d.p_offset[p] <= d.qrs_onset[p]).all()
    assert ((d.p_offset >= 0) == p).all()  # a P wave has all three points or none
    t = (d.t_peak >= 0) & (d.t_offset >= 0)
    assert (d.qrs_offset[t] < d.t_peak[t]).all() and (d.t_peak[t] < d.t_offset[t]).all()


def test_gaussian_method_signal_is_delineated() -> None:
    sim = ecg_simulate_annotated(30, 360, seed=14, method="gaussian")
    d = ecg_delineate(sim.signal, 360, peaks=sim.r_peaks)
    for name in ("p_peak", "t_peak"):
        assert np.median(np.abs(_errors_ms(sim, d, name))) <= 25


# --- peaks and arguments -------------------------------------------------------------------


def test_unsorted_peaks_are_sorted_with_a_warning() -> None:
    sim = ecg_simulate_annotated(10, 250, seed=15)
    shuffled = np.concatenate((sim.r_peaks[::-1], sim.r_peaks[:2]))
    with pytest.warns(MedmodalWarning, match="sorted"):
        d = ecg_delineate(sim.signal, 250, peaks=shuffled)
    np.testing.assert_array_equal(d.r_peak, sim.r_peaks)


def test_float_peaks_and_empty_peaks() -> None:
    sim = ecg_simulate_annotated(10, 250, seed=16)
    d = ecg_delineate(sim.signal, 250, peaks=sim.r_peaks.astype(float))
    np.testing.assert_array_equal(d.r_peak, sim.r_peaks)
    empty = ecg_delineate(sim.signal, 250, peaks=[])
    assert empty.n_beats == 0 and empty.to_frame().empty and empty.intervals().empty


def test_peaks_at_the_very_ends() -> None:
    sim = ecg_simulate_annotated(10, 250, seed=17)
    n = sim.signal.size
    d = ecg_delineate(sim.signal, 250, peaks=[0, 1, n // 2, n - 2, n - 1])
    assert d.n_beats == 5
    assert (d.to_frame().to_numpy() >= -1).all()


@pytest.mark.parametrize("rate", [10, 50, 128, 1000, 5000])
def test_any_sampling_rate_with_given_peaks(rate: int) -> None:
    n = int(4 * rate)
    x = np.sin(np.arange(n) * 2 * np.pi / rate) + 0.01 * np.random.default_rng(0).standard_normal(n)
    d = ecg_delineate(x, rate, peaks=np.arange(rate // 4, n, max(1, rate // 2)))
    frame = d.to_frame().to_numpy()
    assert (frame >= -1).all() and (frame < n).all()


@pytest.mark.parametrize(
    "peaks",
    [[-1, 10], [10, 10_000], [1.5, 20], [[1, 2]], ["a"], [np.nan], [True, False]],
)
def test_bad_peaks_raise(peaks: object) -> None:
    x = ecg_simulate_annotated(10, 250, seed=18).signal
    with pytest.raises(InvalidParameterError, match="peaks"):
        ecg_delineate(x, 250, peaks=peaks)  # type: ignore[arg-type]


def test_unknown_method_suggests() -> None:
    x = ecg_simulate_annotated(5, 250, seed=19).signal
    with pytest.raises(InvalidParameterError, match="derivative"):
        ecg_delineate(x, 250, method="derivativ")
    assert "derivative" in available_methods()


@pytest.mark.parametrize("rate", [0, -1, float("nan"), "250", None])
def test_bad_sampling_rate_raises(rate: object) -> None:
    with pytest.raises(InvalidParameterError):
        ecg_delineate(np.zeros(1000), rate)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "signal",
    [np.zeros(3000), np.ones((3000, 2)), np.zeros(10), np.zeros((2, 3, 4)), np.array(["x"] * 3000)],
)
def test_bad_signals_raise(signal: np.ndarray) -> None:
    with pytest.raises(MedmodalError):
        ecg_delineate(signal, 250, peaks=[100, 400])


# --- real data -----------------------------------------------------------------------------


@pytest.mark.data
def test_mitdb_record_100_qrs_duration(mitdb_dir: Path) -> None:
    wfdb = pytest.importorskip("wfdb")
    stop = 360 * 300  # first five minutes
    record = wfdb.rdrecord(str(mitdb_dir / "100"), sampto=stop)
    ann = wfdb.rdann(str(mitdb_dir / "100"), "atr", sampto=stop)
    normal = ann.sample[np.array(ann.symbol) == "N"]
    d = ecg_delineate(record.p_signal[:, 0], record.fs, peaks=normal)
    qrs = d.intervals()["qrs_ms"]
    assert 60 <= qrs.median() <= 120
    assert qrs.notna().mean() > 0.95
    assert (d.p_peak >= 0).mean() > 0.9  # record 100 is sinus rhythm
    assert (d.t_peak >= 0).mean() > 0.9


# --- properties ----------------------------------------------------------------------------

_signals = st.one_of(
    hnp.arrays(
        np.float64,
        st.integers(0, 1500),
        elements=st.floats(allow_nan=True, allow_infinity=True, width=64),
    ),
    hnp.arrays(np.int16, st.integers(400, 1500)),
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(400, 900), st.integers(1, 3)),
        elements=st.floats(-1e6, 1e6),
    ),
    st.builds(
        lambda seed, scale: ecg_simulate_annotated(4, 250, seed=seed, noise=0.2).signal * scale,
        st.integers(0, 50),
        st.sampled_from([1.0, -1.0, 1e-9, 1e150, 1e300]),
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    signal=_signals,
    rate=st.sampled_from([100, 250, 360]),
    peaks=st.one_of(st.none(), st.lists(st.integers(0, 1499), max_size=12)),
)
def test_property_valid_result_or_medmodal_error(
    signal: np.ndarray, rate: int, peaks: list[int] | None
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MedmodalWarning)
        try:
            d = ecg_delineate(signal, rate, peaks=peaks)
        except MedmodalError:
            return
    n = signal.shape[0]
    frame = d.to_frame()
    assert (frame.to_numpy() >= -1).all() and (frame.to_numpy() < n).all()
    assert (np.diff(d.r_peak) > 0).all()
    assert 0 <= d.lead < (1 if signal.ndim == 1 else signal.shape[1])
    intervals = d.intervals()
    assert not np.isinf(intervals.to_numpy()).any()


def test_result_pickles() -> None:  # results travel between worker processes
    import pickle

    sim = ecg_simulate_annotated(5, 250, seed=1)
    d = ecg_delineate(sim.signal, 250, peaks=sim.r_peaks)
    assert pickle.loads(pickle.dumps(d)).to_frame().equals(d.to_frame())
