from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from medmodal.ecg.simulate import SimulatedECG, ecg_simulate_annotated
from medmodal.errors import InvalidParameterError
from medmodal.viz.ecg import plot_cleaning, plot_hrv, plot_peaks, plot_rhythm_strip

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
        sim.signal, FS, sim.r_peaks, rhythm=windows, quality=windows, duration=30
    )
    assert len(fig.axes) == 3
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
    assert [ax.get_title().split()[0] for ax in fig.axes] == ["Tachogram", "Poincaré", "RR"]
    _save(fig, tmp_path, "hrv.png")
    with pytest.raises(InvalidParameterError, match="at least 3 R peaks"):
        plot_hrv(sim.r_peaks[:2], FS)
