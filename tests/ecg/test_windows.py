"""What Rhythm and Quality share: window bounds, the window check, fractions and frames."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from medmodal.ecg._windows import WindowedLabels, check_window, window_bounds
from medmodal.ecg.quality import Quality, ecg_quality
from medmodal.ecg.rhythm import Rhythm, ecg_rhythm
from medmodal.ecg.simulate import ecg_simulate
from medmodal.errors import InvalidParameterError


@pytest.fixture(scope="module")
def windowed() -> tuple[Rhythm, Quality]:
    ecg = ecg_simulate(35, 250, seed=3)
    peaks = np.cumsum(np.full(40, 200))[:-1]
    return ecg_rhythm(peaks, 250, n_samples=ecg.size), ecg_quality(ecg, 250)


def test_rhythm_and_quality_share_one_base(windowed: tuple[Rhythm, Quality]) -> None:
    for result in windowed:
        assert isinstance(result, WindowedLabels)
        assert set(result.fractions) == set(type(result).LABELS)
        assert sum(result.fractions.values()) == pytest.approx(1.0)
        frame = result.to_frame()
        assert frame.columns[:4].tolist() == ["start_s", "end_s", "label", "reason"]
        assert "window_s" not in frame and len(frame) == len(result.label)
    assert Rhythm.LABELS[-1] == "undetermined" and Quality.LABELS[0] == "excellent"


def test_fractions_weigh_windows_by_duration() -> None:
    rhythm = Rhythm(
        np.array([0.0, 10.0]),
        np.array([10.0, 40.0]),
        ("sinus", "irregular"),
        ("", ""),
        *(np.zeros(2) for _ in range(6)),
        window_s=10.0,
    )
    assert rhythm.fractions["irregular"] == pytest.approx(0.75)
    assert rhythm.overall == "irregular"


@pytest.mark.parametrize("bad", [1.5, float("nan"), True, "10"])
def test_both_reject_the_same_bad_windows(bad: object) -> None:
    with pytest.raises(InvalidParameterError, match="ecg_rhythm: window"):
        ecg_rhythm([100, 300, 500], 250, window=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="ecg_quality: window"):
        ecg_quality(ecg_simulate(10, 250, seed=0), 250, window=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="f: window"):
        check_window(bad, func="f")


@given(st.integers(1, 100_000), st.sampled_from([100.0, 250.0, 360.0]), st.floats(2, 30))
def test_window_bounds_tile_the_signal(n: int, rate: float, window: float) -> None:
    starts, stops = window_bounds(n, rate, window)
    assert starts[0] == 0 and stops[-1] == n
    assert np.array_equal(starts[1:], stops[:-1])
    size = max(1, round(window * rate))
    assert (stops - starts <= 1.5 * size + 1).all()
    if starts.size > 1:
        assert stops[-1] - starts[-1] >= size / 2
