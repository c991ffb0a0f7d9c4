"""ecg_af: simulated AF and sinus rhythm, an annotated MIT-BIH excerpt, short and odd
input, and random RR series (hypothesis)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medmodal.ecg import AFResult, ecg_af
from medmodal.ecg._af import irregularity
from medmodal.ecg._af.cosen import cosen
from medmodal.ecg.af import AF_METHODS, MIN_INTERVALS, available_methods
from medmodal.ecg.simulate import ecg_simulate_annotated
from medmodal.errors import InvalidParameterError, MedmodalError
from medmodal.metrics.af import af_scores

METHODS = available_methods()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("with_signal", [False, True])
@pytest.mark.parametrize("fs", [128, 360])
def test_simulated_af_found(method: str, with_signal: bool, fs: int) -> None:
    sim = ecg_simulate_annotated(180, fs, rhythm="afib", seed=3)
    res = ecg_af(sim.r_peaks, fs, signal=sim.signal if with_signal else None, method=method)
    assert res.burden_pct > 90
    assert res.overall == "af" and res.n_episodes >= 1
    assert res.fractions["af"] > 0.9


@pytest.mark.parametrize(
    ("method", "rhythm"),
    [(m, r) for m in METHODS for r in ("sinus", "tachycardia")] + [("irregularity", "pvc")],
)
def test_sinus_simulation_not_af(method: str, rhythm: str) -> None:
    """Regular rhythms are not AF; ours also ignores frequent PVCs (COSEn, RR-only with
    12-beat segments, calls some 12-beat runs with PVCs AF: a known weakness)."""
    sim = ecg_simulate_annotated(180, 250, rhythm=rhythm, seed=5)
    res = ecg_af(sim.r_peaks, 250, signal=sim.signal, method=method)
    assert res.burden_pct < 5
    assert res.overall == "not_af"


def test_p_waves_used_only_with_signal_and_by_our_method() -> None:
    sim = ecg_simulate_annotated(60, 250, rhythm="sinus", seed=1)
    assert ecg_af(sim.r_peaks, 250, signal=sim.signal).used_p_waves
    assert not ecg_af(sim.r_peaks, 250).used_p_waves
    assert not ecg_af(sim.r_peaks, 250, signal=sim.signal, method="cosen").used_p_waves


def test_p_waves_veto_irregular_sinus_rhythm() -> None:
    """Irregular RR with P waves before every beat (e.g. sinus arrhythmia) is not AF when
    the signal is given, but is AF-like from the RR intervals alone."""
    af = ecg_simulate_annotated(120, 250, rhythm="afib", seed=2)
    rr = np.diff(af.r_peaks) / 250
    assert irregularity.detect(rr, None, None).mean() > 0.9
    assert not irregularity.detect(rr, np.ones(rr.size, dtype=bool), None).any()


def test_mitdb_201_excerpt(mitdb_dir: Path) -> None:
    """The first 10 min of record 201: AF 0-378 s and 477-514 s (reference aux notes)."""
    from medmodal.data import mitdb

    rec = mitdb.load_record("201", root=mitdb_dir)
    fs, n = rec.sampling_rate, int(600 * rec.sampling_rate)
    assert rec.annotations is not None
    ann = rec.annotations.between(0, n)
    ref = [(s / fs, e / fs) for r, s, e in mitdb.rhythm_episodes(ann, n_samples=n) if r == "AFIB"]
    assert len(ref) == 2
    res = ecg_af(ann.beats().sample, fs, signal=rec.signal[:n], n_samples=n)
    detected = list(zip(res.episode_start_s, res.episode_end_s, strict=True))
    scores = af_scores(ref, detected, duration_s=600.0)
    assert scores.episode_se == 1.0 and scores.episode_ppv == 1.0
    assert scores.duration_se > 0.9 and scores.duration_ppv > 0.9
    # the windows from 400 s to 470 s are normal rhythm
    middle = (res.start_s >= 400) & (res.end_s <= 470)
    assert {res.label[i] for i in np.flatnonzero(middle)} == {"not_af"}


@pytest.mark.parametrize("peaks", [[], [10], [10, 300], list(range(0, 2500, 250))])
def test_short_input_is_unknown_with_reason(peaks: list[int]) -> None:
    res = ecg_af(peaks, 250)
    assert set(res.label) == {"unknown"}
    assert res.overall == "unknown" and res.burden_pct == 0.0
    assert all("too few beats" in r and str(MIN_INTERVALS) in r for r in res.reason)


def test_short_signal_is_unknown_not_an_error() -> None:
    sim = ecg_simulate_annotated(5, 250, seed=0)
    res = ecg_af(sim.r_peaks, 250, signal=sim.signal)
    assert set(res.label) == {"unknown"}


def test_sparse_window_is_unknown() -> None:
    beats = np.concatenate([np.arange(0, 60, 0.8), np.arange(90, 150, 0.8)]) * 250
    res = ecg_af(beats.astype(int), 250, window=10)
    gap = (res.start_s >= 60) & (res.end_s <= 90)
    assert gap.any() and {res.label[i] for i in np.flatnonzero(gap)} == {"unknown"}
    assert "RR interval(s) in the window" in res.reason[int(np.flatnonzero(gap)[0])]


def test_frames() -> None:
    sim = ecg_simulate_annotated(120, 250, rhythm="afib", seed=0)
    res = ecg_af(sim.r_peaks, 250)
    assert isinstance(res, AFResult)
    frame = res.to_frame()
    assert list(frame.columns) == [
        "start_s", "end_s", "label", "reason", "af_fraction", "n_intervals"
    ]  # fmt: skip
    assert len(frame) == 12
    episodes = res.episodes_frame()
    assert (episodes["duration_s"] >= 30).all()
    assert np.isclose(100 * episodes["duration_s"].sum() / res.end_s[-1], res.burden_pct)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "cosn"}, "did you mean"),
        ({"window": 1}, "window"),
        ({"n_samples": 0}, "n_samples"),
        ({"n_samples": 100}, "outside the signal"),
    ],
)
def test_bad_parameters_raise(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=f"(?i){message}"):
        ecg_af([100, 300, 500], 250, **kwargs)  # type: ignore[arg-type]


def test_registry_names() -> None:
    assert METHODS == ("irregularity", "cosen")
    assert AF_METHODS.resolve("default") == "irregularity"
    assert AF_METHODS.resolve("lake2011") == "cosen"
    assert "cosen" in (ecg_af.__doc__ or "")


def test_cosen_published_behaviour() -> None:
    """COSEn rises with irregularity and falls with the mean RR (the -ln mean RR term)."""
    rng = np.random.default_rng(0)
    base = rng.uniform(0.5, 1.0, 12)
    assert cosen(base) > cosen(0.9 + 0.1 * (base - 0.75))
    assert np.isclose(cosen(2 * base), cosen(base) + np.log(2) - np.log(2), atol=1.0)
    assert np.isnan(cosen(np.array([0.8, 0.8])))


@settings(max_examples=60, deadline=None)
@given(
    rr=st.lists(st.floats(0.01, 5.0, allow_nan=False), min_size=0, max_size=200),
    fs=st.sampled_from([50.0, 128.0, 360.0, 1000.0]),
    method=st.sampled_from(METHODS),
)
def test_random_rr_series_clean_result(rr: list[float], fs: float, method: str) -> None:
    peaks = np.unique(np.round(np.cumsum([0.5, *rr]) * fs).astype(np.int64))
    try:
        res = ecg_af(peaks, fs, method=method)
    except MedmodalError:
        return
    assert set(res.label) <= {"af", "not_af", "unknown"}
    assert 0.0 <= res.burden_pct <= 100.0
    assert len(res.label) == len(res.reason) == res.start_s.size
    assert (res.episode_end_s - res.episode_start_s >= 30).all()


def test_episodes_join_runs_closer_than_the_gap() -> None:
    from medmodal.ecg._af import episodes

    beats = np.arange(0, 200 * 250, 250)  # one beat a second
    flags = np.zeros(beats.size - 1, dtype=bool)
    flags[0:60] = flags[75:140] = True  # AF-like runs 15 s apart
    flags[170:190] = True  # a 20 s run: shorter than an episode
    assert episodes.episodes(beats, flags, 250.0, merge_gap_s=20.0).tolist() == [[0.0, 140.0]]
    assert episodes.episodes(beats, flags, 250.0, merge_gap_s=10.0).tolist() == [
        [0.0, 60.0],
        [75.0, 140.0],
    ]
