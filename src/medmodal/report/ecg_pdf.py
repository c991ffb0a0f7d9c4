"""The one-page PDF of one ECG analysis (A4 landscape), drawn with matplotlib's PDF backend.

Top: the patient-free header (:class:`~medmodal.report.ecg_page.ECGPage`). Middle: the
strips on true-size ECG paper, as vectors (:mod:`medmodal.report.ecg_strips`): a 1 mm
square on the page is 1 mm on paper printed at 100 %. Bottom, in three columns: the
measurements with units and normal ranges; the findings and the lead used and why; what
was withheld and why, and the notes. Text that does not fit ends with an ellipsis and a
pointer to the HTML page, which holds everything; the page count is always one.

``medmodal ecg analyze RECORD --pdf out.pdf`` and the service's
``POST /v1/ecg/analyze/report.pdf`` both call :func:`ecg_pdf`.

Example:
    >>> from medmodal.ecg.simulate import ecg_simulate
    >>> from medmodal.ecg.process import ecg_process
    >>> data = ecg_pdf(ecg_process(ecg_simulate(12, 250, seed=0), 250), record_name="sim")
    >>> data[:5], data.count(b"/Type /Page\\n") + data.count(b"/Type /Page ")
    (b'%PDF-', 1)
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure

import medmodal
from medmodal.report.ecg_page import ECGPage, ecg_page
from medmodal.report.ecg_strips import GRID_WIDTH_MM, draw_strips, strip_layout, unit_list
from medmodal.viz.ecg_paper import GAIN_MM_MV, SPEED_MM_S, unit_notes

#: A4 landscape (mm).
PAGE_MM = (297.0, 210.0)
MARGIN_MM = 10.0
_GRID_TOP_MM = 186.0
_BODY_PT, _SMALL_PT, _HEAD_PT = 6.6, 5.8, 8.0
_MUTED = "#444444"


def ecg_pdf(
    result: Any,
    *,
    record_name: str,
    units: str | Sequence[str] = "mV",
    notes: Sequence[str] = (),
    analysed_at: datetime | None = None,
) -> bytes:
    """The one-page PDF of an analysis.

    Args:
        result: an :class:`~medmodal.ecg.process.ECGResult`.
        record_name: shown in the title (a record or file name; no patient data).
        units: amplitude unit of the record, one for all leads or one per lead.
        notes: warnings raised while reading or analysing the record.
        analysed_at: date of the analysis (default: now, UTC).

    Returns:
        The PDF file's bytes (one A4 landscape page).
    """
    page = ecg_page(result, record_name=record_name, notes=notes, analysed_at=analysed_at)
    fig = page_figure(page, result, unit_list(units, len(result.lead_names)))
    buffer = io.BytesIO()
    with matplotlib.rc_context({"pdf.fonttype": 42}):  # TrueType: text stays searchable
        fig.savefig(
            buffer,
            format="pdf",
            metadata={"Title": page.title, "Creator": f"medmodal {medmodal.__version__}"},
        )
    return buffer.getvalue()


def write_ecg_pdf(path: str | Path, result: Any, **kwargs: Any) -> Path:
    """Write :func:`ecg_pdf` to ``path`` (keyword arguments as there); returns the path."""
    out = Path(path)
    out.write_bytes(ecg_pdf(result, **kwargs))
    return out


def page_figure(page: ECGPage, result: Any, units: Sequence[str]) -> Figure:
    """The A4 landscape figure: header, strips on ECG paper, three text columns."""
    width, height = PAGE_MM
    fig = Figure(figsize=(width / 25.4, height / 25.4))
    text = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    text.set_xlim(0.0, width)
    text.set_ylim(0.0, height)
    text.set_axis_off()
    _header(text, page)
    layout = strip_layout(result.cleaned, result.lead_names)
    x0, bottom = (width - GRID_WIDTH_MM) / 2, _GRID_TOP_MM - layout.height_mm
    grid = fig.add_axes(
        (x0 / width, bottom / height, GRID_WIDTH_MM / width, layout.height_mm / height)
    )
    draw_strips(grid, result.cleaned, result.sampling_rate, layout, units)
    scale = f"{SPEED_MM_S:g} mm/s, {GAIN_MM_MV:g} mm/mV; {layout.caption}"
    text.text(x0, bottom - 2.5, scale, fontsize=_SMALL_PT, va="center", color=_MUTED)
    top = bottom - 6.0
    column = (width - 2 * MARGIN_MM - 8.0) / 3
    xs = [MARGIN_MM + k * (column + 4.0) for k in range(3)]
    _measurements(_Column(text, xs[0], top, column), page)
    second = _Column(text, xs[1], top, column)
    second.pairs("Findings", page.findings)
    second.pairs("Lead used and why", page.leads_used)
    third = _Column(text, xs[2], top, column)
    third.items("Withheld and why", page.withheld or ("nothing",))
    third.items("Notes", (*page.notes, *unit_notes(units)) or ("none",))
    return fig


def _header(ax: Axes, page: ECGPage) -> None:
    width, height = PAGE_MM
    ax.text(MARGIN_MM, height - 9.0, page.title, fontsize=12, fontweight="bold", va="center")
    ax.text(width - MARGIN_MM, height - 9.0, page.disclaimer, fontsize=_SMALL_PT, ha="right",
            va="center", color=_MUTED)  # fmt: skip
    line = "   ".join(f"{label}: {value}" for label, value in page.header)
    ax.text(MARGIN_MM, height - 15.5, _cut(line, width - 2 * MARGIN_MM, 7.0), fontsize=7.0,
            va="center")  # fmt: skip


def _measurements(col: _Column, page: ECGPage) -> None:
    col.heading("Measurements (adult resting normal range)")
    widths = (0.30, 0.26, 0.44)
    col.row(("measure", "value", "normal range"), widths, color=_MUTED)
    for row in page.measurements:
        col.row((row.name, row.value, row.normal), widths)
        if row.note:
            col.line(row.note, indent=2.0, size=_SMALL_PT, color=_MUTED)


class _Column:
    """A column of text flowing down from ``top``; past the bottom margin it stops with
    an ellipsis (the HTML page holds everything)."""

    def __init__(self, ax: Axes, x: float, top: float, width: float) -> None:
        self.ax, self.x, self.y, self.width = ax, x, top, width
        self.full = False

    def _room(self, step: float) -> bool:
        if self.full:
            return False
        if self.y - step < MARGIN_MM:
            self.ax.text(self.x, self.y, "... (the HTML page has the rest)", fontsize=_SMALL_PT,
                         va="top", color=_MUTED)  # fmt: skip
            self.full = True
            return False
        return True

    def heading(self, text: str) -> None:
        if self._room(5.0):
            self.ax.text(self.x, self.y, text, fontsize=_HEAD_PT, fontweight="bold", va="top")
            self.y -= 4.6

    def line(self, text: str, *, indent: float = 0.0, size: float = _BODY_PT,
             color: str = "black", bold: bool = False) -> None:  # fmt: skip
        step = size * 0.3528 * 1.3
        for part in _wrap(text, self.width - indent, size):
            if not self._room(step):
                return
            self.ax.text(self.x + indent, self.y, part, fontsize=size, va="top", color=color,
                         fontweight="bold" if bold else "normal")  # fmt: skip
            self.y -= step

    def row(self, cells: Sequence[str], widths: Sequence[float], *, color: str = "black") -> None:
        step = _BODY_PT * 0.3528 * 1.35
        if not self._room(step):
            return
        x = self.x
        for cell, share in zip(cells, widths, strict=True):
            self.ax.text(x, self.y, _cut(cell, share * self.width - 1.0, _BODY_PT),
                         fontsize=_BODY_PT, va="top", color=color)  # fmt: skip
            x += share * self.width
        self.y -= step

    def pairs(self, title: str, pairs: Sequence[tuple[str, str]]) -> None:
        self.heading(title)
        for label, value in pairs:
            self.line(label, bold=True)
            self.line(value, indent=2.0)
        self.y -= 1.5

    def items(self, title: str, items: Sequence[str]) -> None:
        self.heading(title)
        for item in items:
            self.line(f"- {item}")
        self.y -= 1.5


def _chars(width_mm: float, size_pt: float) -> int:
    """About how many characters of ``size_pt`` fit in ``width_mm`` (0.55 em each)."""
    return max(8, int(width_mm / (0.55 * size_pt * 25.4 / 72)))


def _wrap(text: str, width_mm: float, size_pt: float) -> list[str]:
    return textwrap.wrap(text, _chars(width_mm, size_pt), break_long_words=True) or [""]


def _cut(text: str, width_mm: float, size_pt: float) -> str:
    chars = _chars(width_mm, size_pt)
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "\u2026"
