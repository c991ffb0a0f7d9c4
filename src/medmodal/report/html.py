"""The report's HTML: one self-contained ``index.html`` beside its PNG folders.

No JavaScript, no web fonts, no CDN: the page reads the same offline, from a zip or a
file share. Figures are linked by relative path (``ecg/mitdb-100_overview.png``), so the
report folder can be moved as a whole.

Example:
    >>> from pathlib import Path
    >>> from medmodal.report.html import render_report
    >>> from medmodal.report.section import SectionContent, SectionResult
    >>> section = SectionResult("ecg", "ECG", "ok", 1.0, SectionContent(meaning="Fine."))
    >>> page = render_report([section], root=Path("."), settings={"seed": 0})
    >>> page.startswith("<!DOCTYPE html>"), 'id="ecg"' in page, "http" in page
    (True, True, False)
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

import medmodal
from medmodal.report.section import ReportFigure, ReportTable, SectionResult

__all__ = ["render_report", "write_report"]

_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d232a;
 margin:0;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:1.5rem 2rem 4rem;background:#fff}
h1{font-size:1.8rem;margin:.2rem 0}h2{margin-top:2.5rem;border-bottom:2px solid #dde3ea;
 padding-bottom:.2rem}h3{margin:1.4rem 0 .4rem;font-size:1.1rem}
.sub{color:#5a6573;margin:0 0 1rem}
.smoke{background:#fff4ce;border:2px solid #8a6d00;color:#3d3000;padding:.6rem .8rem;
font-weight:600}
nav{background:#f0f3f7;border:1px solid #dde3ea;border-radius:6px;padding:.6rem 1rem}
nav ol{margin:.2rem 0;padding-left:1.3rem}
table{border-collapse:collapse;margin:.4rem 0 .3rem;font-size:13.5px}
th,td{padding:.25rem .6rem;border-bottom:1px solid #e3e7ec;text-align:left}
th{background:#f0f3f7}.num{text-align:right;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto}
.note{color:#5a6573;font-size:13px;margin:.1rem 0 1rem}
figure{margin:1rem 0}figure img{max-width:100%;border:1px solid #e3e7ec}
figcaption{color:#3d4754;font-size:13.5px}
.meaning{background:#eef6ee;border-left:4px solid #3c8d40;padding:.6rem 1rem;margin:1rem 0}
.error{background:#fdeeee;border-left:4px solid #c0392b;padding:.6rem 1rem;margin:1rem 0}
.badge{display:inline-block;border-radius:4px;padding:0 .45rem;font-size:12px;
 vertical-align:middle;color:#fff}.ok{background:#3c8d40}.failed{background:#c0392b}
pre{white-space:pre-wrap;font-size:12px;background:#f6f7f9;padding:.5rem}
footer{color:#5a6573;font-size:13px;margin-top:3rem}
"""


def render_report(
    sections: Sequence[SectionResult],
    *,
    root: Path,
    settings: Mapping[str, Any],
    title: str = "medmodal: the main job",
) -> str:
    """The report page as a string.

    Args:
        sections: section results, in order.
        root: the report folder (figure links are made relative to it).
        settings: run settings shown in the header (seed, quick, data root...).
        title: page title (a quick run's page carries :data:`SMOKE_BANNER` under it).
    """
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    shown = ", ".join(f"{k}={v}" for k, v in settings.items())
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="sub">medmodal {_e(medmodal.__version__)} &middot; {stamp} &middot; '
        f"{_e(shown)}</p>",
        _smoke_banner(settings),
        _contents(sections),
        _overview(sections),
        *(_section(s, root) for s in sections),
        "<footer>Written by <code>medmodal demo</code>. Every number on this page was "
        "computed in this run; rerun with the same seed to reproduce it.</footer>",
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


#: The line a ``--quick`` page carries at the top (as the CLI's tables and JSON do).
SMOKE_BANNER = (
    "Smoke run — not a result: --quick does about half the work in every section "
    "(fewer records, epochs and resamples). Rerun without --quick before reading any number."
)


def _smoke_banner(settings: Mapping[str, Any]) -> str:
    """The smoke-run notice for a quick run, else nothing."""
    if not settings.get("quick"):
        return ""
    return f'<p class="smoke" role="note">{_e(SMOKE_BANNER)}</p>'


def write_report(
    sections: Sequence[SectionResult], root: Path, *, settings: Mapping[str, Any]
) -> Path:
    """Write ``<root>/index.html`` and return its path."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "index.html"
    path.write_text(render_report(sections, root=root, settings=settings), encoding="utf-8")
    return path


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _badge(section: SectionResult) -> str:
    if section.ok:
        return '<span class="badge ok">ok</span>'
    return '<span class="badge failed">failed</span>'


def _contents(sections: Sequence[SectionResult]) -> str:
    items = "".join(
        f'<li><a href="#{_e(s.key)}">{_e(s.title)}</a> {_badge(s)}</li>' for s in sections
    )
    first = '<li><a href="#overview">Overview</a></li>'
    return f"<nav><strong>Contents</strong><ol>{first}{items}</ol></nav>"


def _overview(sections: Sequence[SectionResult]) -> str:
    rows = "".join(
        f'<tr><td><a href="#{_e(s.key)}">{_e(s.title)}</a></td><td>{_badge(s)}</td>'
        f"<td>{s.seconds:.1f}</td><td>{_e(s.content.headline if s.ok else s.error)}</td></tr>"
        for s in sections
    )
    return (
        '<h2 id="overview">Overview</h2><div class="scroll"><table><thead><tr><th>section</th>'
        "<th>status</th><th>seconds</th><th>headline</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
    )


def _section(section: SectionResult, root: Path) -> str:
    content = section.content
    parts = [f'<section id="{_e(section.key)}"><h2>{_e(section.title)} {_badge(section)}</h2>']
    if content.intro:
        parts.append(f"<p>{_e(content.intro)}</p>")
    if not section.ok:
        parts.append(
            f'<div class="error"><strong>This section failed:</strong> {_e(section.error)}'
            f"<details><summary>details</summary><pre>{_e(section.details)}</pre></details></div>"
        )
    parts += [_table(table) for table in content.tables]
    if content.meaning:
        parts.append(
            f'<div class="meaning"><strong>What the numbers mean.</strong> '
            f"{_e(content.meaning)}</div>"
        )
    parts += _figures(content.figures, root)
    parts += [f'<p class="note">{_e(note)}</p>' for note in content.notes]
    parts.append("</section>")
    return "\n".join(parts)


def _table(table: ReportTable) -> str:
    frame = table.frame
    show_index = frame.index.name is not None or isinstance(frame.index, pd.MultiIndex)
    if show_index:
        frame = frame.reset_index()
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    head = "".join(
        f'<th class="{"num" if num else ""}">{_e(col)}</th>'
        for col, num in zip(frame.columns, numeric, strict=True)
    )
    rows = []
    for values in frame.itertuples(index=False):
        cells = "".join(
            f'<td class="{"num" if num else ""}">{_e(_cell(v, table.float_format))}</td>'
            for v, num in zip(values, numeric, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    note = f'<p class="note">{_e(table.note)}</p>' if table.note else ""
    return (
        f'<h3>{_e(table.title)}</h3><div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>{note}"
    )


def _cell(value: Any, float_format: str) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, float):
        return float_format.format(value)
    return str(value)


def _figures(figures: Sequence[ReportFigure], root: Path) -> list[str]:
    out: list[str] = []
    group = None
    for fig in figures:
        if fig.group and fig.group != group:
            out.append(f"<h3>{_e(fig.group)}</h3>")
            group = fig.group
        try:
            src = fig.path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            src = fig.path.name
        out.append(
            f'<figure><img src="{_e(src)}" alt="{_e(fig.caption)}" loading="lazy">'
            f"<figcaption>{_e(fig.caption)}</figcaption></figure>"
        )
    return out
