"""The main job's HTML report: each section runs the library on real and simulated data.

:func:`run_report` runs every section (ECG, fusion, alignment, attention), each isolated
so that one failing practice shows its error in place while the others still run, and
writes ``index.html`` (no JavaScript, no CDN, PNGs beside it) plus ``summary.json``.
The command ``medmodal demo`` is a thin adapter over it.
"""

from __future__ import annotations

from medmodal.report.runner import ReportSummary, available_sections, run_report
from medmodal.report.section import SectionContent, SectionContext, SectionResult

__all__ = [
    "ReportSummary",
    "SectionContent",
    "SectionContext",
    "SectionResult",
    "available_sections",
    "run_report",
]
