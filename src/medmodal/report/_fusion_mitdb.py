"""The fusion section on real patients: MIT-BIH beats of a few records (``--data-root``).

:func:`medmodal.data.fusion_sets.mitdb_beats` turns the first records of
:data:`~medmodal.data.fusion_sets.MITDB_ORDER` (class-diverse ones first) into four
modalities per beat: MLII morphology, the other lead's morphology, RR features and the
header's age and sex; the target is whether the beat is ventricular (AAMI class V: the
class that transfers between patients; S and F need far more patients). Every strategy and every
single-modality baseline is cross-validated on folds grouped by patient, so each score is
measured on patients the model never saw; intervals resample patients, not beats.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from medmodal.report.fusion_section import fusion_figures, main_table
from medmodal.report.section import ReportFigure, ReportTable, SectionContent, SectionContext

if TYPE_CHECKING:
    from medmodal.data.fusion_sets import FusionSet

__all__ = ["N_RECORDS", "build_mitdb"]

#: Records (patients) in a full run (``--quick``: half), folds, bootstrap resamples.
N_RECORDS, CV, N_BOOT = 10, 3, 100
#: Most beats kept per patient and class (ventricular or not), seeded.
PER_PATIENT = 200
#: FusionClassifier settings: the benchmark's encoder sizes, fewer epochs (a demo).
PARAMS: dict[str, Any] = {
    "epochs": 4,
    "patience": 2,
    "batch_size": 128,
    "hidden": 64,
    "signal_width": 16,
    "class_weight": "balanced",
    "modality_dropout": 0.2,
    "num_threads": 1,
}


def build_mitdb(ctx: SectionContext) -> SectionContent:
    """The fusion section on MIT-BIH beats read from ``ctx.data_root``."""
    from medmodal.data.fusion_sets import mitdb_beats
    from medmodal.data.subsample import cap_per_group
    from medmodal.fusion import run_comparison

    data = mitdb_beats(
        root=ctx.data_root,
        max_records=ctx.scale(N_RECORDS, minimum=4),
        seed=ctx.seed,
        progress=ctx.progress,
    )
    keep = np.sort(cap_per_group(data.groups, data.y == "V", PER_PATIENT, seed=ctx.seed))
    X = {name: values[keep] for name, values in data.X.items()}
    y = (data.y[keep] == "V").astype(np.int64)
    data = replace(data, X=X, y=y, groups=data.groups[keep])
    result = run_comparison(
        data.X,
        data.y,
        cv=CV,
        groups=data.groups,
        seed=ctx.seed,
        missing="each",
        params=PARAMS,
        n_boot=0,  # intervals below, for the main condition only
        verbose=ctx.progress,
    )
    n_boot = ctx.scale(N_BOOT)
    table = result.with_intervals(n_boot, seed=ctx.seed, groups=data.groups)
    main = table[table["condition"] == "all"].reset_index(drop=True)
    figures = [
        replace(f, caption=f"{f.caption} MIT-BIH beats of held-out patients.")
        for f in fusion_figures(ctx, result, table)
    ]
    return _content(ctx, data, n_boot, main, table, figures)


def _spread(best: pd.Series) -> str:
    if float(best["auroc_high"] - best["auroc_low"]) > 0.1:
        return "with this few patients they are wide"
    return "they are narrow here, yet a few patients are a small sample"


def _one_lead(lone: float, best_uni: pd.Series) -> str:
    if lone >= float(best_uni["auroc"]) - 0.05:
        return "trained with modality dropout, it keeps working on one lead"
    return "on this run it does not hold up on one lead"


def _content(
    ctx: SectionContext,
    data: FusionSet,
    n_boot: int,
    main: pd.DataFrame,
    table: pd.DataFrame,
    figures: list[ReportFigure],
) -> SectionContent:
    from medmodal.fusion.compare import robustness_table

    records = ", ".join(data.info["records"])
    n_v = int(np.sum(data.y))
    best = main.iloc[int(np.argmax(main["auroc"].to_numpy()))]
    uni = main[main["method"].str.startswith("unimodal")]
    best_uni = uni.iloc[int(np.argmax(uni["auroc"].to_numpy()))]
    robust = robustness_table(table)
    without_other = robust.get("AUROC without other")
    lone = float(without_other.loc[best["method"]]) if without_other is not None else float("nan")
    source = f"MIT-BIH Arrhythmia Database (records {records}) from {ctx.data_root}"
    return SectionContent(
        intro=(
            f"Real patients: {len(data)} beats of the {source}. Each beat has four "
            "modalities: its MLII morphology, the other lead's morphology, ten RR-interval "
            "features and the header's age and sex; the target is whether the beat is "
            "ventricular (AAMI class V) by the cardiologists' reference annotations. At most "
            f"{PER_PATIENT} beats per patient and class are kept ({n_v} ventricular, "
            f"{len(data) - n_v} other: N with S and F). Every "
            "fusion strategy and each single modality is trained on the same "
            f"{CV} folds grouped by patient, so every score comes from patients the model "
            f"never saw; 95 % intervals come from {n_boot} bootstrap resamples of patients."
        ),
        tables=[
            ReportTable(
                "Out-of-fold scores on held-out patients, every modality present",
                main_table(main),
                note="value [95 % patient-bootstrap CI]. AUROC: ventricular vs other beats "
                "(0.5 = chance); balanced accuracy and macro-F1 at the 0.5 threshold; Brier "
                "score and ECE: lower is better.",
            ),
            ReportTable(
                "Robustness: AUROC when a modality is removed at test time",
                robust,
                note="Same fitted fold models, the named modality marked missing for every "
                "test beat (e.g. a Holter with one lead).",
            ),
        ],
        figures=figures,
        meaning=(
            f"Data: the MIT-BIH Arrhythmia Database ({len(np.unique(data.groups))} patients, "
            f"records {records}), not the synthetic cohort. {best['method']} ranks best "
            f"(AUROC {best['auroc']:.2f}, 95 % CI {best['auroc_low']:.2f}-"
            f"{best['auroc_high']:.2f}) against {best_uni['auroc']:.2f} for the best single "
            f"modality ({str(best_uni['method']).split(':')[-1]}). The intervals resample "
            f"patients; {_spread(best)}: a patient's beats look alike, and held-out patients "
            "differ (inter-patient generalisation is the hard part of beat classification). "
            "With the "
            f"second lead removed at test time {best['method']} scores AUROC {lone:.2f} "
            f"(against {best['auroc']:.2f} with both): {_one_lead(lone, best_uni)}. "
            "A demo-sized run; the full DS1 → DS2 "
            "benchmark is in benchmarks/results/fusion_mitbih.md."
        ),
        headline=(
            f"MIT-BIH {len(np.unique(data.groups))} patients: best {best['method']} AUROC "
            f"{best['auroc']:.2f} [{best['auroc_low']:.2f}, {best['auroc_high']:.2f}] vs "
            f"unimodal {best_uni['auroc']:.2f}"
        ),
        metrics={
            "data": "mitdb",
            "records": data.info["records"],
            "n": len(data),
            "ventricular_beats": n_v,
            "table": table.round(4).to_dict(orient="records"),
        },
    )
