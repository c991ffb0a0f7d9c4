"""QRS detection benchmark: all 48 MIT-BIH records, lead 0, whole record (issue 2, section 4).

Runs medmodal's detectors and the peers (NeuroKit2 default and Pan-Tompkins, wfdb's XQRS)
in one run, scores every detection beat by beat (EC57, ``medmodal.metrics.qrs``), times
each method single-threaded (native thread pools limited to one thread), the methods
taking turns call by call, repeats the default detector on records resampled to other
rates, and writes ``results/ecg_qrs.md`` and ``results/ecg_qrs.json``.

Usage::

    python benchmarks/ecg_qrs.py                       # everything, all 48 records
    python benchmarks/ecg_qrs.py --records 100,105 --no-peers --jobs 2

Accuracy runs use joblib over records (``--jobs``); timings never run in parallel.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from scipy.signal import resample_poly

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _machine
import _qrs_report
from _peers import neurokit, xqrs
from _tuning_log import kept_section
from medmodal.data.mitdb import RECORDS, load_record
from medmodal.ecg.peaks import ecg_peaks
from medmodal.metrics.qrs import QRSScore, match_beats, reference_beats

RESULTS = Path(__file__).resolve().parent / "results"
RATES = (128, 250, 500, 1000)
Method = Callable[[np.ndarray, float], np.ndarray]


@dataclass(frozen=True)
class Entry:
    """One method under test: what is timed is exactly ``run(signal, fs)``."""

    name: str
    run: Method
    timed: str
    ours: bool = False


def _clean() -> Callable[[np.ndarray, float], np.ndarray] | None:
    try:
        from medmodal.ecg.clean import ecg_clean
    except ImportError:
        return None
    return ecg_clean


def methods(with_peers: bool) -> list[Entry]:
    """Our detectors (alone and after ``ecg_clean`` when it exists), then the peers."""
    out = [
        Entry("medmodal default", lambda x, fs: ecg_peaks(x, fs), "ecg_peaks", True),
        Entry(
            "medmodal pantompkins1985",
            lambda x, fs: ecg_peaks(x, fs, method="pantompkins1985"),
            "ecg_peaks(method='pantompkins1985')",
            True,
        ),
    ]
    clean = _clean()
    if clean is not None:
        out += [
            Entry(
                "medmodal clean + default",
                lambda x, fs: ecg_peaks(clean(x, fs), fs),
                "ecg_clean + ecg_peaks",
                True,
            ),
            Entry(
                "medmodal clean + pantompkins1985",
                lambda x, fs: ecg_peaks(clean(x, fs), fs, method="pantompkins1985"),
                "ecg_clean + ecg_peaks(method='pantompkins1985')",
                True,
            ),
        ]
    if with_peers:
        out += [
            Entry("neurokit2 default", neurokit("neurokit"), "nk.ecg_clean + nk.ecg_peaks"),
            Entry(
                "neurokit2 pantompkins1985",
                neurokit("pantompkins1985"),
                "nk.ecg_clean + nk.ecg_peaks (method='pantompkins1985')",
            ),
            Entry("wfdb XQRS", xqrs, "XQRS(sig, fs).detect(verbose=False)"),
        ]
    return out


def load(record: str) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """Lead 0 of ``record``, its rate, its reference beats and VF episodes."""
    rec = load_record(record)
    ann = rec.annotations
    if ann is None:
        raise SystemExit(f"record {record} has no reference annotations")
    beats, vf = reference_beats(ann.sample, ann.symbol)
    return np.ascontiguousarray(rec.signal[:, 0]), rec.sampling_rate, beats, vf


def score_record(record: str, entries: list[Entry]) -> dict[str, dict[str, QRSScore]]:
    """Every method's detections on ``record``, scored with and without VF exclusion."""
    x, fs, beats, vf = load(record)
    out: dict[str, dict[str, QRSScore]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for entry in entries:
            peaks = entry.run(x, fs)
            out[entry.name] = {
                "ec57": match_beats(beats, peaks, fs, exclude=vf, record=record),
                "all": match_beats(beats, peaks, fs, record=record),
            }
    return out


def _one_thread() -> contextlib.AbstractContextManager[object]:
    """Native thread pools (BLAS, OpenMP) limited to one thread while timing.

    Every method is then single-threaded; medmodal's block filters use BLAS matrix
    products, which would otherwise take the second core of a two-core machine.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def time_methods(
    entries: list[Entry], records: list[str], repeat: int
) -> dict[str, dict[str, float]]:
    """Seconds per record for every method: best of ``repeat`` (once when over 1 s).

    Methods take turns call by call on each record (round robin), so a change in the
    machine's speed during the run (other load, memory state) hits every method alike.
    """
    times: dict[str, dict[str, float]] = {entry.name: {} for entry in entries}
    with warnings.catch_warnings(), _one_thread():
        warnings.simplefilter("ignore")
        for record in records:
            x, fs, _, _ = load(record)
            best = {entry.name: float("inf") for entry in entries}
            for attempt in range(repeat):
                for entry in entries:
                    if attempt and best[entry.name] > 1.0:
                        continue  # slow methods are timed once
                    start = time.perf_counter()
                    entry.run(x, fs)
                    best[entry.name] = min(best[entry.name], time.perf_counter() - start)
            for name, value in best.items():
                times[name][record] = value
    return times


def resampled_scores(record: str, rates: tuple[int, ...]) -> dict[int, QRSScore]:
    """The default detector on ``record`` resampled (resample_poly) to each rate."""
    x, fs, beats, vf = load(record)
    out: dict[int, QRSScore] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for rate in rates:
            ratio = Fraction(rate) / Fraction(round(fs))
            y = resample_poly(x, ratio.numerator, ratio.denominator)
            to_new = float(rate) / fs
            new_beats = np.round(beats * to_new).astype(np.int64)
            new_vf = np.round(vf.astype(float).clip(max=2**52) * to_new).astype(np.int64)
            peaks = ecg_peaks(y, rate)
            out[rate] = match_beats(new_beats, peaks, rate, exclude=new_vf, record=record)
    return out


def time_ecg_process(records: list[str]) -> dict[str, object]:
    """Hook: ``medmodal.ecg.process.ecg_process`` vs ``neurokit2.ecg_process``."""
    try:
        from medmodal.ecg.process import ecg_process
    except ImportError as exc:
        return {"skipped": f"medmodal.ecg.process.ecg_process is not importable ({exc})"}
    import neurokit2 as nk

    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for record in records:
            x, fs, _, _ = load(record)
            t0 = time.perf_counter()
            ecg_process(x, fs)
            ours = time.perf_counter() - t0
            t0 = time.perf_counter()
            nk.ecg_process(x, sampling_rate=fs)
            theirs = time.perf_counter() - t0
            rows.append({"record": record, "medmodal_s": ours, "neurokit2_s": theirs})
    ours_med = float(np.median([r["medmodal_s"] for r in rows]))
    theirs_med = float(np.median([r["neurokit2_s"] for r in rows]))
    return {
        "per_record": rows,
        "medmodal_median_s": ours_med,
        "neurokit2_median_s": theirs_med,
        "speedup": theirs_med / ours_med,
    }


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", default="all", help="comma-separated ids, or 'all'")
    parser.add_argument("--jobs", type=int, default=1, help="parallel jobs for accuracy runs")
    parser.add_argument("--repeat", type=int, default=3, help="timing: best of N calls")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for .md and .json")
    parser.add_argument("--no-peers", action="store_true", help="only medmodal's detectors")
    parser.add_argument("--data-root", type=Path, help="folder holding mitdb/ (or MEDMODAL_DATA)")
    parser.add_argument("--no-timing", action="store_true", help="skip the timing pass")
    parser.add_argument("--no-resample", action="store_true", help="skip the rate experiment")
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="rewrite the .md from the existing .json (e.g. after editing the tuning log)",
    )
    parser.add_argument(
        "--process-records",
        default="100,203,232",
        help="records for the ecg_process timing hook ('' to skip)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, object]:
    args = _parse(argv)
    if args.data_root is not None:
        os.environ["MEDMODAL_DATA"] = str(args.data_root)  # read by the loaders (and workers)
    if args.render_only:
        json_path, md_path = args.out / "ecg_qrs.json", args.out / "ecg_qrs.md"
        result = json.loads(json_path.read_text())
        result["bars"] = _qrs_report.bars(
            result["methods"], result["resampling"], result["ecg_process"]
        )
        json_path.write_text(json.dumps(result, indent=1, default=str) + "\n")
        md_path.write_text(_qrs_report.markdown(result, kept_section(md_path)))
        print(_qrs_report.summary(result))
        return result
    records = list(RECORDS) if args.records == "all" else args.records.split(",")
    entries = methods(with_peers=not args.no_peers)
    info = _machine.machine_info(("neurokit2", "wfdb", "joblib", "medmodal"))
    print(f"{len(records)} records, {len(entries)} methods, jobs={args.jobs}", flush=True)
    scored = Parallel(n_jobs=args.jobs)(delayed(score_record)(r, entries) for r in records)
    timings = {}
    if not args.no_timing:
        print("timing (methods take turns on each record) ...", flush=True)
        timings = time_methods(entries, records, args.repeat)
    resampled = []
    if not args.no_resample:
        print("resampling experiment ...", flush=True)
        resampled = Parallel(n_jobs=args.jobs)(delayed(resampled_scores)(r, RATES) for r in records)
    process = (
        time_ecg_process(args.process_records.split(","))
        if args.process_records
        else {"skipped": "disabled with --process-records ''"}
    )
    info["load_average_at_end"] = _machine.load_average()
    result = _qrs_report.assemble(
        info, vars(args) | {"records": records}, entries, scored, timings, resampled, process
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ecg_qrs.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    md_path = args.out / "ecg_qrs.md"
    log = kept_section(md_path)
    md_path.write_text(_qrs_report.markdown(result, log))
    print(_qrs_report.summary(result))
    return result


if __name__ == "__main__":
    main()
