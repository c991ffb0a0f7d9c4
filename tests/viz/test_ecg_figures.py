from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from medmodal.ecg.hrv import ecg_hrv
from medmodal.ecg.process import FLAT_SIGNAL, ECGResult, ecg_process
from medmodal.ecg.rr import ecg_rr
from medmodal.ecg.simulate import SimulatedECG, ecg_simulate_annotated
from medmodal.errors import InvalidParameterError, MedmodalWarning
from medmodal.viz.ecg import (
    COLORS,
    lead_caption,
    plot_cleaning,
    plot_hrv,
    plot_overview,
    plot_peaks,
    plot_rhythm_strip,
)

FS = 250


@pytest.fixture(scope="module")
def sim() -> SimulatedECG:
    return ecg_simulate_annotated(90, FS, heart_rate=75, rhythm="pvc", noise=0.05, seed=3)


def _save(fig: Figure, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    fig.savefig(path, dpi=60)
    assert path.stat().st_size > 5_000  # a real picture, not an empty canvas
    return path


def test_cleaning_figure_has_trace_and_spectrum_per_lead(sim: SimulatedECG, tmp_path: Path) -> None:
    two = np.c_[sim.signal, -sim.signal]
    fig = plot_cleaning(two, 0.9 * two, FS, lead_names=["II", "V1"])
    assert len(fig.axes) == 4
    assert fig.axes[0].get_ylabel() == "II (mV)"
    assert fig.axes[1].get_xlabel() == "" and fig.axes[3].get_xlabel() == "frequency (Hz)"
    _save(fig, tmp_path, "clean.png")


def test_cleaning_figure_rejects_mismatched_shapes(sim: SimulatedECG) -> None:
    with pytest.raises(InvalidParameterError, match="differ in shape"):
        plot_cleaning(sim.signal, sim.signal[:-1], FS)


def test_peaks_figure_marks_misses_and_false_detections(sim: SimulatedECG, tmp_path: Path) -> None:
    ref = sim.r_peaks
    detected = np.sort(np.r_[ref[1:], ref[3] + FS // 3])  # one miss, one false detection
    fig = plot_peaks(sim.signal, FS, detected, reference=ref, duration=10)
    labels = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert len(labels["missed beat"].get_xdata()) == 1
    assert len(labels["false detection"].get_xdata()) == 1
    assert labels["missed beat"].get_xdata()[0] == pytest.approx(ref[0] / FS)
    _save(fig, tmp_path, "peaks.png")


def test_rhythm_strip_rows_and_bands(sim: SimulatedECG, tmp_path: Path) -> None:
    windows = pd.DataFrame(
        {
            "start": [0.0, 10.0, 20.0],
            "end": [10.0, 20.0, 30.0],
            "label": ["sinus", "irregular", "sinus"],
        }
    )
    fig = plot_rhythm_strip(
        sim.signal, FS, sim.r_peaks, rhythm=windows, quality=windows, duration=30, lead_name="II"
    )
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts if t.get_gid() == "row_start"] == ["0 s", "10 s", "20 s"]
    assert [t.get_text() for t in ax.texts if t.get_gid() == "lead"] == ["II"] * 3
    assert len([p for p in ax.patches if p.get_gid() == "rhythm"]) == 3
    assert {t.get_text() for t in fig.legends[0].get_texts()} == {
        "rhythm: sinus",
        "rhythm: irregular",
        "quality: sinus",
        "quality: irregular",
    }
    _save(fig, tmp_path, "strip.png")


def test_rhythm_strip_needs_window_columns(sim: SimulatedECG) -> None:
    with pytest.raises(InvalidParameterError, match="start_s/end_s/label"):
        plot_rhythm_strip(sim.signal, FS, sim.r_peaks, rhythm={"start": [0.0]})


def test_hrv_figure(sim: SimulatedECG, tmp_path: Path) -> None:
    fig = plot_hrv(sim.r_peaks, FS)
    titles = [ax.get_title() or ax.get_title(loc="left") for ax in fig.axes]
    assert [t.split()[0] for t in titles] == ["Tachogram", "Poincaré", "NN"]
    _save(fig, tmp_path, "hrv.png")
    with pytest.raises(InvalidParameterError, match="at least 3 R peaks"):
        plot_hrv(sim.r_peaks[:2], FS)


def test_rhythm_strip_rates_come_from_the_nn_intervals(sim: SimulatedECG) -> None:
    peaks = np.sort(np.r_[sim.r_peaks, sim.r_peaks[5] + round(0.117 * FS)])  # double detection
    ax = plot_rhythm_strip(sim.signal, FS, peaks, duration=30).axes[0]
    rates = [t for t in ax.texts if t.get_gid() == "rate"]
    values = [float(t.get_text().strip("()")) for t in rates]
    assert values and max(values) <= 300  # the 117 ms interval (513 bpm) is not printed
    greyed = [t for t in rates if t.get_text().startswith("(")]
    assert greyed and all(t.get_color() == COLORS["excluded"] for t in greyed)
    title = next(t.get_text() for t in ax.texts if t.get_gid() == "title")
    assert "Rhythm strip, ECG" in title


def _with_double_detection(result: ECGResult) -> ECGResult:
    fs = result.sampling_rate
    peaks = np.sort(np.r_[result.peaks, result.peaks[10] - round(0.117 * fs)])
    return dataclasses.replace(result, peaks=peaks, hrv=ecg_hrv(peaks, fs), rr=ecg_rr(peaks, fs))


def test_overview_rate_panel_skips_implausible_and_greys_excluded(sim: SimulatedECG) -> None:
    result = _with_double_detection(
        ecg_process(np.c_[sim.signal, -0.5 * sim.signal], FS, lead_names=["II", "V1"])
    )
    fig = plot_overview(result)
    top, rate_ax = fig.axes[0], fig.axes[1]
    assert top.get_title(loc="left").startswith("R peaks on II (sharpest QRS of both leads")
    lines = {line.get_label(): line for line in rate_ax.get_lines() if line.get_label()[0] != "_"}
    nn = np.asarray(lines["NN interval"].get_ydata(), float)
    (excluded,) = [line for label, line in lines.items() if label.startswith("excluded")]
    shown = np.r_[nn, np.asarray(excluded.get_ydata(), float)]
    assert shown.size and shown.min() >= 20 and shown.max() <= 300
    assert result.hrv is not None and nn.size == result.hrv.nn_ms.size
    assert excluded.get_color() == COLORS["excluded"] and "not drawn" in excluded.get_label()
    poincare = fig.axes[-1]
    assert f"SD1 {result.hrv.sd1_ms:.1f} ms" in poincare.get_title()
    # Both beats of the 117 ms pair are circled on the trace: one is an extra detection.
    (circled,) = [line for line in top.get_lines() if "extra detection" in line.get_label()]
    extra = result.peaks[10]
    fs = result.sampling_rate
    assert sorted(np.round(np.asarray(circled.get_xdata()) * fs).astype(int)) == [
        extra,
        result.peaks[11],
    ]


def test_every_figure_names_its_lead(sim: SimulatedECG) -> None:
    result = ecg_process(sim.signal, FS, lead_names=["V5"])
    assert lead_caption(result) == "V5 (the only lead)"
    assert "V5" in plot_overview(result).axes[0].get_title(loc="left")
    assert "V5" in plot_peaks(sim.signal, FS, sim.r_peaks, lead_name="V5").axes[0].get_title(
        loc="left"
    )
    assert "V5" in plot_hrv(result.peaks, FS, hrv=result.hrv, lead_name="V5").get_suptitle()
    strip = plot_rhythm_strip(sim.signal, FS, sim.r_peaks, duration=10, lead_name="V5")
    assert "V5" in next(t.get_text() for t in strip.axes[0].texts if t.get_gid() == "title")
    with pytest.raises(InvalidParameterError, match="plot_overview: lead must be"):
        plot_overview(result, lead=3)


def test_peak_trace_grid_has_square_cells(sim: SimulatedECG) -> None:
    ax = plot_peaks(sim.signal, FS, sim.r_peaks, duration=10).axes[0]
    assert ax.get_aspect() == pytest.approx(10 / 25)  # 1 mV = 10 mm, 1 s = 25 mm
    gids = {c.get_gid() for c in ax.collections}
    assert {"grid_major", "grid_minor"} <= gids


def test_overview_of_a_flat_record_says_no_beats_and_why() -> None:
    """Issue 14: the trace title read "beats no beats" on a record without beats."""
    with pytest.warns(MedmodalWarning, match="flat"):
        result = ecg_process(np.full(10 * FS, 0.2), FS, lead_names=["II"], beat_model="default")
    title = plot_overview(result).axes[0].get_title(loc="left")
    assert title == f"II: no beats found: {FLAT_SIGNAL}"
    assert "beats no beats" not in title


def test_peaks_figure_without_beats_in_view_says_none() -> None:
    title = plot_peaks(np.zeros(10 * FS), FS, [], beat_labels=[]).axes[0].get_title(loc="left")
    assert title == "R peaks on ECG: none in 10 s"
