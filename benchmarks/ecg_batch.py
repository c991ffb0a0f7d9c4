"""Corpus-scale ECG analysis: ``ecg_process_corpus`` on Dask at 1 and 2 workers vs NeuroKit2.

Issue 17 asks for records/s at 1 and 2 workers (parallel efficiency), peak memory per
worker, the time of the slowest record, and NeuroKit2's ``nk.ecg_process`` in a plain loop
over every lead of the same records (the same work: 12 leads per record), at the same
number of cores. This script, in one run:

- writes a seeded corpus with :func:`medmodal.data.ecg_corpus.make_ecg_corpus` (``--n``
  records of 10 s, 12 leads, 500 Hz, with 2 % corrupt and 1 % pathological files);
- for each worker count, starts a Dask ``LocalCluster`` (processes, one thread each),
  then times :func:`medmodal.ecg.corpus.ecg_process_corpus` on it (cluster start-up not
  counted) while a thread samples, every ``--sample-s`` seconds, the resident memory of
  each worker process together with its record helper, and of this (client) process;
- times NeuroKit2 on one core: ``read_record`` then ``nk.ecg_process`` on each lead, for
  the first ``--nk-n`` records (default: all);
- times medmodal's per-record work (read, ``ecg_process``, ``summary()``) on the same
  records in a plain loop in this process, and both loops' CPU time (the contention-proof
  side-by-side figure on a machine shared with other jobs);
- records the load average of the machine before and after each phase.

Writes ``results/ecg_batch.md`` and ``results/ecg_batch.json`` (``--name`` changes the
file names). The committed 100,000-record run: ``--n 100000 --nk-n 30 --workers 2 --name
ecg_batch_100k --keep-samples --sample-s 10 --corpus DIR`` (``--keep-samples`` keeps the
memory samples over time, drawn in ``results/<name>_memory.png``; the corpus takes about
120 kB of disk per record, ``--corpus DIR`` keeps it for a rerun, and it is written by
``--corpus-workers`` processes, 2 by default, before anything is timed).

Usage::

    python benchmarks/ecg_batch.py [--n 200] [--workers 1,2] [--nk-n 50] [--timeout 30]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import psutil

import _machine  # benchmarks/ is the script's folder, first on sys.path
from medmodal.data.ecg_corpus import make_ecg_corpus
from medmodal.ecg.batch import analyse_record
from medmodal.ecg.corpus import ecg_process_corpus
from medmodal.errors import MedmodalError
from medmodal.io import read_record

RESULTS = Path(__file__).resolve().parent / "results"
MB = 1024.0**2


class MemorySampler(threading.Thread):
    """Sample the RSS (MB) of each worker process tree and of this process."""

    def __init__(self, worker_pids: list[int], every_s: float) -> None:
        super().__init__(daemon=True)
        self.pids, self.every_s = worker_pids, every_s
        self.samples: list[dict[str, Any]] = []
        self.began = time.perf_counter()
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self.every_s):
            self.samples.append(
                {
                    "t_s": round(time.perf_counter() - self.began, 2),
                    "workers_mb": [round(_tree_rss(pid) / MB, 1) for pid in self.pids],
                    "client_mb": round(psutil.Process().memory_info().rss / MB, 1),
                }
            )

    def stop(self) -> None:
        self._halt.set()
        self.join()


def _tree_rss(pid: int) -> float:
    try:
        proc = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)])
    except psutil.Error:
        return 0.0


def run_dask(folder: Path, out: Path, workers: int, args: argparse.Namespace) -> dict[str, Any]:
    """Time one corpus run on a fresh LocalCluster of ``workers`` one-thread processes."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        pids = list(client.run(os.getpid).values())
        load_before = _machine.load_average()
        sampler = MemorySampler(pids, args.sample_s)
        sampler.start()
        run = ecg_process_corpus(folder, out, client=client, timeout=args.timeout, progress=False)
        sampler.stop()
    done = run.n_ok + run.n_error + run.n_timeout
    worker_peaks = [max(s["workers_mb"][i] for s in sampler.samples) for i in range(len(pids))]
    return {
        "workers": workers,
        "records": done,
        "ok": run.n_ok,
        "error": run.n_error,
        "timeout": run.n_timeout,
        "elapsed_s": run.elapsed_s,
        "records_per_s": done / run.elapsed_s,
        "slowest_record_s": run.slowest_s,
        "slowest_record": run.slowest_record,
        "median_record_s": float(np.nanmedian(run.to_frame()["processing_s"])),
        "peak_worker_mb": max(worker_peaks),
        "peak_client_mb": max(s["client_mb"] for s in sampler.samples),
        "memory_flat": _flatness(sampler.samples),
        "load_before": load_before,
        "load_after": _machine.load_average(),
        "memory_samples": sampler.samples if args.keep_samples else None,
    }


def _flatness(samples: list[dict[str, Any]]) -> dict[str, float] | None:
    """Mean RSS of the largest worker and of the client over the second and the last
    fifth of the run (MB); the first fifth is warm-up (imports, first records)."""
    if len(samples) < 10:
        return None
    fifth = len(samples) // 5
    parts = {"second_fifth": samples[fifth : 2 * fifth], "last_fifth": samples[-fifth:]}
    out = {}
    for name, part in parts.items():
        out[f"{name}_mb"] = float(np.mean([max(s["workers_mb"]) for s in part]))
        out[f"client_{name}_mb"] = float(np.mean([s["client_mb"] for s in part]))
    return out


#: Memory counts as flat when the last fifth's mean is within this share of the second's.
FLAT_TOLERANCE = 0.10


def _is_flat(flat: dict[str, float]) -> bool:
    pairs = [("second_fifth_mb", "last_fifth_mb")]
    if "client_second_fifth_mb" in flat:
        pairs.append(("client_second_fifth_mb", "client_last_fifth_mb"))
    return all(flat[b] <= (1 + FLAT_TOLERANCE) * flat[a] for a, b in pairs)


def plot_memory(payload: dict[str, Any], path: Path) -> bool:
    """Worker and client RSS over the run, one line each (runs with kept samples)."""
    runs = [r for r in payload["dask"] if r.get("memory_samples")]
    if not runs:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.6), constrained_layout=True)
    for r in runs:
        samples = r["memory_samples"]
        minutes = [s["t_s"] / 60 for s in samples]
        for i in range(len(samples[0]["workers_mb"])):
            series = [s["workers_mb"][i] for s in samples]
            ax.plot(minutes, series, lw=1, label=f"worker {i + 1} (+ record helper)")
        ax.plot(minutes, [s["client_mb"] for s in samples], lw=1, ls="--", label="client")
    ax.axhline(500, color="grey", lw=0.8, ls=":", label="goal: 500 MB per worker")
    ax.set(xlabel="minutes into the run", ylabel="resident memory (MB)", ylim=(0, None))
    n = max(r["records"] for r in runs)
    ax.set_title(f"Memory over the {n:,}-record run", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def run_neurokit(paths: list[Path]) -> dict[str, Any]:
    """NeuroKit2's ecg_process on every lead of each record, one core, plain loop."""
    import neurokit2 as nk

    load_before = _machine.load_average()
    failed_leads, unreadable, slowest = 0, 0, 0.0
    began, cpu_began = time.perf_counter(), time.process_time()
    for path in paths:
        t0 = time.perf_counter()
        try:
            record = read_record(path)
        except MedmodalError:
            unreadable += 1
            continue
        for lead in range(record.n_leads):
            try:
                nk.ecg_process(record.signal[:, lead], sampling_rate=record.sampling_rate)
            except Exception:  # NeuroKit2 raises plain errors on flat or noise-only leads
                failed_leads += 1
        slowest = max(slowest, time.perf_counter() - t0)
    elapsed = time.perf_counter() - began
    return {
        "records": len(paths),
        "unreadable": unreadable,
        "failed_leads": failed_leads,
        "elapsed_s": elapsed,
        "cpu_s": time.process_time() - cpu_began,
        "records_per_s": len(paths) / elapsed,
        "slowest_record_s": slowest,
        "load_before": load_before,
        "load_after": _machine.load_average(),
    }


def run_medmodal_loop(paths: list[Path]) -> dict[str, Any]:
    """medmodal's per-record work on the same records in a plain loop in this process:
    read, ``ecg_process`` (every step, all leads), ``summary()`` and the record's row;
    wall and CPU time (CPU time holds on a machine shared with other jobs)."""
    load_before = _machine.load_average()
    unreadable = 0
    began, cpu_began = time.perf_counter(), time.process_time()
    for path in paths:
        try:
            result, _ = analyse_record(path)
        except MedmodalError:
            unreadable += 1
            continue
        result.summary()
    return {
        "records": len(paths),
        "unreadable": unreadable,
        "elapsed_s": time.perf_counter() - began,
        "cpu_s": time.process_time() - cpu_began,
        "load_before": load_before,
        "load_after": _machine.load_average(),
    }


def render(payload: dict[str, Any], figure: str | None = None) -> str:
    """The Markdown page of ``payload`` (``figure``: the memory plot's file name)."""
    runs, nk, cfg = payload["dask"], payload["neurokit2"], payload["config"]
    one = next((r for r in runs if r["workers"] == 1), None)
    lines = [
        "# Corpus-scale ECG analysis (`ecg_process_corpus` on Dask) vs NeuroKit2",
        "",
        f"Generated by `benchmarks/ecg_batch.py` ({cfg['n']} records of 10 s, 12 leads, "
        f"500 Hz from `make_ecg_corpus(seed={cfg['seed']})`: {payload['corpus_kinds']}; "
        f"time limit {cfg['timeout']} s per record).",
        "",
        "| engine | workers | records | ok / error / timeout | records/s | median record s "
        "| slowest record s | peak RSS per worker MB | load avg 1 min before → after |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        lines.append(
            f"| medmodal (Dask) | {r['workers']} | {r['records']} | {r['ok']} / {r['error']} / "
            f"{r['timeout']} | {r['records_per_s']:.2f} | {r['median_record_s']:.2f} | "
            f"{r['slowest_record_s']:.2f} ({r['slowest_record']}) | {r['peak_worker_mb']:.0f} | "
            f"{_load(r['load_before'])} → {_load(r['load_after'])} |"
        )
    lines.append(
        f"| NeuroKit2 `ecg_process` per lead, loop | 1 | {nk['records']} | "
        f"{nk['unreadable']} unreadable, {nk['failed_leads']} failed leads | "
        f"{nk['records_per_s']:.2f} | | {nk['slowest_record_s']:.2f} | | "
        f"{_load(nk['load_before'])} → {_load(nk['load_after'])} |"
    )
    lines += ["", "## Goals (issue 17)", ""]
    for goal in payload["goals"]:
        lines.append(f"- {goal}")
    lines += [
        "",
        "Worker memory is each worker process plus its record helper process (the process "
        "that runs records under the time limit). The client (this process, writing the "
        f"Parquet parts) peaked at {max(r['peak_client_mb'] for r in runs):.0f} MB. "
        "Worker memory over the run (mean of the largest worker, second fifth → last "
        "fifth of the samples): "
        + "; ".join(
            f"{r['workers']} worker(s): {r['memory_flat']['second_fifth_mb']:.0f} → "
            f"{r['memory_flat']['last_fifth_mb']:.0f} MB"
            for r in runs
            if r["memory_flat"]
        )
        + ".",
        *(["", f"![Memory over the run]({figure})"] if figure else []),
        "",
        "The machine's two cores were shared with other jobs during this run (load "
        "averages above); records/s and the efficiency are what this contended machine "
        "gave, not what two quiet cores give."
        if _busy(runs)
        else "Nothing else ran on the machine (1-minute load average below "
        f"{BUSY_LOAD:g} before each Dask phase).",
    ]
    if one is not None and payload.get("same_records"):
        same = payload["same_records"]
        lines += [
            "",
            f"On the {same['records']} records NeuroKit2 processed, medmodal's per-record time "
            f"(1 worker, summed) was {same['medmodal_s']:.1f} s against NeuroKit2's "
            f"{same['neurokit2_s']:.1f} s: {same['ratio']:.1f}x.",
        ]
    loops = payload.get("plain_loops")
    if loops:
        mm, ref = loops["medmodal"], loops["neurokit2"]
        lines += [
            "",
            f"CPU time on the same {mm['records']} records, each in a plain loop in one "
            f"process (read, every lead analysed): medmodal {mm['cpu_s']:.1f} s "
            f"({1000 * mm['cpu_s'] / mm['records']:.0f} ms per record), NeuroKit2 "
            f"{ref['cpu_s']:.1f} s: **{ref['cpu_s'] / mm['cpu_s']:.1f}x** (CPU time is "
            "what the other jobs on the machine do not change; wall time of the same "
            f"loops: {mm['elapsed_s']:.1f} s and {ref['elapsed_s']:.1f} s).",
        ]
    lines += ["", "## Machine", "", "```", json.dumps(payload["machine"], indent=1), "```", ""]
    return "\n".join(lines)


#: A 1-minute load average at or above this before a phase means other jobs were running.
BUSY_LOAD = 1.5


def _busy(runs: list[dict[str, Any]]) -> bool:
    return any(float(r["load_before"][0]) >= BUSY_LOAD for r in runs if r.get("load_before"))


def _load(load: Any) -> str:
    return "n/a" if load is None else f"{load[0]:.1f}"


def goals(runs: list[dict[str, Any]], nk: dict[str, Any]) -> list[str]:
    """Each goal of the issue, met or missed, with its figure."""
    by = {r["workers"]: r for r in runs}
    out = []
    if 1 in by:
        ratio = by[1]["records_per_s"] / nk["records_per_s"]
        out.append(
            f"{'met' if ratio >= 20 else 'MISSED'}: >= 20x NeuroKit2's records/s at "
            f"1 core: {ratio:.1f}x"
        )
    if 1 in by and 2 in by:
        eff = by[2]["records_per_s"] / (2 * by[1]["records_per_s"])
        out.append(
            f"{'met' if eff >= 0.8 else 'MISSED'}: parallel efficiency >= 80 % from 1 to "
            f"2 workers: {100 * eff:.0f} %"
            + (" (on a machine shared with other jobs: see the load averages)" if _busy(runs)
               else f" ({by[2]['elapsed_s']:.0f} s at 2 workers, cluster start-up not counted)")
        )  # fmt: skip
    peak = max(r["peak_worker_mb"] for r in runs)
    out.append(f"{'met' if peak <= 500 else 'MISSED'}: <= 500 MB per worker: {peak:.0f} MB")
    n = max(r["records"] for r in runs)
    if n < 100_000:
        out.append(
            f"not run here ({n} records): the 100,000-record run with memory flat "
            "(see the script's docstring)"
        )
    else:
        big = by[max(by)]
        flat = big["memory_flat"] or {}
        done = big["records"] == n and bool(flat) and _is_flat(flat)
        client = (
            f", client {flat['client_second_fifth_mb']:.0f} → {flat['client_last_fifth_mb']:.0f} MB"
            if "client_second_fifth_mb" in flat
            else ""
        )
        out.append(
            f"{'met' if done else 'MISSED'}: the {n:,}-record run completed "
            f"({big['ok']:,} ok, {big['error']:,} error, {big['timeout']:,} timeout rows in "
            f"{big['elapsed_s'] / 60:.0f} min) with memory flat (mean over the second → "
            f"the last fifth of the run within {100 * FLAT_TOLERANCE:.0f} %): largest "
            f"worker {flat.get('second_fifth_mb', 0):.0f} → "
            f"{flat.get('last_fifth_mb', 0):.0f} MB{client}"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--nk-n", type=int, default=None, help="records for NeuroKit2")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--sample-s", type=float, default=0.5)
    parser.add_argument("--keep-samples", action="store_true")
    parser.add_argument("--corpus", type=Path, default=None, help="reuse/keep the corpus here")
    parser.add_argument("--name", default="ecg_batch")
    parser.add_argument(
        "--corpus-workers", type=int, default=2, help="processes writing the corpus (untimed)"
    )
    parser.add_argument(
        "--render", action="store_true", help="only rewrite the .md (and goals) from the .json"
    )
    args = parser.parse_args()
    if args.render:
        payload = json.loads((RESULTS / f"{args.name}.json").read_text())
        payload["goals"] = goals(payload["dask"], payload["neurokit2"])
        write(payload, args.name)
        return
    work = Path(tempfile.mkdtemp(prefix="ecg_batch_"))
    folder = args.corpus or work / "records"
    if not (folder / "ecg000000.hea").exists():
        make_ecg_corpus(folder, args.n, seed=args.seed, workers=args.corpus_workers)
    manifest_kinds = _kinds(args.n)
    runs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for w in (int(x) for x in args.workers.split(",")):
            runs.append(run_dask(folder, work / f"features_{w}.parquet", w, args))
            print(json.dumps({k: v for k, v in runs[-1].items() if k != "memory_samples"}))
        paths = sorted(folder.glob("*.hea"))[: args.nk_n or args.n]
        loop = run_medmodal_loop(paths)
        nk = run_neurokit(paths)
    print(json.dumps(nk))
    same = _same_records(work / "features_1.parquet", paths, nk)
    payload = {
        "config": vars(args) | {"corpus": str(args.corpus)},
        "corpus_kinds": manifest_kinds,
        "dask": runs,
        "neurokit2": nk,
        "same_records": same,
        "plain_loops": {"medmodal": loop, "neurokit2": nk},
        "goals": goals(runs, nk),
        "machine": _machine.machine_info(("dask", "distributed", "pyarrow", "neurokit2")),
    }
    write(payload, args.name)
    if args.corpus is None:
        shutil.rmtree(work)


def write(payload: dict[str, Any], name: str) -> None:
    """Write ``results/<name>.json``, its Markdown page and, with kept memory samples,
    ``results/<name>_memory.png``."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=1) + "\n")
    figure = f"{name}_memory.png"
    shown = plot_memory(payload, RESULTS / figure)
    (RESULTS / f"{name}.md").write_text(render(payload, figure if shown else None))


def _same_records(out: Path, paths: list[Path], nk: dict[str, Any]) -> dict[str, Any] | None:
    """medmodal's summed per-record time (1 worker) on the records NeuroKit2 processed."""
    if not out.exists():
        return None
    import pandas as pd

    frame = pd.read_parquet(out, columns=["path", "processing_s"]).set_index("path")
    ours = float(frame.loc[[str(p.resolve()) for p in paths], "processing_s"].sum())
    return {
        "records": len(paths),
        "medmodal_s": ours,
        "neurokit2_s": nk["elapsed_s"],
        "ratio": nk["elapsed_s"] / ours,
    }


def _kinds(n: int) -> str:
    """The corpus mix in words (make_ecg_corpus defaults: 2 % corrupt, 1 % pathological)."""
    corrupt, odd = round(0.02 * n), round(0.01 * n)
    return f"{n - corrupt - odd} normal, {corrupt} corrupt, {odd} pathological"


if __name__ == "__main__":
    main()
