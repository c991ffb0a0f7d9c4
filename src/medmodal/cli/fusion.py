"""``medmodal fusion``: compare fusion strategies on synthetic, MIT-BIH, PTB-XL or your data.

``--data mitdb`` and ``--data ptbxl`` build their modalities through
:mod:`medmodal.data.fusion_sets` (MIT-BIH beats: two leads' morphology, RR features,
age/sex, AAMI N/S/V/F, groups = subjects; PTB-XL: 12-lead ECG + metadata, five
diagnostic superclasses, groups = patients) and cross-validate with patient groups.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
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
    show = not quiet and not json_output
    params: dict[str, Any] = {"epochs": epochs}
    if data in REAL_DATA:
        X, y, masks, groups = _real(data, data_root, max_records, seed, show)
        params["class_weight"] = "balanced"  # rare classes (S, F; MI, HYP) on principle
        params["signal_width"] = REAL_SIGNAL_WIDTH[data]  # the benchmarks' encoder sizes
    else:
        X, y, masks, groups = _data(data, n_samples, interaction, signal, missing_rate, seed)
    names = [m.strip() for m in methods.split(",") if m.strip()]
    if not names:
        raise InvalidParameterError("fusion compare: --methods names no method")
    result = run_comparison(
        X, y, methods=names, cv=cv, groups=groups, seed=seed, missing="each" if missing else None,
        masks=masks, params=params, n_boot=n_boot, verbose=show,
    )  # fmt: skip
    if out is not None:
        _write(result, out, missing)
    if json_output:
        import sys

        sys.stdout.write(result.table.to_json(orient="records", indent=2) + "\n")
        return
    if not quiet:
        console.print(_table(result.table))
        if out is not None:
            console.print(f"wrote {out}/comparison.md, comparison.csv and figures")


def _real(
    data: str, root: Path | None, max_records: int | None, seed: int, progress: bool
) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray], Any]:
    """MIT-BIH or PTB-XL modalities, targets and patient groups from the data root."""
    from medmodal.data import fusion_sets

    if data == "mitdb":
        fs = fusion_sets.mitdb_beats(
            root=root, max_records=max_records, seed=seed, progress=progress
        )
    else:
        fs = fusion_sets.ptbxl_superclass(root=root, max_records=max_records)
    if progress:
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


def _write(result: Any, out: Path, missing: bool) -> None:
    from medmodal.viz.fusion import plot_comparison, plot_robustness, plot_roc_curves

    out.mkdir(parents=True, exist_ok=True)
    result.table.to_csv(out / "comparison.csv", index=False)
    (out / "comparison.md").write_text(result.to_markdown() + "\n")
    plot_comparison(result.table).savefig(out / "comparison.png", dpi=120)
    plot_roc_curves(result).savefig(out / "roc.png", dpi=120)
    if missing:
        plot_robustness(result.table).savefig(out / "robustness.png", dpi=120)


def _table(table: Any) -> Table:
    shown = ("auroc", "balanced_accuracy", "macro_f1", "brier", "ece")
    t = Table(title="Fusion comparison (out-of-fold, 95 % bootstrap CI)", title_justify="left")
    t.add_column("method", style="bold")
    t.add_column("condition")
    for m in shown:
        t.add_column(m.replace("_", " "), justify="right")
    for row in table.to_dict(orient="records"):
        cells = [f"{row[m]:.3f} [{row[m + '_low']:.3f}, {row[m + '_high']:.3f}]" for m in shown]
        t.add_row(row["method"], row["condition"], *cells)
    return t
