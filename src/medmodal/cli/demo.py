"""``medmodal demo``: the main job (what ``make demo`` runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from medmodal.cli._common import (
    JsonOption,
    OutOption,
    OverwriteOption,
    QuietOption,
    SeedOption,
    check_out_dir,
    console,
    err_console,
    handle_errors,
    print_json,
)
from medmodal.cli._time import SMOKE_RUN, announce, mark_smoke, progress_wanted

#: CPU seconds of ``medmodal demo`` (about its wall time on an idle 2-core machine) by
#: (quick, data root given), from benchmarks/results/cli_times.md; None: not timed yet,
#: no estimate is printed.
DEMO_S: dict[tuple[bool, bool], float | None] = {
    (True, False): 66.4,
    (False, False): 108.4,
    (True, True): None,
    (False, True): None,
}


@handle_errors
def demo(
    out: OutOption = Path("medmodal-report"),
    quick: Annotated[
        bool, typer.Option("--quick", help="About half the work in every section.")
    ] = False,
    data_root: Annotated[
        Path | None,
        typer.Option(
            "--data-root",
            help="Folder holding the data sets: sections whose data set is there run on it "
            "(default: only the data shipped in the package; $MEDMODAL_DATA is not read).",
        ),
    ] = None,
    seed: SeedOption = 0,
    section: Annotated[
        list[str] | None,
        typer.Option("--section", help="Run only this section (repeatable): ecg, fusion, ..."),
    ] = None,
    overwrite: OverwriteOption = False,
    quiet: QuietOption = False,
    json_out: JsonOption = False,
) -> None:
    """Run every practice on the data shipped in the package; write an HTML report.

    ECG analysis of real MIT-BIH excerpts, a fusion comparison on a seeded synthetic
    cohort, contrastive ECG-text alignment with retrieval and zero-shot results, and
    cross-attention maps over an ECG. The report is one folder (index.html and PNGs),
    readable offline. --data-root DIR switches every section whose data set is under DIR
    to real data: full 30-minute MIT-BIH records (ECG), MIT-BIH beats of held-out patients
    (fusion), MedPix 2.0 images and captions (alignment), MIT-BIH windows with annotated
    PVCs (attention); about 5 minutes on 2 cores. Exits 1 when a section failed (its error
    is shown in the report). An existing non-empty --out (an earlier report too) is
    refused unless --overwrite.
    """
    from medmodal.data.paths import DataRoot
    from medmodal.report.runner import run_report

    check_out_dir(out, overwrite=overwrite, caller="demo")
    rooted = data_root is not None
    expected = DEMO_S[(quick, rooted)]
    if expected is not None and not section:  # timed for the whole demo only
        announce("demo", expected, show=not (quiet or json_out),
                 quick_seconds=None if quick else DEMO_S[(True, rooted)])  # fmt: skip
    summary = run_report(
        out,
        quick=quick,
        seed=seed,
        data_root=None if data_root is None else DataRoot.find(data_root),  # resolved once
        sections=section,
        progress=progress_wanted(quiet, json_out),
    )
    if json_out:
        print_json(mark_smoke(summary.to_dict(), quick))
    elif not quiet:
        table = Table(
            title="medmodal demo", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
        )
        for column in ("section", "status", "s", "headline"):
            table.add_column(column, overflow="fold")
        for s in summary.sections:
            status = "[green]ok[/green]" if s.ok else "[red]failed[/red]"
            line = s.content.headline if s.ok else s.error
            table.add_row(s.key, status, f"{s.seconds:.0f}", line)
        console.print(table)
        console.print(f"total {summary.seconds:.0f} s; report: {summary.index}", highlight=False)
        if quick:
            console.print(f"[bold yellow]{SMOKE_RUN}[/bold yellow] (--quick)")
    if not summary.ok:
        err_console.print(
            f"[red]error:[/red] {len(summary.failed)} section(s) failed: "
            f"{', '.join(summary.failed)} (details in {summary.index})",
            highlight=False,
        )
        raise typer.Exit(1)
