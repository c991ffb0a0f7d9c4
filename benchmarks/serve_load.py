"""Load on the ECG service over loopback, and a schemathesis run (issues 5 and 16).

Starts ``medmodal serve`` in its own process on a free loopback port, then:

1. **Load**: ``--requests`` (500) ``POST /v1/ecg/analyze`` uploads of a WFDB excerpt of
   MIT-BIH record 100 (``--seconds`` 60 s, two leads, shipped with medmodal) at
   ``--concurrency`` (default: the service's ``max_concurrent_analyses``) with an httpx
   async client; the run is bounded (it stops after the requests, or at ``--deadline``
   seconds) and reports throughput, p50/p95/p99 latency, failures (any non-200) and the
   CPU per request of the server, its analysis workers and the client. While it runs,
   ``GET /health`` is polled to show the event loop stays responsive.
2. **Peers**: the same analyses (``read_record`` + ``ecg_process`` + ``summary()``)
   called directly on a pool of as many processes as the service has analysis workers,
   and on a pool of as many threads, alternating with the service in ``--rounds``
   rounds: the service's cost is a throughput ratio, not a bare time.
3. **Schemathesis** against ``/openapi.json`` (examples, coverage and fuzzing phases,
   ``not_a_server_error`` check): no 5xx expected.

Writes ``results/serve_load.md`` and ``results/serve_load.json``.

Usage::

    python benchmarks/serve_load.py                      # 500 requests
    python benchmarks/serve_load.py --requests 50 --no-schemathesis
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _machine
from medmodal.data.bundled import load_bundled
from medmodal.ecg.process import ecg_process
from medmodal.io import Record, read_record, write_record
from medmodal.serve.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results"
NAME = "serve_load"


def _payload(folder: Path, seconds: float) -> dict[str, bytes]:
    rec = load_bundled("mitdb-100").crop(0, seconds)
    plain = Record(rec.signal, rec.sampling_rate, rec.lead_names, rec.units, name="excerpt")
    header = write_record(plain, folder / "excerpt.hea")
    return {p.name: p.read_bytes() for p in (header, header.with_suffix(".dat"))}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _server(port: int) -> Iterator[tuple[str, int]]:
    """``medmodal serve`` in a child process; stopped (SIGTERM, then kill) on exit."""
    env = {k: v for k, v in os.environ.items() if k != "MEDMODAL_API_KEY"}
    cmd = [sys.executable, "-m", "medmodal", "serve", "--port", str(port)]
    proc = subprocess.Popen([*cmd, "--log-level", "warning"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the service did not start within 60 s")
            time.sleep(0.2)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _load(
    url: str, files: dict[str, bytes], n: int, concurrency: int, deadline: float
) -> tuple[list[float], dict[str, int], float, list[float]]:
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    health: list[float] = []
    done = asyncio.Event()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    parts = [("file", (name, data)) for name, data in files.items()]
    limits = httpx.Limits(max_connections=concurrency + 2)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty() and time.monotonic() < deadline:
                queue.get_nowait()
                start = time.perf_counter()
                try:
                    r = await client.post("/v1/ecg/analyze", files=parts)
                    key = str(r.status_code)
                    if r.status_code == 200 and r.json()["n_beats"] < 10:
                        key = "200-but-wrong"
                except httpx.HTTPError as exc:
                    key = type(exc).__name__
                latencies.append(time.perf_counter() - start)
                statuses[key] = statuses.get(key, 0) + 1

        async def poll_health() -> None:
            while not done.is_set():
                start = time.perf_counter()
                await client.get("/health")
                health.append(time.perf_counter() - start)
                await asyncio.sleep(0.5)

        poller = asyncio.create_task(poll_health())
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - start
        done.set()
        await poller
    return latencies, statuses, wall, health


def _analyse(header: str) -> tuple[int, float]:
    """One direct analysis: what the service computes for an upload (read, analyse, the
    summary its answer reports); returns the beats found and the CPU seconds spent."""
    start = time.thread_time()
    rec = read_record(header)
    result = ecg_process(rec.signal, rec.sampling_rate, lead_names=rec.lead_names)
    result.summary()
    return int(result.peaks.size), time.thread_time() - start


#: A direct run: ``run(n)`` -> (wall seconds, CPU seconds) of ``n`` analyses.
DirectRun = Callable[[int], tuple[float, float]]


@contextmanager
def _direct_pools(files: dict[str, bytes], workers: int) -> Iterator[dict[str, DirectRun]]:
    """The peers, on the same saved record: ``processes``, a pool of ``workers`` processes
    (as many as the service's analysis workers, warmed like them), and ``threads``, a
    pool of ``workers`` threads in this process (the library's other way to overlap)."""
    from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

    with (
        tempfile.TemporaryDirectory() as tmp,
        ProcessPoolExecutor(workers) as procs,
        ThreadPoolExecutor(workers) as threads,
    ):
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        header = str(next(Path(tmp).glob("*.hea")))

        def runner(pool: Executor) -> DirectRun:
            def run(n: int) -> tuple[float, float]:
                start = time.perf_counter()
                done = list(pool.map(_analyse, [header] * n))
                wall = time.perf_counter() - start
                if min(beats for beats, _ in done) < 10:
                    raise RuntimeError("the direct analysis found no beats")
                return wall, sum(cpu for _, cpu in done)

            return run

        runs = {"processes": runner(procs), "threads": runner(threads)}
        for run in runs.values():
            run(2 * workers)  # every worker warm
        yield runs


def _tree_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) of process ``pid`` and of all its descendants (the
    forkserver and the analysis workers, with the children they reaped)."""
    table: dict[int, tuple[int, float, float]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        try:
            f = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            own, reaped = (int(f[11]) + int(f[12])) / tick, (int(f[13]) + int(f[14])) / tick
            table[int(entry.name)] = (int(f[1]), own, reaped)
        except (OSError, ValueError, IndexError):
            continue
    tree, frontier = set(), [pid]
    while frontier:
        parent = frontier.pop()
        kids = [p for p, row in table.items() if row[0] == parent and p not in tree]
        tree.update(kids)
        frontier.extend(kids)
    return table[pid][1], sum(table[p][1] + table[p][2] for p in tree if p in table)


def _schemathesis(url: str, max_examples: int, out: Path) -> dict[str, Any]:
    exe = Path(sys.executable).with_name("schemathesis")
    junit = out / "schemathesis-junit.xml"
    cmd = [
        str(exe), "run", f"{url}/openapi.json", "--checks", "not_a_server_error",
        "--phases", "examples,coverage,fuzzing", "--max-examples", str(max_examples),
        "--seed", "0", "--request-timeout", "60", "--workers", "2", "--no-color",
        "--suppress-health-check", "all", "--report", "junit", "--report-junit-path", str(junit),
    ]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    text = proc.stdout + proc.stderr
    summary = [line for line in text.splitlines() if line.strip() and "Reports:" not in line]
    summary = [line for line in summary if "JUnit:" not in line][-10:]
    return {
        "command": " ".join(["schemathesis", *cmd[1:-4]]),
        "exit_code": proc.returncode,
        "seconds": round(time.perf_counter() - start, 1),
        "server_errors_found": "not_a_server_error" in text and proc.returncode != 0,
        "summary_tail": summary,
    }


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def _rounds(
    url: str,
    pid: int,
    files: dict[str, bytes],
    per_round: list[int],
    args: argparse.Namespace,
    direct: dict[str, DirectRun],
) -> dict[str, Any]:
    """The service and the direct peers in turn, round after round, each first in its
    turn (so that all meet the same machine load); their throughputs and CPU seconds
    per analysis."""
    lat: list[float] = []
    health: list[float] = []
    statuses: dict[str, int] = {}
    wall = 0.0
    cpu = {"server": 0.0, "workers": 0.0, "client": 0.0}
    peers = {name: [0.0, 0.0] for name in direct}
    deadline = time.monotonic() + args.deadline
    sides = ["service", *direct]
    for i, n in enumerate(per_round):
        for side in sides[i % len(sides) :] + sides[: i % len(sides)]:  # each side first in turn
            if side in direct:
                peers[side] = [a + b for a, b in zip(peers[side], direct[side](n), strict=True)]
                continue
            server0, workers0 = _tree_cpu(pid)
            client0 = time.process_time()
            got = asyncio.run(_load(url, files, n, args.concurrency, deadline))
            server1, workers1 = _tree_cpu(pid)
            cpu["client"] += time.process_time() - client0
            cpu["server"] += server1 - server0
            cpu["workers"] += workers1 - workers0
            lat, health, wall = lat + got[0], health + got[3], wall + got[2]
            for key, count in got[1].items():
                statuses[key] = statuses.get(key, 0) + count
    ok, analyses = statuses.get("200", 0), sum(per_round)
    load: dict[str, Any] = {
        "requests_sent": len(lat),
        "ok": ok,
        "failed": len(lat) - ok,
        "statuses": statuses,
        "wall_s": wall,
        "throughput_rps": len(lat) / wall,
        "latency_ms": {q: _pct(lat, float(q[1:])) for q in ("p50", "p95", "p99")}
        | {"max": max(lat) * 1000, "mean": statistics.fmean(lat) * 1000},
        "health_during_load_ms": {"n": len(health), "p50": _pct(health, 50),
                                  "max": max(health) * 1000},
        "cpu_ms_per_request": {k: v / len(lat) * 1000 for k, v in cpu.items()},
    }  # fmt: skip
    out: dict[str, Any] = {"load": load}
    for name, (direct_wall, direct_cpu) in peers.items():
        out[f"direct_{name}"] = {
            "analyses": analyses,
            "wall_s": direct_wall,
            "throughput_rps": analyses / direct_wall,
            "cpu_ms_per_analysis": direct_cpu / analyses * 1000,
        }
        load[f"throughput_vs_direct_{name}"] = load["throughput_rps"] * direct_wall / analyses
    load["throughput_vs_direct"] = load["throughput_vs_direct_processes"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="requests in flight (default: the service's analyses at once, as many as "
        "the direct pool's processes)",
    )
    parser.add_argument("--rounds", type=int, default=5, help="service/direct alternations")
    parser.add_argument("--seconds", type=float, default=60.0, help="record length")
    parser.add_argument("--deadline", type=float, default=1200.0, help="stop the load after")
    parser.add_argument("--max-examples", type=int, default=40)
    parser.add_argument("--no-schemathesis", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--render-only", action="store_true", help="rewrite the .md from the saved .json"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.render_only:
        saved = json.loads((args.out / f"{NAME}.json").read_text())
        (args.out / f"{NAME}.md").write_text(_markdown(saved))
        return
    pkgs = ("fastapi", "uvicorn", "httpx", "schemathesis", "medmodal")
    info = _machine.machine_info(pkgs)
    with tempfile.TemporaryDirectory() as tmp:
        files = _payload(Path(tmp), args.seconds)
    workers = Settings().max_concurrent_analyses
    args.concurrency = args.concurrency or workers
    result: dict[str, Any] = {"machine": info, "config": vars(args) | {"out": str(args.out)}}
    result["server"] = {"max_concurrent_analyses": workers}
    per_round = [len(c) for c in np.array_split(np.arange(args.requests), args.rounds)]
    with _server(_free_port()) as (url, pid), _direct_pools(files, workers) as direct:
        warm = asyncio.run(_load(url, files, 2 * workers, workers, time.monotonic() + 300))
        if set(warm[1]) != {"200"}:
            raise RuntimeError(f"warm-up failed: {warm[1]}")
        result |= _rounds(url, pid, files, per_round, args, direct)
        if args.no_schemathesis:
            result["schemathesis"] = None
        else:
            with tempfile.TemporaryDirectory() as reports:
                result["schemathesis"] = _schemathesis(url, args.max_examples, Path(reports))
    info["load_average_end"] = _machine.load_average()
    (args.out / f"{NAME}.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / f"{NAME}.md").write_text(_markdown(result))
    print((args.out / f"{NAME}.md").read_text())


#: Earlier runs that chose the service's settings (kept by hand; same machine, under the
#: load of other jobs).
TUNING_LOG = """\
How many analyses may run at once (`Settings.max_concurrent_analyses`), 500 requests at
concurrency 16, 2026-11-30 (analyses then ran in the server's threads; the peer was a
pool of 16 threads; load average 15-19 on 2 cores):

| analyses at once | throughput (req/s) | p99 ms | `/health` max ms | service / direct |
|---|---|---|---|---|
| 40 (Starlette's thread pool, no limit of ours) | 5.47 | 5456 | 2046 | 0.59 |
| 2 (one per core) | 3.48 | 6438 | 552 | 0.29 |
| 8 (four per core, the default) | 6.03 | 4010 | 483 | 0.51 |

One per core starved the threaded analyses (numpy releases the GIL, so several per core
overlap); four per core kept the throughput and bounds CPU and memory.

Where a request's time went (issue 16), 2026-12-02, load average 6-12. Since issue 13
each analysis ran in a fresh process forked per request: this script (80 requests,
concurrency 16, peer 16 threads) measured **0.25**. Profiling one request: the
worker's start took about 100 ms, and the worker then imported the WFDB reader again
(`wfdb`, `fsspec`: about 0.6 s) and rebuilt the filters' caches, so a request cost
about 1.1 s against 0.3 s for the library's read + analysis; multipart parsing, the
temporary files (about 8 ms) and the JSON (about 5 ms: FastAPI's response-model
encoding) were small beside it. Keeping warm workers (a pool forked from a forkserver
that has imported and exercised the readers, the analysis and the report code)
brought the same run to 0.54; serialising the answer in the worker (pydantic, checked
against the response model) and building the per-beat series without a DataFrame took
a few more milliseconds off. The peer became a pool of as many processes as the
service has workers, at the same concurrency, with a pool of as many threads kept as a
second peer. A first run so (500 requests, always service, processes, threads in that
order; load average 7-13) measured 0.92 against the processes and 0.66 against the
threads (4.55 analyses/s against 3.24 for the processes at about the same CPU per
analysis); the sides now take the first place in turn."""


def _markdown(r: dict[str, Any]) -> str:
    load, cfg = r["load"], r["config"]
    lat = load["latency_ms"]
    st = r.get("schemathesis")
    end = r["machine"].get("load_average_end")
    n = r["server"]["max_concurrent_analyses"]
    lines = [
        "# Service load on loopback (`POST /v1/ecg/analyze`)",
        "",
        "Generated by `benchmarks/serve_load.py`.",
        "",
        f"**Machine:** {_machine.describe(r['machine'])}"
        + (f" Load average at the end: {end[0]:.2f}." if end else ""),
        "",
        f"**Setup:** `medmodal serve` (one uvicorn process; analyses in {n} warm worker "
        f"processes, at most {n} at once) on 127.0.0.1; {cfg['requests']} uploads of a "
        f"{cfg['seconds']:g}-s two-lead WFDB excerpt of MIT-BIH record 100 (.hea + .dat "
        f"multipart, 360 Hz) at concurrency {cfg['concurrency']} (httpx async client, in a "
        f"separate process from the server, on the same 2 cores); {2 * n} warm-up requests "
        "first. A request fails unless it answers 200 with the beats found.",
        "",
        "## Load",
        "",
        "| requests | ok | failed | throughput (req/s) | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|---|",
        f"| {load['requests_sent']} | {load['ok']} | {load['failed']} | "
        f"{load['throughput_rps']:.2f} | {lat['p50']:.0f} | {lat['p95']:.0f} | {lat['p99']:.0f} "
        f"| {lat['max']:.0f} |",
        "",
        f"Status counts: {load['statuses']}. `GET /health` polled every 0.5 s during the load "
        f"({load['health_during_load_ms']['n']} polls): median "
        f"{load['health_during_load_ms']['p50']:.0f} ms, max "
        f"{load['health_during_load_ms']['max']:.0f} ms (the analyses run in worker "
        "processes; the event loop waits only for the CPU they hold).",
        "",
        *_peer_lines(r),
        "## Schemathesis (OpenAPI fuzzing)",
        "",
    ]
    if st is None:
        lines.append("Not run (`--no-schemathesis`).")
    else:
        verdict = "no 5xx found" if st["exit_code"] == 0 else "FAILURES (see below)"
        lines += [
            f"`{st['command']}` — exit code {st['exit_code']}, {st['seconds']:g} s: **{verdict}**.",
            "",
            "```",
            *st["summary_tail"],
            "```",
        ]
    bars = [
        ("0 failed requests (issue 5)", load["failed"] == 0),
        ("stops by itself (bounded) (issue 5)", load["requests_sent"] <= cfg["requests"]),
        ("schemathesis finds no 5xx (issue 5)", st is not None and st["exit_code"] == 0),
        (
            f"service / direct throughput >= 0.8 (issue 16): {load['throughput_vs_direct']:.2f}",
            load["throughput_vs_direct"] >= 0.8,
        ),
    ]
    lines += ["", "## Tuning log", "", TUNING_LOG]
    lines += ["", "## Bars", "", "| bar | met |", "|---|---|"]
    lines += [f"| {b} | {'yes' if ok else 'NO'} |" for b, ok in bars]
    return "\n".join(lines) + "\n"


def _peer_lines(r: dict[str, Any]) -> list[str]:
    """The section comparing the service with the library called directly."""
    load, cfg, n = r["load"], r["config"], r["server"]["max_concurrent_analyses"]
    procs, threads = r["direct_processes"], r["direct_threads"]
    cpu = load["cpu_ms_per_request"]
    total = sum(cpu.values())
    return [
        "## Against the library called directly (the peers)",
        "",
        f"The same {procs['analyses']} analyses (`read_record` + `ecg_process` + "
        "`ECGResult.summary()`, the numbers the service's answer reports, on the same saved "
        "excerpt), called directly with the same parallelism: a pool of "
        f"{n} processes (as many as the service's workers, warmed like them), and a pool of "
        f"{n} threads. The service's {cfg['concurrency']} requests in flight keep its {n} "
        "workers as busy as the pools. The service and the peers take turns in "
        f"{cfg['rounds']} rounds, each going first in turn, so that all meet the same "
        "machine load.",
        "",
        "| run | throughput (analyses/s) | service / this | CPU ms per analysis |",
        "|---|---|---|---|",
        f"| service (HTTP) | {load['throughput_rps']:.2f} | 1.00 | {total:.0f} (server "
        f"{cpu['server']:.0f}, workers {cpu['workers']:.0f}, client {cpu['client']:.0f}) |",
        f"| direct, {n} processes | {procs['throughput_rps']:.2f} | "
        f"**{load['throughput_vs_direct_processes']:.2f}** | {procs['cpu_ms_per_analysis']:.0f} |",
        f"| direct, {n} threads | {threads['throughput_rps']:.2f} | "
        f"{load['throughput_vs_direct_threads']:.2f} | {threads['cpu_ms_per_analysis']:.0f} |",
        "",
        "Service throughput / direct throughput (processes, the like-for-like peer) = "
        f"**{load['throughput_vs_direct']:.2f}** (1.0 = HTTP, multipart parsing, temporary "
        "files, the hand-off to the workers and JSON cost nothing). CPU per request is "
        "read from /proc around each service round: the server process (HTTP, multipart, "
        "temporary files), its analysis workers (reading, analysis, the answer's JSON) and "
        "the load client (which shares the 2 cores); per direct analysis it is the "
        "worker's own CPU time. On a machine shared with other jobs the ratios move from "
        "run to run: read them as rough.",
        "",
    ]


if __name__ == "__main__":
    main()
