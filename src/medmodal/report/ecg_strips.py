"""The ECG strips of the clinician's page, on true-size ECG paper (25 mm/s, 10 mm/mV).

A record with the 12 standard leads is drawn as the standard page (3 x 4 leads of 2.5 s
and a 10 s lead II rhythm strip, :mod:`medmodal.viz.ecg_12lead`'s layout); any other
record as one 10 s strip per lead (at most :data:`MAX_STRIPS`, the page says which are
left out). The strips are drawn into an axes in millimetres with the grid, calibration
pulses and traces of :mod:`medmodal.viz.ecg_paper`, so the PDF page holds them as
vectors at true size and the HTML page shows the same drawing.

Example:
    >>> from medmodal.ecg.simulate import ecg_simulate
    >>> layout = strip_layout(ecg_simulate(10, 250, seed=0)[:, None], ["II"])
    >>> layout.rows, layout.row_mm, layout.caption
    (1, 30.0, 'first 10 s, cleaned as analysed; one strip per lead')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from medmodal.types import FloatArray
from medmodal.viz.ecg_12lead import COLUMN_SECONDS, LAYOUT, PAGE_SECONDS, standard_leads
from medmodal.viz.ecg_paper import (
    CALIBRATION_MM,
    SPEED_MM_S,
    draw_calibration,
    draw_grid,
    draw_trace,
    lead_label,
    on_major,
    to_mv,
)

#: Most single-lead strips on the page (each is 25-30 mm high).
MAX_STRIPS = 4
#: Width of the grid (mm): the calibration lead-in and 10 s at 25 mm/s.
GRID_WIDTH_MM = CALIBRATION_MM + SPEED_MM_S * PAGE_SECONDS
#: The lead of the 12-lead page's rhythm strip.
RHYTHM_LEAD = "II"


@dataclass(frozen=True)
class StripLayout:
    """What goes on the paper: rows of (lead, column) cells, their height, a caption.

    Attributes:
        cells: per row, the (lead name, column index of the signal) drawn side by side.
        row_mm: height of each row.
        caption: how the strips were chosen (layout, time shown, leads left out).
    """

    cells: tuple[tuple[tuple[str, int], ...], ...]
    row_mm: float
    caption: str

    @property
    def rows(self) -> int:
        """Number of rows."""
        return len(self.cells)

    @property
    def height_mm(self) -> float:
        """Height of the grid."""
        return self.rows * self.row_mm


def strip_layout(signal: FloatArray, lead_names: Sequence[str]) -> StripLayout:
    """The 12-lead layout when the record has the 12 standard leads, else strips."""
    names = [str(n) for n in lead_names]
    index = standard_leads(names)
    if index is not None:
        rows = tuple(tuple((lead, index[lead]) for lead in row) for row in LAYOUT)
        rhythm = ((RHYTHM_LEAD, index[RHYTHM_LEAD]),)
        caption = (
            f"first 10 s, cleaned as analysed; 3 x 4 leads of {COLUMN_SECONDS:g} s in time "
            f"order, rhythm strip {RHYTHM_LEAD}"
        )
        return StripLayout((*rows, rhythm), 25.0, caption)
    shown = list(range(min(len(names), MAX_STRIPS)))
    caption = "first 10 s, cleaned as analysed; one strip per lead"
    if len(names) > MAX_STRIPS:
        caption += f" (not shown: {', '.join(names[MAX_STRIPS:])})"
    row_mm = 30.0 if len(shown) < MAX_STRIPS else 25.0
    return StripLayout(tuple(((names[k], k),) for k in shown), row_mm, caption)


def draw_strips(
    ax: Axes,
    signal: FloatArray,
    sampling_rate: float,
    layout: StripLayout,
    units: Sequence[str],
) -> None:
    """Draw the grid and the strips of ``layout`` into ``ax`` (data units: mm, origin at
    the grid's lower left, ``GRID_WIDTH_MM`` x ``layout.height_mm``)."""
    ax.set_xlim(0.0, GRID_WIDTH_MM)
    ax.set_ylim(0.0, layout.height_mm)
    ax.set_aspect("equal")
    ax.set_axis_off()
    draw_grid(ax, GRID_WIDTH_MM, layout.height_mm)
    n = min(signal.shape[0], round(PAGE_SECONDS * sampling_rate))
    per_column = round(COLUMN_SECONDS * sampling_rate)
    for row, cells in enumerate(layout.cells):
        top = layout.height_mm - row * layout.row_mm
        baseline = top - on_major(0.6 * layout.row_mm)
        draw_calibration(ax, 0.0, baseline)
        for col, (name, k) in enumerate(cells):
            values = to_mv(np.asarray(signal[:n, k], dtype=np.float64), units[k])
            x0 = CALIBRATION_MM + col * SPEED_MM_S * COLUMN_SECONDS
            if len(cells) > 1:
                values = values[col * per_column : (col + 1) * per_column]
                if col:  # the column separator, as an electrocardiograph prints it
                    ax.plot([x0, x0], [baseline - 3, baseline + 3], color="black", lw=0.8)
            draw_trace(ax, values, sampling_rate, x0, baseline)
            lead_label(ax, x0 + 1.0, top - 1.0, name, fontsize=7)


def strips_figure(
    signal: FloatArray,
    sampling_rate: float,
    lead_names: Sequence[str],
    units: Sequence[str],
) -> tuple[Figure, StripLayout]:
    """The strips alone as a true-size figure (the HTML page's image)."""
    layout = strip_layout(signal, lead_names)
    fig = Figure(figsize=(GRID_WIDTH_MM / 25.4, layout.height_mm / 25.4))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    draw_strips(ax, signal, sampling_rate, layout, units)
    return fig, layout


def unit_list(units: str | Sequence[str], n_leads: int) -> list[str]:
    """One amplitude unit per lead (a single unit is repeated; a wrong count -> mV)."""
    if isinstance(units, str):
        return [units] * n_leads
    listed = [str(u) for u in units]
    return listed if len(listed) == n_leads else ["mV"] * n_leads
