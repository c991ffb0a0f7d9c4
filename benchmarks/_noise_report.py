"""Assemble and render the noise stress test results (used by ``ecg_noise.py``)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import welch

import _machine
from _tuning_log import log_lines
from medmodal.ecg.noise import NOISE_KINDS

OURS = "medmodal clean + default"
XQRS = "wfdb XQRS"
SNR_ORDER = ("clean", "24", "18", "12", "6", "0", "-6")
#: The held-out NSTDB (118 + 119, em noise, lead 0, from minute 5), pooled EC57 F1 %, as
#: reported in issue 11 for the detector before this work: for information only.
HELD_OUT = {
    "medmodal": {"24": 99.94, "18": 99.72, "12": 95.34, "6": 86.31, "0": 77.77, "-6": 71.70},
    "XQRS": {"24": 99.97, "18": 99.97, "12": 98.13, "6": 89.97, "0": 81.48, "-6": 68.35},
}
BANDS = ((0.5, 5.0), (5.0, 15.0), (15.0, 40.0), (40.0, 180.0))


def _snr_key(snr: float | None) -> str:
    return "clean" if snr is None else f"{snr:g}"


def _f1(c: dict[str, int]) -> float:
    total = 2 * c["tp"] + c["fn"] + c["fp"]
    return 100.0 * 2 * c["tp"] / total if total else float("nan")


def pooled(runs: list[dict]) -> dict[str, Any]:
    """Pooled counts and F1 per (split, group, kind, snr, method), noisy-only too."""
    counts: dict[tuple, dict[str, int]] = defaultdict(lambda: {"tp": 0, "fn": 0, "fp": 0})
    for run in runs:
        s = run["scenario"]
        for method, row in run["methods"].items():
            for part in ("all", "noisy"):
                key = (s["split"], s["group"], s["kind"], _snr_key(s["snr"]), method, part)
                for k in ("tp", "fn", "fp"):
                    counts[key][k] += row[part][k]
    out: dict[str, Any] = {}
    for (split, group, kind, snr, method, part), c in counts.items():
        node = out.setdefault(f"{split}/{group}/{kind}", {}).setdefault(snr, {})
        node.setdefault(method, {})[part] = c | {"f1": _f1(c)}
    return out


def quality(runs: list[dict]) -> dict[str, Any]:
    """Share (%) of scored reference beats in unacceptable windows, by group and SNR."""
    sums: dict[tuple, np.ndarray] = defaultdict(lambda: np.zeros(4))
    for run in runs:
        q = run["methods"].get(OURS, {}).get("quality")
        if q is None:
            continue
        s = run["scenario"]
        key = (s["split"], s["group"], s["kind"], _snr_key(s["snr"]))
        sums[key] += [
            q["beats_noisy"],
            q["unacceptable_noisy"],
            q["beats_clean"],
            q["unacceptable_clean"],
        ]
    out: dict[str, Any] = {}
    for (split, group, kind, snr), (bn, un, bc, uc) in sums.items():
        out.setdefault(f"{split}/{group}/{kind}", {})[snr] = {
            "noisy_segments_pct": 100.0 * un / bn if bn else None,
            "clean_segments_pct": 100.0 * uc / bc if bc else None,
            "beats_noisy": int(bn),
            "beats_clean": int(bc),
        }
    return out


def spectra(recorded: dict[str, np.ndarray], fs: float = 360.0) -> dict[str, dict[str, float]]:
    """Where each noise kind's power lies (30 min, seed 0), and the recorded noise's.

    Shares of the power above 0.5 Hz (the SNR definition removes each second's mean,
    so slower drift does not count), its median frequency, and how bursty it is.
    """
    sources = {
        kind: NOISE_KINDS.get(kind)(round(1800 * fs), fs, np.random.default_rng(0))
        for kind in NOISE_KINDS.names()
    }
    for split, noise in recorded.items():
        sources[f"recorded, {split} (MIT-BIH 105 residual)"] = noise
    out = {}
    for name, x in sources.items():
        f, p = welch(x - x.mean(), fs, nperseg=round(8 * fs))
        above = f >= 0.5
        total = p[above].sum()
        row = {
            f"{lo:g}-{hi:g} Hz": float(p[(f >= lo) & (f < hi)].sum() / total) for lo, hi in BANDS
        }
        row["below 0.5 Hz / above"] = float(p[~above].sum() / total)
        cum = np.cumsum(p[above]) / total
        row["median frequency above 0.5 Hz"] = float(f[above][np.searchsorted(cum, 0.5)])
        w = round(fs)
        blocks = x[: x.size // w * w].reshape(-1, w)
        rms = np.sqrt(np.mean((blocks - blocks.mean(axis=1, keepdims=True)) ** 2, axis=1))
        row["per-second RMS p95 / median"] = float(np.percentile(rms, 95) / np.median(rms))
        row["seconds"] = x.size / fs
        out[name] = row
    return out


def goals(table: dict[str, Any]) -> list[dict[str, Any]]:
    """medmodal (clean + default) F1 >= XQRS's at every SNR, per check group with em noise."""
    out = []
    for key in (
        "check/nstdb-proxy/electrode_motion",
        "check/mitdb-wide/electrode_motion",
        "check/nstdb-proxy/recorded",
        "check/mitdb-wide/recorded",
    ):
        if key not in table:
            continue
        for snr in SNR_ORDER[1:]:
            row = table[key].get(snr, {})
            if OURS in row and XQRS in row:
                ours, theirs = row[OURS]["all"]["f1"], row[XQRS]["all"]["f1"]
                out.append(
                    {
                        "group": key,
                        "snr": snr,
                        "medmodal": ours,
                        "xqrs": theirs,
                        "met": bool(ours >= theirs),
                    }
                )
    return out


def assemble(
    info: dict,
    config: dict,
    runs: list[dict],
    recorded: dict[str, np.ndarray],
    baseline: dict | None,
) -> dict[str, Any]:
    """Everything the run measured, as plain JSON-ready data."""
    table = pooled(runs)
    return {
        "machine": info,
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in config.items()},
        "pooled": table,
        "quality": quality(runs),
        "spectra": spectra(recorded),
        "goals": goals(table),
        "baseline": {"pooled": baseline["pooled"], "date": baseline["machine"]["date_utc"]}
        if baseline
        else None,
        "runs": runs,
    }


RUN_COLUMNS = ("split", "group", "record", "kind", "snr", "seed", "seconds", "method")
COUNT_COLUMNS = ("tp", "fn", "fp", "tp_noisy", "fn_noisy", "fp_noisy")
QUALITY_COLUMNS = ("beats_noisy", "unacceptable_noisy", "beats_clean", "unacceptable_clean")


def tabulate(runs: list[dict]) -> dict[str, Any]:
    """Every scenario's counts as two compact tables (detections; quality shares)."""
    counts, shares = [], []
    for run in runs:
        s = run["scenario"]
        key = [s[c] for c in RUN_COLUMNS[:-1]]
        for method, row in run["methods"].items():
            counts.append(
                [*key, method, *(row[p][k] for p in ("all", "noisy") for k in ("tp", "fn", "fp"))]
            )
            if "quality" in row:
                shares.append([*key, method, *(row["quality"][c] for c in QUALITY_COLUMNS)])
    return {
        "detections": {"columns": [*RUN_COLUMNS, *COUNT_COLUMNS], "rows": counts},
        "quality": {"columns": [*RUN_COLUMNS, *QUALITY_COLUMNS], "rows": shares},
    }


def _fmt(v: float | None, digits: int = 2) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.{digits}f}"


def f1_table(block: dict[str, Any], part: str, base: dict[str, Any] | None) -> list[str]:
    """Rows: SNR; columns: methods' pooled F1 % (and medmodal's baseline when known)."""
    methods = list(next(iter(block.values())).keys())
    head = ["SNR dB", *methods] + (["medmodal clean + default, baseline"] if base else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for snr in SNR_ORDER:
        if snr not in block:
            continue
        cells = [_fmt(block[snr].get(m, {}).get(part, {}).get("f1")) for m in methods]
        if base:
            cells.append(_fmt(base.get(snr, {}).get(OURS, {}).get(part, {}).get("f1")))
        lines.append(f"| {snr} | " + " | ".join(cells) + " |")
    return lines


def _quality_md(result: dict) -> list[str]:
    lines = [
        "| split / group / noise | SNR dB | beats in noisy segments | unacceptable % "
        "| beats in clean segments | unacceptable % |",
        "|---|---|---|---|---|---|",
    ]
    for key, block in result["quality"].items():
        for snr in SNR_ORDER:
            if snr in block:
                q = block[snr]
                lines.append(
                    f"| {key} | {snr} | {q['beats_noisy']} | {_fmt(q['noisy_segments_pct'], 1)} "
                    f"| {q['beats_clean']} | {_fmt(q['clean_segments_pct'], 1)} |"
                )
    return lines


def _spectra_md(result: dict) -> list[str]:
    rows = result["spectra"]
    cols = list(next(iter(rows.values())).keys())
    lines = ["| noise | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for name, row in rows.items():
        lines.append(f"| {name} | " + " | ".join(_fmt(row[c], 2) for c in cols) + " |")
    return lines


def _goals_md(result: dict) -> list[str]:
    lines = ["| group | SNR dB | medmodal F1 % | XQRS F1 % | met |", "|---|---|---|---|---|"]
    for g in result["goals"]:
        lines.append(
            f"| {g['group']} | {g['snr']} | {_fmt(g['medmodal'])} | {_fmt(g['xqrs'])} "
            f"| {'yes' if g['met'] else 'NO'} |"
        )
    return lines


def _held_out_md() -> list[str]:
    lines = ["| SNR dB | " + " | ".join(s for s in SNR_ORDER[1:]) + " |", "|---|" + "---|" * 6]
    for name, row in HELD_OUT.items():
        lines.append(f"| {name} | " + " | ".join(f"{row[s]:.2f}" for s in SNR_ORDER[1:]) + " |")
    return lines


def markdown(result: dict, log: str) -> str:
    """The results file."""
    info = result["machine"]
    end_load = info.get("load_average_at_end")
    base = result.get("baseline")
    lines = [
        "# Noise stress test of R-peak detection (NSTDB protocol, our noise)",
        "",
        "Generated by `benchmarks/ecg_noise.py` (see its docstring for the protocol, the "
        "SNR definition and the dev/check split); edit only the tuning log.",
        "",
        f"**Machine:** {_machine.describe(info)}"
        + (f" Load average at the end: {end_load[0]:.2f}." if end_load else ""),
        "",
        "Scoring: EC57 beat by beat (150 ms, `medmodal.metrics.qrs`), lead 0, from minute 5, "
        "pooled over records and seeds; *noisy only* counts reference beats and detections "
        "inside the noisy segments. F1 % = 2 TP / (2 TP + FN + FP)."
        + (f" Baseline: the detector before this work (run {base['date']})." if base else ""),
        "",
        "## Goal: medmodal (clean + default) F1 >= XQRS at every SNR (check split)",
        "",
        *_goals_md(result),
        "",
        "For information, the held-out NSTDB (issue 11; detector before this work; never "
        "available here):",
        "",
        *_held_out_md(),
        "",
    ]
    for key, block in result["pooled"].items():
        b = base["pooled"].get(key) if base else None
        for part, title in (("all", "from minute 5"), ("noisy", "noisy segments only")):
            lines += [f"## {key}: pooled F1 %, {title}", "", *f1_table(block, part, b), ""]
    lines += [
        "## Signal quality: share of scored reference beats in unacceptable windows",
        "",
        "`ecg_quality` (10 s windows) on the noisy lead with medmodal's beats; beats in the "
        "noisy segments against beats in the clean segments after minute 5.",
        "",
        *_quality_md(result),
        "",
        "## The noise: share of power by band, and how bursty it is",
        "",
        "Shares of the power above 0.5 Hz (Welch, 8 s segments); the per-second RMS ratio "
        "measures how much noisier the noisiest seconds are than the typical one.",
        "",
        *_spectra_md(result),
        "",
        *log_lines(log),
    ]
    return "\n".join(lines)


def summary(result: dict) -> str:
    """A few lines for the console."""
    lines = []
    for g in result["goals"]:
        lines.append(
            f"{g['group']:40s} {g['snr']:>4s} dB  medmodal {g['medmodal']:.2f}  "
            f"XQRS {g['xqrs']:.2f}  {'met' if g['met'] else 'MISSED'}"
        )
    for key, block in result["pooled"].items():
        f1s = " ".join(
            _fmt(block.get(s, {}).get(OURS, {}).get("all", {}).get("f1")) for s in SNR_ORDER
        )
        lines.append(f"{key:40s} {f1s}")
    return "\n".join(lines)
