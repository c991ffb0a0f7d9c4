"""Beat-class symbols on the ECG figures (trace, rhythm strip, paper, 12-lead page).

The labels are MIT-BIH 119's reference AAMI classes (the bundled excerpt: ventricular
bigeminy), so the symbols drawn can be checked beat by beat against the annotations.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from medmodal.data.bundled import load_bundled
from medmodal.data.mitdb import aami_classes
from medmodal.ecg.simulate import ecg_simulate_annotated
from medmodal.errors import InvalidParameterError
from medmodal.io import Record
from medmodal.viz.ecg import plot_peaks, plot_rhythm_strip
from medmodal.viz.ecg_12lead import STANDARD_LEADS, plot_12lead
from medmodal.viz.ecg_beats import (
    beat_counts,
    beat_handles,
    beat_marks,
    counts_text,
)
from medmodal.viz.ecg_labels import BEAT_COLORS
from medmodal.viz.ecg_paper import plot_ecg_paper


@dataclass(frozen=True)
class Beats:
    """Reference beats of the record: samples and AAMI class, one "unknown" among them."""

    record: Record
    peaks: np.ndarray
    labels: list[str]

    @property
    def fs(self) -> float:
        return float(self.record.sampling_rate)

    def in_window(self, start_s: float, seconds: float) -> tuple[np.ndarray, list[str]]:
        lo, hi = round(start_s * self.fs), round((start_s + seconds) * self.fs)
        keep = (self.peaks >= lo) & (self.peaks < hi)
        return self.peaks[keep], [s for s, k in zip(self.labels, keep, strict=True) if k]


@pytest.fixture(scope="module")
def beats() -> Beats:
    record = load_bundled("mitdb-119")
    assert record.annotations is not None
    labels = [s if s else "unknown" for s in aami_classes(record.annotations)]
    labels[3] = "unknown"  # one beat the classifier could not label: drawn as "?"
    return Beats(record, record.annotations.beats().sample, labels)


def _symbols(fig: Figure) -> list[Text]:
    return [t for t in fig.axes[0].texts if t.get_gid() == "beat_class"]


def _header(fig: Figure) -> str:
    """The paper's scale line (speed, gain, details)."""
    return next(t.get_text() for t in fig.axes[0].texts if t.get_gid() == "scale")


def _expected(labels: list[str]) -> list[str]:
    return [s if s in "NSVFQ" else "?" for s in labels]


def test_beat_marks_sorts_the_peaks_and_maps_unknown_labels() -> None:
    peaks, symbols = beat_marks(np.array([30, 10, 20, 40]), ["V", "N", "unknown", "X"], func="t")
    assert peaks.tolist() == [10, 20, 30, 40]
    assert symbols == ["N", "?", "V", "?"]
    assert beat_counts(symbols) == {"N": 1, "V": 1, "?": 2}
    assert counts_text([]) == "no beats"
    handles = beat_handles(symbols)
    assert [h.get_label() for h in handles] == [
        "normal: 1",
        "ventricular ectopic: 1",
        "not classified: 2",
    ]
    assert handles[1].get_color() == BEAT_COLORS["V"]


def test_beat_marks_takes_an_object_with_peaks_and_labels() -> None:
    @dataclass
    class Classes:
        peaks: np.ndarray
        label: tuple[str, ...]

    peaks, symbols = beat_marks(None, Classes(np.array([5, 1]), ("S", "F")), func="t")
    assert peaks.tolist() == [1, 5] and symbols == ["F", "S"]


@pytest.mark.parametrize(
    ("peaks", "labels", "match"),
    [
        (np.array([1, 2, 3]), ["N", "V"], r"one label per R peak \(3\), got 2 labels"),
        (np.array([1]), "N", "got a string"),
        (None, ["N"], "need the R peaks"),
        (np.array([[1, 2]]), ["N", "N"], "1-D array of sample indices"),
        (np.array([0.5, 1.5]), ["N", "N"], "1-D array of sample indices"),
    ],
)
def test_beat_marks_rejects_bad_input(peaks: object, labels: object, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        beat_marks(peaks, labels, func="plot_x")  # type: ignore[arg-type]


def test_trace_writes_each_class_above_its_peak(beats: Beats, tmp_path: Path) -> None:
    x = beats.record.signal[:, 0]
    fig = plot_peaks(x, beats.fs, beats.peaks, beat_labels=beats.labels, duration=10)
    shown, labels = beats.in_window(0, 10)
    texts = _symbols(fig)
    assert [t.get_text() for t in texts] == _expected(labels)
    assert "V" in _expected(labels) and "?" in _expected(labels)
    for text, peak in zip(texts, shown, strict=True):
        tx, ty = text.get_position()
        assert tx == pytest.approx(peak / beats.fs)
        assert ty > x[peak]  # above the R peak
        assert text.get_color() == BEAT_COLORS[text.get_text()]
    ymax = fig.axes[0].get_ylim()[1]
    assert max(t.get_position()[1] for t in texts) < ymax  # inside the axes
    title = fig.axes[0].get_title(loc="left")
    assert title.endswith(f"beats {counts_text(_expected(labels))}")
    legend_box = fig.axes[0].get_legend()
    assert legend_box is not None
    legend = [t.get_text() for t in legend_box.get_texts()]
    assert f"ventricular ectopic: {labels.count('V')}" in legend
    fig.savefig(tmp_path / "trace.png", dpi=50)


def test_trace_without_labels_draws_no_symbols(beats: Beats) -> None:
    fig = plot_peaks(beats.record.signal[:, 0], beats.fs, beats.peaks, duration=10)
    assert _symbols(fig) == []
    assert "beats" not in fig.axes[0].get_title(loc="left")


def test_trace_rejects_labels_of_other_peaks(beats: Beats) -> None:
    with pytest.raises(InvalidParameterError, match="plot_peaks: beat_labels must give one"):
        plot_peaks(beats.record.signal[:, 0], beats.fs, beats.peaks, beat_labels=["N"])


def test_rhythm_strip_writes_each_class_in_its_row(beats: Beats, tmp_path: Path) -> None:
    x = beats.record.signal[:, 0]
    plain = plot_rhythm_strip(x, beats.fs, beats.peaks, duration=20)
    fig = plot_rhythm_strip(x, beats.fs, beats.peaks, beat_labels=beats.labels, duration=20)
    _, labels = beats.in_window(0, 20)
    texts = _symbols(fig)
    assert [t.get_text() for t in texts] == _expected(labels)
    assert {t.get_color() for t in texts if t.get_text() == "V"} == {BEAT_COLORS["V"]}
    # one line of symbols per row: two rows, two heights
    assert len({round(t.get_position()[1], 6) for t in texts}) == 2
    # the rows grew to hold the symbols; the rate labels are still all there
    assert fig.get_size_inches()[1] > plain.get_size_inches()[1]
    rates = [t for t in fig.axes[0].texts if t.get_gid() == "rate"]
    assert len(rates) == len([t for t in plain.axes[0].texts if t.get_gid() == "rate"])
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert f"normal: {labels.count('N')}" in legend and "not classified: 1" in legend
    assert "letters: beat class" in _header(fig)
    fig.savefig(tmp_path / "strip.png", dpi=50)


def test_paper_marks_beats_on_every_lead(beats: Beats, tmp_path: Path) -> None:
    rec = beats.record
    fig = plot_ecg_paper(
        rec.signal,
        beats.fs,
        lead_names=rec.lead_names,
        start=5,
        duration=10,
        peaks=beats.peaks,
        beat_labels=beats.labels,
    )
    shown, labels = beats.in_window(5, 10)
    texts = _symbols(fig)
    assert [t.get_text() for t in texts] == _expected(labels) * rec.n_leads
    xs = [t.get_position()[0] for t in texts[: len(shown)]]
    assert xs == pytest.approx(10.0 + (shown - 5 * beats.fs) * 25.0 / beats.fs)
    assert f"beats {counts_text(_expected(labels))}" in _header(fig)
    fig.savefig(tmp_path / "paper.png", dpi=50)


def test_paper_rejects_peaks_without_labels(beats: Beats) -> None:
    with pytest.raises(InvalidParameterError, match="peaks are drawn with their beat_labels"):
        plot_ecg_paper(beats.record.signal, beats.fs, peaks=beats.peaks)


def test_12lead_page_marks_the_rhythm_strip() -> None:
    sim = ecg_simulate_annotated(12, 500, heart_rate=70, rhythm="pvc", seed=2)
    signal = np.repeat(sim.signal[:, None], 12, axis=1)
    labels = ["V" if k % 4 == 2 else "N" for k in range(sim.r_peaks.size)]
    fig = plot_12lead(signal, 500, lead_names=STANDARD_LEADS, peaks=sim.r_peaks, beat_labels=labels)
    in_page = sim.r_peaks < 10 * 500
    expected = [s for s, k in zip(labels, in_page, strict=True) if k]
    assert [t.get_text() for t in _symbols(fig)] == expected
    # stacked strips (no 12 leads) mark every strip
    two = plot_12lead(
        signal[:, :2], 500, lead_names=["MLII", "V1"], peaks=sim.r_peaks, beat_labels=labels
    )
    assert [t.get_text() for t in _symbols(two)] == expected * 2
