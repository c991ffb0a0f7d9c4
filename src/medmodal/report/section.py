"""What a report section is made of: tables, figures, prose and headline numbers.

Every section module of the main job exposes ``build(context) -> SectionContent``; the
runner (:mod:`medmodal.report.runner`) times it, catches its errors and hands the result
to the HTML template (:mod:`medmodal.report.html`).

Example:
    >>> import pandas as pd
    >>> from medmodal.report.section import ReportTable, SectionContent
    >>> content = SectionContent(
    ...     intro="A toy section.",
    ...     tables=[ReportTable("scores", pd.DataFrame({"method": ["a"], "acc": [0.5]}))],
    ...     meaning="Chance is 0.5.",
    ...     headline="acc 0.50",
    ... )
    >>> content.tables[0].frame.shape
    (1, 2)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from medmodal.errors import InvalidParameterError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "ReportFigure",
    "ReportTable",
    "SectionContent",
    "SectionContext",
    "SectionResult",
    "save_figure",
]


@dataclass(frozen=True)
class SectionContext:
    """What every section receives from the runner.

    Attributes:
        out_dir: the section's own folder inside the report (created by the runner);
            figures are written here and linked from ``index.html`` by relative path.
        quick: do about half the work (fewer records, smaller cohorts, fewer epochs).
        seed: seed of every random draw of the section.
        data_root: folder holding the full data sets, or None for the embedded data only;
            the runner passes the folder its entry point resolved (absolute), and
            sections hand it to the loaders as it is.
        progress: show progress bars.
        datasets: the data sets found under ``data_root`` (looked up once by the entry
            point, :class:`~medmodal.data.paths.DataRoot`); None: look them up here, once.
    """

    out_dir: Path
    quick: bool = False
    seed: int = 0
    data_root: Path | None = None
    progress: bool = True
    datasets: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.datasets is None and self.data_root is not None:
            from medmodal.data.paths import DataRoot

            root = DataRoot.find(self.data_root)
            object.__setattr__(self, "data_root", root.path)
            object.__setattr__(self, "datasets", root.datasets)

    def scale(self, full: int, *, minimum: int = 1) -> int:
        """``full`` or, in quick mode, half of it (at least ``minimum``)."""
        return max(minimum, full // 2) if self.quick else full

    def has_data(self, dataset: str) -> bool:
        """Whether ``data_root`` is set and holds ``dataset`` (``"mitdb"``, ``"medpix"``...)."""
        return self.data_root is not None and dataset in (self.datasets or ())

    def fallback_notes(self, missing: str, used: str) -> list[str]:
        """The note of a section that was given a data root without its data set
        (``missing``) and ran on ``used`` instead; none when no data root was given."""
        if self.data_root is None:
            return []
        return [f"No {missing} under {self.data_root}: this section used {used}."]


@dataclass(frozen=True)
class ReportFigure:
    """A PNG written by a section.

    Attributes:
        path: the file (inside the section's folder).
        caption: one or two sentences saying what the reader sees.
        group: optional sub-heading the figure is shown under (e.g. an excerpt name).
    """

    path: Path
    caption: str
    group: str = ""


@dataclass(frozen=True)
class ReportTable:
    """A table of the report.

    Attributes:
        title: short heading.
        frame: the numbers (rendered with its index when the index is named).
        note: what the columns mean, units, how intervals were computed.
        float_format: format of float cells.
    """

    title: str
    frame: pd.DataFrame
    note: str = ""
    float_format: str = "{:.3f}"


@dataclass
class SectionContent:
    """What a section produced.

    Attributes:
        intro: what was run, on which data (a paragraph; plain text).
        tables: tables, in order.
        figures: figures, in order.
        meaning: the "what the numbers mean" paragraph.
        headline: one line for the terminal summary table.
        metrics: headline numbers for ``--json`` and ``summary.json``.
        notes: caveats shown under the section (e.g. "quick mode: half the cohort").
        title: heading that replaces the module's ``TITLE`` (e.g. when the section ran on
            another data set); empty keeps it.
    """

    intro: str = ""
    tables: list[ReportTable] = field(default_factory=list)
    figures: list[ReportFigure] = field(default_factory=list)
    meaning: str = ""
    headline: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    title: str = ""


Status = Literal["ok", "error"]


@dataclass
class SectionResult:
    """One section of the report, after it ran (or failed).

    Attributes:
        key: short name, also its folder and HTML anchor (``"ecg"``).
        title: heading in the report.
        status: ``"ok"`` or ``"error"``.
        seconds: wall-clock time it took.
        content: what it produced (partial content is kept when it failed).
        error: one-line error message when it failed.
        details: the traceback when it failed.
    """

    key: str
    title: str
    status: Status
    seconds: float
    content: SectionContent
    error: str = ""
    details: str = ""

    @property
    def ok(self) -> bool:
        """Whether the section ran to the end."""
        return self.status == "ok"

    def to_dict(self, root: Path | None = None) -> dict[str, Any]:
        """JSON-ready summary (figure paths relative to ``root`` when given)."""

        def rel(path: Path) -> str:
            return str(path.relative_to(root)) if root is not None else str(path)

        return {
            "key": self.key,
            "title": self.title,
            "status": self.status,
            "seconds": round(self.seconds, 2),
            "headline": self.content.headline,
            "metrics": self.content.metrics,
            "figures": [rel(fig.path) for fig in self.content.figures],
            "error": self.error or None,
        }


def save_figure(fig: Figure, out_dir: Path, name: str, *, dpi: int = 110) -> Path:
    """Save a matplotlib figure as ``<out_dir>/<name>.png``, close it, return the path.

    Raises:
        InvalidParameterError: ``name`` is not a plain file stem.
    """
    import matplotlib.pyplot as plt

    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise InvalidParameterError(f"save_figure: name must be a plain file stem, got {name!r}")
    path = out_dir / f"{name}.png"
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path
