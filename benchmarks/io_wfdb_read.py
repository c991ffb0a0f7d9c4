"""Reading WFDB records: ``read_record``'s plain-WFDB path beside ``wfdb.rdrecord`` and the
old path, on the same records, with the outputs compared.

``medmodal.io.read_record`` used to parse a WFDB header with ``wfdb.rdheader`` (for its
size checks) and then call ``wfdb.rdrecord``, which parses it again; under pandas 3 each
parse costs about 15 ms on a 12-lead header. Plain records (one ``.dat`` file in format
16 or 212) are now parsed and decoded by medmodal itself. This script times, per record,

- ``read_record`` of this checkout (new),
- ``wfdb.rdrecord(base)`` (the peer: what a user of WFDB-Python calls), in the same process,
- ``read_record`` of the revision this branch started from (old; ``--before``, exported
  with ``git archive`` and run in its own process, which times the peer again),

on ``--n`` generated records (``make_ecg_corpus``: 12 leads, 500 Hz, 10 s, format 16),
the first ``--n-ptbxl`` PTB-XL records (12 leads, 100 Hz, 10 s, format 16) and the first
``--n-mitdb`` MIT-BIH records (2 leads, 360 Hz, 30 min, format 212) when
``MEDMODAL_DATA`` has them (annotations are not read: ``annotation=False``), plus
``ptbxl.load_signals`` of the PTB-XL records (old: its own format-16 reader,
new: ``read_record``). Each record is read ``--repeats`` times in turn; the best process
CPU time per record is kept (CPU time, so that other jobs on the machine distort it
less than wall time), and every new output is compared with the old one (samples
bitwise, rate, lead names, units, name, metadata and its types).

Writes ``results/io_wfdb_read.md`` and ``.json``.

Usage::

    python benchmarks/io_wfdb_read.py [--before REV] [--n 50] [--n-ptbxl 50] [--n-mitdb 5]
        [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import _machine  # benchmarks/ is the script's folder, first on sys.path
from _trees import ROOT, export, git

RESULTS = Path(__file__).resolve().parent / "results"
PEERS = ("read_record", "wfdb.rdrecord")


def _best(fn: Callable[[], object], best: dict[str, float], key: str) -> None:
    began = time.process_time()
    fn()
    best[key] = min(best.get(key, math.inf), time.process_time() - began)


def _output(path: str) -> Any:
    from medmodal.io import read_record

    try:
        rec = read_record(path, annotation=False)
    except Exception as exc:  # the error itself is what is compared
        return f"{type(exc).__name__}: {exc}"
    meta_types = {k: [type(v).__name__, [type(x).__name__ for x in v] if isinstance(v, list)
                      else None] for k, v in rec.meta.items()}  # fmt: skip
    return {
        "signal": rec.signal, "rate": rec.sampling_rate, "lead_names": rec.lead_names,
        "units": rec.units, "name": rec.name, "meta": rec.meta, "meta_types": meta_types,
    }  # fmt: skip


def worker(job: dict[str, Any], out: Path) -> None:
    """Runs in the tree under test: outputs and best CPU time per record and reader."""
    import wfdb

    from medmodal.data import ptbxl
    from medmodal.io import read_record

    paths: list[str] = job["paths"]
    outputs = {p: _output(p) for p in paths}  # also the warm-up (imports, page cache)
    for p in paths:
        wfdb.rdrecord(str(Path(p).with_suffix("")))
    cpu: dict[str, dict[str, float]] = {name: {} for name in PEERS}
    for _ in range(job["repeats"]):
        for p in paths:
            _best(lambda p=p: read_record(p, annotation=False), cpu["read_record"], p)  # type: ignore[misc]
            base = str(Path(p).with_suffix(""))
            _best(lambda b=base: wfdb.rdrecord(b), cpu["wfdb.rdrecord"], p)  # type: ignore[misc]
    load: dict[str, float] = {}
    if job["ptbxl_ids"]:
        ids, root = job["ptbxl_ids"], job["ptbxl_root"]
        batch = ptbxl.load_signals(ids, root=root)
        for _ in range(job["repeats"]):
            _best(lambda: ptbxl.load_signals(ids, root=root), load, "load_signals")
        outputs["load_signals"] = batch
    out.write_bytes(pickle.dumps({"outputs": outputs, "cpu_s": cpu, "load_signals_s": load}))


def differences(before: Any, after: Any) -> list[str]:
    """What differs between two outputs of :func:`_output` (samples bitwise)."""
    if isinstance(before, np.ndarray):
        same = before.dtype == after.dtype and before.tobytes() == after.tobytes()
        return [] if same and before.shape == after.shape else ["samples"]
    if isinstance(before, str) or isinstance(after, str):
        return [] if before == after else [f"{before!r} -> {after!r}"]
    found = [k for k in ("rate", "lead_names", "units", "name", "meta", "meta_types")
             if before[k] != after[k]]  # fmt: skip
    return found + differences(before["signal"], after["signal"])


def run_tree(src: Path, job: dict[str, Any], work: Path, label: str) -> dict[str, Any]:
    (work / f"{label}.json").write_text(json.dumps(job))
    env = dict(os.environ, PYTHONPATH=str(src), OMP_NUM_THREADS="1")
    command = [sys.executable, __file__, "--worker", str(work / f"{label}.json")]
    subprocess.run([*command, "--out", str(work / f"{label}.pkl")], env=env, check=True)
    return pickle.loads((work / f"{label}.pkl").read_bytes())


def _mitdb(n: int) -> list[str]:
    """The first ``n`` MIT-BIH headers (format 212, 2 leads, 360 Hz, 30 min), if present."""
    root = Path(os.environ.get("MEDMODAL_DATA", "/nonexistent")) / "mitdb"
    return [str(p) for p in sorted(root.glob("*.hea"))[:n]]


def _ptbxl(n: int) -> tuple[list[str], list[int], str | None]:
    """The first ``n`` PTB-XL headers, their ecg_ids and the data folder (if present)."""
    root = Path(os.environ.get("MEDMODAL_DATA", "/nonexistent")) / "ptbxl-500"
    if n <= 0 or not (root / "ptbxl_database.csv").is_file():
        return [], [], None
    from medmodal.data import ptbxl

    meta = ptbxl.load_metadata(root=root).sort_index().head(n)
    paths = [str(root / f"{f}.hea") for f in meta["filename_lr"]]
    return paths, [int(i) for i in meta.index], str(root)


def summarise(sets: dict[str, list[str]], after: dict[str, Any], before: dict[str, Any]) -> dict:
    """Per set: median and mean best CPU ms per record of each reader, and the ratios."""
    out: dict[str, Any] = {}
    for label, paths in sets.items():
        if not paths:
            continue
        times = {
            "new": [after["cpu_s"]["read_record"][p] for p in paths],
            "wfdb_peer": [after["cpu_s"]["wfdb.rdrecord"][p] for p in paths],
            "old": [before["cpu_s"]["read_record"][p] for p in paths],
            "wfdb_peer_old_process": [before["cpu_s"]["wfdb.rdrecord"][p] for p in paths],
        }
        row: dict[str, Any] = {"records": len(paths)}
        for key, values in times.items():
            row[f"{key}_ms_median"] = 1000 * statistics.median(values)
            row[f"{key}_ms_mean"] = 1000 * statistics.fmean(values)
        row["wfdb_over_new"] = row["wfdb_peer_ms_median"] / row["new_ms_median"]
        row["old_over_new"] = row["old_ms_median"] / row["new_ms_median"]
        row["old_over_wfdb_same_process"] = (
            row["old_ms_median"] / row["wfdb_peer_old_process_ms_median"]
        )
        out[label] = row
    return out


def _load_signals_row(n: int, before: dict[str, Any], after: dict[str, Any]) -> dict | None:
    if not n:
        return None
    old = before["load_signals_s"]["load_signals"]
    new = after["load_signals_s"]["load_signals"]
    return {
        "records": n,
        "old_ms_per_record": 1000 * old / n,
        "new_ms_per_record": 1000 * new / n,
        "old_over_new": old / new,
    }


def measure(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Both trees on the same records: timings, ratios and differences."""
    from medmodal.data.ecg_corpus import make_ecg_corpus

    table = make_ecg_corpus(work / "corpus", args.n, seed=0, corrupt=0, pathological=0)
    ptbxl_paths, ptbxl_ids, ptbxl_root = _ptbxl(args.n_ptbxl)
    sets = {"generated": list(table["path"]), "ptbxl": ptbxl_paths, "mitdb": _mitdb(args.n_mitdb)}
    job = {
        "paths": [p for paths in sets.values() for p in paths],
        "repeats": args.repeats,
        "ptbxl_ids": ptbxl_ids,
        "ptbxl_root": ptbxl_root,
    }
    after = run_tree(ROOT / "src", job, work, "after")
    before = run_tree(export(args.before, work / "before"), job, work, "before")
    found = {p: differences(before["outputs"][p], after["outputs"][p]) for p in job["paths"]}
    if ptbxl_ids:
        old, new = before["outputs"]["load_signals"], after["outputs"]["load_signals"]
        found["load_signals"] = differences(old, new)
    return {
        "before": {"rev": args.before, "commit": git("rev-parse", "--short", args.before)},
        "after": {
            "commit": git("rev-parse", "--short", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "src")),
        },
        "repeats": args.repeats,
        "sets": summarise(sets, after, before),
        "load_signals": _load_signals_row(len(ptbxl_ids), before, after),
        "n_compared": len(found),
        "differences": {k: v for k, v in found.items() if v},
        "per_record_cpu_s": {"after": after["cpu_s"], "before": before["cpu_s"]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=None, help="git revision (default: merge-base)")
    parser.add_argument("--n", type=int, default=50, help="generated records")
    parser.add_argument("--n-ptbxl", type=int, default=50, help="PTB-XL records (first ones)")
    parser.add_argument("--n-mitdb", type=int, default=5, help="MIT-BIH records (first ones)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--name", default="io_wfdb_read")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        worker(json.loads(args.worker.read_text()), args.out)
        return
    began = time.perf_counter()
    load_start = _machine.load_average()
    args.before = args.before or git("merge-base", "HEAD", "main")
    with tempfile.TemporaryDirectory() as tmp:
        payload = measure(args, Path(tmp))
    payload["load_average_at_start"] = load_start
    payload["wall_s"] = time.perf_counter() - began
    payload["machine"] = _machine.machine_info(("numpy", "pandas", "wfdb"))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(payload, indent=1, default=str) + "\n")
    (RESULTS / f"{args.name}.md").write_text(render(payload))
    print(render(payload))


def _ms(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def render(p: dict[str, Any]) -> str:
    load0 = p["load_average_at_start"]
    load1 = p["machine"]["load_average_1_5_15"]
    lines = [
        "# Reading WFDB records: `read_record`'s plain path beside `wfdb.rdrecord`",
        "",
        "Generated by `benchmarks/io_wfdb_read.py` (issue 17). Per record: the best process "
        f"CPU time of {p['repeats']} reads (annotations not read). New: "
        "`medmodal.io.read_record` of this checkout "
        f"({p['after']['commit']}{', uncommitted changes' if p['after']['dirty'] else ''}); "
        "peer: `wfdb.rdrecord(base)` in the same process; old: `read_record` of "
        f"{p['before']['commit']} (`wfdb.rdheader` + `wfdb.rdrecord`), in its own process. "
        "Ratios are of medians (higher = the new path is faster).",
        "",
        "| records | n | new ms | wfdb.rdrecord ms | old ms | wfdb / new | old / new |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    names = {"generated": "generated (12 leads, 500 Hz, 10 s)",
             "ptbxl": "PTB-XL (12 leads, 100 Hz, 10 s)",
             "mitdb": "MIT-BIH (format 212, 2 leads, 360 Hz, 30 min)"}  # fmt: skip
    for label, r in p["sets"].items():
        lines.append(
            f"| {names[label]} | {r['records']} | {_ms(r['new_ms_median'])} | "
            f"{_ms(r['wfdb_peer_ms_median'])} | {_ms(r['old_ms_median'])} | "
            f"**{r['wfdb_over_new']:.1f}x** | **{r['old_over_new']:.1f}x** |"
        )
    lines.append("")
    ls = p["load_signals"]
    if ls:
        lines.append(
            f"- `ptbxl.load_signals` of {ls['records']} records: {_ms(ls['old_ms_per_record'])} "
            f"ms per record with its own format-16 reader (old), {_ms(ls['new_ms_per_record'])} "
            f"ms through `read_record` (new): old / new = **{ls['old_over_new']:.2f}x**"
        )
    lines += [
        f"- Outputs compared old vs new (samples bitwise, rate, lead names, units, name, "
        f"metadata and its Python types): {p['n_compared']} records/batches, "
        f"**{len(p['differences'])} differ**",
        f"- The machine was busy with other jobs (2 cores): load average {load0[0]:.1f} at the "
        f"start, {load1[0]:.1f} at the end (1 min); CPU times are less affected than wall "
        f"times, but ratios, not times, are the figures to quote. Wall time of the whole "
        f"run: {p['wall_s']:.0f} s.",
        "",
        "## Machine",
        "",
        "```",
        json.dumps(p["machine"], indent=1),
        "```",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
