"""Tests of medmodal.ecg.segment."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from medmodal.ecg.segment import Beats, available_edge_policies, ecg_segment
from medmodal.ecg.simulate import ecg_simulate_annotated
from medmodal.errors import InvalidParameterError, InvalidSignalError, MedmodalError


def test_windows_are_the_signal_around_each_peak() -> None:
    x = np.arange(3000.0)
    beats = ecg_segment(x, 100, peaks=[100, 1000, 2500], before=0.25, after=0.45)
    assert isinstance(beats, Beats)
    assert beats.windows.shape == (3, 70)
    np.testing.assert_array_equal(beats.windows[1], np.arange(975, 1045))
    zero = int(np.flatnonzero(beats.time == 0)[0])
    assert zero == 25
    np.testing.assert_array_equal(beats.windows[:, zero], [100, 1000, 2500])
    assert beats.time[0] == pytest.approx(-0.25)
    assert beats.time[-1] == pytest.approx(0.44)
    assert not beats.padded.any()


def test_multi_lead_windows_keep_leads() -> None:
    x = np.column_stack([np.arange(2000.0), -np.arange(2000.0)])
    beats = ecg_segment(x, 200, peaks=[400, 900], before=0.1, after=0.1)
    assert beats.windows.shape == (2, 40, 2)
    np.testing.assert_array_equal(beats.windows[..., 1], -beats.windows[..., 0])
    frame = beats.to_frame()
    assert len(frame) == 2 * 40 * 2
    assert list(frame.columns) == ["beat", "peak", "time_s", "lead", "value"]
    row = frame[(frame.beat == 1) & (frame.lead == 1) & (frame.time_s == 0)]
    assert row.value.item() == -900


@pytest.mark.parametrize("edges", available_edge_policies())
def test_edge_policies(edges: str) -> None:
    x = np.arange(1, 1001, dtype=float)
    beats = ecg_segment(x, 100, peaks=[10, 500, 995], before=0.2, after=0.2, edges=edges)
    if edges == "drop":
        assert beats.peaks.tolist() == [500]
        assert not beats.padded.any()
    else:
        assert beats.peaks.tolist() == [10, 500, 995]
        assert beats.padded.tolist() == [True, False, True]
        first = beats.windows[0]
        if edges == "nan":
            assert np.isnan(first[:10]).all()
            assert np.isfinite(first[10:]).all()
        else:
            assert (first[:10] == 1.0).all()
            assert (beats.windows[2][-15:] == 1000.0).all()
    np.testing.assert_array_equal(beats.windows[beats.peaks == 500][0], np.arange(481, 521))


def test_no_beat_fits_gives_an_empty_result() -> None:
    beats = ecg_segment(np.arange(500.0), 100, peaks=[10], before=1, after=1)
    assert beats.windows.shape == (0, 200)
    assert beats.n_beats == 0
    assert beats.to_frame().empty
    with pytest.raises(InvalidParameterError, match="no beats"):
        beats.template()


def test_detects_peaks_when_none_given_and_template_matches() -> None:
    sim = ecg_simulate_annotated(20, 360, seed=4, noise=0.02)
    beats = ecg_segment(sim.signal, 360)
    inner = sim.r_peaks[(sim.r_peaks > 0.25 * 360) & (sim.r_peaks < sim.signal.size - 0.45 * 360)]
    assert abs(beats.n_beats - inner.size) <= 1
    # Every window is close to the median beat (a clean sinus rhythm).
    template = beats.template()
    corr = [np.corrcoef(w, template)[0, 1] for w in beats.windows]
    assert min(corr) > 0.9
    assert abs(int(np.argmax(np.abs(template))) - int(np.flatnonzero(beats.time == 0)[0])) <= 4


def test_template_ignores_nan_padding() -> None:
    x = np.tile(np.r_[np.zeros(50), 1.0, np.zeros(49)], 10)
    x += np.random.default_rng(1).normal(scale=1e-3, size=x.size)  # no flat floor
    peaks = np.arange(50, 1000, 100)
    beats = ecg_segment(x, 100, peaks=peaks, before=0.6, after=0.3, edges="nan")
    template = beats.template()
    assert np.isfinite(template).all()
    assert template[60] == pytest.approx(1.0, abs=0.01)
    assert np.abs(np.delete(template, 60)).max() < 0.01


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"peaks": [5, 3]}, InvalidParameterError, "increasing"),
        ({"peaks": [5, 5000]}, InvalidParameterError, "outside"),
        ({"peaks": [-1]}, InvalidParameterError, "non-negative"),
        ({"peaks": [1], "before": -0.1}, InvalidParameterError, "before"),
        ({"peaks": [1], "after": np.inf}, InvalidParameterError, "after"),
        ({"peaks": [1], "before": 0, "after": 0}, InvalidParameterError, "no sample"),
        ({"peaks": [1], "edges": "dorp"}, InvalidParameterError, "(?i)did you mean"),
    ],
)
def test_bad_parameters(kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        ecg_segment(np.random.default_rng(0).normal(size=1000), 100, **kwargs)


def test_bad_signal() -> None:
    with pytest.raises(InvalidSignalError, match="flat"):
        ecg_segment(np.zeros(1000), 100, peaks=[500])
    with pytest.raises(InvalidSignalError, match="3-D"):
        ecg_segment(np.zeros((10, 10, 10)), 100, peaks=[5])


@settings(max_examples=80, deadline=None)
@given(
    signal=hnp.arrays(
        dtype=st.sampled_from([np.float64, np.int16]),
        shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=300),
        elements={"allow_nan": True, "allow_infinity": True},
    ),
    peaks=st.lists(st.integers(-5, 400), max_size=10),
    before=st.floats(-1, 2),
    after=st.floats(-1, 2),
    edges=st.sampled_from(available_edge_policies()),
)
def test_property_result_or_medmodal_error(signal, peaks, before, after, edges) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            beats = ecg_segment(signal, 100, peaks=peaks, before=before, after=after, edges=edges)
        except MedmodalError:
            return
    assert beats.windows.shape[0] == beats.peaks.size == beats.padded.size
    assert beats.windows.shape[1] == beats.time.size
    assert beats.windows.ndim == signal.ndim + 1
    if edges != "nan":
        assert np.isfinite(beats.windows).all()
