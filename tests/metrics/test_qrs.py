"""Tests of medmodal.metrics.qrs: EC57 beat-by-beat matching, exclusions and pooling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medmodal.errors import InvalidParameterError
from medmodal.metrics.qrs import (
    BEAT_SYMBOLS,
    QRSScore,
    is_beat,
    match_beats,
    pool,
    reference_beats,
    scores_frame,
    vf_intervals,
)

FS = 360.0
WINDOW = 54  # 150 ms at 360 Hz


def test_hand_built_counts() -> None:
    ref = [100, 500, 900, 1300, 1700]
    det = [102, 495, 1000, 1310, 1700, 2400, 2600]  # 900 missed: 1000 is 100 samples off
    s = match_beats(ref, det, FS, record="r")
    assert (s.tp, s.fn, s.fp) == (4, 1, 3)
    assert s.n_reference == 5
    assert s.missed.tolist() == [900]
    assert s.extra.tolist() == [1000, 2400, 2600]
    assert s.sensitivity == pytest.approx(4 / 5)
    assert s.ppv == pytest.approx(4 / 7)
    assert s.f1 == pytest.approx(8 / 12)
    assert s.der == pytest.approx(4 / 5)
    assert s.mean_abs_error_ms == pytest.approx((2 + 5 + 10 + 0) / 4 * 1000 / FS)


def test_mean_location_error_is_exact() -> None:
    s = match_beats([1000, 2000, 3000], [1003, 1995, 3000], FS)
    assert s.tp == 3
    assert s.mean_abs_error_ms == pytest.approx((3 + 5 + 0) / 3 * 1000 / FS)


def test_window_edge_exactly_150_ms_matches() -> None:
    assert match_beats([1000], [1000 + WINDOW], FS).tp == 1
    assert match_beats([1000], [1000 - WINDOW], FS).tp == 1
    late = match_beats([1000], [1000 + WINDOW + 1], FS)
    assert (late.tp, late.fn, late.fp) == (0, 1, 1)


def test_window_edge_at_other_rates() -> None:
    # 150 ms = 37.5 samples at 250 Hz: 37 matches, 38 does not
    assert match_beats([1000], [1037], 250).tp == 1
    assert match_beats([1000], [1038], 250).tp == 0
    # 150 ms = 150 samples at 1000 Hz exactly
    assert match_beats([5000], [5150], 1000).tp == 1
    assert match_beats([5000], [5151], 1000).tp == 0


def test_one_to_one_two_detections_compete_for_one_beat() -> None:
    s = match_beats([1000], [990, 1004], FS)
    assert (s.tp, s.fn, s.fp) == (1, 0, 1)
    assert s.extra.tolist() == [990]  # the nearer detection wins


def test_one_to_one_two_beats_compete_for_one_detection() -> None:
    s = match_beats([1000, 1080], [1075], FS)
    assert (s.tp, s.fn, s.fp) == (1, 1, 0)
    assert s.missed.tolist() == [1000]


def test_nearest_pairs_first_not_left_to_right() -> None:
    # Left to right, 1000 would take 1030; nearest first, 1050 (20 away) takes it.
    s = match_beats([1000, 1050], [1030], FS)
    assert (s.tp, s.fn, s.fp) == (1, 1, 0)
    assert s.missed.tolist() == [1000]
    assert s.mean_abs_error_ms == pytest.approx(20 * 1000 / FS)


def test_exclusion_drops_reference_beats_and_unmatched_detections() -> None:
    ref = [100, 1000, 2000, 3000]
    det = [100, 1500, 1600, 1990, 3000, 5000]
    exclude = np.array([[1200, 2100]])
    s = match_beats(ref, det, FS, exclude=exclude)
    # 2000 is inside: not a reference beat; 1500, 1600, 1990 inside and unmatched: free
    assert (s.tp, s.fn, s.fp) == (2, 1, 1)
    assert s.missed.tolist() == [1000]
    assert s.extra.tolist() == [5000]
    plain = match_beats(ref, det, FS)
    assert (plain.tp, plain.fn, plain.fp) == (3, 1, 3)


def test_detection_inside_exclusion_can_still_match_a_beat_outside() -> None:
    s = match_beats([1000], [1020], FS, exclude=np.array([[1010, 2000]]))
    assert (s.tp, s.fn, s.fp) == (1, 0, 0)


def test_exclusion_bounds_are_inclusive() -> None:
    s = match_beats([500], [700, 900], FS, exclude=np.array([[700, 900]]))
    assert (s.tp, s.fn, s.fp) == (0, 1, 0)


def test_reference_beats_keep_only_beat_symbols_and_find_vf() -> None:
    samples = [10, 20, 30, 40, 50, 60, 70, 80, 90]
    symbols = ["+", "N", "[", "!", "!", "]", "V", "~", "/"]
    beats, vf = reference_beats(samples, symbols)
    assert beats.tolist() == [20, 70, 90]
    assert vf.tolist() == [[30, 60]]


def test_beat_symbols_match_the_mitbih_beat_codes() -> None:
    assert set("NLRBAaJSVrFejnE/fQ?") == BEAT_SYMBOLS
    assert is_beat(list('NV!+~|x"[]')).tolist() == [True, True] + [False] * 8


def test_vf_interval_left_open_runs_to_the_end() -> None:
    vf = vf_intervals([10, 50, 60], ["N", "[", "!"])
    assert vf[0, 0] == 50
    assert vf[0, 1] == np.iinfo(np.int64).max
    assert vf_intervals([], []).shape == (0, 2)


def test_pool_sums_counts_and_weights_every_beat() -> None:
    a = QRSScore("a", tp=90, fn=10, fp=0, abs_error_sum_ms=900.0)
    b = QRSScore("b", tp=900, fn=0, fp=100, abs_error_sum_ms=1800.0)
    p = pool([a, b])
    assert (p.record, p.tp, p.fn, p.fp) == ("pooled", 990, 10, 100)
    assert p.sensitivity == pytest.approx(0.99)
    assert p.ppv == pytest.approx(990 / 1090)
    assert p.der == pytest.approx(110 / 1000)
    assert p.mean_abs_error_ms == pytest.approx(2700 / 990)


def test_frames() -> None:
    a = match_beats([100, 500], [101, 500], FS, record="a")
    b = match_beats([100, 500], [300], FS, record="b")
    one = a.to_frame()
    assert list(one.index) == ["a"]
    assert one.loc["a", "f1"] == 1.0
    table = scores_frame([a, b])
    assert isinstance(table, pd.DataFrame)
    assert list(table.index) == ["a", "b", "pooled"]
    assert table.loc["pooled", "tp"] == 2
    assert table.loc["pooled", "fn"] == 2
    assert table.loc["pooled", "fp"] == 1
    assert "pooled" not in scores_frame([a, b], pooled=False).index


def test_empty_inputs_give_nan_rates_not_errors() -> None:
    s = match_beats([], [], FS)
    assert (s.tp, s.fn, s.fp) == (0, 0, 0)
    assert np.isnan(s.sensitivity)
    assert np.isnan(s.mean_abs_error_ms)
    only_fp = match_beats([], [10, 20], FS)
    assert only_fp.fp == 2
    assert only_fp.ppv == 0.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"reference": [[1, 2]], "detected": [1]},
        {"reference": [1.5], "detected": [1]},
        {"reference": [1], "detected": ["a"]},
        {"reference": [1], "detected": [np.nan]},
        {"reference": [1], "detected": [1], "sampling_rate": 0},
        {"reference": [1], "detected": [1], "sampling_rate": float("nan")},
        {"reference": [1], "detected": [1], "window": -0.1},
        {"reference": [1], "detected": [1], "exclude": np.array([1, 2])},
        {"reference": [1], "detected": [1], "exclude": np.array([[5, 2]])},
        {"reference": [1], "detected": [1], "exclude": np.array([[0.5, 2.0]])},
    ],
)
def test_bad_arguments_raise(kwargs: dict) -> None:
    args = {"sampling_rate": FS, **kwargs}
    with pytest.raises(InvalidParameterError):
        match_beats(**args)


def test_mismatched_annotation_lengths_raise() -> None:
    with pytest.raises(InvalidParameterError):
        reference_beats([1, 2, 3], ["N", "N"])
    with pytest.raises(InvalidParameterError):
        vf_intervals([1, 2], ["["])


times = st.lists(st.integers(0, 20_000), max_size=60)


@settings(max_examples=150, deadline=None)
@given(ref=times, det=times, shift=st.integers(-80, 80))
def test_invariants(ref: list[int], det: list[int], shift: int) -> None:
    s = match_beats(ref, det, FS)
    n_ref, n_det = len(set(ref)), len(set(det))
    assert s.tp + s.fn == n_ref
    assert s.tp + s.fp == n_det
    assert 0 <= s.tp <= min(n_ref, n_det)
    # perfect agreement, and a constant shift within the window changes nothing
    same = match_beats(ref, ref, FS)
    assert (same.fn, same.fp) == (0, 0)
    moved = match_beats(ref, [r + shift for r in ref], FS)
    if abs(shift) <= WINDOW and n_ref and min(np.diff(sorted(set(ref))), default=10**6) > 200:
        assert (moved.fn, moved.fp) == (0, 0)
        assert moved.mean_abs_error_ms == pytest.approx(abs(shift) * 1000 / FS)
