"""Analysis time against sampling rate: ``ecg_process`` with and without the analysis rate.

Issue 13 asks that analysis work grow with duration, not with duration x rate^2.
``ecg_process`` analyses records above :data:`medmodal.ecg.resample.ANALYSIS_RATE`
(1 kHz) on a polyphase-resampled copy and maps every index back. This script measures,
on the same data in one run:

- the first ``--seconds`` of MIT-BIH 100 (360 Hz, both leads), and the same excerpt
  upsampled with ``scipy.signal.resample_poly`` to 2, 4, 10 and 20 kHz;
- ``ecg_process`` as shipped (resampled analysis above 1 kHz) and with the analysis run
  at the caller's rate (the behaviour before the analysis rate existed: the plan is
  patched to "no resampling" inside this process only);
- wall time (best of ``--repeats``) and R-peak Se/+P against the reference annotations
  (150 ms, ``metrics.qrs.match_beats``) for both.

Writes ``results/ecg_resample.md`` and ``results/ecg_resample.json``.

Usage::

    python benchmarks/ecg_resample.py [--seconds 60] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
from scipy.signal import resample_poly

import _machine  # benchmarks/ is the script's folder, first on sys.path
from medmodal.data.mitdb import load_record
from medmodal.ecg import process as ecg_process_module
from medmodal.ecg.resample import ANALYSIS_RATE, AnalysisPlan
from medmodal.errors import MedmodalWarning
from medmodal.metrics.qrs import match_beats

RESULTS = Path(__file__).resolve().parent / "results"
RATES = (360, 2000, 4000, 10_000, 20_000)


def _timed(signal: np.ndarray, rate: float, repeats: int, native: bool) -> tuple[float, Any]:
    """Best wall time of ``repeats`` calls and the last result."""
    patch = (
        mock.patch.object(ecg_process_module, "analysis_plan", lambda r: AnalysisPlan(float(r)))
        if native
        else mock.patch.object(
            ecg_process_module, "analysis_plan", ecg_process_module.analysis_plan
        )
    )
    best, result = np.inf, None
    with patch, warnings.catch_warnings():
        warnings.simplefilter("ignore", MedmodalWarning)
        for _ in range(repeats):
            start = time.perf_counter()
            result = ecg_process_module.ecg_process(signal, rate, delineate=True)
            best = min(best, time.perf_counter() - start)
    return best, result


def run(seconds: float, repeats: int) -> dict[str, Any]:
    record = load_record("100")
    fs = record.sampling_rate
    n = int(seconds * fs)
    base = record.signal[:n]
    assert record.annotations is not None
    beats = record.annotations.beats().sample
    beats = beats[beats < n]
    rows = []
    for rate in RATES:
        signal = base if rate == fs else resample_poly(base, rate, int(fs), axis=0)
        reference = np.round(beats * rate / fs).astype(np.int64)
        row: dict[str, Any] = {"rate_hz": rate, "samples": int(signal.shape[0])}
        for name, native in (("shipped", False), ("native", True)):
            seconds_taken, result = _timed(signal, float(rate), repeats, native)
            score = match_beats(reference, result.peaks, float(rate))
            row[name] = {
                "seconds": seconds_taken,
                "analysis_rate_hz": float(result.analysis_rate),
                "tp": score.tp,
                "fn": score.fn,
                "fp": score.fp,
                "mean_bpm": float(result.summary()["heart_rate"]["mean_bpm"]),
            }
        row["speedup"] = row["native"]["seconds"] / row["shipped"]["seconds"]
        rows.append(row)
        print(f"{rate} Hz: shipped {row['shipped']['seconds']:.2f} s, native "
              f"{row['native']['seconds']:.2f} s, x{row['speedup']:.1f}")  # fmt: skip
    return {
        "machine": _machine.machine_info(),
        "settings": {"record": "100", "seconds": seconds, "repeats": repeats},
        "analysis_rate_hz": ANALYSIS_RATE,
        "rows": rows,
    }


def render(results: dict[str, Any]) -> str:
    s = results["settings"]
    lines = [
        "# Analysis time against sampling rate (`benchmarks/ecg_resample.py`)",
        "",
        f"MIT-BIH {s['record']}, first {s['seconds']:g} s, both leads, upsampled with "
        "`resample_poly`; `ecg_process(..., delineate=True)` as shipped (records above "
        f"{results['analysis_rate_hz']:g} Hz analysed on a resampled copy, indices mapped "
        "back) against the analysis at the caller's rate (the previous behaviour). Best of "
        f"{s['repeats']} runs; R peaks scored against the reference annotations (150 ms).",
        "",
        f"**Machine:** {_machine.describe(results['machine'])}",
        "",
        "| rate (Hz) | analysed at (Hz) | time, shipped / native | native / shipped | "
        "R peaks TP/FN/FP shipped | native | mean HR shipped / native |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        a, b = r["shipped"], r["native"]
        lines.append(
            f"| {r['rate_hz']} | {a['analysis_rate_hz']:g} | {a['seconds']:.2f} s / "
            f"{b['seconds']:.2f} s | {r['speedup']:.1f}x | {a['tp']}/{a['fn']}/{a['fp']} | "
            f"{b['tp']}/{b['fn']}/{b['fp']} | {a['mean_bpm']:.2f} / {b['mean_bpm']:.2f} |"
        )
    first, last = results["rows"][0], results["rows"][-1]
    growth_shipped = last["shipped"]["seconds"] / first["shipped"]["seconds"]
    growth_native = last["native"]["seconds"] / first["native"]["seconds"]
    ratio = last["rate_hz"] / first["rate_hz"]
    lines += [
        "",
        f"From {first['rate_hz']} Hz to {last['rate_hz']} Hz ({ratio:.0f}x the samples) the "
        f"shipped analysis takes {growth_shipped:.1f}x the time, the analysis at the "
        f"caller's rate {growth_native:.1f}x.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results = run(args.seconds, args.repeats)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ecg_resample.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "ecg_resample.md").write_text(render(results))


if __name__ == "__main__":
    main()
