"""ECG paper and the 12-lead page: grid geometry, true size, calibration, layout, units."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from medmodal.ecg.simulate import ecg_simulate
from medmodal.errors import InvalidParameterError
from medmodal.io import read_record
from medmodal.viz.ecg_12lead import LAYOUT, STANDARD_LEADS, plot_12lead, standard_leads
from medmodal.viz.ecg_paper import (
    CALIBRATION_MM,
    FOOTER_MM,
    HEADER_MM,
    SIDE_MM,
    amplitude_scale,
    ecg_paper,
    plot_ecg_paper,
)

FS = 250


def _grid(ax: Axes, kind: str) -> np.ndarray:
    """Segments of the ``grid_<kind>`` collection, ``(n, 2, 2)``."""
    (lines,) = [c for c in ax.collections if c.get_gid() == f"grid_{kind}"]
    assert isinstance(lines, LineCollection)
    return np.array(lines.get_segments())


def _vertical_x(segments: np.ndarray) -> np.ndarray:
    vertical = np.isclose(segments[:, 0, 0], segments[:, 1, 0])
    return segments[vertical, 0, 0]


def _lines(ax: Axes, gid: str) -> list[Line2D]:
    return [line for line in ax.get_lines() if line.get_gid() == gid]


def _texts(ax: Axes, gid: str) -> list[str]:
    return [t.get_text() for t in ax.texts if t.get_gid() == gid]


def test_a_10_s_strip_has_51_major_and_200_minor_vertical_lines_over_the_trace() -> None:
    fig = plot_ecg_paper(ecg_simulate(10, FS, seed=1), FS, lead_names=["II"])
    ax = fig.axes[0]
    span = (CALIBRATION_MM - 1e-6, CALIBRATION_MM + 250 + 1e-6)  # 10 s at 25 mm/s
    major, minor = _vertical_x(_grid(ax, "major")), _vertical_x(_grid(ax, "minor"))
    assert np.count_nonzero((major >= span[0]) & (major <= span[1])) == 50 + 1
    assert np.count_nonzero((minor >= span[0]) & (minor <= span[1])) == 250 - 50
    assert np.allclose(np.diff(np.sort(major)), 5.0) and np.allclose(np.diff(np.sort(minor)) % 1, 0)
    (trace,) = _lines(ax, "trace")
    assert trace.get_xdata()[-1] - trace.get_xdata()[0] == pytest.approx(250 - 25 / FS)


def test_one_mm_of_paper_is_one_mm_at_the_figures_physical_size() -> None:
    paper = ecg_paper(260, 40)
    fig, ax = paper.figure, paper.ax
    width_mm, height_mm = 25.4 * fig.get_size_inches()
    assert width_mm == pytest.approx(260 + 2 * SIDE_MM)
    assert height_mm == pytest.approx(40 + HEADER_MM + FOOTER_MM)
    fig.canvas.draw()
    (x0, y0), (x1, y1) = ax.transData.transform([(0, 0), (1, 1)])
    assert x1 - x0 == pytest.approx(fig.dpi / 25.4) and y1 - y0 == pytest.approx(fig.dpi / 25.4)
    assert not ax.axison  # no ticks: the grid is two line collections


def test_calibration_pulse_and_gain_are_10_mm_per_mv() -> None:
    t = np.arange(0, 10, 1 / FS)
    fig = plot_ecg_paper(np.sin(2 * np.pi * t), FS, lead_names=["I"])  # 2 mV peak to peak
    ax = fig.axes[0]
    (pulse,) = _lines(ax, "calibration")
    assert np.ptp(pulse.get_ydata()) == pytest.approx(10.0)
    assert np.ptp(pulse.get_xdata()) < CALIBRATION_MM
    (trace,) = _lines(ax, "trace")
    assert np.ptp(trace.get_ydata()) == pytest.approx(20.0, abs=0.01)
    assert any("25 mm/s, 10 mm/mV" in t for t in _texts(ax, "scale"))


def test_microvolts_are_converted_and_unknown_units_are_said() -> None:
    t = np.arange(0, 10, 1 / FS)
    x = 1000.0 * np.sin(2 * np.pi * t)
    traces = {}
    for unit in ("uV", "adu", ""):
        ax = plot_ecg_paper(x, FS, units=unit).axes[0]
        (trace,) = _lines(ax, "trace")
        traces[unit] = np.ptp(trace.get_ydata())
        notes = [t.get_text() for t in ax.texts if "amplitude unit" in t.get_text()]
        assert bool(notes) == (unit != "uV")
    assert traces["uV"] == pytest.approx(20.0, abs=0.01)
    assert amplitude_scale("adu")[1] is not None and "'adu'" in str(amplitude_scale("adu")[1])
    assert "not given" in str(amplitude_scale("")[1])


def test_stacked_strips_name_every_lead() -> None:
    two = np.c_[ecg_simulate(10, FS, seed=2), ecg_simulate(10, FS, seed=3)]
    ax = plot_ecg_paper(two, FS, lead_names=["MLII", "V1"], title="rec 100").axes[0]
    assert _texts(ax, "lead") == ["MLII", "V1"]
    assert len(_lines(ax, "calibration")) == 2
    with pytest.raises(InvalidParameterError, match="plot_ecg_paper: got 1 lead_names"):
        plot_ecg_paper(two, FS, lead_names=["MLII"])
    with pytest.raises(InvalidParameterError, match="past the end"):
        plot_ecg_paper(two, FS, start=60)


def test_standard_leads_are_found_case_insensitively() -> None:
    ptb = ["I", "II", "III", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6"]
    found = standard_leads(ptb)
    assert found is not None and found["aVR"] == 3 and found["V6"] == 11
    assert standard_leads(["MLII", "V1"]) is None
    assert standard_leads([*ptb[:-1], "V7"]) is None


def _twelve(seconds: float = 10.0) -> np.ndarray:
    """Lead k: a 1 Hz sine of (k + 1) / 10 mV plus a ramp that tells columns apart."""
    t = np.arange(0, seconds, 1 / FS)
    return np.stack([(k + 1) / 10 * np.sin(2 * np.pi * t) + 0.01 * t for k in range(12)], axis=1)


def test_12lead_page_is_3_by_4_in_time_order_with_a_lead_ii_rhythm_strip() -> None:
    data = _twelve()
    fig = plot_12lead(data, FS, lead_names=[n.upper() for n in STANDARD_LEADS])
    ax = fig.axes[0]
    order = [lead for row in LAYOUT for lead in row] + ["II"]
    assert _texts(ax, "lead") == order
    traces, pulses = _lines(ax, "trace"), _lines(ax, "calibration")
    assert len(traces) == 13 and len(pulses) == 4
    baselines = [p.get_ydata()[0] for p in pulses]
    assert baselines == sorted(baselines, reverse=True)
    column = round(2.5 * FS)
    for i, (lead, line) in enumerate(zip(order[:12], traces[:12], strict=True)):
        row, col = divmod(i, 4)
        k = STANDARD_LEADS.index(lead)
        expected = data[col * column : (col + 1) * column, k] - np.median(data[:, k])
        assert line.get_xdata()[0] == pytest.approx(CALIBRATION_MM + 62.5 * col)
        assert np.allclose(line.get_ydata() - baselines[row], 10 * expected)
    rhythm = traces[12]
    expected = data[:, 1] - np.median(data[:, 1])
    assert np.allclose(rhythm.get_ydata() - baselines[3], 10 * expected)
    assert rhythm.get_xdata()[-1] - rhythm.get_xdata()[0] == pytest.approx(250 - 25 / FS)


def test_12lead_falls_back_to_strips_and_says_why() -> None:
    data = _twelve()[:, :3]
    ax = plot_12lead(data, FS, lead_names=["I", "II", "V1"], title="three leads").axes[0]
    assert _texts(ax, "lead") == ["I", "II", "V1"]
    (title,) = _texts(ax, "title")
    assert "lacks the standard lead(s) III, aVR, aVL, aVF, V2" in title


def test_12lead_rejects_bad_options() -> None:
    with pytest.raises(InvalidParameterError, match="rhythm_lead must be one of"):
        plot_12lead(_twelve(), FS, lead_names=STANDARD_LEADS, rhythm_lead="V7")
    with pytest.raises(InvalidParameterError, match="row_mm"):
        plot_12lead(_twelve(), FS, lead_names=STANDARD_LEADS, row_mm=2)


def test_12lead_renders_a_real_ptbxl_record(ptbxl_dir: Path, tmp_path: Path) -> None:
    record = read_record(ptbxl_dir / "records100" / "00000" / "00001_lr.hea")
    fig = plot_12lead(
        record.signal, record.sampling_rate, lead_names=record.lead_names, units=record.units
    )
    assert "aVR" in _texts(fig.axes[0], "lead")
    assert not [t for t in fig.axes[0].texts if "amplitude unit" in t.get_text()]
    _png_bytes(fig)


def _png_bytes(fig: Figure) -> int:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    assert buffer.tell() > 20_000
    return buffer.tell()
