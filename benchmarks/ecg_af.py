"""Atrial fibrillation on MIT-BIH: ours against COSEn (Lake & Moorman 2011), EC57 statistics.

Reference AF: the ``(AFIB`` rhythm episodes of the 48 records' ``.atr`` aux notes
(``(AFL`` flutter is not counted as AF). Every detector runs on the same R peaks, twice:
the reference beat positions (``.atr``) and our own detector's peaks
(``medmodal.ecg.ecg_peaks`` on both leads). Variants:

- ``ours``: ``ecg_af(method="irregularity", signal=record)`` (RR + P-wave absence);
- ``ours_rr_only``: the same without the signal (RR intervals only);
- ``cosen``: ``ecg_af(method="cosen")``, the published peer (RR only, threshold -1.4).

Split, fixed before any tuning: AF records 201, 202 (same patient) and 210 plus every
other record without AF in sorted order form the DEVELOPMENT half on which our
thresholds were chosen (``medmodal/ecg/_af/irregularity.py``); AF records 203, 219,
221, 222 and the remaining records without AF form the CHECK half. The held-out
databases of the issue are not available and nothing was tuned to its numbers.

Statistics (``medmodal.metrics.af``): gross episode Se/+P and duration Se/+P over the
records of a split, false AF time (% of recording time) over its records without AF.
Goals (issue 14): duration Se and +P >= 95 % and ahead of the peer; < 1 % false AF time.

Run: ``python benchmarks/ecg_af.py [--out DIR]`` (about 2 min on one core).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

import _machine
from medmodal.data import mitdb
from medmodal.ecg import ecg_af, ecg_peaks
from medmodal.jsonsafe import json_safe
from medmodal.metrics.af import AFScores, af_scores

RESULTS = Path(__file__).parent / "results"
AF_RECORDS = ("201", "202", "203", "210", "219", "221", "222")
DEV_AF = ("201", "202", "210")
NON_AF = tuple(r for r in mitdb.RECORDS if r not in AF_RECORDS)
DEV = DEV_AF + NON_AF[0::2]
VARIANTS: dict[str, dict[str, Any]] = {
    "ours": {"method": "irregularity", "signal": True},
    "ours_rr_only": {"method": "irregularity", "signal": False},
    "cosen": {"method": "cosen", "signal": False},
}
PEAK_SOURCES = ("reference", "detected")
GOAL_DURATION = 0.95
GOAL_FALSE_AF_PCT = 1.0


def record_rows(rid: str) -> list[dict[str, Any]]:
    """Scores of every variant on both peak sources for one record."""
    rec = mitdb.load_record(rid)
    fs, n = rec.sampling_rate, rec.n_samples
    assert rec.annotations is not None
    ref = [
        (s / fs, e / fs)
        for r, s, e in mitdb.rhythm_episodes(rec.annotations, n_samples=n)
        if r == "AFIB"
    ]
    peaks = {"reference": rec.annotations.beats().sample, "detected": ecg_peaks(rec.signal, fs)}
    rows = []
    for source, pk in peaks.items():
        pk = np.unique(pk[(pk >= 0) & (pk < n)])
        for name, spec in VARIANTS.items():
            res = ecg_af(
                pk, fs, method=spec["method"], signal=rec.signal if spec["signal"] else None,
                n_samples=n,
            )  # fmt: skip
            det = list(zip(res.episode_start_s, res.episode_end_s, strict=True))
            scores = af_scores(ref, det, duration_s=n / fs)
            rows.append(
                {
                    "record": rid,
                    "split": "dev" if rid in DEV else "check",
                    "has_af": rid in AF_RECORDS,
                    "peaks": source,
                    "variant": name,
                    **scores.__dict__,
                }
            )
    return rows


def pooled(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Gross statistics per split x peak source x variant."""
    keys = list(AFScores.__dataclass_fields__)
    out: dict[str, Any] = {}
    for split in ("dev", "check", "all"):
        for source in PEAK_SOURCES:
            for name in VARIANTS:
                sel = [
                    r for r in rows
                    if r["peaks"] == source and r["variant"] == name
                    and (split == "all" or r["split"] == split)
                ]  # fmt: skip
                total = AFScores(*(sum(r[k] for r in sel) for k in keys))
                no_af = [r for r in sel if not r["has_af"]]
                clean = AFScores(*(sum(r[k] for r in no_af) for k in keys))
                stats = {k: v for k, v in total.summary().items() if k != "false_af_pct"}
                stats["false_af_pct_no_af_records"] = clean.false_af_pct
                stats["n_records"] = len(sel)
                stats["n_records_no_af"] = len(no_af)
                out[f"{split}/{source}/{name}"] = stats
    return out


def goals(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's goals on all 48 records, per peak source, marked met or missed."""
    out = []
    for source in PEAK_SOURCES:
        ours, peer = summary[f"all/{source}/ours"], summary[f"all/{source}/cosen"]
        for key in ("duration_se", "duration_ppv"):
            out.append(
                {
                    "goal": f"{key} >= 95 % and ahead of COSEn ({source} peaks)",
                    "ours": ours[key],
                    "peer": peer[key],
                    "met": bool(ours[key] >= GOAL_DURATION and ours[key] > peer[key]),
                }
            )
        value = ours["false_af_pct_no_af_records"]
        out.append(
            {
                "goal": f"false AF time < 1 % on the 41 records without AF ({source} peaks)",
                "ours": value,
                "peer": peer["false_af_pct_no_af_records"],
                "met": bool(value < GOAL_FALSE_AF_PCT),
            }
        )
    return out


def _pct(x: float) -> str:
    return "n/a" if x != x else f"{100 * x:.1f}"


def render(payload: dict[str, Any]) -> str:
    """The Markdown results file."""
    s = payload["summary"]
    lines = [
        "# Atrial fibrillation on MIT-BIH: ours and COSEn, EC57 statistics",
        "",
        "Generated by `benchmarks/ecg_af.py` (its docstring defines the split, the variants "
        "and the statistics).",
        "",
        f"**Machine:** {_machine.describe(payload['machine'])} "
        f"Run time {payload['seconds']:.0f} s.",
        "",
        f"**Development half** (thresholds of ours chosen here): {', '.join(DEV)}.  ",
        f"**Check half** (not looked at while tuning): "
        f"{', '.join(r for r in mitdb.RECORDS if r not in DEV)}.",
        "Reference AF = `(AFIB` episodes (flutter `(AFL` not counted).",
        "",
        "## Goals (issue 14), all 48 records",
        "",
        "| goal | ours | COSEn | met? |",
        "|---|---|---|---|",
    ]
    for g in payload["goals"]:
        fmt = (lambda v: f"{v:.2f} %") if "false" in g["goal"] else (lambda v: f"{_pct(v)} %")
        lines.append(
            f"| {g['goal']} | {fmt(g['ours'])} | {fmt(g['peer'])} | "
            f"{'met' if g['met'] else 'missed'} |"
        )
    lines += [
        "",
        "## Pooled (gross) statistics",
        "",
        "| split | peaks | variant | episode Se % | episode +P % | duration Se % | "
        "duration +P % | false AF time % (records without AF) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, v in s.items():
        split, source, name = key.split("/")
        lines.append(
            f"| {split} ({v['n_records']}) | {source} | {name} | {_pct(v['episode_se'])} | "
            f"{_pct(v['episode_ppv'])} | {_pct(v['duration_se'])} | "
            f"{_pct(v['duration_ppv'])} | {v['false_af_pct_no_af_records']:.2f} |"
        )
    lines += ["", "## Per record (reference peaks; AF seconds: reference / detected / both)", ""]
    lines += ["| record | split | ours | ours RR only | COSEn |", "|---|---|---|---|---|"]
    by = {(r["record"], r["variant"]): r for r in payload["rows"] if r["peaks"] == "reference"}
    for rid in dict.fromkeys(r["record"] for r in payload["rows"]):
        cells = [
            f"{by[rid, n]['reference_s']:.0f} / {by[rid, n]['detected_s']:.0f} / "
            f"{by[rid, n]['overlap_s']:.0f}"
            for n in VARIANTS
        ]
        split = "dev" if rid in DEV else "check"
        lines.append(f"| {rid} | {split} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--records", nargs="*", default=list(mitdb.RECORDS))
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for rid in args.records:
            rows += record_rows(rid)
            print(rid, flush=True)
    summary = pooled(rows)
    payload = {
        "machine": _machine.machine_info(("medmodal", "wfdb")),
        "seconds": time.perf_counter() - start,
        "split": {"dev": list(DEV), "check": [r for r in mitdb.RECORDS if r not in DEV]},
        "summary": summary,
        "goals": goals(summary),
        "rows": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ecg_af.json").write_text(json.dumps(json_safe(payload), indent=1) + "\n")
    (args.out / "ecg_af.md").write_text(render(payload))
    print(json.dumps(json_safe(payload["goals"]), indent=1))
    return payload


if __name__ == "__main__":
    main()
