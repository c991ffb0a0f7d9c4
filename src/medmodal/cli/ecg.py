"""``medmodal ecg``: analyse a recording, run the MIT-BIH QRS benchmark."""

from __future__ import annotations

import runpy
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from medmodal.cli._common import (
    DataRootOption,
    JsonOption,
    OverwriteOption,
    QuietOption,
    check_out_dir,
    check_out_files,
    console,
    err_console,
    handle_errors,
    print_json,
    silenced,
    write_json,
)
from medmodal.cli._time import SMOKE_RUN, announce, mark_smoke
from medmodal.errors import DataNotFoundError, InvalidParameterError, MedmodalWarning

app = typer.Typer(
    help="ECG: analyse recordings and benchmark R-peak detection.", no_args_is_help=True
)

#: Records of ``ecg bench --quick``: a clean one and a hard one (atrial flutter, noise).
QUICK_RECORDS = "100,203"


@app.command("analyze")
@handle_errors
def analyze(
    path: Annotated[
        Path, typer.Argument(help="Record file (WFDB .hea/.dat, CSV, EDF, .npy/.npz).")
    ],
    lead: Annotated[
        str | None, typer.Option("--lead", help="Analyse only this lead (name or index).")
    ] = None,
    format: Annotated[
        str | None,
        typer.Option("--format", help="wfdb, csv, edf or npy (default: from the extension)."),
    ] = None,
    sampling_rate: Annotated[
        float | None, typer.Option("--sampling-rate", help="Hz, for files that do not store it.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            "--plot",
            help="Figures: a file ending .png, .svg or .pdf gets the overview and, beside "
            "it, <name>_paper.<ext> (the first 10 s on ECG paper; 3x4 page for 12-lead); "
            "a folder (existing, or a path without suffix) gets <record>.png and "
            "<record>_paper.png inside. Existing figures are refused unless --overwrite "
            "(--plot: old name).",
        ),
    ] = None,
    pdf: Annotated[
        Path | None,
        typer.Option(
            "--pdf",
            help="Also write the one-page clinician's PDF (A4 landscape: header, strips on "
            "ECG paper, measurements with normal ranges, findings, what was withheld and "
            "why) to this file ending .pdf; refused when it exists unless --overwrite.",
        ),
    ] = None,
    overwrite: OverwriteOption = False,
    method: Annotated[str, typer.Option("--method", help="R-peak detector.")] = "default",
    powerline: Annotated[
        str,
        typer.Option(
            "--powerline",
            help="Mains notch: 50, 60, none, or auto (the record's metadata, else the 50/60 "
            "Hz line found in the spectrum, else none).",
        ),
    ] = "auto",
    window: Annotated[
        float, typer.Option("--window", help="Seconds per rhythm/quality window.")
    ] = 10.0,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Heart rate, HRV, rhythm, AF, beat classes, quality and PR/QRS/QT of one recording.

    Every number names how it was measured: the mean heart rate is beats per minute over
    the analysed time; flagged RR intervals are counted and kept out of min/max and HRV;
    PR and QT are withheld, with the reason, where they cannot be trusted. Every R peak
    gets an AAMI beat class (N, S, V, F, Q) on the lead the peaks sit on: the table counts
    them (PVCs per hour and burden, supraventricular ectopics), --json lists each beat's
    class and probability, and the figures write each beat's symbol above it.
    """
    from medmodal.ecg.process import ecg_process
    from medmodal.io import read_record

    figures = None if out is None else figure_paths(out, path)
    if figures is not None:
        check_out_files(list(figures), overwrite=overwrite, caller="ecg analyze")
    if pdf is not None:
        check_pdf_path(pdf, overwrite=overwrite)
    record = read_record(path, format=format, sampling_rate=sampling_rate)
    if lead is not None:
        record = record.select([int(lead) if lead.isdigit() else lead])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MedmodalWarning)
        result = ecg_process(
            record.signal,
            record.sampling_rate,
            method=method,
            powerline=_powerline(powerline),
            window=window,
            lead_names=record.lead_names,
            metadata=record.meta,
        )
    notes = list(dict.fromkeys(str(w.message) for w in caught))
    if figures is not None:
        from medmodal.viz.ecg import plot_overview
        from medmodal.viz.ecg_12lead import plot_12lead

        overview, paper = figures
        overview.parent.mkdir(parents=True, exist_ok=True)
        plot_overview(result, units=record.units).savefig(overview, dpi=120)
        plot_12lead(
            result.cleaned,
            result.sampling_rate,
            lead_names=result.lead_names,
            units=record.units,
            title=f"{record.name or path.name}: first 10 s, cleaned as analysed",
            beat_labels=result.beat_classes,
        ).savefig(paper, dpi=150)
    if pdf is not None:
        from medmodal.report.ecg_pdf import write_ecg_pdf

        pdf.parent.mkdir(parents=True, exist_ok=True)
        name = record.name or path.name
        write_ecg_pdf(pdf, result, record_name=name, units=record.units, notes=notes)
    if json_output:
        print_json(_payload(record.name, result, notes))
        return
    if not quiet:
        console.print(summary_table(record.name or path.name, result.summary()))
        for note in notes:
            err_console.print(f"[yellow]warning:[/yellow] {note}", highlight=False)
        if figures is not None:
            console.print(f"figure: {figures[0]}")
            console.print(f"ECG paper (12-lead: 3x4 page; else one strip per lead): {figures[1]}")
        if pdf is not None:
            console.print(f"PDF (one page): {pdf}")


#: What ``ecg analyze --out FILE`` may end with (matplotlib writes each).
FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


def figure_paths(out: Path, record: Path) -> tuple[Path, Path]:
    """The overview and ECG-paper files ``ecg analyze --out`` writes.

    ``out`` ending in a :data:`FIGURE_SUFFIXES` suffix is the overview, its paper page
    ``<name>_paper.<ext>`` beside it; an existing folder or a path without suffix is a
    folder holding ``<record>.png`` and ``<record>_paper.png``. Anything else is refused
    (so ``--out DIR`` never writes ``DIR.png`` beside the folder).

    Example:
        >>> figure_paths(Path("figs/a.svg"), Path("r.hea"))
        (PosixPath('figs/a.svg'), PosixPath('figs/a_paper.svg'))
        >>> figure_paths(Path("figs"), Path("data/100.hea"))
        (PosixPath('figs/100.png'), PosixPath('figs/100_paper.png'))

    Raises:
        InvalidParameterError: ``out`` has another suffix and is no folder.
    """
    if out.suffix.lower() in FIGURE_SUFFIXES and not out.is_dir():
        return out, out.with_name(f"{out.stem}_paper{out.suffix}")
    if out.is_dir() or not out.suffix:
        return out / f"{record.stem}.png", out / f"{record.stem}_paper.png"
    raise InvalidParameterError(
        f"ecg analyze: --out {out} must be a figure file ending "
        f"{', '.join(FIGURE_SUFFIXES)} or a folder (an existing one, or a path without suffix)"
    )


def check_pdf_path(pdf: Path, *, overwrite: bool) -> None:
    """Refuse an ``--pdf`` path that does not end .pdf, or exists without --overwrite."""
    if pdf.suffix.lower() != ".pdf" or pdf.is_dir():
        raise InvalidParameterError(f"ecg analyze: --pdf {pdf} must be a file ending .pdf")
    check_out_files([pdf], overwrite=overwrite, caller="ecg analyze")


@app.command("bench")
@handle_errors
def bench(
    records: Annotated[
        str | None, typer.Option("--records", help="Comma-separated record ids (default: all 48).")
    ] = None,
    jobs: Annotated[
        int, typer.Option("--jobs", help="Parallel workers for the accuracy runs.")
    ] = 2,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Folder for ecg_qrs.md and ecg_qrs.json (default: ./medmodal-bench/); "
            "refused when not empty unless --overwrite.",
        ),
    ] = None,
    overwrite: OverwriteOption = False,
    data_root: DataRootOption = None,
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help=f"Accuracy only, medmodal's detectors only, records {QUICK_RECORDS} by default "
            "(no peers, timing or resampling).",
        ),
    ] = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Run the MIT-BIH QRS benchmark (benchmarks/ecg_qrs.py) against NeuroKit2 and XQRS.

    Writes ecg_qrs.md and ecg_qrs.json into --out (default: ./medmodal-bench/ in the
    current folder), never into the repository's committed benchmarks/results.
    """
    script = Path(__file__).resolve().parents[3] / "benchmarks" / "ecg_qrs.py"
    if not script.is_file():
        raise DataNotFoundError(
            f"the benchmark script {script} is not here: benchmarks ship with the source "
            "checkout, run this command from a clone of the repository"
        )
    check_out_dir(bench_out(out), overwrite=overwrite, caller="ecg bench")
    n_records = len(records.split(",")) if records else (2 if quick else 48)
    announce("ecg bench", n_records * BENCH_RECORD_S[quick], show=not (quiet or json_output),
             quick_seconds=None if quick else 2 * BENCH_RECORD_S[True])  # fmt: skip
    argv = ["--jobs", str(jobs)]
    if quick:
        argv += ["--no-peers", "--no-timing", "--no-resample", "--process-records", ""]
        records = records or QUICK_RECORDS
    if records:
        argv += ["--records", records]
    argv += ["--out", str(bench_out(out))]
    if data_root is not None:
        argv += ["--data-root", str(data_root)]
    saved = sys.argv
    try:
        sys.argv = [str(script), *argv]
        with silenced(quiet or json_output):
            namespace = runpy.run_path(str(script), run_name="medmodal_ecg_bench")
            result = namespace["main"](argv)
    finally:
        sys.argv = saved
    if quick and isinstance(result, dict):
        result = mark_bench_files(bench_out(out), mark_smoke(result, quick))
    if json_output:
        print_json(result)
    elif quick and not quiet:
        console.print(f"[bold yellow]{SMOKE_RUN}[/bold yellow] (--quick: 2 records, no peers)")


def mark_bench_files(folder: Path, result: dict[str, Any]) -> dict[str, Any]:
    """Mark the --quick run's ecg_qrs.json and ecg_qrs.md as a smoke run; ``result``."""
    write_json(folder / "ecg_qrs.json", result)
    md = folder / "ecg_qrs.md"
    if md.is_file():
        md.write_text(f"**{SMOKE_RUN}** (--quick)\n\n" + md.read_text(encoding="utf-8"))
    return result


#: CPU seconds per record of ``ecg bench`` (--quick: accuracy only; else with peers,
#: timing and resampling), from benchmarks/results/cli_times.md (records 100 and 203).
BENCH_RECORD_S = {True: 14.1 / 2, False: 178.1 / 2}

#: Default folder of ``ecg bench`` results, relative to the current folder.
BENCH_OUT = Path("medmodal-bench")


def bench_out(out: Path | None) -> Path:
    """Where ``ecg bench`` writes: ``--out``, else ``./medmodal-bench/``."""
    return BENCH_OUT if out is None else out


def summary_table(title: str, summary: dict[str, Any]) -> Table:
    """A Rich table of :meth:`ECGResult.summary` (shared by the CLI and the demo)."""
    table = Table(title=f"ECG analysis: {title}", show_header=False, title_justify="left")
    table.add_column("measure", style="bold")
    table.add_column("value")
    table.add_row(
        "duration", f"{summary['duration_s']:.1f} s at {summary['sampling_rate_hz']:g} Hz"
    )
    table.add_row("leads", ", ".join(summary["leads"]))
    if summary.get("powerline"):
        table.add_row("mains notch", summary["powerline"]["text"])
    table.add_row("beats", f"{summary['n_beats']} ({summary['peak_lead_reason']})")
    for name, value in heart_rate_rows(summary["heart_rate"]):
        table.add_row(name, value)
    rhythm = summary.get("rhythm_name", summary["rhythm"])
    if rhythm == "undetermined" and summary.get("rhythm_reason"):
        table.add_row("rhythm", f"undetermined: {summary['rhythm_reason']}")
    else:
        table.add_row("rhythm", _fractions(rhythm, summary["rhythm_fractions"]))
    for name, value in af_rows(summary.get("atrial_fibrillation")):
        table.add_row(name, value)
    for name, value in beat_rows(summary.get("beat_classes")):
        table.add_row(name, value)
    table.add_row("quality", _fractions(summary["quality"], summary["quality_fractions"]))
    hrv = summary.get("hrv")
    if hrv:
        table.add_row(
            "HRV (time, NN)",
            f"mean NN {hrv['mean_nn_ms']:.0f} ms, SDNN {hrv['sdnn_ms']:.0f} ms, "
            f"RMSSD {hrv['rmssd_ms']:.0f} ms, pNN50 {hrv['pnn50_pct']:.1f} %",
        )
        table.add_row(
            "HRV (frequency)",
            f"LF {hrv['lf_ms2']:.0f} ms², HF {hrv['hf_ms2']:.0f} ms², LF/HF {hrv['lf_hf']:.2f}",
        )
        if hrv.get("notes"):
            table.add_row("HRV notes", str(hrv["notes"]))
    for name, value in interval_rows(summary.get("intervals")):
        table.add_row(name, value)
    return table


def af_rows(block: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The atrial-fibrillation line of the table: label, burden and episodes (s)."""
    if not block:
        return []
    if block["label"] == "unknown":
        return [("atrial fibrillation", f"unknown: {block['reason']}")]
    spans = ", ".join(f"{e['start_s']:.0f}-{e['end_s']:.0f} s" for e in block["episodes"][:5])
    more = " ..." if block["n_episodes"] > 5 else ""
    count = block["n_episodes"]
    text = f"{block['label']} ({block['burden_pct']:.1f} % burden, {count} episode"
    text += "" if count == 1 else "s"
    return [("atrial fibrillation", text + (f": {spans}{more})" if spans else ")"))]


def beat_rows(block: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The beat-class lines of the table: counts per AAMI class (and the lead), PVCs
    (per hour, burden) and supraventricular ectopics; "unknown" with the reason."""
    if not block:
        return []
    if block["label"] == "unknown":
        return [("beat classes", f"unknown: {block['reason']}")]
    counts = block["counts"]
    text = ", ".join(f"{c} {counts[c]}" for c in ("N", "S", "V", "F", "Q"))
    if counts.get("unknown"):
        text += f", unknown {counts['unknown']}"
    text += f" (on {block['lead']}; model {block['model']})"
    pvc = (
        f"{counts['V']} ({_per_hour(block['pvc_per_hour'])}; burden "
        f"{block['pvc_burden_pct']:.1f} % of {block['n_classified']} classified beats)"
    )
    sve = f"{block['sve_count']} ({_per_hour(block['sve_per_hour'])})"
    return [("beat classes", text), ("PVCs", pvc), ("supraventricular ectopics", sve)]


def _per_hour(value: float | None) -> str:
    return "n/a per hour" if value is None else f"{value:.1f} per hour"


def heart_rate_rows(heart_rate: dict[str, Any]) -> list[tuple[str, str]]:
    """The heart-rate lines of the table: mean, median, range, flagged intervals (with
    fewer than two beats: n/a, and why)."""
    if not heart_rate["n_intervals"]:
        return [
            ("heart rate", "n/a: it needs two beats or more"),
            ("RR intervals", str(heart_rate["note"])),
        ]
    return [
        (
            "heart rate",
            f"{_bpm(heart_rate['mean_bpm'])} mean (beats per minute over "
            f"{heart_rate['analysed_s']:.0f} s), median {_bpm(heart_rate['median_bpm'])}; "
            f"beat-to-beat {_bpm(heart_rate['min_bpm'], unit=False)}-"
            f"{_bpm(heart_rate['max_bpm'])} over the "
            f"{heart_rate.get('min_max_over', 'NN intervals')}",
        ),
        ("RR intervals", str(heart_rate["note"])),
    ]


def interval_rows(intervals: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The PR / QRS / QT lines of the table (values with their beats, or the reason)."""
    if not intervals:
        return []
    qrs = _withheld(intervals["qrs_withheld"]) or (
        f"{intervals['qrs_ms']:.0f} ms (median of {intervals['qrs_n_beats']} dominant beats)"
    )
    pr = _withheld(intervals["pr_withheld"]) or (
        f"{intervals['pr_ms']:.0f} ms ({intervals['pr_note']})"
    )
    qt = _withheld(intervals["qt_withheld"]) or (
        f"QT {intervals['qt_ms']:.0f} ms; QTc {intervals['qtc_bazett_ms']:.0f} ms (Bazett), "
        f"{intervals['qtc_fridericia_ms']:.0f} ms (Fridericia); median of "
        f"{intervals['qt_n_beats']} beats"
    )
    return [
        ("intervals lead", str(intervals["lead_reason"] or intervals["lead"])),
        ("PR", pr),
        ("QRS", qrs),
        ("QT / QTc", qt),
    ]


def _withheld(reason: str) -> str:
    """``"PR withheld: why"`` as ``"withheld: why"`` (the row already names PR)."""
    return "withheld: " + reason.split(" withheld: ", 1)[1] if " withheld: " in reason else reason


def _bpm(value: float | None, *, unit: bool = True) -> str:
    if value is None or value != value:  # None or NaN
        return "n/a"
    return f"{value:.0f} bpm" if unit else f"{value:.0f}"


def _fractions(overall: str, fractions: dict[str, float]) -> str:
    parts = ", ".join(f"{k} {100 * v:.0f} %" for k, v in fractions.items() if v > 0)
    return f"{overall} ({parts})"


def _powerline(value: str) -> float | str | None:
    lowered = value.strip().lower()
    if lowered in {"none", "off", "0"}:
        return None
    if lowered == "auto":
        return "auto"
    try:
        return float(lowered)
    except ValueError:
        raise InvalidParameterError(
            f"--powerline must be 50, 60, auto or none, got {value!r}"
        ) from None


def _payload(name: str, result: Any, notes: list[str]) -> dict[str, Any]:
    beats = result.beats_frame()
    return {
        "record": name,
        "summary": result.summary(),
        "rhythm_windows": result.rhythm.to_frame().to_dict(orient="records"),
        "quality_windows": result.quality.to_frame().to_dict(orient="records"),
        "r_peaks": result.peaks.tolist(),
        "beats": {  # one entry per R peak (columns, not one object per beat: compact)
            "sample": result.peaks.tolist(),
            "time_s": beats["time_s"].round(4).tolist(),
            "heart_rate_bpm": beats["heart_rate_bpm"].tolist(),
            "rr_flag": beats["rr_flag"].tolist(),
            "beat_class": beats["beat_class"].tolist(),
            "beat_class_p": beats["beat_class_p"].round(4).tolist(),
        },
        "warnings": notes,
    }
