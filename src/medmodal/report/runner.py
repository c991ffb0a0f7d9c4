"""Run the main job: every report section, timed and isolated, then ``index.html``.

A section that fails does not stop the others: its error is shown in its place in the
report, and :attr:`ReportSummary.ok` is False (the CLI then exits non-zero).

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from medmodal.report.runner import available_sections, run_report
    >>> available_sections()
    ('ecg', 'fusion', 'align', 'attention')
    >>> with tempfile.TemporaryDirectory() as tmp:  # doctest: +SKIP
    ...     summary = run_report(Path(tmp), quick=True, progress=False)
"""

from __future__ import annotations

import importlib
import time
import traceback
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from medmodal.data.paths import DATASET_DIRS, DataRoot
from medmodal.errors import DataNotFoundError, MedmodalWarning
from medmodal.jsonsafe import dumps
from medmodal.registry import Registry
from medmodal.report.html import write_report
from medmodal.report.section import SectionContent, SectionContext, SectionResult
from medmodal.types import PathLike

__all__ = ["SECTIONS", "ReportSummary", "available_sections", "run_report", "run_section"]

#: Report sections in order: key -> module exposing ``TITLE`` and ``build(context)``.
#: Modules are imported when their section runs, so a practice whose dependencies are
#: missing fails in its own section only.
SECTIONS: Registry[str] = Registry("report section")
SECTIONS.add("ecg", "medmodal.report.ecg_section", description="ECG analysis")
SECTIONS.add("fusion", "medmodal.report.fusion_section", description="Multimodal fusion")
SECTIONS.add("align", "medmodal.report.align_section", description="Contrastive alignment")
SECTIONS.add("attention", "medmodal.report.attention_section", description="Attention maps")

#: Most warnings listed under one section.
MAX_WARNINGS = 5


@dataclass
class ReportSummary:
    """What the main job did.

    Attributes:
        out_dir: the report folder.
        index: its ``index.html``.
        sections: one result per section, in order.
        seconds: total wall-clock time.
        settings: the run settings (quick, seed, data root).
    """

    out_dir: Path
    index: Path
    sections: list[SectionResult] = field(default_factory=list)
    seconds: float = 0.0
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether every section ran to the end."""
        return all(s.ok for s in self.sections)

    @property
    def failed(self) -> list[str]:
        """Keys of the sections that failed."""
        return [s.key for s in self.sections if not s.ok]

    def to_frame(self) -> pd.DataFrame:
        """One row per section: title, status, seconds, headline (or error)."""
        return pd.DataFrame(
            {
                "section": [s.key for s in self.sections],
                "title": [s.title for s in self.sections],
                "status": [s.status for s in self.sections],
                "seconds": [s.seconds for s in self.sections],
                "headline": [s.content.headline if s.ok else s.error for s in self.sections],
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (what ``summary.json`` and ``medmodal demo --json`` hold)."""
        return {
            "ok": self.ok,
            "index": str(self.index),
            "seconds": round(self.seconds, 2),
            "settings": self.settings,
            "sections": [s.to_dict(self.out_dir) for s in self.sections],
        }


def available_sections() -> tuple[str, ...]:
    """Keys of the report sections, in report order."""
    return SECTIONS.names()


def run_section(key: str, context: SectionContext) -> SectionResult:
    """Run one section; errors are caught and returned in the result, never raised.

    Args:
        key: a section key (see :func:`available_sections`).
        context: its settings; ``context.out_dir`` is created.

    Raises:
        InvalidParameterError: unknown section key (the only error raised).
    """
    name = SECTIONS.resolve(key)
    title = SECTIONS.entry(name).description
    context.out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    content = SectionContent()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MedmodalWarning)
        try:
            module = importlib.import_module(SECTIONS.get(name))
            title = str(getattr(module, "TITLE", title))
            content = module.build(context)
        except Exception as exc:
            message = str(exc).splitlines()[0] if str(exc) else ""
            return SectionResult(
                name,
                title,
                "error",
                time.perf_counter() - start,
                content,
                error=f"{type(exc).__name__}: {message}".rstrip(": "),
                details=traceback.format_exc(),
            )
    content.notes += _warning_notes(caught)
    title = content.title or title
    return SectionResult(name, title, "ok", time.perf_counter() - start, content)


def run_report(
    out_dir: PathLike = "medmodal-report",
    *,
    quick: bool = False,
    seed: int = 0,
    data_root: PathLike | DataRoot | None = None,
    sections: Sequence[str] | None = None,
    progress: bool = True,
) -> ReportSummary:
    """Run the main job and write ``<out_dir>/index.html`` and ``summary.json``.

    Args:
        out_dir: the report folder (created); each section writes its figures into
            its own sub-folder.
        quick: about half the work in every section.
        seed: seed of every random draw.
        data_root: folder holding the full data sets; sections that support it switch
            to them (default: the data shipped in the package and seeded simulations).
            Resolved here once (unless it is a :class:`~medmodal.data.paths.DataRoot`
            already) and passed down to every section and loader as it is.
        sections: keys of the sections to run (default: all, in report order).
        progress: show progress bars.

    Returns:
        The typed summary; ``summary.ok`` is False when any section failed.

    Raises:
        InvalidParameterError: an unknown section key.
        DataNotFoundError: ``data_root`` holds none of the data sets (a mistyped path).
    """
    out = Path(out_dir)
    keys = [SECTIONS.resolve(k) for k in sections] if sections else list(SECTIONS.names())
    root = _data_root(data_root)
    if root is not None:
        _check_data_root(root)
    settings: dict[str, Any] = {"quick": quick, "seed": seed, "data_root": str(root or "embedded")}
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    results: list[SectionResult] = []
    bar = tqdm(keys, desc="medmodal demo", unit="section", disable=not progress)
    for key in bar:
        bar.set_postfix_str(key)
        context = SectionContext(
            out / key,
            quick,
            seed,
            None if root is None else root.path,
            progress,
            datasets=None if root is None else root.datasets,
        )
        results.append(run_section(key, context))
    bar.close()
    index = write_report(results, out, settings=settings)
    summary = ReportSummary(out, index, results, time.perf_counter() - start, settings)
    (out / "summary.json").write_text(dumps(summary.to_dict()) + "\n", encoding="utf-8")
    return summary


def _data_root(given: PathLike | DataRoot | None) -> DataRoot | None:
    """The data root as the entry point resolved it, or resolved here (once)."""
    if given is None or isinstance(given, DataRoot):
        return given
    return DataRoot.find(given)


def _check_data_root(root: DataRoot) -> None:
    if not root.datasets:
        folders = ", ".join(f"{sub}/" for sub in DATASET_DIRS.values())
        raise DataNotFoundError(
            f"run_report: the data root {root} holds none of the data sets; expected at "
            f"least one of {folders} there (see the README's data sets)"
        )


def _warning_notes(caught: Sequence[warnings.WarningMessage]) -> list[str]:
    seen: list[str] = []
    for item in caught:
        text = f"Warning: {item.message}"
        if issubclass(item.category, MedmodalWarning) and text not in seen:
            seen.append(text)
    extra = len(seen) - MAX_WARNINGS
    return seen[:MAX_WARNINGS] + ([f"(and {extra} more warnings)"] if extra > 0 else [])
