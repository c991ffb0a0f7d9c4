"""The clinician's ECG page as one self-contained HTML document (same content as the PDF).

Semantic structure for screen readers and keyboards: one ``h1``, an ``h2`` per part,
tables with header cells (``scope``) and captions, the strips as an image with a text
alternative; no script and nothing loaded from elsewhere (the strips are a PNG data URI,
the style is inline: :data:`PAGE_CSS`, whose hash the service puts in its
Content-Security-Policy). Text colours keep a contrast of at least 4.5:1 on their
background (WCAG 2.1 AA). A print stylesheet lays the page out on one A4 landscape sheet
with the strips at true size (25 mm/s, 10 mm/mV) and hides the screen-only hints.

Example:
    >>> from medmodal.ecg.simulate import ecg_simulate
    >>> from medmodal.ecg.process import ecg_process
    >>> page = ecg_html(ecg_process(ecg_simulate(12, 250, seed=0), 250), record_name="sim")
    >>> page.startswith("<!DOCTYPE html>"), "<h1>ECG analysis: sim</h1>" in page
    (True, True)
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from medmodal.report.ecg_page import NORMAL_RANGES, ECGPage, ecg_page
from medmodal.report.ecg_strips import GRID_WIDTH_MM, strips_figure, unit_list
from medmodal.viz.ecg_paper import GAIN_MM_MV, SPEED_MM_S, unit_notes

#: Resolution of the strips image (dots per inch at true size).
STRIPS_DPI = 150

PAGE_CSS = """
:root{--ink:#1d232a;--muted:#4a5563;--line:#cfd6de}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);
 background:#fff;margin:0 auto;max-width:1150px;padding:1rem 1.5rem 2rem}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1rem 0 .4rem}
.disclaimer,.hint,figcaption,.note{color:var(--muted);font-size:.85rem}
dl.meta{display:flex;flex-wrap:wrap;gap:.2rem 1.2rem;margin:.4rem 0}
dl.meta div{display:flex;gap:.35rem}dl.meta dt{font-weight:600}dl.meta dd{margin:0}
figure{margin:.5rem 0}figure img{width:100%;max-width:260mm;height:auto;display:block}
.columns{display:grid;grid-template-columns:minmax(0,1fr);gap:0 1.5rem}
@media screen and (min-width:900px){
 .columns{grid-template-columns:minmax(0,1.7fr) minmax(0,1fr) minmax(0,1fr)}}
.measures th,.measures td:nth-child(2){white-space:nowrap}
table{border-collapse:collapse;width:100%;font-size:.9rem}
caption{text-align:left;color:var(--muted);font-size:.85rem;padding-bottom:.2rem}
th,td{text-align:left;vertical-align:top;padding:.15rem .4rem;border-bottom:1px solid var(--line)}
thead th{color:var(--muted);font-weight:600}tbody th{font-weight:600}
ul{margin:.2rem 0;padding-left:1.1rem}li{margin:.1rem 0;overflow-wrap:anywhere}
@page{size:A4 landscape;margin:7mm}
@media print{
 body{max-width:none;padding:0;font-size:6.8pt;line-height:1.18}
 h1{font-size:11pt;margin:0}h2{font-size:7.6pt;margin:1mm 0 .4mm}
 .disclaimer,.hint,figcaption,.note,caption{font-size:6pt}
 .disclaimer{margin:0}dl.meta{margin:.6mm 0}
 .screen-only{display:none}
 figure{margin:.5mm 0}figure img{width:260mm;max-width:none}
 table{font-size:6.4pt}th,td{padding:.1mm .8mm}
 .measures td:nth-child(3){white-space:nowrap}
 .columns{grid-template-columns:minmax(0,1.8fr) minmax(0,1fr) minmax(0,1fr);gap:0 4mm}
}
"""


def ecg_html(
    result: Any,
    *,
    record_name: str,
    units: str | Sequence[str] = "mV",
    notes: Sequence[str] = (),
    analysed_at: datetime | None = None,
) -> str:
    """The clinician's page of one analysis as an HTML document.

    Args:
        result: an :class:`~medmodal.ecg.process.ECGResult`.
        record_name: shown in the title (a record or file name; no patient data).
        units: amplitude unit of the record, one for all leads or one per lead.
        notes: warnings raised while reading or analysing the record.
        analysed_at: date of the analysis (default: now, UTC).
    """
    page = ecg_page(result, record_name=record_name, notes=notes, analysed_at=analysed_at)
    units_ = unit_list(units, len(result.lead_names))
    fig, layout = strips_figure(result.cleaned, result.sampling_rate, result.lead_names, units_)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=STRIPS_DPI)
    png = base64.b64encode(buffer.getvalue()).decode("ascii")
    scale = f"{SPEED_MM_S:g} mm/s, {GAIN_MM_MV:g} mm/mV; {layout.caption}"
    alt = (
        f"ECG strips of {', '.join(name for row in layout.cells for name, _ in row)} on ECG "
        f"paper ({scale}); the measurements below are read from the whole record"
    )
    e = html.escape
    parts = [
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(page.title)}</title>\n<style>{PAGE_CSS}</style>\n</head>\n<body>\n"
        f'<header>\n<h1>{e(page.title)}</h1>\n<p class="disclaimer">{e(page.disclaimer)}</p>\n',
        _meta(page),
        '</header>\n<main>\n<section aria-labelledby="strips-title">\n'
        '<h2 id="strips-title">ECG</h2>\n<figure>\n'
        f'<img src="data:image/png;base64,{png}" alt="{e(alt)}" '
        f'width="{round(GRID_WIDTH_MM * STRIPS_DPI / 25.4)}" '
        f'height="{round(layout.height_mm * STRIPS_DPI / 25.4)}">\n'
        f'<figcaption>{e(scale)}</figcaption>\n</figure>\n</section>\n<div class="columns">\n',
        _measurements(page),
        _findings(page),
        _withheld(page, unit_notes(units_)),
        '</div>\n</main>\n<p class="hint screen-only">Print this page (Ctrl+P or Cmd+P): '
        "it fits one A4 landscape sheet, with the strips at true size.</p>\n</body>\n</html>\n",
    ]
    return "".join(parts)


def css_hash() -> str:
    """The CSP source of :data:`PAGE_CSS` (``'sha256-...'``), for ``style-src``."""
    digest = hashlib.sha256(PAGE_CSS.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def _meta(page: ECGPage) -> str:
    items = "".join(
        f"<div><dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd></div>" for k, v in page.header
    )
    return f'<dl class="meta">{items}</dl>\n'


def _measurements(page: ECGPage) -> str:
    rows = "".join(
        f'<tr><th scope="row">{html.escape(r.name)}</th><td>{html.escape(r.value)}</td>'
        f'<td>{html.escape(r.normal)}</td><td class="note">{html.escape(r.note)}</td></tr>\n'
        for r in page.measurements
    )
    hrv = NORMAL_RANGES["sdnn"].split(" (")[0]
    return (
        '<section aria-labelledby="measurements-title">\n'
        '<h2 id="measurements-title">Measurements</h2>\n<table class="measures">\n'
        f"<caption>Normal ranges: adults at rest; HRV norms of 5-min records (SDNN {hrv})"
        '</caption>\n<thead><tr><th scope="col">Measure</th><th scope="col">Value</th>'
        '<th scope="col">Normal range</th><th scope="col">Note</th></tr></thead>\n'
        f"<tbody>\n{rows}</tbody>\n</table>\n</section>\n"
    )


def _table(pairs: Sequence[tuple[str, str]], label: str) -> str:
    rows = "".join(
        f'<tr><th scope="row">{html.escape(k)}</th><td>{html.escape(v)}</td></tr>\n'
        for k, v in pairs
    )
    return f'<table aria-labelledby="{label}">\n<tbody>\n{rows}</tbody>\n</table>\n'


def _findings(page: ECGPage) -> str:
    """Rhythm, AF, quality and beat findings, then the lead each measurement used."""
    return (
        '<section aria-labelledby="findings-title">\n'
        '<h2 id="findings-title">Findings</h2>\n'
        f"{_table(page.findings, 'findings-title')}"
        '<h2 id="leads-title">Lead used and why</h2>\n'
        f"{_table(page.leads_used, 'leads-title')}</section>\n"
    )


def _withheld(page: ECGPage, extra_notes: Sequence[str]) -> str:
    """What was withheld and why, then the notes."""
    return (
        '<section aria-labelledby="withheld-title">\n'
        f'<h2 id="withheld-title">Withheld and why</h2>\n{_items(page.withheld, "nothing")}'
        f'<h2 id="notes-title">Notes</h2>\n{_items((*page.notes, *extra_notes), "none")}'
        "</section>\n"
    )


def _items(items: Sequence[str], empty: str) -> str:
    shown = items or (empty,)
    return "<ul>\n" + "".join(f"<li>{html.escape(i)}</li>\n" for i in shown) + "</ul>\n"
