"""Assemble and render the QRS benchmark results (used by ``ecg_qrs.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import _machine
from _tuning_log import log_lines
from medmodal.metrics.qrs import QRSScore, pool

DEFAULT = "medmodal default"
PIPELINE = "medmodal clean + default"
NK_DEFAULT = "neurokit2 default"
BARS = {"f1": 99.80, "se": 99.70, "ppv": 99.70, "speed_ratio": 3.0, "rate_delta": 0.30}


def _pct(score: QRSScore) -> dict[str, Any]:
    row = score.as_dict()
    for key in ("se", "ppv", "f1", "der"):
        row[key] = 100.0 * float(row[key])
    return row


def _method_result(name: str, timed: str, scored: list[Any], times: dict[str, float]) -> dict:
    ec57 = [r[name]["ec57"] for r in scored]
    plain = [r[name]["all"] for r in scored]
    rows = []
    for a, b in zip(ec57, plain, strict=True):
        row = _pct(a) | {"fp_without_vf_exclusion": b.fp}
        row["time_s"] = times.get(a.record)
        rows.append(row)
    return {
        "timed": timed,
        "pooled": _pct(pool(ec57)),
        "pooled_without_vf_exclusion": _pct(pool(plain)),
        "median_time_s": float(np.median(list(times.values()))) if times else None,
        "per_record": rows,
    }


def assemble(
    info: dict,
    config: dict,
    entries: list,
    scored: list,
    timings: dict,
    resampled: list,
    process: dict,
) -> dict[str, Any]:
    """Everything the run measured, as plain JSON-ready data, bars included."""
    methods = {
        e.name: _method_result(e.name, e.timed, scored, timings.get(e.name, {})) for e in entries
    }
    rates: dict[str, Any] = {}
    if resampled:
        base = methods[DEFAULT]["pooled"]["f1"]
        rates["360"] = {"f1": base, "delta_points": 0.0}
        for rate in sorted(resampled[0]):
            pooled = _pct(pool(r[rate] for r in resampled))
            rates[str(rate)] = pooled | {"delta_points": pooled["f1"] - base}
    return {
        "machine": info,
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in config.items()},
        "methods": methods,
        "speed": _speed(methods),
        "resampling": rates,
        "ecg_process": process,
        "bars": bars(methods, rates, process),
    }


def _speed(methods: dict) -> dict[str, Any]:
    nk = methods.get(NK_DEFAULT, {}).get("median_time_s")
    out: dict[str, Any] = {"neurokit2_default_median_s": nk}
    for name in (PIPELINE, DEFAULT):
        ours = methods.get(name, {}).get("median_time_s")
        out[f"{name} median_s"] = ours
        out[f"{name} speedup_vs_neurokit2_default"] = nk / ours if nk and ours else None
    return out


def bars(methods: dict, rates: dict, process: dict) -> list[dict[str, Any]]:
    pooled = methods[DEFAULT]["pooled"]
    out = [
        _bar("pooled F1 >= 99.80 % (EC57, VF excluded)", pooled["f1"], pooled["f1"] >= BARS["f1"]),
        _bar("pooled Se >= 99.70 %", pooled["se"], pooled["se"] >= BARS["se"]),
        _bar("pooled +P >= 99.70 %", pooled["ppv"], pooled["ppv"] >= BARS["ppv"]),
    ]
    speed = _speed(methods).get(f"{PIPELINE} speedup_vs_neurokit2_default")
    if speed is not None:
        what = "clean+detect >= 3x faster than NeuroKit2 default (their time / ours)"
        out.append(_bar(what, speed, speed >= 3))
    for rate, row in rates.items():
        if rate != "360":
            ok = abs(row["delta_points"]) <= BARS["rate_delta"]
            out.append(_bar(f"F1 at {rate} Hz within 0.3 points of 360 Hz", row["f1"], ok))
    if "speedup" in process:
        ok = process["speedup"] >= 10
        what = "ecg_process >= 10x faster than neurokit2 (their time / ours)"
        out.append(_bar(what, process["speedup"], ok))
    return out


def _bar(what: str, value: float, met: bool) -> dict[str, Any]:
    return {"bar": what, "measured": value, "met": bool(met)}


def _f(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{1000 * seconds:.0f}"


def pooled_table(result: dict, key: str) -> list[str]:
    """Markdown rows: one per method, pooled over records."""
    nk = result["methods"].get(NK_DEFAULT, {}).get("median_time_s")
    lines = [
        "| method | Se % | +P % | F1 % | DER % | FN | FP | loc. error ms | median time ms "
        "| time / NK default's |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, m in result["methods"].items():
        p, t = m[key], m["median_time_s"]
        ratio = f"{t / nk:.2f}" if t and nk else "n/a"
        lines.append(
            f"| {name} | {_f(p['se'])} | {_f(p['ppv'])} | {_f(p['f1'])} | {_f(p['der'])} "
            f"| {p['fn']} | {p['fp']} | {_f(p['mean_abs_error_ms'], 1)} | {_ms(t)} | {ratio} |"
        )
    return lines


def record_table(method: dict) -> list[str]:
    """Markdown rows: one per record for one method."""
    lines = [
        "| record | beats | TP | FN | FP | FP (no VF excl.) | Se % | +P % | F1 % | err ms | ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in method["per_record"]:
        lines.append(
            f"| {r['record']} | {r['n_reference']} | {r['tp']} | {r['fn']} | {r['fp']} "
            f"| {r['fp_without_vf_exclusion']} | {_f(r['se'], 2)} | {_f(r['ppv'], 2)} "
            f"| {_f(r['f1'], 2)} | {_f(r['mean_abs_error_ms'], 1)} | {_ms(r['time_s'])} |"
        )
    return lines


def _bars_md(result: dict) -> list[str]:
    lines = ["| bar | measured | met |", "|---|---|---|"]
    for b in result["bars"]:
        lines.append(f"| {b['bar']} | {_f(b['measured'], 3)} | {'yes' if b['met'] else 'NO'} |")
    return lines


def _rates_md(result: dict) -> list[str]:
    if not result["resampling"]:
        return ["_(skipped)_"]
    lines = ["| rate Hz | F1 % | Se % | +P % | FN | FP | F1 - F1(360 Hz), points |"]
    lines.append("|---|---|---|---|---|---|---|")
    for rate, r in result["resampling"].items():
        if rate == "360":
            lines.append(f"| 360 | {_f(r['f1'])} | | | | | 0 |")
            continue
        lines.append(
            f"| {rate} | {_f(r['f1'])} | {_f(r['se'])} | {_f(r['ppv'])} | {r['fn']} | {r['fp']} "
            f"| {r['delta_points']:+.3f} |"
        )
    return lines


def _process_md(process: dict) -> list[str]:
    if "skipped" in process:
        return [f"Skipped: {process['skipped']}."]
    return [
        f"Median over records {', '.join(r['record'] for r in process['per_record'])}: "
        f"medmodal {process['medmodal_median_s']:.3f} s, neurokit2 "
        f"{process['neurokit2_median_s']:.3f} s: **{process['speedup']:.1f}x** faster "
        "(single call each, 30-minute record)."
    ]


SCORING = """\
Beat-by-beat matching as ANSI/AAMI EC57 and PhysioNet's `bxb`: a detection matches a
reference beat at most 150 ms away, one to one, nearest pairs first; only beat annotations
(`N L R B A a J S V r F e j n E / f Q ?`) are reference beats. Unlike `bxb`'s default, the
whole record is scored (no 5-minute learning period). **EC57 rows** treat ventricular
flutter/fibrillation as `bxb` does: annotations between `[` and `]` are ignored and a
detection inside such an episode that matches no beat is not a false positive (record 207
has the only episodes, with 472 flutter waves `!`). **No-exclusion rows** count every
detection. Location error: mean |detection - reference| over matched pairs (the reference
marks the R peak or the major deflection). Se = TP/(TP+FN), +P = TP/(TP+FP),
F1 = 2TP/(2TP+FN+FP), DER = (FN+FP)/beats; pooled = gross (beat-summed) statistics."""


def markdown(result: dict, log: str) -> str:
    """The results file: bars, pooled tables, rates, hook, scoring, log, per-record tables."""
    info, cfg = result["machine"], result["config"]
    end_load = info.get("load_average_at_end")
    lines = [
        "# QRS detection on the MIT-BIH Arrhythmia Database (lead 0, whole records)",
        "",
        "Generated by `benchmarks/ecg_qrs.py`; edit only the tuning log (kept across runs).",
        "",
        f"**Machine:** {_machine.describe(info)}"
        + (f" Load average at the end: {end_load[0]:.2f}." if end_load else ""),
        "",
        f"**Records:** {len(cfg['records'])}. **Timing:** one process, one call at a time, "
        "the methods taking turns call by call on each record (so drifts in the machine's "
        f"speed hit all alike), best of {cfg['repeat']} calls per record (one call when it "
        "takes over 1 s), native thread pools (BLAS, OpenMP) limited to one thread, "
        "median over the records of the time for one whole 30-minute 360 Hz record; "
        "records are read before the clock starts. Accuracy runs used joblib with "
        f"`--jobs {cfg['jobs']}`. Timed calls: "
        + "; ".join(f"*{n}*: `{m['timed']}`" for n, m in result["methods"].items())
        + ".",
        "",
        "## Bars (issue 2, section 4)",
        "",
        *_bars_md(result),
        "",
        "## Pooled results, EC57 (VF episodes excluded as by bxb)",
        "",
        *pooled_table(result, "pooled"),
        "",
        "## Pooled results, every detection counted (no VF exclusion)",
        "",
        *pooled_table(result, "pooled_without_vf_exclusion"),
        "",
        "## Other sampling rates (default detector, records resampled with resample_poly)",
        "",
        *_rates_md(result),
        "",
        "## ecg_process vs neurokit2.ecg_process (hook)",
        "",
        *_process_md(result["ecg_process"]),
        "",
        "## How detections are scored",
        "",
        SCORING,
        "",
        *log_lines(log),
        "## Per-record results",
        "",
    ]
    for name, method in result["methods"].items():
        lines += [
            f"<details><summary>{name}</summary>",
            "",
            *record_table(method),
            "",
            "</details>",
        ]
        lines.append("")
    return "\n".join(lines)


def summary(result: dict) -> str:
    """A few console lines: pooled numbers and bars."""
    out = []
    for name, m in result["methods"].items():
        p, t = m["pooled"], m["median_time_s"]
        out.append(
            f"{name:34s} Se {_f(p['se'])} +P {_f(p['ppv'])} F1 {_f(p['f1'])} "
            f"FN {p['fn']:4d} FP {p['fp']:4d} median {_ms(t)} ms"
        )
    out += [
        f"[{'ok' if b['met'] else 'MISSED'}] {b['bar']}: {_f(b['measured'])}"
        for b in result["bars"]
    ]
    return "\n".join(out)
