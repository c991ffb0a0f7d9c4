"""``medmodal demo``: the main job (what ``make demo`` runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from medmodal.cli._common import OutOption, QuietOption, console, handle_errors


@handle_errors
def demo(
    out: OutOption = Path("medmodal-report"),
    quick: Annotated[bool, typer.Option("--quick", help="Fewer excerpts, same steps.")] = False,
    quiet: QuietOption = False,
) -> None:
    """Run the main job on the data shipped in the package and write its figures.

    Today the main job is the ECG part: three real MIT-BIH excerpts are analysed end to
    end, scored beat by beat against their reference annotations, and drawn.
    """
    from medmodal.data.bundled import list_bundled
    from medmodal.report.ecg_section import analyse_excerpts

    names = list_bundled()[:1] if quick else list_bundled()
    reports = analyse_excerpts(out / "ecg", names=names, progress=not quiet)
    if quiet:
        return
    table = Table(
        title="ECG: real MIT-BIH excerpts shipped with medmodal",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    columns = ("excerpt", "beats", "ref", "Se %", "+P %", "HR", "rhythm", "quality", "SDNN")
    for column in columns:
        table.add_column(column, no_wrap=True)
    for rep in reports:
        s, sc = rep.summary, rep.score
        hrv = s.get("hrv") or {}
        table.add_row(
            rep.name,
            str(s["n_beats"]),
            str(sc.n_reference),
            f"{100 * sc.sensitivity:.2f}",
            f"{100 * sc.ppv:.2f}",
            f"{s['heart_rate_mean_bpm']:.0f}",
            s["rhythm"],
            s["quality"],
            f"{hrv.get('sdnn_ms', float('nan')):.0f}",
        )
    console.print(table)
    console.print(
        "  Se/+P: detected R peaks vs reference beats (EC57, 150 ms); HR in bpm; SDNN in ms"
    )
    for rep in reports:
        console.print(f"  [bold]{rep.name}[/bold]: {rep.description}", highlight=False)
    console.print(f"figures: {out / 'ecg'} ({sum(len(r.figures) for r in reports)} PNG files)")
