"""MedPix 2.0: one patient in two splits? Same-patient cases found across train and dev.

Every pair of cases is compared on three signals: diagnosis words (overlap coefficient),
history words (Jaccard) and the highest correlation of their images resized to 32 px
(:func:`medmodal.data.medpix_patients.image_fingerprint`), with age and sex as a gate.
The rule of :mod:`medmodal.data.medpix_patients` (two signals, or a near-duplicate image)
decides; the one-signal candidates are listed too, kept apart. Then the clean splits
(:func:`medmodal.data.medpix.load_medpix`): what moved to train, the sizes of train, val
and dev.

Usage::

    python benchmarks/medpix_duplicates.py [--data-root DIR] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from _machine import machine_info  # benchmarks/ is the script's folder, first on sys.path
from medmodal.data.medpix import available_splits, load_medpix, medpix_folder, medpix_patients
from medmodal.data.medpix_patients import (
    AGE_TOLERANCE,
    DIAGNOSIS_OVERLAP,
    HISTORY_SIMILARITY,
    IMAGE_CORRELATION,
    NEAR_DUPLICATE,
    SamePatient,
    find_same_patients,
    image_fingerprint,
)
from medmodal.jsonsafe import dumps

RESULTS = Path(__file__).resolve().parent / "results"
NAME = "medpix_duplicates"


def _pair(m: SamePatient, n_images: dict[str, int]) -> dict[str, Any]:
    row = {k: v for k, v in vars(m).items() if k != "reasons"}
    return {**row, "reasons": list(m.reasons), "images_a": n_images[m.case_a],
            "images_b": n_images[m.case_b]}  # fmt: skip


def run(root: Path | None) -> dict[str, Any]:
    folder = medpix_folder(root)
    raw = {s: load_medpix(s, root=folder, clean=False, check_cases=False) for s in
           available_splits(folder)}  # fmt: skip
    frames = {s: d.frame for s, d in raw.items()}
    prints = {s: np.stack([image_fingerprint(d.image(i)) for i in range(len(d))])
              for s, d in raw.items()}  # fmt: skip
    n_images = {str(c): int(n) for d in raw.values() for c, n in
                d.frame["case_id"].value_counts().items()}  # fmt: skip
    patients = medpix_patients(folder)
    weak = [m for m in find_same_patients(frames, prints, folder, min_signals=1)
            if m not in patients.matches]  # fmt: skip
    cross = {s: {t: float((prints[s] @ prints[t].T).max()) for t in raw if t != s} for s in raw}
    clean = {s: load_medpix(s, root=folder) for s in ("train", "val", "dev")}
    return {
        "rule": {
            "age_tolerance_years": AGE_TOLERANCE,
            "diagnosis_overlap": DIAGNOSIS_OVERLAP,
            "history_jaccard": HISTORY_SIMILARITY,
            "image_correlation": IMAGE_CORRELATION,
            "near_duplicate": NEAR_DUPLICATE,
            "val_fraction": patients.val_fraction,
            "val_seed": patients.seed,
        },
        "file_splits": {
            s: {"images": len(d), "cases": int(d.frame["case_id"].nunique())}
            for s, d in raw.items()
        },
        "highest_image_correlation_across_splits": cross,
        "same_patient": [_pair(m, n_images) for m in patients.matches],
        "one_signal_candidates": [_pair(m, n_images) for m in weak],
        "moved": {c: list(v) for c, v in patients.moved().items()},
        "clean_splits": {
            s: {
                "images": len(d),
                "cases": int(d.frame["case_id"].nunique()),
                "patient_groups": len({patients.group[c] for c in d.frame["case_id"]}),
            }
            for s, d in clean.items()
        },
    }


def _table(rows: list[dict[str, Any]]) -> list[str]:
    out = ["| case a (split, images) | case b (split, images) | age | sex | diagnosis a / b | "
           "diagnosis overlap | history Jaccard | image correlation | signals |",
           "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        out.append(
            f"| {r['case_a']} ({r['split_a']}, {r['images_a']}) | {r['case_b']} ({r['split_b']}, "
            f"{r['images_b']}) | {r['age_a']:g} / {r['age_b']:g} | {r['sex_a']} / {r['sex_b']} | "
            f"{r['diagnosis_a'][:50]} / {r['diagnosis_b'][:50]} | {r['diagnosis_overlap']:.2f} | "
            f"{r['history_similarity']:.2f} | {r['image_correlation']:.3f} | "
            f"{', '.join(r['reasons'])} |"
        )
    return out


def _moved(moved: dict[str, list[str]]) -> str:
    return ", ".join(f"{c} ({a} -> {b})" for c, (a, b) in moved.items()) or "none"


def render(results: dict[str, Any]) -> str:
    rule = results["rule"]
    lines = [
        "# MedPix 2.0: the same patient in two splits",
        "",
        "Produced by `benchmarks/medpix_duplicates.py`. Every pair of cases (all splits) is "
        "compared on three signals: the overlap coefficient of the diagnosis words "
        f"(>= {rule['diagnosis_overlap']}), the Jaccard similarity of the history words "
        f"(>= {rule['history_jaccard']}) and the highest Pearson correlation of two of their "
        f"images resized to 32 x 32 px (>= {rule['image_correlation']}); age (within "
        f"{rule['age_tolerance_years']:g} year) and sex must be compatible. Two signals, or one "
        f"near-duplicate image (>= {rule['near_duplicate']}) whatever the metadata, make one "
        "patient. The patient's cases form one group; a group in more than one split moves "
        "to train; then each train group joins val with probability "
        f"{rule['val_fraction']:.0%} (a draw fixed by its first case id and seed "
        f"{rule['val_seed']}). Choose everything on val; score dev once.",
        "",
        "## Same patient (the rule merges them)",
        "",
        *_table(results["same_patient"]),
        "",
        f"Moved to train: {_moved(results['moved'])}.",
        "",
        "## Splits",
        "",
        "| split | files: images | files: cases | clean: images | clean: cases "
        "| clean: patient groups |",
        "|---|---|---|---|---|---|",
    ]  # fmt: skip
    files, clean = results["file_splits"], results["clean_splits"]
    for s in ("train", "val", "dev"):
        f = files.get(s, {"images": "-", "cases": "-"})
        c = clean[s]
        lines.append(f"| {s} | {f['images']} | {f['cases']} | {c['images']} | {c['cases']} | "
                     f"{c['patient_groups']} |")  # fmt: skip
    cross = results["highest_image_correlation_across_splits"]
    lines += [
        "",
        "Highest image correlation between the file splits: "
        + ", ".join(f"{a} vs {b} {v:.3f}" for a, d in cross.items() for b, v in d.items() if a < b)
        + " (after the rule no pair across clean splits reaches "
        f"{rule['near_duplicate']}; `tests/data/test_medpix_patients.py` checks it).",
        "",
        "## One signal only (kept apart)",
        "",
        "Compatible age and sex and one signal: mostly a common diagnosis in another patient. "
        "Listed so that a reader can check; the rule does not merge them.",
        "",
        *_table(results["one_signal_candidates"]),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", type=Path, help="folder holding medpix2-256/")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--render-only", action="store_true", help="rewrite the .md from .json")
    args = parser.parse_args(argv)
    if args.render_only:
        results = json.loads((args.out / f"{NAME}.json").read_text())
    else:
        results = {"machine": machine_info(()), **run(args.data_root)}
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / f"{NAME}.json").write_text(dumps(results, indent=2) + "\n")
    (args.out / f"{NAME}.md").write_text(render(results))
    return results


if __name__ == "__main__":
    main()
