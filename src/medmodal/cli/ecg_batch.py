"""``medmodal ecg batch``: a folder of records to one Parquet table, here or on a cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from medmodal.cli._common import JsonOption, QuietOption, console, handle_errors, print_json
from medmodal.ecg.corpus import DEFAULT_TIMEOUT_S, CorpusRun, ecg_process_corpus


@handle_errors
def batch(
    source: Annotated[
        Path, typer.Argument(help="Folder of records (WFDB .hea, CSV, EDF, .npy/.npz) or a file.")
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="Record table: a Parquet dataset folder (e.g. features.parquet)."
        ),
    ],
    workers: Annotated[
        int,
        typer.Option(
            "--workers", "-w", help="Local worker processes, one thread each (-1: every core)."
        ),
    ] = -1,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Address of a running Dask scheduler (tcp://host:8786): run on that cluster "
            "instead of a LocalCluster.",
        ),
    ] = None,
    engine: Annotated[
        str, typer.Option("--engine", help="dask (default) or joblib (this machine only).")
    ] = "dask",
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", help="Seconds per record; a record past it gets status timeout (0: none)."
        ),
    ] = DEFAULT_TIMEOUT_S,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Continue into an existing --out, skipping its records."),
    ] = False,
    beats: Annotated[
        bool,
        typer.Option("--beats", help="Also write one row per beat to <out stem>_beats<suffix>."),
    ] = False,
    records_per_task: Annotated[
        int | None,
        typer.Option("--records-per-task", help="Records per task and part file (default: auto)."),
    ] = None,
    lead: Annotated[
        str | None, typer.Option("--lead", help="Analyse only this lead (name or index).")
    ] = None,
    format: Annotated[
        str | None, typer.Option("--format", help="wfdb, csv, edf or npy (default: by extension).")
    ] = None,
    sampling_rate: Annotated[
        float | None, typer.Option("--sampling-rate", help="Hz, for files that do not store it.")
    ] = None,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Analyse every record of SOURCE into a Parquet table, one row per record.

    Records that cannot be read or analysed, or run past --timeout, become rows with their
    status and reason; the run goes on. Run it again with --resume after an interruption.
    On a cluster (dask-jobqueue on Slurm, Dask on Kubernetes) pass --scheduler.
    """
    run = ecg_process_corpus(
        source,
        out,
        engine=engine,
        workers=workers,
        scheduler=scheduler,
        timeout=timeout or None,
        resume=resume,
        beats=beats,
        records_per_task=records_per_task,
        lead=_lead(lead),
        format=format,
        sampling_rate=sampling_rate,
        progress=None if not (quiet or json_output) else False,
    )
    if json_output:
        print_json(_payload(run))
    elif not quiet:
        console.print(_table(run))


def _lead(lead: str | None) -> str | int | None:
    return int(lead) if lead is not None and lead.lstrip("-").isdigit() else lead


def _payload(run: CorpusRun) -> dict[str, object]:
    return {
        "records": str(run.path),
        "beats": None if run.beats is None else str(run.beats),
        "found": run.n_found,
        "skipped": run.n_skipped,
        "ok": run.n_ok,
        "error": run.n_error,
        "timeout": run.n_timeout,
        "elapsed_s": run.elapsed_s,
        "slowest_s": run.slowest_s,
        "slowest_record": run.slowest_record,
    }


def _table(run: CorpusRun) -> Table:
    table = Table(title="ECG batch", show_header=False, title_justify="left")
    table.add_column("item")
    table.add_column("value")
    done = run.n_ok + run.n_error + run.n_timeout
    table.add_row("records found", str(run.n_found))
    table.add_row("already written (--resume)", str(run.n_skipped))
    table.add_row(
        "written now", f"{done}: {run.n_ok} ok, {run.n_error} error, {run.n_timeout} timeout"
    )
    rate = done / run.elapsed_s if run.elapsed_s > 0 else float("nan")
    table.add_row("time", f"{run.elapsed_s:.1f} s ({rate:.1f} records/s)")
    if run.slowest_record:
        table.add_row("slowest record", f"{run.slowest_record} ({run.slowest_s:.2f} s)")
    table.add_row("record table", str(run.path))
    if run.beats is not None:
        table.add_row("beat table", str(run.beats))
    return table
