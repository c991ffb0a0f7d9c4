"""Tests for medmodal.ecg.simulate: shapes, ground truth, rhythms, noise, leads, errors."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.signal import welch

from medmodal.ecg.simulate import (
    Noise,
    SimulatedECG,
    available_methods,
    available_rhythms,
    ecg_simulate,
    ecg_simulate_annotated,
)
from medmodal.errors import InvalidParameterError, MedmodalError, MedmodalWarning

METHODS = available_methods()
RHYTHMS = available_rhythms()


def _rr(sim: SimulatedECG) -> np.ndarray:
    return np.diff(sim.r_peaks) / sim.sampling_rate


# --- shape, dtype, reproducibility -------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("duration", "rate"), [(10, 360), (2.5, 250), (7.3, 500), (3.01, 128)])
def test_length_and_dtype(method: str, duration: float, rate: int) -> None:
    x = ecg_simulate(duration, rate, seed=0, method=method)
    assert x.shape == (round(duration * rate),)
    assert x.dtype == np.float64
    assert np.isfinite(x).all()


@pytest.mark.parametrize("method", METHODS)
def test_multilead_shape(method: str) -> None:
    x = ecg_simulate(4, 250, n_leads=12, seed=1, method=method)
    assert x.shape == (1000, 12)


@pytest.mark.parametrize("rhythm", RHYTHMS)
def test_seeded_reproducibility(rhythm: str) -> None:
    a = ecg_simulate(8, 250, rhythm=rhythm, noise=0.1, seed=7)
    b = ecg_simulate(8, 250, rhythm=rhythm, noise=0.1, seed=7)
    c = ecg_simulate(8, 250, rhythm=rhythm, noise=0.1, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_generator_seed_is_accepted() -> None:
    a = ecg_simulate(3, 250, seed=np.random.default_rng(5))
    b = ecg_simulate(3, 250, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)


def test_noise_does_not_change_the_clean_ecg() -> None:
    clean = ecg_simulate_annotated(10, 360, seed=3)
    noisy = ecg_simulate_annotated(10, 360, seed=3, noise=0.3)
    np.testing.assert_array_equal(clean.r_peaks, noisy.r_peaks)
    residual = noisy.signal - clean.signal
    assert 0.05 < residual.std() < 0.5


def test_realistic_amplitudes_in_mv() -> None:
    sim = ecg_simulate_annotated(10, 360, seed=0)
    r_amp = sim.signal[sim.r_peaks] - np.median(sim.signal)
    assert 0.8 < np.median(r_amp) < 1.6  # lead II R wave about 1 mV


# --- ground truth --------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_r_peaks_sit_on_the_r_wave(method: str) -> None:
    sim = ecg_simulate_annotated(20, 360, n_leads=3, seed=4, method=method)
    half = int(0.05 * 360)
    for lead in range(3):
        x = np.abs(sim.signal[:, lead] - np.median(sim.signal[:, lead]))
        for r in sim.r_peaks[(sim.r_peaks > half) & (sim.r_peaks < x.size - half)]:
            assert abs(int(np.argmax(x[r - half : r + half])) - half) <= 3


def test_fiducials_are_ordered_within_each_beat() -> None:
    sim = ecg_simulate_annotated(30, 500, seed=5, rhythm="pvc", ectopic_rate=0.2)
    f = sim.fiducials
    order = ["p_onset", "p_peak", "qrs_onset", "q", "r", "s", "qrs_offset", "t_peak", "t_offset"]
    for a, b in itertools.pairwise(order):
        both = (f[a] >= 0) & (f[b] >= 0)
        assert (f[a][both] < f[b][both]).all(), (a, b)
    assert all(f[name].dtype == np.int64 and f[name].size == sim.n_beats for name in order)
    np.testing.assert_array_equal(f["r"], sim.r_peaks)


def test_qrs_duration_and_intervals_are_physiological() -> None:
    sim = ecg_simulate_annotated(30, 1000, heart_rate=70, seed=6)
    f = sim.fiducials
    ok = (f["p_peak"] >= 0) & (f["t_peak"] >= 0) & (f["qrs_onset"] >= 0)
    qrs_ms = np.median(f["qrs_offset"][ok] - f["qrs_onset"][ok])
    rt_ms = np.median(f["t_peak"][ok] - f["r"][ok])
    pr_ms = np.median(f["r"][ok] - f["p_peak"][ok])
    assert 70 <= qrs_ms <= 110
    assert 200 <= rt_ms <= 320
    assert 120 <= pr_ms <= 220


def test_edge_beats_are_kept_and_annotated() -> None:
    sim = ecg_simulate_annotated(10, 360, seed=9)
    rr = np.median(_rr(sim)) * 360
    assert sim.r_peaks[0] < rr + 2  # first beat not lost
    assert sim.signal.size - sim.r_peaks[-1] < rr + 2
    assert (sim.fiducials["p_peak"][sim.fiducials["p_peak"] >= 0] >= 0).all()


def test_to_frame() -> None:
    sim = ecg_simulate_annotated(10, 250, seed=1, rhythm="pvc", ectopic_rate=0.3)
    frame = sim.to_frame()
    assert len(frame) == sim.n_beats
    assert {"time_s", "label", "rr_s", "p_peak", "qrs_onset", "t_peak"} <= set(frame.columns)
    assert np.isnan(frame["rr_s"].iloc[0])
    assert set(frame["label"]) == {"N", "V"}


# --- rhythms -------------------------------------------------------------------------------


@pytest.mark.parametrize("heart_rate", [45, 60, 75, 100, 150])
@pytest.mark.parametrize("method", METHODS)
def test_heart_rate_matches_request(heart_rate: float, method: str) -> None:
    sim = ecg_simulate_annotated(60, 250, heart_rate=heart_rate, seed=11, method=method)
    measured = 60.0 / _rr(sim).mean()
    assert abs(measured - heart_rate) < 3


def test_sinus_has_heart_rate_variability() -> None:
    rr = _rr(ecg_simulate_annotated(120, 250, seed=12))
    assert 0.005 < rr.std() < 0.06  # some HRV, but regular


@pytest.mark.parametrize("seed", [0, 1])
def test_sinus_tachogram_has_mayer_and_respiratory_peaks(seed: int) -> None:
    sim = ecg_simulate_annotated(600, 100, seed=seed)
    t, rr = sim.r_peaks[1:] / 100, np.diff(sim.r_peaks) / 100
    grid = np.arange(t[0], t[-1], 0.25)
    freqs, power = welch(np.interp(grid, t, rr) - rr.mean(), fs=4, nperseg=512)
    lf, hf = (freqs >= 0.04) & (freqs < 0.15), (freqs >= 0.15) & (freqs < 0.4)
    assert 0.08 <= freqs[lf][np.argmax(power[lf])] <= 0.12  # Mayer waves
    assert 0.22 <= freqs[hf][np.argmax(power[hf])] <= 0.28  # respiratory sinus arrhythmia
    assert 0.3 <= power[lf].sum() / power[hf].sum() <= 1.2  # LF/HF = 0.5 in the model


@pytest.mark.parametrize(("rhythm", "low", "high"), [("tachycardia", 110, 130), ("brady", 40, 50)])
def test_rate_rhythms_use_their_default_rate(rhythm: str, low: float, high: float) -> None:
    sim = ecg_simulate_annotated(60, 250, rhythm=rhythm, seed=13)
    assert low < 60 / _rr(sim).mean() < high
    assert low < sim.heart_rate < high


def test_rate_rhythm_keeps_a_consistent_heart_rate() -> None:
    sim = ecg_simulate_annotated(60, 250, rhythm="tachycardia", heart_rate=150, seed=13)
    assert abs(60 / _rr(sim).mean() - 150) < 3


def test_contradicting_heart_rate_warns() -> None:
    with pytest.warns(MedmodalWarning, match="tachycardia"):
        sim = ecg_simulate_annotated(20, 250, rhythm="tachycardia", heart_rate=80, seed=1)
    assert sim.heart_rate == 120


def test_afib_is_irregular_and_has_no_p_waves() -> None:
    sinus = _rr(ecg_simulate_annotated(120, 250, seed=14))
    af_sim = ecg_simulate_annotated(120, 250, rhythm="afib", seed=14)
    af = _rr(af_sim)
    assert af.std() / af.mean() > 0.15
    rmssd = lambda rr: np.sqrt(np.mean(np.diff(rr) ** 2))  # noqa: E731
    assert rmssd(af) > 5 * rmssd(sinus)
    assert (af_sim.fiducials["p_peak"] == -1).all()
    assert abs(60 / af.mean() - 70) < 6


def test_afib_f_waves_are_in_the_4_to_9_hz_band() -> None:
    with_f = ecg_simulate(60, 250, rhythm="afib", seed=15, n_leads=2)
    without = ecg_simulate(60, 250, rhythm="afib", seed=15, n_leads=2, f_wave_amplitude=0)
    f_wave = with_f[:, 1] - without[:, 1]  # V1
    freqs, power = welch(f_wave, fs=250, nperseg=2048)
    assert 4 <= freqs[np.argmax(power)] <= 9
    assert 0.01 < f_wave.std() < 0.1


def test_pvc_beats_are_labelled_premature_wide_and_inverted() -> None:
    sim = ecg_simulate_annotated(120, 500, rhythm="pvc", ectopic_rate=0.15, seed=16)
    labels = np.array(sim.beat_labels)
    v = labels == "V"
    assert 0.08 < v.mean() < 0.22
    assert not (v[1:] & v[:-1]).any()  # never two in a row
    f = sim.fiducials
    assert (f["p_peak"][v] == -1).all()
    assert (f["p_peak"][~v][1:] >= 0).all()
    width = f["qrs_offset"] - f["qrs_onset"]
    assert np.median(width[v]) > 1.4 * np.median(width[~v])
    baseline = np.median(sim.signal)
    amp = sim.signal[sim.r_peaks] - baseline
    assert (amp[~v] > 0).all() and (amp[v] < 0).all()
    assert np.median(-amp[v]) > 1.2 * np.median(amp[~v])
    rr = _rr(sim)
    inner = np.flatnonzero(v[1:-1]) + 1
    sinus_rr = np.median(rr)
    assert (rr[inner - 1] < 0.8 * sinus_rr).all()  # premature
    pause = rr[inner - 1] + rr[inner]
    np.testing.assert_allclose(pause, 2 * sinus_rr, rtol=0.1)  # compensatory


def test_unknown_rhythm_suggests_a_name() -> None:
    with pytest.raises(InvalidParameterError, match="Did you mean 'sinus'"):
        ecg_simulate(5, 250, rhythm="sinsu")


def test_unknown_method_lists_the_methods() -> None:
    with pytest.raises(InvalidParameterError, match="ecgsyn"):
        ecg_simulate(5, 250, method="ecgsin")


# --- noise ---------------------------------------------------------------------------------


def _noise_only(noise: Noise, rate: float = 500, n_leads: int = 1) -> np.ndarray:
    clean = ecg_simulate(60, rate, seed=21, n_leads=n_leads)
    return ecg_simulate(60, rate, seed=21, n_leads=n_leads, noise=noise) - clean


def _band_power(x: np.ndarray, rate: float, lo: float, hi: float) -> float:
    freqs, power = welch(x, fs=rate, nperseg=int(rate * 20))
    band = (freqs >= lo) & (freqs <= hi)
    return float(power[band].sum() / power.sum())


@pytest.mark.parametrize("hz", [50.0, 60.0])
def test_powerline_frequency(hz: float) -> None:
    x = _noise_only(Noise(powerline=0.1, powerline_hz=hz))
    freqs, power = welch(x, fs=500, nperseg=5000)
    assert freqs[np.argmax(power)] == pytest.approx(hz, abs=0.2)


def test_baseline_wander_is_slow() -> None:
    x = _noise_only(Noise(baseline=0.2))
    assert _band_power(x, 500, 0.0, 0.4) > 0.98
    assert 0.05 < x.std() < 0.4


def test_emg_is_band_limited_and_bursty() -> None:
    x = _noise_only(Noise(emg=0.05))
    assert _band_power(x, 500, 15, 160) > 0.95
    assert x.std() == pytest.approx(0.05, rel=0.05)
    window = 250
    rms = np.sqrt(np.mean(x[: x.size // window * window].reshape(-1, window) ** 2, axis=1))
    assert rms.max() > 2.5 * np.median(rms)  # bursts


def test_noise_level_and_mapping_forms() -> None:
    a = ecg_simulate(5, 250, seed=2, noise=0.2)
    b = ecg_simulate(5, 250, seed=2, noise=Noise.from_level(0.2))
    c = ecg_simulate(5, 250, seed=2, noise={"baseline": 0.2, "emg": 0.05, "powerline": 0.04})
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_powerline_above_nyquist_warns() -> None:
    with pytest.warns(MedmodalWarning, match="Nyquist"):
        ecg_simulate(5, 100, seed=0, noise=Noise(powerline=0.1, powerline_hz=50))


# --- leads ---------------------------------------------------------------------------------


def test_leads_differ_but_share_timing() -> None:
    sim = ecg_simulate_annotated(20, 360, n_leads=12, seed=22)
    x = sim.signal
    corr = np.corrcoef(x.T)
    assert corr[0, 1] < 0  # V1 QRS is negative where II is positive
    assert (np.abs(corr[np.triu_indices(12, 1)]) < 0.999).all()
    ii, v1 = x[sim.r_peaks, 0] - np.median(x[:, 0]), x[sim.r_peaks, 1] - np.median(x[:, 1])
    assert (ii > 0.5).all() and (v1 < -0.5).all()
    assert sim.lead_names[:3] == ("II", "V1", "V5")


def test_limb_leads_obey_einthoven() -> None:
    x = ecg_simulate(5, 360, n_leads=8, seed=23)  # II, V1, V5, I, III, aVR, aVL, aVF
    lead_i, lead_ii, lead_iii, avr = x[:, 3], x[:, 0], x[:, 4], x[:, 5]
    np.testing.assert_allclose(lead_iii, lead_ii - lead_i, atol=1e-9)
    np.testing.assert_allclose(avr, -(lead_i + lead_ii) / 2, atol=1e-9)


# --- argument errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"duration": 0},
        {"duration": -1},
        {"duration": float("nan")},
        {"duration": "10"},
        {"duration": 1e-5},
        {"duration": 1e9},
        {"sampling_rate": 0},
        {"sampling_rate": -360},
        {"sampling_rate": 10},
        {"sampling_rate": "360"},
        {"sampling_rate": True},
        {"heart_rate": 5},
        {"heart_rate": 400},
        {"heart_rate": float("inf")},
        {"heart_rate": None},
        {"n_leads": 0},
        {"n_leads": 1.5},
        {"n_leads": True},
        {"n_leads": 1000},
        {"noise": -0.1},
        {"noise": "loud"},
        {"noise": {"hum": 0.1}},
        {"noise": {"powerline": -1}},
        {"noise": {"powerline_hz": 0}},
        {"seed": -3},
        {"seed": "abc"},
        {"rhythm": 3},
        {"method": None},
        {"ectopic_rate": 1.5},
        {"f_wave_amplitude": -1},
    ],
)
def test_bad_arguments_raise(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"duration": 5, "sampling_rate": 250, **kwargs}
    with pytest.raises(InvalidParameterError):
        ecg_simulate(**args)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    duration=st.one_of(st.floats(-5, 30), st.integers(-2, 30), st.just(float("nan"))),
    rate=st.one_of(st.floats(-10, 2000), st.integers(0, 2000), st.just(float("inf"))),
    heart_rate=st.one_of(st.floats(0, 300), st.just(float("nan"))),
    rhythm=st.sampled_from([*RHYTHMS, "vf", ""]),
    method=st.sampled_from([*METHODS, "x"]),
    n_leads=st.integers(-1, 14),
    noise=st.one_of(st.floats(-1, 2), st.just(float("nan"))),
    seed=st.integers(0, 2**32),
)
def test_property_valid_result_or_medmodal_error(
    duration: float,
    rate: float,
    heart_rate: float,
    rhythm: str,
    method: str,
    n_leads: int,
    noise: float,
    seed: int,
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MedmodalWarning)
        try:
            sim = ecg_simulate_annotated(
                duration,
                rate,
                heart_rate=heart_rate,
                rhythm=rhythm,
                method=method,
                n_leads=n_leads,
                noise=noise,
                seed=seed,
            )
        except MedmodalError:
            return
    n = round(duration * rate)
    assert sim.signal.shape == ((n,) if n_leads == 1 else (n, n_leads))
    assert np.isfinite(sim.signal).all()
    assert ((sim.r_peaks >= 0) & (sim.r_peaks < n)).all()
    assert (np.diff(sim.r_peaks) > 0).all()
    assert len(sim.beat_labels) == sim.n_beats


def test_result_pickles() -> None:  # results travel between worker processes
    import pickle

    sim = ecg_simulate_annotated(5, 250, seed=1, rhythm="pvc")
    back = pickle.loads(pickle.dumps(sim))
    np.testing.assert_array_equal(back.signal, sim.signal)
    assert back.to_frame().equals(sim.to_frame())
