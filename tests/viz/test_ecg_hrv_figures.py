"""HRV figures come from the HRV result's own NN intervals, and show the table's values."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from matplotlib.axes import Axes

from medmodal.data.bundled import load_bundled
from medmodal.ecg.hrv import HRV, ecg_hrv, nn_mask
from medmodal.ecg.process import ECGResult, ecg_process
from medmodal.errors import InvalidParameterError
from medmodal.viz.ecg_hrv import plot_hrv, rr_intervals


@pytest.fixture(scope="module")
def bigeminy() -> ECGResult:
    """MIT-BIH 119's shipped 5-min excerpt: ventricular bigeminy, many ectopic beats."""
    record = load_bundled("mitdb-119")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ecg_process(record.signal, record.sampling_rate, lead_names=record.lead_names)


def _poincare_points(ax: Axes) -> tuple[np.ndarray, np.ndarray]:
    (dots,) = [line for line in ax.get_lines() if line.get_linestyle() == "None"]
    return np.asarray(dots.get_xdata(), float), np.asarray(dots.get_ydata(), float)


def test_poincare_uses_adjacent_nn_pairs_and_matches_the_table(bigeminy: ECGResult) -> None:
    hrv = bigeminy.hrv
    assert hrv is not None and hrv.n_removed > 50  # the record has ectopic beats
    fig = plot_hrv(bigeminy.peaks, bigeminy.sampling_rate, hrv=hrv, lead_name="MLII")
    ax = fig.axes[1]
    x, y = _poincare_points(ax)
    rr = np.diff(bigeminy.peaks) * 1000.0 / bigeminy.sampling_rate
    keep = nn_mask(rr / 1000.0)
    both = keep[:-1] & keep[1:]
    assert np.array_equal(x, rr[:-1][both]) and np.array_equal(y, rr[1:][both])
    sd1 = float(np.std((y - x) / np.sqrt(2), ddof=1))
    assert sd1 == pytest.approx(hrv.sd1_ms, rel=1e-9)
    assert f"SD1 {hrv.sd1_ms:.1f} ms" in ax.get_title()
    assert f"SD2 {hrv.sd2_ms:.1f} ms" in ax.get_title()
    every_rr = float(np.std(np.diff(rr) / np.sqrt(2), ddof=1))
    assert every_rr > 2 * hrv.sd1_ms  # what the figure showed before: every RR interval


def test_tachogram_draws_the_nn_series_and_greys_the_excluded(bigeminy: ECGResult) -> None:
    hrv = bigeminy.hrv
    assert hrv is not None
    ax = plot_hrv(bigeminy.peaks, bigeminy.sampling_rate, hrv=hrv).axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    nn = np.asarray(lines["NN"].get_ydata(), float)
    assert np.array_equal(nn[np.isfinite(nn)], hrv.nn_ms)
    (excluded,) = [line for label, line in lines.items() if label.startswith("excluded")]
    intervals = rr_intervals(bigeminy.peaks, bigeminy.sampling_rate, hrv)
    assert len(excluded.get_xdata()) == int(intervals.excluded.sum()) > 0
    assert excluded.get_color() != lines["NN"].get_color()


def test_title_shows_every_table_value_with_its_unit(bigeminy: ECGResult) -> None:
    hrv = bigeminy.hrv
    assert hrv is not None and np.isfinite(hrv.lf_hf)
    fig = plot_hrv(bigeminy.peaks, bigeminy.sampling_rate, hrv=hrv, lead_name="MLII")
    text = fig.get_suptitle()
    for shown in (
        f"mean NN {hrv.mean_nn_ms:.1f} ms",
        f"SDNN {hrv.sdnn_ms:.1f} ms",
        f"RMSSD {hrv.rmssd_ms:.1f} ms",
        f"pNN50 {hrv.pnn50_pct:.1f} %",
        f"LF {hrv.lf_ms2:.0f} ms²",
        f"HF {hrv.hf_ms2:.0f} ms²",
        f"LF/HF {hrv.lf_hf:.2f}",
        "R peaks on MLII",
        f"{hrv.n_removed} of {hrv.n_intervals} RR intervals removed",
    ):
        assert shown in text, shown


def test_short_records_say_what_is_missing() -> None:
    peaks = np.arange(0, 250 * 30, 200)  # 30 s at 75 bpm: no LF/HF
    fig = plot_hrv(peaks, 250)
    assert "LF n/a" in fig.get_suptitle()
    assert any("too short" in t.get_text() for t in fig.axes[2].texts)


def test_hrv_of_other_peaks_is_refused(bigeminy: ECGResult) -> None:
    other: HRV = ecg_hrv(bigeminy.peaks[:-5], bigeminy.sampling_rate)
    with pytest.raises(InvalidParameterError, match="not computed from these"):
        plot_hrv(bigeminy.peaks, bigeminy.sampling_rate, hrv=other)
    with pytest.raises(InvalidParameterError, match="at least 3 R peaks"):
        plot_hrv(bigeminy.peaks[:2], bigeminy.sampling_rate)
