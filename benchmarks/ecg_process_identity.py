"""``ecg_process`` before and after a change: the same outputs, and the CPU time of each.

Issue 17 made the per-record analysis cheaper on the promise that no output changes.
This script runs two source trees (``--before``: a git revision, exported with ``git
archive``, by default where this branch left ``main``; after: this checkout's ``src``)
on one fixed set of records, each in its own Python process, and compares every field
of ``summary()``, ``beats_frame()``, the quality table, the R peaks, the cleaned signal
and the warnings: exactly (floats equal, NaN equal to NaN). The set: a generated corpus
(``make_ecg_corpus(seed=0)``: 12 leads, 500 Hz, 10 s, with corrupt and pathological
files, read as the batch path reads them), 5-minute excerpts of MIT-BIH 100, 203 and
208 and the first PTB-XL records (when ``MEDMODAL_DATA`` has them), and two simulated
records (250 Hz, and 2 kHz for the resampled path). It also times each tree's
``ecg_process`` (process CPU time, the records run ``--repeats`` times in turn, best of
the repeats per record), so the ratio holds on a machine shared with other jobs.

Writes ``results/ecg_process_identity.md`` and ``.json``.

Usage::

    python benchmarks/ecg_process_identity.py [--before REV] [--n 30] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import _machine  # benchmarks/ is the script's folder, first on sys.path
from _trees import ROOT, export, git

RESULTS = Path(__file__).resolve().parent / "results"


def cases(corpus: Path, n: int) -> list[tuple[str, Path, float | None]]:
    """(name, record path, seconds kept or None) of every record of the set."""
    out: list[tuple[str, Path, float | None]] = [
        (p.stem, p, None) for p in sorted(corpus.glob("*.hea"))[:n]
    ]
    data = Path(os.environ.get("MEDMODAL_DATA", "/nonexistent"))
    for rec in ("100", "203", "208"):
        path = data / "mitdb" / f"{rec}.hea"
        if path.is_file():
            out.append((f"mitdb{rec}", path, 300.0))
    ptbxl = sorted((data / "ptbxl-500").rglob("*.hea"))[:8] if (data / "ptbxl-500").is_dir() else []
    out += [(f"ptbxl{p.stem}", p, None) for p in ptbxl]
    return out


def dump(corpus: Path, n: int, repeats: int, out: Path) -> None:
    """Runs in the tree under test: every output and the best CPU time per record."""
    from medmodal.ecg import ecg_process, ecg_simulate
    from medmodal.io import read_record

    inputs: dict[str, Any] = {}
    for name, path, seconds in cases(corpus, n):
        try:
            record = read_record(path)
        except Exception as exc:  # a corrupt file: its error must stay the same
            inputs[name] = f"{type(exc).__name__}: {exc}"
            continue
        if seconds is not None:
            keep = int(seconds * record.sampling_rate)
            record = replace(record, signal=record.signal[:keep], annotations=None)
        inputs[name] = (record.signal, record.sampling_rate, record.lead_names, record.meta)
    for rate, seed in ((250.0, 2), (2000.0, 1)):
        inputs[f"simulated{rate:g}"] = (
            ecg_simulate(20, rate, n_leads=3, seed=seed),
            rate,
            None,
            {},
        )
    results: dict[str, Any] = {}
    best: dict[str, float] = {}
    for _ in range(repeats):
        for name, given in inputs.items():
            if isinstance(given, str):
                results[name] = {"error": given}
                continue
            signal, rate, leads, meta = given
            began = time.process_time()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    result = ecg_process(signal, rate, lead_names=leads, metadata=meta)
                except Exception as exc:
                    results[name] = {"error": f"{type(exc).__name__}: {exc}"}
                    continue
            best[name] = min(best.get(name, math.inf), time.process_time() - began)
            results[name] = {
                "summary": result.summary(),
                "beats": result.beats_frame(),
                "quality": result.quality.to_frame(),
                "peaks": result.peaks,
                "cleaned": result.cleaned,
                "warnings": sorted({str(w.message) for w in caught}),
            }
    out.write_bytes(pickle.dumps({"results": results, "cpu_s": best}))


def differences(before: Any, after: Any, where: str = "") -> list[str]:
    """Every place where ``after`` differs from ``before`` (exact; NaN equals NaN)."""
    if isinstance(before, dict) and isinstance(after, dict):
        if set(before) != set(after):
            return [f"{where}: keys {sorted(set(before) ^ set(after))}"]
        return [d for k in before for d in differences(before[k], after[k], f"{where}.{k}")]
    if isinstance(before, (list, tuple)) and isinstance(after, (list, tuple)):
        if len(before) != len(after):
            return [f"{where}: length {len(before)} -> {len(after)}"]
        pairs = enumerate(zip(before, after, strict=True))
        return [d for i, (a, b) in pairs for d in differences(a, b, f"{where}[{i}]")]
    if isinstance(before, pd.DataFrame):
        try:
            pd.testing.assert_frame_equal(before, after, check_exact=True)
        except AssertionError as exc:
            return [f"{where}: {str(exc).splitlines()[0]}"]
        return []
    if isinstance(before, np.ndarray):
        same = (
            isinstance(after, np.ndarray)
            and before.shape == after.shape
            and before.dtype == after.dtype
            and np.array_equal(before, after, equal_nan=before.dtype.kind == "f")
        )
        return [] if same else [f"{where}: arrays differ"]
    if isinstance(before, float) and isinstance(after, float):
        same = before == after or (math.isnan(before) and math.isnan(after))
        return [] if same else [f"{where}: {before!r} -> {after!r}"]
    return [] if before == after else [f"{where}: {before!r} -> {after!r}"]


def run_tree(src: Path, corpus: Path, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(src), OMP_NUM_THREADS="1")
    command = [sys.executable, __file__, "--dump", str(out), "--corpus", str(corpus)]
    command += ["--n", str(args.n), "--repeats", str(args.repeats)]
    subprocess.run(command, env=env, check=True)
    return pickle.loads(out.read_bytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--before", default=None, help="git revision (default: where HEAD left main)"
    )
    parser.add_argument("--n", type=int, default=30, help="generated corpus records")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--name", default="ecg_process_identity")
    parser.add_argument("--dump", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.dump is not None:
        dump(args.corpus, args.n, args.repeats, args.dump)
        return
    from medmodal.data.ecg_corpus import make_ecg_corpus

    if args.before is None:  # the branch's starting point: only its own changes compared
        args.before = git("merge-base", "HEAD", "main")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        corpus = work / "corpus"
        table = make_ecg_corpus(corpus, args.n, seed=0, corrupt=2, pathological=2)
        revision = git("rev-parse", "--short", args.before)
        before_src = export(args.before, work / "before")
        before = run_tree(before_src, corpus, args, work / "before.pkl")
        after = run_tree(ROOT / "src", corpus, args, work / "after.pkl")
    found = {
        name: differences(result, after["results"].get(name), name)
        for name, result in before["results"].items()
    }
    timed = sorted(set(before["cpu_s"]) & set(after["cpu_s"]))
    cpu_before = sum(before["cpu_s"][k] for k in timed)
    cpu_after = sum(after["cpu_s"][k] for k in timed)
    corpus_names = [k for k in timed if k.startswith("ecg")]
    payload = {
        "before": {"rev": args.before, "commit": revision},
        "n_records": len(found),
        "kinds": table["kind"].value_counts().to_dict(),
        "n_errors_both": sum(1 for r in before["results"].values() if "error" in r),
        "differences": {k: v for k, v in found.items() if v},
        "cpu_s_before": cpu_before,
        "cpu_s_after": cpu_after,
        "speedup": cpu_before / cpu_after if cpu_after else None,
        "corpus_ms_per_record_before": 1000
        * sum(before["cpu_s"][k] for k in corpus_names)
        / max(len(corpus_names), 1),
        "corpus_ms_per_record_after": 1000
        * sum(after["cpu_s"][k] for k in corpus_names)
        / max(len(corpus_names), 1),
        "per_record_cpu_s": {k: [before["cpu_s"][k], after["cpu_s"][k]] for k in timed},
        "repeats": args.repeats,
        "machine": _machine.machine_info(("numpy", "scipy", "pandas")),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(payload, indent=1, default=str) + "\n")
    (RESULTS / f"{args.name}.md").write_text(render(payload))
    print(render(payload))


def render(p: dict[str, Any]) -> str:
    n_diff = len(p["differences"])
    lines = [
        "# `ecg_process` before and after: the same outputs, less CPU",
        "",
        f"Generated by `benchmarks/ecg_process_identity.py`: {p['n_records']} records "
        f"(generated corpus {p['kinds']}, MIT-BIH and PTB-XL records where present, two "
        f"simulated), {p['n_errors_both']} of which fail to read or analyse (the error "
        f"compared). Before: `{p['before']['rev']}` ({p['before']['commit']}); after: this "
        "checkout.",
        "",
        f"- Records whose outputs differ in any field (summary, beats, quality table, R "
        f"peaks, cleaned signal, warnings; exact): **{n_diff}**",
        f"- `ecg_process` CPU time over the set (best of {p['repeats']} per record): "
        f"{p['cpu_s_before']:.2f} s before, {p['cpu_s_after']:.2f} s after: "
        f"**{p['speedup']:.2f}x**",
        f"- Generated 12-lead 500 Hz 10 s records: {p['corpus_ms_per_record_before']:.0f} ms "
        f"-> {p['corpus_ms_per_record_after']:.0f} ms of CPU per record",
        "",
    ]
    for name, found in p["differences"].items():
        lines.append(f"- {name}: {'; '.join(found[:5])}")
    lines += ["## Machine", "", "```", json.dumps(p["machine"], indent=1), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
