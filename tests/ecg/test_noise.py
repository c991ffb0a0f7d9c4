"""Noise for stress tests: calibrated SNR, the NSTDB protocol, the kinds' spectra."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.signal import welch

from medmodal.ecg.noise import (
    NOISE_KINDS,
    available_kinds,
    ecg_add_noise,
    noise_from_recording,
    nstdb_segments,
)
from medmodal.ecg.simulate import ecg_simulate_annotated
from medmodal.ecg.snr import ecg_snr, noise_rms, qrs_amplitude
from medmodal.errors import InvalidParameterError, InvalidSignalError, MedmodalError

FS = 360


@pytest.fixture(scope="module")
def sim():
    return ecg_simulate_annotated(120, FS, heart_rate=75, seed=7)


def _nst_snr(clean: np.ndarray, noise: np.ndarray, beats: np.ndarray, fs: float) -> float:
    """The definition written out plainly (sigamp's loops), to check the library against."""
    half = round(0.05 * fs)
    amps = sorted(
        clean[max(0, b - half) : b + half + 1].max() - clean[max(0, b - half) : b + half + 1].min()
        for b in beats
    )
    cut = len(amps) // 20
    a = np.mean(amps[cut : len(amps) - cut])
    w = round(fs)
    rms = []
    for start in range(0, noise.size - w + 1, w):
        seg = noise[start : start + w]
        rms.append(np.sqrt(np.mean((seg - seg.mean()) ** 2)))
    rms.sort()
    cut = len(rms) // 20
    r = np.mean(rms[cut : len(rms) - cut])
    return 10 * np.log10(a**2 / 8 / r**2)


@pytest.mark.parametrize("kind", available_kinds())
@pytest.mark.parametrize("snr", [24.0, 6.0, -6.0])
def test_achieved_snr_is_the_requested_one(sim, kind: str, snr: float) -> None:
    out = ecg_add_noise(sim.signal, FS, snr_db=snr, kind=kind, peaks=sim.r_peaks, seed=1)
    assert out.kind == kind
    assert ecg_snr(sim.signal, out.noise, FS, peaks=sim.r_peaks) == pytest.approx(snr, abs=1e-9)
    assert _nst_snr(sim.signal, out.noise, sim.r_peaks, FS) == pytest.approx(snr, abs=1e-9)
    assert np.allclose(out.signal - sim.signal, out.noise)


def test_snr_definition_matches_a_sine_wave() -> None:
    # Peak-to-peak A gives S = A^2/8 (a sine's power); white noise of sd s gives N = s^2.
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1e-4, FS * 20)
    beats = np.arange(FS // 2, x.size - FS // 2, FS)
    x[beats] += 2.0  # p-p amplitude 2 -> S = 0.5
    noise = rng.normal(0, 0.5, x.size)  # N = 0.25 -> 3 dB
    assert qrs_amplitude(x, FS, beats) == pytest.approx(2.0, abs=0.01)
    assert ecg_snr(x, noise, FS, peaks=beats) == pytest.approx(3.01, abs=0.1)


def test_noise_rms_ignores_each_windows_offset(rng: np.random.Generator) -> None:
    steps = np.repeat(np.arange(10.0), FS)  # a staircase: constant within each second
    assert noise_rms(steps + rng.normal(0, 1e-3, steps.size), FS) == pytest.approx(1e-3, rel=0.1)


def test_nstdb_protocol_segments(sim) -> None:
    mask = nstdb_segments(30 * 60 * FS, FS)
    minutes = mask.reshape(30, -1).mean(axis=1)
    assert minutes[:5].sum() == 0
    assert minutes[5:7].min() == 1 and minutes[7:9].max() == 0 and minutes[9:11].min() == 1
    assert minutes[29] == 1  # 29-31: noisy to the end


def test_nstdb_protocol_calibrates_the_noisy_stretches_without_steps() -> None:
    ecg = ecg_simulate_annotated(720, FS, seed=3)
    out = ecg_add_noise(ecg.signal, FS, snr_db=0, peaks=ecg.r_peaks, protocol="nstdb", seed=2)
    segments = out.segments().tolist()
    assert [[a // FS, b // FS] for a, b in segments] == [[300, 420], [540, 660]]
    inside = np.concatenate([out.noise[a:b] for a, b in segments])
    assert ecg_snr(ecg.signal, inside, FS, peaks=ecg.r_peaks) == pytest.approx(0.0, abs=1e-9)
    jumps = np.abs(np.diff(out.noise))
    typical = np.percentile(jumps[out.noisy[1:]], 99.9)
    for a, b in segments:  # switching on or off adds no step
        assert jumps[a - 1] <= typical and jumps[b - 1] <= typical
    before = out.noise[: segments[0][0]]
    assert np.all(before == 0)
    quiet = out.noise[segments[0][1] : segments[1][0]]
    assert np.ptp(quiet) == 0  # clean segments: a constant offset, no noise
    frame = out.to_frame()
    assert list(frame.columns) == ["start_s", "end_s", "lead", "noise_rms"]
    assert len(frame) == 2


def test_multi_lead_calibrates_each_lead() -> None:
    ecg = ecg_simulate_annotated(60, FS, n_leads=3, seed=5)
    out = ecg_add_noise(ecg.signal, FS, snr_db=12, peaks=ecg.r_peaks, seed=9)
    assert out.signal.shape == ecg.signal.shape
    for lead in range(3):
        got = ecg_snr(ecg.signal[:, lead], out.noise[:, lead], FS, peaks=ecg.r_peaks)
        assert got == pytest.approx(12.0, abs=1e-9)
    assert not np.allclose(out.noise[:, 0], out.noise[:, 1])  # independent draws


def test_seeded_and_reproducible(sim) -> None:
    a = ecg_add_noise(sim.signal, FS, snr_db=6, peaks=sim.r_peaks, seed=4).noise
    b = ecg_add_noise(sim.signal, FS, snr_db=6, peaks=sim.r_peaks, seed=4).noise
    c = ecg_add_noise(sim.signal, FS, snr_db=6, peaks=sim.r_peaks, seed=5).noise
    assert np.array_equal(a, b) and not np.allclose(a, c)


def test_peaks_are_detected_when_not_given(sim) -> None:
    out = ecg_add_noise(sim.signal, FS, snr_db=12, seed=4)
    assert ecg_snr(sim.signal, out.noise, FS, peaks=sim.r_peaks) == pytest.approx(12.0, abs=0.2)


def test_recorded_noise_is_repeated_and_scaled(sim, rng: np.random.Generator) -> None:
    recording = rng.normal(size=10 * FS)
    out = ecg_add_noise(sim.signal, FS, snr_db=0, noise=recording, peaks=sim.r_peaks)
    assert out.kind == "recorded"
    assert ecg_snr(sim.signal, out.noise, FS, peaks=sim.r_peaks) == pytest.approx(0.0, abs=1e-9)
    period = out.noise[: 10 * FS]
    assert np.allclose(out.noise[10 * FS : 20 * FS] - out.noise[10 * FS], period - period[0])


def _band_share(x: np.ndarray, low: float, high: float) -> float:
    f, p = welch(x, FS, nperseg=8 * FS)
    return float(p[(f >= low) & (f < high)].sum() / p.sum())


def test_electrode_motion_overlaps_the_qrs_band_and_comes_in_bouts() -> None:
    x = NOISE_KINDS.get("em")(600 * FS, FS, np.random.default_rng(0))
    assert np.sqrt(np.mean(x**2)) == pytest.approx(1.0)
    assert _band_share(x, 0.5, 15.0) > 0.6  # low-frequency, reaching into 5-15 Hz
    assert _band_share(x, 5.0, 15.0) > 0.1
    assert _band_share(x, 40.0, FS / 2) < 0.02
    seconds = x.reshape(-1, FS)
    rms = np.sqrt(np.mean((seconds - seconds.mean(axis=1, keepdims=True)) ** 2, axis=1))
    assert np.percentile(rms, 95) > 2.5 * np.median(rms)  # non-stationary


def test_muscle_and_baseline_occupy_their_bands() -> None:
    rng = np.random.default_rng(1)
    assert _band_share(NOISE_KINDS.get("ma")(300 * FS, FS, rng), 20.0, 150.0) > 0.8
    assert _band_share(NOISE_KINDS.get("bw")(300 * FS, FS, rng), 0.0, 1.0) > 0.9


def test_noise_from_recording_recovers_added_noise() -> None:
    ecg = ecg_simulate_annotated(120, FS, seed=11)
    noise = ecg_add_noise(ecg.signal, FS, snr_db=6, peaks=ecg.r_peaks, seed=12).noise
    residual = noise_from_recording(ecg.signal + noise, FS, ecg.r_peaks)
    inner = slice(2 * FS, -2 * FS)
    r = np.corrcoef(residual[inner], noise[inner])[0, 1]
    assert r > 0.9
    clean_residual = noise_from_recording(ecg.signal, FS, ecg.r_peaks)
    assert np.std(clean_residual[inner]) < 0.1 * np.std(noise[inner])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"snr_db": float("nan")}, InvalidParameterError, "finite"),
        ({"snr_db": "6"}, InvalidParameterError, "number of dB"),
        ({"snr_db": 6, "kind": "electrode-moton"}, InvalidParameterError, "Did you mean"),
        ({"snr_db": 6, "protocol": "nstdbb"}, InvalidParameterError, "protocol"),
        ({"snr_db": 6, "protocol": np.ones(5, bool)}, InvalidParameterError, "mask"),
        ({"snr_db": 6, "peaks": []}, InvalidSignalError, "no R peaks"),
        ({"snr_db": 6, "noise": np.ones((100, 3))}, InvalidSignalError, "leads"),
        ({"snr_db": 6, "noise": np.ones(FS * 5)}, InvalidSignalError, "constant"),
    ],
)
def test_bad_arguments_are_clear_errors(sim, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        ecg_add_noise(sim.signal, FS, **{"peaks": sim.r_peaks, **kwargs})


def test_noise_from_recording_needs_beats(sim) -> None:
    with pytest.raises(InvalidSignalError, match="complete beats"):
        noise_from_recording(sim.signal, FS, sim.r_peaks[:3])
    with pytest.raises(InvalidParameterError, match="neighbours"):
        noise_from_recording(sim.signal, FS, sim.r_peaks, neighbours=1)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    snr=st.floats(-20, 40),
    kind=st.sampled_from(available_kinds()),
    seconds=st.floats(2.0, 20.0),
    rate=st.sampled_from([100.0, 128.0, 250.0, 360.0, 1000.0]),
    seed=st.integers(0, 2**16),
)
def test_property_any_valid_input_is_calibrated_or_a_clear_error(
    snr: float, kind: str, seconds: float, rate: float, seed: int
) -> None:
    ecg = ecg_simulate_annotated(seconds, rate, seed=seed)
    try:
        out = ecg_add_noise(ecg.signal, rate, snr_db=snr, kind=kind, peaks=ecg.r_peaks, seed=seed)
    except MedmodalError:
        return
    assert np.isfinite(out.signal).all()
    assert ecg_snr(ecg.signal, out.noise, rate, peaks=ecg.r_peaks) == pytest.approx(snr, abs=1e-6)


def test_noise_rms_of_huge_signals_is_finite() -> None:
    """Found by the 10,000-case fuzz run: squares of ~1e300 overflowed to inf."""
    from medmodal.ecg import ecg_simulate
    from medmodal.ecg.noise import ecg_add_noise
    from medmodal.ecg.snr import noise_rms

    noisy = ecg_add_noise(
        ecg_simulate(5, 100, seed=0) * 1e300, 100, snr_db=0.0, kind="electrode_motion", seed=0
    )
    frame = noisy.to_frame()
    assert np.isfinite(frame["noise_rms"]).all()
    t = np.arange(2500) / 250
    wave = np.sin(2 * np.pi * 10 * t)
    assert noise_rms(wave * 1e300, 250) == pytest.approx(noise_rms(wave, 250) * 1e300)
