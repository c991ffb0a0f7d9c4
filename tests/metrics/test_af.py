"""EC57 AF statistics on hand-built episode lists."""

from __future__ import annotations

import math

import pytest

from medmodal.errors import InvalidParameterError
from medmodal.metrics.af import af_scores, as_episodes


def test_perfect_detection() -> None:
    s = af_scores([(0, 100), (300, 400)], [(0, 100), (300, 400)], duration_s=1000)
    assert (s.episode_se, s.episode_ppv, s.duration_se, s.duration_ppv) == (1, 1, 1, 1)
    assert s.false_af_pct == 0.0


def test_hand_counted_case() -> None:
    # reference: 100 s + 50 s; detected: one spanning part of the first (60 s overlap,
    # 20 s outside) and one false 30 s episode
    s = af_scores([(100, 200), (500, 550)], [(140, 220), (700, 730)], duration_s=1000)
    assert s.n_reference_hit == 1 and s.n_detected_true == 1
    assert s.episode_se == 0.5 and s.episode_ppv == 0.5
    assert math.isclose(s.duration_se, 60 / 150)
    assert math.isclose(s.duration_ppv, 60 / 110)
    assert math.isclose(s.false_af_pct, 100 * 50 / 1000)


def test_one_detection_covering_two_references() -> None:
    s = af_scores([(0, 10), (20, 30)], [(0, 30)], duration_s=100)
    assert s.episode_se == 1.0 and s.episode_ppv == 1.0
    assert math.isclose(s.duration_ppv, 20 / 30)


def test_no_af_record() -> None:
    s = af_scores([], [(10, 40)], duration_s=1800)
    assert math.isnan(s.episode_se) and math.isnan(s.duration_se)
    assert s.episode_ppv == 0.0
    assert math.isclose(s.false_af_pct, 100 * 30 / 1800)
    empty = af_scores([], [], duration_s=1800)
    assert empty.false_af_pct == 0.0 and math.isnan(empty.duration_ppv)


def test_pooling_is_gross() -> None:
    a = af_scores([(0, 100)], [(0, 50)], duration_s=1000)
    b = af_scores([], [(0, 50)], duration_s=1000)
    pooled = a + b
    assert pooled.n_reference == 1 and pooled.n_detected == 2
    assert math.isclose(pooled.duration_ppv, 50 / 100)
    assert math.isclose(pooled.false_af_pct, 100 * 50 / 2000)
    assert pooled.summary()["duration_se"] == 0.5


def test_episodes_sorted_and_checked() -> None:
    assert as_episodes([(5, 9), (0, 2)]).tolist() == [[0, 2], [5, 9]]
    with pytest.raises(InvalidParameterError, match="overlap"):
        as_episodes([(0, 5), (4, 9)])
    with pytest.raises(InvalidParameterError, match="start < end"):
        af_scores([(5, 5)], [], duration_s=10)
    with pytest.raises(InvalidParameterError, match="duration_s"):
        af_scores([], [], duration_s=0)
