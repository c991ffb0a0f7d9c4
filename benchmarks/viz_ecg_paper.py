"""Render time of the ECG-paper figures (build + PNG at 150 dpi), median of repeats.

Figures: the 12-lead page (10 s, 12 leads at 500 Hz, simulated; and PTB-XL 00001 at
100 Hz when the shared data is there), the 60 s rhythm strip (360 Hz), the overview of
a 30-minute MIT-BIH record (100 when the shared data is there, else simulated), and the
15 s overview the service draws. For scale, one 10 s single-lead axes with the grid as
matplotlib ticks (0.04 s / 0.1 mV minor, 0.2 s / 0.5 mV major: what ``viz.ecg`` did
before, reproduced here) against the same axes with the grid as two line collections
(what ``plot_peaks`` does now).

Usage::

    python benchmarks/viz_ecg_paper.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MultipleLocator

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info
from medmodal.data.paths import data_root
from medmodal.ecg.process import ecg_process
from medmodal.ecg.simulate import ecg_simulate
from medmodal.io import read_record
from medmodal.viz.ecg import plot_overview, plot_peaks, plot_rhythm_strip
from medmodal.viz.ecg_12lead import STANDARD_LEADS, plot_12lead

RESULTS = Path(__file__).resolve().parent / "results"
NAME = "viz_ecg_paper"
DPI = 150


def _render(build: Callable[[], Figure]) -> float:
    start = time.perf_counter()
    build().savefig(io.BytesIO(), format="png", dpi=DPI)
    return time.perf_counter() - start


def _median(build: Callable[[], Figure], repeats: int) -> float:
    _render(build)  # warm-up (fonts, caches)
    return statistics.median(_render(build) for _ in range(repeats))


def _tick_grid(x: np.ndarray, fs: float) -> Figure:
    """The grid as ticks, as ``viz.ecg._ecg_paper`` drew it before this change."""
    fig = Figure(figsize=(13, 3.4), layout="constrained")
    ax = fig.subplots()
    ax.plot(np.arange(x.size) / fs, x, color="black", lw=0.8)
    ax.xaxis.set_major_locator(MultipleLocator(0.2))
    ax.xaxis.set_minor_locator(MultipleLocator(0.04))
    ax.yaxis.set_major_locator(MultipleLocator(0.5))
    ax.yaxis.set_minor_locator(MultipleLocator(0.1))
    ax.grid(which="major", color="#f4a6a6", lw=0.7)
    ax.grid(which="minor", color="#fbdcdc", lw=0.4)
    return fig


def _records(root: Path | None) -> dict[str, Any]:
    twelve = np.stack([(0.2 + 0.1 * k) * ecg_simulate(10, 500, seed=k) for k in range(12)], 1)
    cases: dict[str, Any] = {"twelve_500": twelve}
    ptb = None if root is None else root / "ptbxl-500/records100/00000/00001_lr.hea"
    cases["ptbxl"] = read_record(ptb) if ptb is not None and ptb.exists() else None
    mit = None if root is None else root / "mitdb/100.hea"
    if mit is not None and mit.with_suffix(".dat").exists():
        rec = read_record(mit)
        cases["long"] = ("mitdb 100 (30 min, 2 leads, 360 Hz)", rec.signal, rec.lead_names)
    else:
        cases["long"] = (
            "simulated (30 min, 1 lead, 360 Hz)",
            ecg_simulate(1800, 360, seed=0),
            None,
        )
    return cases


def run(repeats: int) -> dict[str, Any]:
    root = data_root()
    cases = _records(root if root.exists() else None)
    label, signal, names = cases["long"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = ecg_process(signal, 360, lead_names=names)
    lead = result.cleaned[:, result.peak_lead]
    names12 = list(STANDARD_LEADS)
    builds: dict[str, Callable[[], Figure]] = {
        "12-lead page, 10 s, 500 Hz (simulated)": lambda: plot_12lead(
            cases["twelve_500"], 500, lead_names=names12
        ),
        "60 s rhythm strip, 360 Hz": lambda: plot_rhythm_strip(
            lead, 360, result.peaks, rhythm=result.rhythm, quality=result.quality,
            hrv=result.hrv, duration=60,
        ),
        f"overview, {label}": lambda: plot_overview(result),
        "overview, 15 s trace (service)": lambda: plot_overview(result, seconds=15.0),
        "10 s axes, grid as ticks (before)": lambda: _tick_grid(lead[: 10 * 360], 360),
        "10 s axes, grid as line collections (now)": lambda: plot_peaks(lead, 360, result.peaks),
    }  # fmt: skip
    ptb = cases["ptbxl"]
    if ptb is not None:
        builds["12-lead page, PTB-XL 00001 (100 Hz)"] = lambda: plot_12lead(
            ptb.signal, ptb.sampling_rate, lead_names=ptb.lead_names, units=ptb.units
        )
    rows = [{"figure": k, "median_s": _median(b, repeats)} for k, b in builds.items()]
    times = {r["figure"]: r["median_s"] for r in rows}
    ratio = (
        times["10 s axes, grid as ticks (before)"]
        / times["10 s axes, grid as line collections (now)"]
    )
    return {"rows": rows, "tick_over_collection": ratio}


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    load = m["load_average_1_5_15"]
    load = "n/a" if load is None else ", ".join(f"{v:.1f}" for v in load)
    lines = [
        "# ECG-paper figures: render time",
        "",
        f"Build + PNG at {DPI} dpi, median of {results['settings']['repeats']} runs after a "
        f"warm-up; {m['cpu']}, {m['usable_cores']} usable cores, load average {load} "
        f"(shared machine), {m['date_utc']}. Produced by `benchmarks/viz_ecg_paper.py`.",
        "",
        "| figure | median (s) |",
        "|---|---|",
        *(f"| {r['figure']} | {r['median_s']:.3f} |" for r in results["rows"]),
        "",
        f"Grid as ticks / grid as line collections, same 10 s axes: "
        f"{results['tick_over_collection']:.1f}x.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"settings": {"repeats": args.repeats, "dpi": DPI}}
    results["machine"] = machine_info(("matplotlib",))
    results |= run(args.repeats)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{NAME}.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / f"{NAME}.md").write_text(render(results))
    return results


if __name__ == "__main__":
    main()
