"""Delineation scoring on synthetic annotations: matching, Se, errors, lead conventions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medmodal.errors import InvalidParameterError
from medmodal.metrics.delineation import (
    CONVENTIONS,
    FIDUCIALS,
    match_beats,
    pool,
    score_delineation,
)

RATE = 250.0
MS = 1000.0 / RATE


def _reference(rng: np.random.Generator, n: int = 30) -> dict[str, np.ndarray]:
    r = np.cumsum(rng.integers(180, 260, n)) + 100
    return {
        "r_peak": r,
        "p_onset": r - 50,
        "p_peak": r - 40,
        "p_offset": r - 30,
        "qrs_onset": r - 12,
        "qrs_offset": r + 12,
        "t_peak": r + 70,
        "t_offset": r + 100,
    }


def test_match_beats_is_one_to_one_nearest_first() -> None:
    ri, di = match_beats([100, 120], [110, 118, 600], RATE)
    assert ri.tolist() == [0, 1] and di.tolist() == [0, 1]  # 118 is 120's, 110 is 100's
    ri, di = match_beats([100, 500], [100 + 37, 500 + 38], RATE)  # 148 ms in, 152 ms out
    assert ri.tolist() == [0] and di.tolist() == [0]
    ri, di = match_beats([100, -1, np.nan], [np.nan, 101, -1], RATE)
    assert ri.tolist() == [0] and di.tolist() == [1]
    assert match_beats([], [5], RATE)[0].size == 0


def test_known_errors_give_known_statistics(rng: np.random.Generator) -> None:
    ref = _reference(rng)
    shift = {"p_onset": 2, "qrs_onset": -1, "t_offset": 5}  # samples
    det = {k: v + shift.get(k, 0) for k, v in ref.items()}
    det["r_peak"] = ref["r_peak"] + rng.integers(-5, 6, ref["r_peak"].size)
    det["t_offset"] = det["t_offset"].copy()
    det["t_offset"][:10] = -1  # a third of T ends not found
    score = score_delineation(ref, det, RATE, record="r")
    frame = score.to_frame()
    assert list(frame.index) == list(FIDUCIALS)
    assert frame.loc["p_onset", "mean_ms"] == pytest.approx(2 * MS)
    assert frame.loc["qrs_onset", "mean_ms"] == pytest.approx(-1 * MS)
    assert frame.loc["qrs_onset", "sd_ms"] == pytest.approx(0.0)
    assert frame.loc["t_offset", "se_pct"] == pytest.approx(100 * 20 / 30)
    assert frame.loc["t_offset", "n"] == 20
    assert score.beat_se_pct == 100.0 and score.record == "r"


def test_unmatched_and_unannotated_beats_do_not_count(rng: np.random.Generator) -> None:
    ref = _reference(rng, 10)
    ref["p_peak"] = ref["p_peak"].copy()
    ref["p_peak"][:4] = -1  # not marked by the annotator
    det = {k: v.copy() for k, v in ref.items()}
    det["r_peak"][-2:] = [-1, 99_999]  # two beats missed: not given, far away
    score = score_delineation(ref, det, RATE)
    assert score.n_annotated == 10 and score.n_matched == 8
    p = score.fiducials["p_peak"]
    assert p.n_reference == 4 and p.n == 4 and p.se_pct == 100.0


def test_fiducial_not_given_is_none(rng: np.random.Generator) -> None:
    ref = _reference(rng)
    det = {k: v for k, v in ref.items() if k != "p_offset"}
    score = score_delineation(ref, det, RATE)
    assert score.summary()["p_offset"] == {
        "se_pct": None,
        "mean_ms": None,
        "sd_ms": None,
        "n": None,
    }
    assert score.summary()["p_onset"]["se_pct"] == 100.0


def test_marks_beyond_the_tolerance_are_misses(rng: np.random.Generator) -> None:
    ref = _reference(rng, 10)
    det = {k: v.copy() for k, v in ref.items()}
    det["t_offset"][0] += 38  # 152 ms late: another wave, not this one
    det["t_offset"][1] += 37  # 148 ms: still this one
    t = score_delineation(ref, det, RATE).fiducials["t_offset"]
    assert t.n == 9 and t.se_pct == 90.0 and t.errors_ms.max() == pytest.approx(148.0)
    everything = score_delineation(ref, det, RATE, tolerance=None).fiducials["t_offset"]
    assert everything.n == 10 and everything.errors_ms.max() == pytest.approx(152.0)


def test_nan_marks_missing_points(rng: np.random.Generator) -> None:
    ref = _reference(rng, 5)
    det = {k: v.astype(float) for k, v in ref.items()}
    det["t_peak"][2] = np.nan
    assert score_delineation(ref, det, RATE).fiducials["t_peak"].n == 4


def test_best_per_beat_takes_the_closer_lead(rng: np.random.Generator) -> None:
    ref = _reference(rng, 20)
    lead0 = {k: v.copy() for k, v in ref.items()}
    lead1 = {k: v.copy() for k, v in ref.items()}
    lead0["t_offset"][:15] += 10  # lead 0 is off in 15 beats
    lead1["t_offset"] += 3  # lead 1 always 3 samples late
    lead1["t_offset"][15:] = -1  # ... and misses the last 5
    best = score_delineation(ref, [lead0, lead1], RATE, convention="best_per_beat")
    t = best.fiducials["t_offset"]
    assert t.n == 20 and t.se_pct == 100.0
    assert sorted(t.errors_ms.tolist()) == [0.0] * 5 + [3 * MS] * 15
    assert np.bincount(t.lead).tolist() == [5, 15]
    per_record = score_delineation(ref, [lead0, lead1], RATE, convention="best_lead_per_record")
    assert (per_record.fiducials["t_offset"].lead == 1).all()  # lead 1 wins 15 of 20 beats
    assert per_record.fiducials["t_offset"].n == 15
    assert per_record.fiducials["t_offset"].se_pct == 75.0
    single = score_delineation(ref, lead0, RATE)
    assert single.fiducials["t_offset"].mean_ms == pytest.approx(15 / 20 * 10 * MS)


def test_pool_concatenates_records(rng: np.random.Generator) -> None:
    a = score_delineation(_reference(rng), _reference(rng), RATE, record="a")
    ref = _reference(rng)
    b = score_delineation(ref, {k: v + 1 for k, v in ref.items()}, RATE, record="b")
    pooled = pool([a, b])
    assert pooled.record == "pooled"
    assert pooled.n_annotated == a.n_annotated + b.n_annotated
    q = pooled.fiducials["qrs_onset"]
    assert q.n == b.fiducials["qrs_onset"].n + a.fiducials["qrs_onset"].n
    with pytest.raises(InvalidParameterError, match="no delineation scores"):
        pool([])


def test_bad_input_raises(rng: np.random.Generator) -> None:
    ref = _reference(rng, 5)
    with pytest.raises(InvalidParameterError, match="r_peak"):
        score_delineation({"t_peak": [1]}, ref, RATE)
    with pytest.raises(InvalidParameterError, match="one entry per beat"):
        score_delineation(ref, {**ref, "t_peak": [1, 2]}, RATE)
    with pytest.raises(InvalidParameterError, match="best_per_beat"):
        score_delineation(ref, [ref, ref], RATE, convention="single")
    with pytest.raises(InvalidParameterError, match="best_per_beat"):
        score_delineation(ref, ref, RATE, convention="best_per_bet")
    with pytest.raises(InvalidParameterError, match="sampling_rate"):
        match_beats([1], [1], 0)
    assert set(CONVENTIONS.names()) == {"single", "best_per_beat", "best_lead_per_record"}


@settings(max_examples=50, deadline=None)
@given(
    ref=st.lists(st.integers(0, 10_000), max_size=30),
    det=st.lists(st.integers(0, 10_000), max_size=30),
)
def test_property_matching_is_one_to_one_within_the_window(ref: list[int], det: list[int]) -> None:
    ri, di = match_beats(ref, det, RATE)
    assert ri.size == di.size == np.unique(ri).size == np.unique(di).size
    if ri.size:
        assert (np.abs(np.asarray(ref)[ri] - np.asarray(det)[di]) <= 0.15 * RATE).all()
    # No unmatched pair within the window is left (greedy matching is maximal).
    free_r = np.setdiff1d(np.arange(len(ref)), ri)
    free_d = np.setdiff1d(np.arange(len(det)), di)
    if free_r.size and free_d.size:
        gap = np.abs(np.asarray(ref)[free_r][:, None] - np.asarray(det)[free_d][None, :])
        assert (gap > 0.15 * RATE).all()
