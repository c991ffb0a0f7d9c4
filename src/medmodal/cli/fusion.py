"""``medmodal fusion``: compare fusion strategies on synthetic, MIT-BIH, PTB-XL or your data.

``--data mitdb`` and ``--data ptbxl`` build their modalities through
:mod:`medmodal.data.fusion_sets` (MIT-BIH beats: two leads' morphology, RR features,
age/sex, AAMI N/S/V/F, groups = subjects; PTB-XL: 12-lead ECG + metadata, five
diagnostic superclasses, groups = patients) and cross-validate with patient groups.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich import box
from rich.table import Table

from medmodal.cli._common import (
    DataRootOption,
    JsonOption,
    OutDirOption,
    OverwriteOption,
    QuietOption,
    SeedOption,
    check_out_dir,
    console,
    handle_errors,
    print_json,
)
from medmodal.cli._time import (
    SMOKE_RUN,
    announce,
    mark_smoke,
    per_call_seconds,
    progress_wanted,
)
from medmodal.errors import DataFormatError, DataNotFoundError, InvalidParameterError

app = typer.Typer(help="Multimodal fusion: compare strategies with CIs.", no_args_is_help=True)

#: ``--quick`` record counts for the real data sets.
QUICK_RECORDS = {"mitdb": 4, "ptbxl": 150}
#: What ``--data`` accepts besides 'synthetic' and an .npz file.
REAL_DATA = ("mitdb", "ptbxl")
#: 1-D CNN width per real data set (as in benchmarks/fusion_mitbih.py and fusion_ptbxl.py).
REAL_SIGNAL_WIDTH = {"mitdb": 16, "ptbxl": 8}


NPZ_HELP = (
    "an .npz file holding y (n,) or (n, L), optional groups (n,), one array X_<name> "
    "(n, ...) per modality and optional masks mask_<name> (n,) bool"
)


def load_npz(path: Path) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray], Any]:
    """Modalities, targets, masks and groups from the ``.npz`` layout of ``NPZ_HELP``."""
    if not path.is_file():
        raise DataNotFoundError(f"fusion compare: no file {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise DataFormatError(f"fusion compare: cannot read {path} as .npz ({exc})") from None
    X = {k[2:]: v for k, v in arrays.items() if k.startswith("X_")}
    if "y" not in arrays or not X:
        raise DataFormatError(f"fusion compare: {path} must hold {NPZ_HELP}; has {sorted(arrays)}")
    masks = {k[5:]: v.astype(bool) for k, v in arrays.items() if k.startswith("mask_")}
    return X, arrays["y"], masks, arrays.get("groups")


@app.command("compare")
@handle_errors
def compare(
    data: Annotated[
        str, typer.Option("--data", help=f"'synthetic', 'mitdb', 'ptbxl' or {NPZ_HELP}.")
    ] = "synthetic",
    methods: Annotated[
        str, typer.Option("--methods", help="Comma-separated fusion methods.")
    ] = "early,late,intermediate,attention,gated",
    cv: Annotated[int, typer.Option("--cv", help="Cross-validation folds.")] = 5,
    missing: Annotated[
        bool, typer.Option("--missing", help="Also score each modality removed at test time.")
    ] = False,
    n_samples: Annotated[int, typer.Option("--n-samples", help="Synthetic: samples.")] = 1000,
    interaction: Annotated[
        float, typer.Option("--interaction", help="Synthetic: cross-modal XOR weight.")
    ] = 0.0,
    signal: Annotated[
        float, typer.Option("--signal", help="Synthetic: additive signal per modality.")
    ] = 1.0,
    missing_rate: Annotated[
        float, typer.Option("--missing-rate", help="Synthetic: chance a modality is missing.")
    ] = 0.0,
    epochs: Annotated[int, typer.Option("--epochs", help="Maximum training epochs.")] = 100,
    n_boot: Annotated[int, typer.Option("--n-boot", help="Bootstrap resamples.")] = 1000,
    out: OutDirOption = None,
    overwrite: OverwriteOption = False,
    data_root: DataRootOption = None,
    max_records: Annotated[
        int | None,
        typer.Option("--max-records", help="mitdb/ptbxl: use only the first this many records."),
    ] = None,
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help="A smoke run of a few minutes: 2 folds, 1 epoch, at most 50 bootstrap "
            f"resamples; mitdb/ptbxl default to {QUICK_RECORDS['mitdb']}/"
            f"{QUICK_RECORDS['ptbxl']} records.",
        ),
    ] = False,
    seed: SeedOption = 0,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Cross-validate fusion methods and unimodal baselines; metrics with bootstrap CIs.

    --data mitdb: MIT-BIH beats (both leads, RR features, age/sex; AAMI N/S/V/F), folds
    grouped by subject. --data ptbxl: PTB-XL 12-lead ECG + metadata, five diagnostic
    superclasses (multi-label), folds grouped by patient. Both read --data-root (default
    $MEDMODAL_DATA); --quick or --max-records keeps the run to minutes. A non-empty --out
    is refused unless --overwrite.
    """
    from medmodal.fusion import run_comparison

    if out is not None:
        check_out_dir(out, overwrite=overwrite, caller="fusion compare")

    if quick:
        cv, epochs, n_boot = 2, 1, min(n_boot, 50)
        max_records = max_records or QUICK_RECORDS.get(data)
    show, bars = not quiet and not json_output, progress_wanted(quiet, json_output)
    params: dict[str, Any] = {"epochs": epochs}
    if data in REAL_DATA:
        X, y, masks, groups = _real(data, data_root, max_records, seed, show, bars)
        params["class_weight"] = "balanced"  # rare classes (S, F; MI, HYP) on principle
        params["signal_width"] = REAL_SIGNAL_WIDTH[data]  # the benchmarks' encoder sizes
    else:
        X, y, masks, groups = _data(data, n_samples, interaction, signal, missing_rate, seed)
    names = [m.strip() for m in methods.split(",") if m.strip()]
    if not names:
        raise InvalidParameterError("fusion compare: --methods names no method")
    if show:  # no estimate for --quiet or --json
        runs = {"cv": cv, "epochs": epochs, "n_boot": n_boot, "missing": missing}
        full, smoke = _estimate(X, y, names, params, runs)
        announce("fusion compare", smoke if quick else full, upper=True,
                 quick_seconds=None if quick else smoke)  # fmt: skip
    result = run_comparison(
        X, y, methods=names, cv=cv, groups=groups, seed=seed, missing="each" if missing else None,
        masks=masks, params=params, n_boot=n_boot, verbose=bars,
    )  # fmt: skip
    if out is not None:
        _write(result, out, missing, quick)
    if json_output:
        records = result.table.to_dict(orient="records")
        print_json([mark_smoke({str(k): v for k, v in r.items()}, quick) for r in records])
        return
    if not quiet:
        for t in _tables(result.table, quick=quick):
            console.print(t)
        if out is not None:
            console.print(f"wrote {out}/comparison.md, comparison.csv and figures")


#: Rows and resamples the cost probes of :func:`_estimate` use.
PROBE_ROWS, PROBE_BOOT = 256, 20


def _estimate(
    X: dict[str, np.ndarray], y: np.ndarray, methods: list[str], params: dict[str, Any],
    runs: dict[str, Any],
) -> tuple[float, float]:  # fmt: skip
    """Seconds the run and its ``--quick`` version will take, from costs measured here:
    an epoch of each model on :data:`PROBE_ROWS` rows and a few bootstrap resamples
    (a second or two of probing). Every epoch is counted, so this is a bound: early
    stopping usually ends the fits well before --epochs."""
    from medmodal.fusion import FusionClassifier
    from medmodal.metrics.bootstrap import bootstrap_metrics
    from medmodal.metrics.classification import classification_metrics

    n = len(y)
    rows = np.random.default_rng(0).permutation(n)[:PROBE_ROWS]
    part, target = {k: v[rows] for k, v in X.items()}, y[rows]
    models = [*methods, *(f"unimodal:{k}" for k in sorted(X) if f"unimodal:{k}" not in methods)]
    shared = {k: v for k, v in params.items() if k != "epochs"}
    shared.update(validation_fraction=0.0, verbose=False, num_threads=1)

    def epochs(method: str) -> Any:
        return lambda e: FusionClassifier(method, epochs=e, patience=e + 1, **shared).fit(
            part, target
        )

    try:
        per_row_epoch = sum(per_call_seconds(epochs(m)) for m in models) / len(rows)
        proba = FusionClassifier(models[0], epochs=1, **shared).fit(part, target)
        scores = proba.predict_proba(part)
    except Exception:
        return 0.0, 0.0
    multilabel = np.ndim(y) == 2
    start = time.perf_counter()
    bootstrap_metrics(classification_metrics, _codes(target), scores, n_boot=PROBE_BOOT,
                      multilabel=multilabel)  # fmt: skip
    per_resample_row = (time.perf_counter() - start) / PROBE_BOOT / len(rows)

    def seconds(cv: int, n_epochs: int, n_boot: int) -> float:
        fits = per_row_epoch * n * (cv - 1) * n_epochs  # cv fits on (cv-1)/cv of the rows
        tables = len(models) * (1 + (len(X) if runs["missing"] else 0))
        return fits + per_resample_row * n * n_boot * tables

    full = seconds(runs["cv"], runs["epochs"], runs["n_boot"])
    return full, seconds(2, 1, min(runs["n_boot"], 50))


def _codes(y: np.ndarray) -> np.ndarray:
    """Class codes 0..K-1 of 1-D labels (a label matrix as it is)."""
    return y if np.ndim(y) == 2 else np.unique(y, return_inverse=True)[1]


def _real(
    data: str, root: Path | None, max_records: int | None, seed: int, show: bool, bars: bool
) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray], Any]:
    """MIT-BIH or PTB-XL modalities, targets and patient groups from the data root."""
    from medmodal.data import fusion_sets

    if data == "mitdb":
        fs = fusion_sets.mitdb_beats(root=root, max_records=max_records, seed=seed, progress=bars)
    else:
        fs = fusion_sets.ptbxl_superclass(root=root, max_records=max_records)
    if show:
        console.print(f"{data}: {len(fs)} samples, {len(np.unique(fs.groups))} patients; {fs.info}")
    return fs.X, fs.y, {}, fs.groups


def _data(
    data: str, n: int, interaction: float, signal: float, rate: float, seed: int
) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray], Any]:
    if data == "synthetic":
        from medmodal.data.synthetic import make_multimodal_classification

        d = make_multimodal_classification(
            n, signal=signal, interaction=interaction, missing_rate=rate, seed=seed
        )
        return d.X, d.y, d.masks, None
    path = Path(data)
    if path.suffix != ".npz":
        raise InvalidParameterError(
            f"fusion compare: --data must be 'synthetic', 'mitdb', 'ptbxl' or an .npz file, "
            f"got {data!r}"
        )
    return load_npz(path)


def _write(result: Any, out: Path, missing: bool, quick: bool) -> None:
    from medmodal.viz.fusion import plot_comparison, plot_robustness, plot_roc_curves

    out.mkdir(parents=True, exist_ok=True)
    table = result.table.assign(smoke_run=quick)
    table.to_csv(out / "comparison.csv", index=False)
    mark = f"**{SMOKE_RUN}** (--quick)\n\n" if quick else ""
    (out / "comparison.md").write_text(mark + result.to_markdown() + "\n")
    plot_comparison(result.table).savefig(out / "comparison.png", dpi=120)
    plot_roc_curves(result).savefig(out / "roc.png", dpi=120)
    if missing:
        plot_robustness(result.table).savefig(out / "robustness.png", dpi=120)


#: Metric columns of the table, with the headers that keep it within 80 columns (method
#: and condition names are never shortened).
SHOWN = {"auroc": "AUROC", "balanced_accuracy": "bal.acc", "macro_f1": "F1", "brier": "Brier"}
SHOWN["ece"] = "ECE"


def _short(value: float) -> str:
    """``.881`` (3 decimals, no leading zero: metrics lie in [0, 1]); NaN as ``-``."""
    if not np.isfinite(value):
        return "-"
    text = f"{value:.3f}"
    return text[1:] if text.startswith("0.") else text.replace("-0.", "-.")


def _tables(table: Any, *, quick: bool) -> list[Table]:
    """One Rich table per test condition: a method per row, a metric per column, the
    estimate over its 95 % interval (two lines, so five metrics fit in 80 columns)."""
    out = []
    for condition, rows in table.groupby("condition", sort=False):
        title = "Fusion comparison (out-of-fold, 95 % bootstrap CI)"
        title += "" if condition == "all" else f": {condition} at test time"
        t = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  collapse_padding=True)  # fmt: skip
        t.add_column("method", style="bold", no_wrap=True)
        for header in SHOWN.values():
            t.add_column(header, justify="right", overflow="fold")
        for row in rows.to_dict(orient="records"):
            cells = [
                f"{row[m]:.3f}\n{_short(row[m + '_low'])}-{_short(row[m + '_high'])}" for m in SHOWN
            ]
            t.add_row(row["method"], *cells)
        t.caption = "bal.acc = balanced accuracy; F1 = macro F1" + (
            f"\n[bold yellow]{SMOKE_RUN}[/bold yellow]" if quick else ""
        )
        t.caption_justify = "left"
        out.append(t)
    return out
