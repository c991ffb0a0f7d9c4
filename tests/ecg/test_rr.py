"""Tests of medmodal.ecg.rr: flagged RR intervals and the heart rate every output reads."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medmodal.ecg.hrv import ecg_hrv, nn_mask
from medmodal.ecg.rr import FLAGS, PLAUSIBLE_BPM, ecg_rr
from medmodal.errors import InvalidParameterError

FS = 360.0


def _peaks(rr_s: list[float] | np.ndarray, fs: float = FS) -> np.ndarray:
    return np.round(np.concatenate([[0.0], np.cumsum(rr_s)]) * fs).astype(np.int64) + 100


def test_regular_rhythm_has_no_flag_and_its_rate() -> None:
    rr = ecg_rr(_peaks(np.full(100, 60 / 72)), FS)
    assert rr.flag_counts == {
        "nn": 100,
        "af": 0,
        "too_short": 0,
        "too_long": 0,
        "ectopic_or_artefact": 0,
    }
    assert rr.mean_bpm == pytest.approx(72.0, abs=0.05)
    assert rr.median_bpm == pytest.approx(72.0, abs=0.2)
    assert rr.min_bpm == pytest.approx(72.0, abs=0.2)
    assert rr.note().startswith("no RR interval flagged")


def test_mean_is_beats_per_minute_not_the_mean_of_per_beat_rates() -> None:
    # Alternating 0.5 s and 1.5 s: 2 beats in 2 s = 60 bpm; the mean of 120 and 40 is 80.
    rr = ecg_rr(_peaks(np.tile([0.5, 1.5], 30)), FS, artifact_threshold=None)
    assert rr.mean_bpm == pytest.approx(60.0, abs=0.1)
    assert float(np.mean(rr.rate_bpm)) == pytest.approx(80.0, abs=0.1)


def test_each_flag_and_its_reason() -> None:
    rr_s = [0.8] * 10 + [0.1, 0.7] + [0.8] * 10 + [3.5] + [0.8] * 10 + [0.5, 1.1] + [0.8] * 10
    rr = ecg_rr(_peaks(rr_s), FS)
    flags = rr.flag
    assert flags[10] == "too_short"
    assert flags[9] == flags[11] == "ectopic_or_artefact"  # both pieces of the split interval
    assert flags[22] == "too_long"
    assert flags[33] == flags[34] == "ectopic_or_artefact"  # premature beat and its pause
    assert rr.flag_counts["too_short"] == 1 and rr.flag_counts["too_long"] == 1
    assert rr.n_flagged == 6
    assert set(flags) <= set(FLAGS)
    note = rr.note()
    assert note.startswith(f"6 of {len(rr_s)} RR intervals flagged")
    assert "1 too short" in note and "1 too long" in note and "4 ectopic or artefact" in note
    assert np.isnan(rr.rate_bpm[[10, 22]]).all()
    assert rr.max_bpm == pytest.approx(75.0, abs=0.2)
    assert rr.min_bpm == pytest.approx(75.0, abs=0.2)


def test_extra_detection_is_not_counted_but_a_pause_is() -> None:
    base = ecg_rr(_peaks(np.full(60, 1.0)), FS)
    peaks = np.sort(np.append(base.peaks, base.peaks[30] + round(0.1 * FS)))
    doubled = ecg_rr(peaks, FS)
    assert doubled.n_counted == base.n_counted
    assert doubled.mean_bpm == pytest.approx(base.mean_bpm)
    paused = ecg_rr(np.delete(base.peaks, [30, 31, 32]), FS)  # 4 s without a beat
    assert paused.flag_counts["too_long"] == 1
    assert paused.mean_bpm == pytest.approx(60.0 * 57 / 60, abs=0.01)  # fewer beats, same time


def test_triple_detection_removes_two_beats() -> None:
    peaks = _peaks(np.full(20, 1.0))
    extra = [peaks[5] + 30, peaks[5] + 60]  # 83 and 167 ms after the beat
    rr = ecg_rr(np.sort(np.concatenate([peaks, extra])), FS)
    assert rr.n_counted == 20 and rr.mean_bpm == pytest.approx(60.0)


def test_few_beats() -> None:
    for peaks in ([], [10]):
        rr = ecg_rr(peaks, FS)
        assert rr.n_intervals == 0 and np.isnan(rr.mean_bpm) and np.isnan(rr.max_bpm)
        assert rr.per_beat_rate_bpm().size == len(peaks)
    rr = ecg_rr([0, 360], FS)
    assert rr.mean_bpm == 60.0 and rr.per_beat_flag() == ("", "nn")
    assert len(rr.to_frame()) == 1


def test_summary_keys() -> None:
    summary = ecg_rr(_peaks(np.full(30, 0.8)), FS).summary()
    assert {"mean_bpm", "median_bpm", "min_bpm", "max_bpm", "n_flagged", "flagged", "note"} <= set(
        summary
    )
    assert set(summary["flagged"]) == {"too_short", "too_long", "ectopic_or_artefact"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"peaks": [5, 3]}, "strictly increasing"),
        ({"peaks": [0, 10], "sampling_rate": -1}, "sampling_rate"),
        ({"peaks": [0, 10], "artifact_threshold": 2}, "artifact_threshold"),
    ],
)
def test_bad_input_names_the_parameter(kwargs: dict[str, object], match: str) -> None:
    args = {"sampling_rate": FS, **kwargs}
    with pytest.raises(InvalidParameterError, match=match):
        ecg_rr(**args)  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(
    rr_s=st.lists(st.floats(0.02, 6.0), min_size=1, max_size=120),
    fs=st.sampled_from([100.0, 250.0, 360.0, 1000.0]),
)
def test_property_rates_stay_inside_20_300_and_flags_match_hrv(
    rr_s: list[float], fs: float
) -> None:
    peaks = np.unique(_peaks(rr_s, fs))
    rr = ecg_rr(peaks, fs)
    low, high = PLAUSIBLE_BPM
    for value in (rr.median_bpm, rr.min_bpm, rr.max_bpm):
        assert np.isnan(value) or low <= value <= high
    shown = rr.rate_bpm[np.isfinite(rr.rate_bpm)]
    assert ((shown >= low) & (shown <= high)).all()
    np.testing.assert_array_equal(rr.nn, nn_mask(np.diff(peaks) / fs))
    if peaks.size >= 2:
        assert 0 <= rr.n_counted <= rr.n_intervals
        hrv = ecg_hrv(peaks, fs)
        np.testing.assert_allclose(hrv.nn_ms, 1000 * rr.rr_s[rr.nn])


def _af_like(n: int, seed: int = 0) -> np.ndarray:
    """Irregularly irregular RR intervals (s): AF-like, 0.4-1.2 s at random."""
    return np.random.default_rng(seed).uniform(0.4, 1.2, n)


def test_intervals_inside_an_af_episode_are_af_not_ectopic() -> None:
    rr_s = np.concatenate([np.full(30, 0.8), _af_like(100), np.full(30, 0.8)])
    peaks = _peaks(rr_s)
    plain = ecg_rr(peaks, FS)
    assert plain.flag_counts["ectopic_or_artefact"] > 20  # the 20 % rule rejects AF
    start, end = peaks[30] / FS, peaks[130] / FS
    rr = plain.with_af([start], [end])
    assert rr.flag[:30] == plain.flag[:30] and rr.flag[130:] == plain.flag[130:]
    assert set(rr.flag[30:130]) == {"af"}
    assert rr.n_af == 100 and rr.flag_counts["ectopic_or_artefact"] == 0
    assert rr.n_flagged == 0
    # Min/max: every AF beat-to-beat rate counts; the mean rate is unchanged.
    assert rr.min_bpm == 60 / rr.rr_s[30:130].max() < plain.min_bpm
    assert rr.max_bpm == 60 / rr.rr_s[30:130].min() > plain.max_bpm
    assert rr.mean_bpm == plain.mean_bpm
    summary = rr.summary()
    assert summary["n_af"] == 100 and "af" not in summary["flagged"]
    assert summary["min_max_over"] == "NN intervals and the intervals in atrial fibrillation"
    assert plain.summary()["min_max_over"] == "NN intervals"
    assert rr.note().startswith("100 of 160 RR intervals in atrial fibrillation")
    assert "no other RR interval flagged" in rr.note()


def test_physiological_limits_and_split_intervals_win_inside_af() -> None:
    rr_s = _af_like(60, seed=1)
    rr_s[20], rr_s[40] = 0.1, 3.5  # an extra detection, a pause
    rr = ecg_rr(_peaks(rr_s), FS).with_af([0.0], [1e6])
    assert rr.flag[20] == "too_short" and rr.flag[40] == "too_long"
    assert rr.flag[19] == rr.flag[21] == "ectopic_or_artefact"  # the split interval
    assert rr.n_flagged == 4 and rr.n_af == 56
    assert "4 of 60 RR intervals flagged" in rr.note()
    assert rr.max_bpm < PLAUSIBLE_BPM[1] and rr.min_bpm > PLAUSIBLE_BPM[0]


def test_with_af_without_episodes_changes_nothing_and_checks_its_input() -> None:
    rr = ecg_rr(_peaks(_af_like(40)), FS)
    assert rr.with_af([], []).flag == rr.flag
    with pytest.raises(InvalidParameterError, match="with_af"):
        rr.with_af([5.0], [1.0])
    with pytest.raises(InvalidParameterError, match="with_af"):
        rr.with_af([1.0, 2.0], [5.0])


def test_no_beats_note_says_so() -> None:
    assert ecg_rr([], FS).note() == "no RR intervals: no beats found"
    assert ecg_rr([100], FS).note() == "no RR intervals: a single beat found"
