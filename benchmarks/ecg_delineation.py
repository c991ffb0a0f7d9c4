"""Delineation benchmark on the QT database: ours vs NeuroKit2 dwt vs ecgpuwave (issue 11).

Every method delineates the 53 shared QT database records (250 Hz, two leads) with its
own R peaks; beats are matched to cardiologist 1's marks (``.q1c``) within 150 ms and
every fiducial (P onset/peak/offset, QRS onset/offset, T peak/offset) is scored: Se and
mean +- SD of method - annotation (``medmodal.metrics.delineation``). Conventions:

* ``lead0``: each method on lead 0 alone (the issue's table);
* ``best_per_beat``: lead 0 and lead 1 delineated separately, per beat and fiducial the
  closer lead (Martínez et al. 2004);
* ``best_lead_per_record``: the lead closer in more beats of the record, then alone;
* ``both_leads``: one set of marks from both leads together (our ``leads="all"`` and
  ecgpuwave's ``.pu``).

A mark more than 150 ms from the annotation counts as a miss, as in the issue's table
(``lead0_every_error`` keeps every error, for comparison).

Methods: medmodal (``ecg_clean(powerline="auto")`` per lead, ``ecg_peaks``,
``ecg_delineate``); NeuroKit2 (``nk.ecg_clean``, ``nk.ecg_peaks``,
``nk.ecg_delineate(method="dwt")``); ecgpuwave (the ``.pu0``/``.pu1``/``.pu`` files).

The records are split ONCE, before any tuning, into a tuning half (``TUNING``: every
other record of the folder's RECORDS list, starting with the first) and a check half
(the rest); the delineator was tuned on the tuning half only. Results are written for
both halves and all 53 records to ``results/ecg_delineation.md`` / ``.json``, and our
lead-0 and both-leads numbers with the peers' to
``src/medmodal/ecg/delineation_validation.json`` (read by the QT gate). NeuroKit2's marks
are cached outside the repository (``--cache``).

Usage::

    python benchmarks/ecg_delineation.py                  # everything, 53 records
    python benchmarks/ecg_delineation.py --subset tuning --no-summary --jobs 2
"""

from __future__ import annotations

import argparse
import datetime as _dt
import inspect
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from joblib import Parallel, delayed

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _delineation_report as report
import _machine
from _tuning_log import kept_section
from medmodal.data import qtdb
from medmodal.ecg.clean import ecg_clean
from medmodal.ecg.delineate import DELINEATORS, ecg_delineate
from medmodal.ecg.peaks import ecg_peaks
from medmodal.metrics.delineation import FIDUCIALS, TOLERANCE, pool, score_delineation

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SUMMARY = HERE.parent / "src" / "medmodal" / "ecg" / "delineation_validation.json"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "medmodal-bench"
ANNOTATOR = "q1c"
Points = dict[str, np.ndarray]
NK_KEYS = {
    "p_onset": "ECG_P_Onsets",
    "p_peak": "ECG_P_Peaks",
    "p_offset": "ECG_P_Offsets",
    "qrs_onset": "ECG_R_Onsets",
    "qrs_offset": "ECG_R_Offsets",
    "t_peak": "ECG_T_Peaks",
    "t_offset": "ECG_T_Offsets",
}
#: convention -> (lead rule, the lead outputs it scores, tolerance in s). A mark more
#: than 150 ms from the annotation counts as a miss (as in the issue's table);
#: ``lead0_every_error`` keeps every error.
CONVENTIONS = {
    "lead0": ("single", ("lead0",), TOLERANCE),
    "best_per_beat": ("best_per_beat", ("lead0", "lead1"), TOLERANCE),
    "best_lead_per_record": ("best_lead_per_record", ("lead0", "lead1"), TOLERANCE),
    "both_leads": ("single", ("both",), TOLERANCE),
    "lead0_every_error": ("single", ("lead0",), None),
}


def split(records: tuple[str, ...]) -> dict[str, list[str]]:
    """The fixed tuning / check split: alternate records of the RECORDS list."""
    return {"tuning": list(records[0::2]), "check": list(records[1::2])}


def _multilead() -> bool:
    return "leads" in inspect.signature(ecg_delineate).parameters


def ours(signal: np.ndarray, fs: float) -> dict[str, Points]:
    """medmodal on lead 0, lead 1 and (when ``ecg_delineate`` takes ``leads=``) both."""
    cleaned = ecg_clean(signal, fs, powerline="auto")
    out = {}
    for lead in (0, 1):
        x = np.ascontiguousarray(cleaned[:, lead])
        d = ecg_delineate(x, fs, peaks=ecg_peaks(x, fs))
        out[f"lead{lead}"] = {k: np.asarray(v) for k, v in d.to_frame().items()}
    if _multilead():
        d = ecg_delineate(cleaned, fs, peaks=ecg_peaks(cleaned, fs), leads="all")
        out["both"] = {k: np.asarray(v) for k, v in d.to_frame().items()}
    return out


def neurokit(x: np.ndarray, fs: float) -> Points:
    """NeuroKit2's own cleaning, R peaks and dwt delineation of one lead."""
    import neurokit2 as nk

    cleaned = nk.ecg_clean(x, sampling_rate=fs)
    _, info = nk.ecg_peaks(cleaned, sampling_rate=fs)
    r = np.asarray(info["ECG_R_Peaks"], dtype=np.int64)
    _, waves = nk.ecg_delineate(cleaned, r, sampling_rate=fs, method="dwt")
    out: Points = {"r_peak": r}
    for name, key in NK_KEYS.items():
        out[name] = np.asarray(waves[key], dtype=np.float64)
    return out


def _neurokit_cached(record: str, signal: np.ndarray, fs: float, cache: Path | None) -> dict:
    from _machine import package_version

    path = None
    if cache is not None:
        path = cache / f"ecg_delineation_nk{package_version('neurokit2')}_{record}.npz"
        if path.is_file():
            with np.load(path) as data:
                return {
                    lead: {k.split("/", 1)[1]: data[k] for k in data.files if k.startswith(lead)}
                    for lead in ("lead0", "lead1")
                }
    out = {f"lead{k}": neurokit(np.ascontiguousarray(signal[:, k]), fs) for k in (0, 1)}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **{f"{lead}/{k}": v for lead, pts in out.items() for k, v in pts.items()})
    return out


def ecgpuwave(record: str) -> dict[str, Points]:
    """ecgpuwave's marks: lead 0 (``.pu0``), lead 1 (``.pu1``), both leads (``.pu``)."""
    files = {"lead0": "pu0", "lead1": "pu1", "both": "pu"}
    return {lead: qtdb.load_fiducials(record, ext).points() for lead, ext in files.items()}


def score_record(record: str, peers: bool, cache: Path | None) -> dict[str, Any]:
    """Every method's marks on ``record``, scored under every convention."""
    rec = qtdb.load_record(record)
    reference = qtdb.load_fiducials(record, ANNOTATOR).points()
    fs = rec.sampling_rate
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        methods = {"medmodal": ours(np.asarray(rec.signal), fs)}
        if peers:
            methods["neurokit2_dwt"] = _neurokit_cached(record, np.asarray(rec.signal), fs, cache)
            methods["ecgpuwave"] = ecgpuwave(record)
    scores: dict[str, Any] = {}
    for convention, (rule, leads, tolerance) in CONVENTIONS.items():
        for method, outputs in methods.items():
            if all(lead in outputs for lead in leads):
                detected = [outputs[lead] for lead in leads]
                scores.setdefault(convention, {})[method] = score_delineation(
                    reference, detected, fs, convention=rule, tolerance=tolerance, record=record
                )
    return scores


def timing(records: list[str]) -> dict[str, Any]:
    """Seconds per record, lead 0: delineation alone and clean + peaks + delineation."""
    import neurokit2 as nk

    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for record in records:
            x = np.ascontiguousarray(qtdb.load_record(record).signal[:, 0])
            fs = qtdb.SAMPLING_RATE
            t0 = time.perf_counter()
            cleaned = ecg_clean(x, fs, powerline="auto")
            peaks = ecg_peaks(cleaned, fs)
            t1 = time.perf_counter()
            ecg_delineate(cleaned, fs, peaks=peaks)
            t2 = time.perf_counter()
            nk_clean = nk.ecg_clean(x, sampling_rate=fs)
            _, info = nk.ecg_peaks(nk_clean, sampling_rate=fs)
            t3 = time.perf_counter()
            nk.ecg_delineate(nk_clean, info["ECG_R_Peaks"], sampling_rate=fs, method="dwt")
            t4 = time.perf_counter()
            rows.append(
                {
                    "record": record,
                    "medmodal_delineate_s": t2 - t1,
                    "medmodal_total_s": t2 - t0,
                    "neurokit2_delineate_s": t4 - t3,
                    "neurokit2_total_s": t4 - t2,
                }
            )
    med = {k: float(np.median([r[k] for r in rows])) for k in rows[0] if k != "record"}
    return {
        "per_record": rows,
        "median_s": med,
        "speedup_delineate": med["neurokit2_delineate_s"] / med["medmodal_delineate_s"],
        "speedup_total": med["neurokit2_total_s"] / med["medmodal_total_s"],
    }


def _pooled(scored: list[dict], records: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    chosen = [s for s in scored if s["record"] in records]
    for convention in CONVENTIONS:
        methods = {m for s in chosen for m in s["scores"].get(convention, {})}
        for method in sorted(methods):
            p = pool(s["scores"][convention][method] for s in chosen)
            out.setdefault(convention, {})[method] = {
                "n_records": len(chosen),
                "n_annotated_beats": p.n_annotated,
                "beat_se_pct": p.beat_se_pct,
                "fiducials": p.summary(),
            }
    return out


def _per_record(scored: list[dict]) -> dict[str, Any]:
    """Lead-0 mean / SD / n per record and method (to see where errors come from)."""
    out: dict[str, Any] = {}
    for s in scored:
        for method, score in s["scores"]["lead0"].items():
            out.setdefault(s["record"], {})[method] = {
                fid: [v["mean_ms"], v["sd_ms"], v["n"]] for fid, v in score.summary().items()
            }
    return out


#: Conventions shipped in the package's validation file, with their peers (those
#: measured under the same convention) and how the leads were used.
SHIPPED = {
    "lead0": (("neurokit2_dwt", "ecgpuwave"), "lead 0 alone, each method with its own R peaks"),
    "both_leads": (
        ("ecgpuwave",),
        "both leads delineated together (medmodal ecg_delineate(leads='all'), ecgpuwave .pu)",
    ),
}


def summary_file(result: dict[str, Any]) -> dict[str, Any]:
    """The package's validation summary (schema read by the QT gate).

    The top-level ``fiducials`` / ``peers`` are the lead-0 figures (the file's first
    schema); ``conventions`` holds every shipped convention with its own peers.
    """
    pooled = result["results"]["all"]
    conventions = {}
    for name, (peers, description) in SHIPPED.items():
        figures = pooled[name]
        conventions[name] = {
            "description": description,
            "fiducials": _summary_values(
                {fid: figures["medmodal"]["fiducials"][fid] for fid in FIDUCIALS}
            ),
            "peers": {
                peer: {
                    "fiducials": _summary_values(
                        {fid: figures[peer]["fiducials"][fid] for fid in FIDUCIALS}
                    )
                }
                for peer in peers
            },
        }
    return {
        "source": "benchmarks/ecg_delineation.py",
        "generated": _dt.date.today().isoformat(),
        "database": "QT database, 53 development records, annotator 1 (q1c)",
        "convention": "lead0",
        "method": result["method"],
        "fiducials": conventions["lead0"]["fiducials"],
        "peers": conventions["lead0"]["peers"],
        "conventions": conventions,
    }


def _summary_values(fiducials: dict[str, dict]) -> dict[str, Any]:
    def clean(v: dict) -> dict | None:
        if v["se_pct"] is None:
            return None
        return {k: (round(x, 2) if isinstance(x, float) else x) for k, x in v.items()}

    return {fid: clean(v) for fid, v in fiducials.items()}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subset", choices=("all", "tuning", "check"), default="all")
    parser.add_argument("--records", default="", help="comma-separated names (overrides)")
    parser.add_argument("--jobs", type=int, default=1, help="parallel jobs over records")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for .md and .json")
    parser.add_argument("--no-peers", action="store_true", help="only medmodal")
    parser.add_argument("--no-summary", action="store_true", help="leave the package file")
    parser.add_argument("--cache", type=Path, default=CACHE, help="NeuroKit2 marks cache")
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--timing-records", type=int, default=8, help="0 to skip timing")
    parser.add_argument("--data-root", type=Path, help="folder holding qtdb/")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = _parse(argv)
    if args.data_root is not None:
        os.environ["MEDMODAL_DATA"] = str(args.data_root)
    everything = qtdb.list_records()
    halves = split(everything)
    records = halves.get(args.subset, list(everything))
    if args.records:
        records = args.records.split(",")
    cache = None if args.no_cache else args.cache
    info = _machine.machine_info(("neurokit2", "wfdb", "joblib", "medmodal"))
    print(f"{len(records)} records, jobs={args.jobs}", flush=True)
    raw = Parallel(n_jobs=args.jobs)(
        delayed(score_record)(r, not args.no_peers, cache) for r in records
    )
    scored = [{"record": r, "scores": s} for r, s in zip(records, raw, strict=True)]
    subsets = {"all": records} | {
        name: [r for r in half if r in records] for name, half in halves.items()
    }
    result: dict[str, Any] = {
        "machine": info,
        "config": {k: str(v) for k, v in vars(args).items()},
        "annotator": ANNOTATOR,
        "method": DELINEATORS.resolve("default"),
        "split": halves,
        "results": {name: _pooled(scored, rs) for name, rs in subsets.items() if rs},
        "per_record_lead0": _per_record(scored),
    }
    if args.timing_records and not args.no_peers:
        print("timing (lead 0, one call at a time) ...", flush=True)
        result["timing"] = timing(records[: args.timing_records])
    result["machine"]["load_average_at_end"] = _machine.load_average()
    result["bars"] = report.bars(result)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ecg_delineation.json").write_text(json.dumps(result, indent=1) + "\n")
    md = args.out / "ecg_delineation.md"
    md.write_text(report.markdown(result, kept_section(md)))
    complete = len(records) == len(everything) and not args.no_peers
    if complete and not args.no_summary:
        SUMMARY.write_text(json.dumps(summary_file(result), indent=1) + "\n")
    print(report.console(result))
    return result


if __name__ == "__main__":
    main()
