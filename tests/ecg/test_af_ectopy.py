"""ecg_af's evidence filters: pauses, premature beats with their compensatory pause and
beats unlike the dominant QRS shape are no AF; noise gives "unknown" with the reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medmodal.ecg import ecg_af
from medmodal.ecg._af import irregularity, morphology
from medmodal.ecg.simulate import ecg_simulate_annotated


def test_odd_beats_are_the_simulated_pvcs() -> None:
    sim = ecg_simulate_annotated(120, 250, rhythm="pvc", seed=5)
    odd = morphology.odd_beats(sim.signal.reshape(sim.signal.shape[0], -1), 250, sim.r_peaks)
    is_v = np.asarray(sim.beat_labels) == "V"
    assert is_v.sum() >= 5
    assert odd[is_v].all() and not odd[~is_v].any()


@pytest.mark.parametrize("fs", [128, 500])
def test_odd_beats_any_rate_and_lead_count(fs: int) -> None:
    sim = ecg_simulate_annotated(60, fs, rhythm="pvc", n_leads=2, seed=1)
    odd = morphology.odd_beats(sim.signal, fs, sim.r_peaks)
    is_v = np.asarray(sim.beat_labels) == "V"
    assert odd.shape == is_v.shape
    assert np.mean(odd == is_v) > 0.95


def test_usable_sets_aside_pauses_and_premature_pairs() -> None:
    rr = np.full(100, 0.8)
    rr[30:32] = [0.5, 1.1]  # premature beat + compensatory pause
    rr[60] = 1.6  # a pause (missed beat)
    assert np.flatnonzero(~irregularity.usable(rr)).tolist() == [30, 31, 60]
    odd = np.zeros(101, dtype=bool)
    odd[80] = True  # intervals 79 and 80 touch the odd beat
    assert np.flatnonzero(~irregularity.usable(rr, odd)).tolist() == [30, 31, 60, 79, 80]


def test_bigeminy_rr_is_not_af() -> None:
    """Short-long bigeminy with a compensatory pause, slowly varying rate: no AF."""
    rng = np.random.default_rng(0)
    base = 0.8 + 0.05 * np.sin(np.arange(300) / 20) + rng.normal(0, 0.005, 300)
    rr = np.ravel(np.column_stack([0.6 * base, 1.4 * base]))
    peaks = np.round(np.cumsum(np.concatenate([[1.0], rr])) * 250).astype(int)
    res = ecg_af(peaks, 250)
    assert res.burden_pct == 0.0 and res.overall != "af"


def test_af_survives_frequent_premature_pairs() -> None:
    """AF intervals that happen to look like short-long pairs do not hide the AF."""
    sim = ecg_simulate_annotated(180, 250, rhythm="afib", seed=4)
    rr = np.diff(sim.r_peaks) / 250
    assert irregularity.usable(rr).mean() > 0.7
    assert ecg_af(sim.r_peaks, 250, signal=sim.signal).burden_pct > 90


@pytest.mark.parametrize(("record", "start_s"), [("106", 0), ("119", 1200), ("208", 600)])
def test_mitdb_ventricular_ectopy_not_af(mitdb_dir: Path, record: str, start_s: int) -> None:
    """10 min of development records with ventricular bigeminy/trigeminy or frequent PVCs
    (no AF in the reference): AF-like from RR alone, not AF with the QRS shapes."""
    from medmodal.data import mitdb

    rec = mitdb.load_record(record, root=mitdb_dir)
    fs = rec.sampling_rate
    n0, n1 = int(start_s * fs), int((start_s + 600) * fs)
    peaks = rec.annotations.beats().sample if rec.annotations is not None else np.array([])
    peaks = peaks[(peaks >= n0) & (peaks < n1)] - n0
    rr_only = ecg_af(peaks, fs, n_samples=n1 - n0)
    with_shape = ecg_af(peaks, fs, signal=rec.signal[n0:n1], n_samples=n1 - n0)
    assert rr_only.burden_pct > 5
    assert with_shape.burden_pct == 0.0 and with_shape.overall != "af"


def test_pure_noise_is_unknown_with_reason() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=120 * 250)
    peaks = np.round(np.cumsum(rng.uniform(0.4, 1.2, 160)) * 250).astype(int)
    res = ecg_af(peaks[peaks < x.size], 250, signal=x)
    assert res.overall == "unknown"
    assert "too noisy or too many ectopic beats" in res.summary()["reason"]


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    noise=st.floats(0.0, 5.0),
    fs=st.sampled_from([128, 360]),
    rhythm=st.sampled_from(["sinus", "afib", "pvc"]),
    seconds=st.integers(3, 90),
)
def test_noisy_or_short_signal_never_raises(
    seed: int, noise: float, fs: int, rhythm: str, seconds: int
) -> None:
    sim = ecg_simulate_annotated(seconds, fs, rhythm=rhythm, seed=seed)
    x = sim.signal + np.random.default_rng(seed).normal(0, noise, sim.signal.shape)
    res = ecg_af(sim.r_peaks, fs, signal=x)
    assert set(res.label) <= {"af", "not_af", "unknown"}
    assert all(r for lab, r in zip(res.label, res.reason, strict=True) if lab == "unknown")
    if res.overall == "unknown":
        assert res.summary()["reason"]
    assert 0.0 <= res.burden_pct <= 100.0


def test_process_hook_with_signal_matches_ecg_af() -> None:
    """``_af_with_p_waves`` (what ``ecg_process`` calls with its own P waves) gives the
    same episodes as ``ecg_af`` once it is handed the signal too."""
    from medmodal.ecg.af import _af_with_p_waves, _p_present

    sim = ecg_simulate_annotated(150, 250, rhythm="pvc", seed=2)
    data = sim.signal.reshape(sim.signal.shape[0], -1)
    p_before = np.concatenate([[True], _p_present(data, 250, sim.r_peaks)])
    hooked = _af_with_p_waves(
        sim.r_peaks, 250, p_present=p_before, n_samples=data.shape[0], window=10.0, signal=data
    )
    direct = ecg_af(sim.r_peaks, 250, signal=sim.signal)
    assert hooked.label == direct.label
    assert np.array_equal(hooked.episode_start_s, direct.episode_start_s)


def test_af_among_frequent_odd_beats_needs_strong_evidence() -> None:
    """Irregular RR where every third beat is odd (a third of the intervals usable) is
    still AF on strong evidence; with every other beat odd nothing is usable: no verdict."""
    rng = np.random.default_rng(1)
    rr = rng.uniform(0.45, 1.15, 300)
    odd = np.zeros(rr.size + 1, dtype=bool)
    odd[::3] = True
    share = irregularity.usable(rr, odd).mean()
    assert irregularity.LOW_USABLE <= share < irregularity.MIN_USABLE
    assert irregularity.detect(rr, np.zeros(rr.size, dtype=bool), odd).mean() > 0.9
    assert not irregularity.detect(rr, np.ones(rr.size, dtype=bool), odd).any()
    odd[::2] = True
    assert not irregularity.detect(rr, None, odd).any()
    assert not irregularity.judgeable(irregularity.usable(rr, odd)).any()
