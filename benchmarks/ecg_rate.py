"""Mean heart rate on all 48 MIT-BIH records against the annotated beats (issue 11, item 1).

A clinician reads the mean heart rate first. It must be beats per minute over the
analysed time. For each record this script compares, on the same data:

- the reference: annotated beats per minute, ``60 x (beats - 1) / time from the first
  to the last annotated beat`` (every beat label of the ``.atr`` file);
- medmodal: ``ecg_process(...).summary()["heart_rate"]["mean_bpm"]`` (what
  ``ecg analyze``, the API and the report print), with its beat-to-beat range over the NN
  intervals and, in atrial fibrillation, the AF intervals (issue 14), the intervals it
  flags and those inside AF episodes (flag ``af``), next to the annotated beat-to-beat
  range;
- the mean of the per-beat rates 60/RR over the same detected R peaks (what
  ``ecg analyze`` printed before issue 11: it overweights short intervals);
- NeuroKit2: the mean of ``nk.ecg_process``'s ``ECG_Rate`` (its per-sample heart rate),
  and the highest beat-to-beat rate of its own R peaks.

Writes ``results/ecg_rate.md`` and ``results/ecg_rate.json``.

Usage::

    python benchmarks/ecg_rate.py [--records 100,203] [--jobs 2] [--no-peers]
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from joblib import Parallel, delayed

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _machine
from medmodal.data.mitdb import RECORDS, load_record
from medmodal.ecg.process import ecg_process
from medmodal.errors import MedmodalWarning

RESULTS = Path(__file__).resolve().parent / "results"
#: The issue's bar: the reported mean within this many bpm of the annotated rate.
TOLERANCE_BPM = 1.0


def score_record(rid: str, peers: bool) -> dict[str, Any]:
    """Reference, medmodal, per-beat mean and NeuroKit2 rates of one record (lead 0 peers)."""
    record = load_record(rid)
    fs = record.sampling_rate
    assert record.annotations is not None
    beats = record.annotations.beats().sample
    reference = 60.0 * (beats.size - 1) * fs / (beats[-1] - beats[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MedmodalWarning)
        result = ecg_process(
            record.signal,
            fs,
            lead_names=record.lead_names,
            metadata=record.meta,
            delineate=False,
        )
    rate = result.summary()["heart_rate"]
    per_beat = 60.0 * fs / np.diff(result.peaks)
    row: dict[str, Any] = {
        "record": rid,
        "reference_bpm": reference,
        "medmodal_mean_bpm": rate["mean_bpm"],
        "medmodal_min_bpm": rate["min_bpm"],
        "medmodal_max_bpm": rate["max_bpm"],
        "flagged": rate["flagged"],
        "n_af": rate["n_af"],
        "min_max_over": rate["min_max_over"],
        "reference_min_bpm": float(60.0 * fs / np.diff(beats).max()),
        "reference_max_bpm": float(60.0 * fs / np.diff(beats).min()),
        "n_intervals": rate["n_intervals"],
        "per_beat_mean_bpm": float(per_beat.mean()),
        "per_beat_max_bpm": float(per_beat.max()),
    }
    if peers:
        row.update(_neurokit(record.signal[:, 0], fs))
    return row


def _neurokit(x: np.ndarray, fs: float) -> dict[str, float]:
    import neurokit2 as nk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        signals, info = nk.ecg_process(x, sampling_rate=fs)
    peaks = np.asarray(info["ECG_R_Peaks"], dtype=np.int64)
    return {
        "neurokit2_mean_bpm": float(np.nanmean(signals["ECG_Rate"])),
        "neurokit2_max_bpm": float((60.0 * fs / np.diff(peaks)).max()),
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """How many records each method puts within the tolerance, and the errors."""
    ref = np.array([r["reference_bpm"] for r in rows])
    out: dict[str, Any] = {"n_records": len(rows), "tolerance_bpm": TOLERANCE_BPM}
    for key in ("medmodal_mean_bpm", "per_beat_mean_bpm", "neurokit2_mean_bpm"):
        if key not in rows[0]:
            continue
        err = np.array([r[key] for r in rows]) - ref
        out[key] = {
            "within_tolerance": int((np.abs(err) <= TOLERANCE_BPM).sum()),
            "median_abs_error_bpm": float(np.median(np.abs(err))),
            "max_abs_error_bpm": float(np.abs(err).max()),
            "worst_record": rows[int(np.argmax(np.abs(err)))]["record"],
        }
    for key in ("medmodal_max_bpm", "per_beat_max_bpm", "neurokit2_max_bpm"):
        if key in rows[0]:
            out[f"{key}_over_300"] = sum(r[key] > 300 for r in rows)
    return out


def render(payload: dict[str, Any]) -> str:
    """The Markdown results file."""
    rows, summary = payload["rows"], payload["summary"]
    peers = "neurokit2_mean_bpm" in rows[0]
    names = [("medmodal_mean_bpm", "medmodal (beats per minute)")]
    names.append(("per_beat_mean_bpm", "mean of per-beat 60/RR, same peaks (before issue 11)"))
    if peers:
        names.append(("neurokit2_mean_bpm", "NeuroKit2 mean of ECG_Rate"))
    lines = [
        "# Mean heart rate on MIT-BIH against the annotated beats",
        "",
        "Generated by `benchmarks/ecg_rate.py` (its docstring defines every column).",
        "",
        f"**Machine:** {_machine.describe(payload['machine'])}",
        "",
        f"**Bar (issue 11, item 1):** reported mean within {TOLERANCE_BPM:g} bpm of the "
        "annotated beats per minute; no reported beat-to-beat rate above 300 bpm. The R-peak "
        "detector was developed on these records, so the counts are in-sample for it.",
        "",
        "| method | records within 1 bpm | median abs. error bpm | max abs. error bpm "
        "(record) | records with a max rate > 300 bpm |",
        "|---|---|---|---|---|",
    ]
    max_keys = {
        "medmodal_mean_bpm": "medmodal_max_bpm_over_300",
        "per_beat_mean_bpm": "per_beat_max_bpm_over_300",
        "neurokit2_mean_bpm": "neurokit2_max_bpm_over_300",
    }
    for key, label in names:
        s = summary[key]
        lines.append(
            f"| {label} | {s['within_tolerance']} of {summary['n_records']} | "
            f"{s['median_abs_error_bpm']:.2f} | {s['max_abs_error_bpm']:.2f} "
            f"({s['worst_record']}) | {summary[max_keys[key]]} |"
        )
    lines += [
        "",
        "medmodal's max rate is over its NN intervals and, inside atrial-fibrillation "
        "episodes, its AF intervals (flagged intervals left out); the other two are over "
        "every detected interval. Annotated range: beat-to-beat over the annotated beats.",
        "",
        "## Per record (bpm)",
        "",
        "| record | annotated | annotated range | medmodal mean | medmodal range (NN + AF) | "
        "flagged: too short / too long / ectopic or artefact | in AF | per-beat mean (max) |"
        + (" NeuroKit2 mean (max) |" if peers else ""),
        "|---|---|---|---|---|---|---|---|" + ("---|" if peers else ""),
    ]
    for r in rows:
        f = r["flagged"]
        line = (
            f"| {r['record']} | {r['reference_bpm']:.2f} | "
            f"{r['reference_min_bpm']:.0f}-{r['reference_max_bpm']:.0f} | "
            f"{r['medmodal_mean_bpm']:.2f} | "
            f"{r['medmodal_min_bpm']:.0f}-{r['medmodal_max_bpm']:.0f} | "
            f"{f['too_short']} / {f['too_long']} / {f['ectopic_or_artefact']} of "
            f"{r['n_intervals']} | {r['n_af']} | "
            f"{r['per_beat_mean_bpm']:.2f} ({r['per_beat_max_bpm']:.0f}) |"
        )
        if peers:
            line += f" {r['neurokit2_mean_bpm']:.2f} ({r['neurokit2_max_bpm']:.0f}) |"
        lines.append(line)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="all", help="comma-separated ids, or 'all'")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-peers", action="store_true", help="medmodal only")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    records = list(RECORDS) if args.records == "all" else args.records.split(",")
    machine = _machine.machine_info(("neurokit2", "wfdb", "medmodal"))
    rows = Parallel(n_jobs=args.jobs)(delayed(score_record)(r, not args.no_peers) for r in records)
    payload = {"machine": machine, "rows": rows, "summary": summarise(rows)}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ecg_rate.json").write_text(json.dumps(payload, indent=1) + "\n")
    (args.out / "ecg_rate.md").write_text(render(payload))
    print(json.dumps(payload["summary"], indent=1))
    return payload


if __name__ == "__main__":
    main()
