"""Hostile requests against the ECG service over loopback (issue 13).

Starts the service (default settings, a 5 s read deadline so the slow-connection cases
finish quickly, an API key) in its own process with uvicorn's options from
``medmodal.serve.server.uvicorn_options``, then per category sends the cases and counts
clear 4xx (a JSON error body), 5xx and hangs (no answer in 30 s). The peak RSS of the
server and its analysis workers is sampled every 50 ms. Finally the p99 latency of
normal 10 s analyses (MIT-BIH 100) is measured while 8 hostile uploads run, twice: the
issue's 100 kHz files, and the worst record the budgets admit (20 kHz, 20 M values,
stopped by the analysis deadline).

Writes ``results/serve_abuse.md`` and ``results/serve_abuse.json``.

Usage::

    python benchmarks/serve_abuse.py            # a few minutes on 2 cores
    python benchmarks/serve_abuse.py --normal 20
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _machine
from medmodal.data.bundled import load_bundled
from medmodal.io import Record, write_record

RESULTS = Path(__file__).resolve().parent / "results"
NAME = "serve_abuse"
KEY = "bench-key"
HEAD = {"X-API-Key": KEY}
SERVER = """
import sys, uvicorn
from medmodal.serve.app import create_app
from medmodal.serve.server import uvicorn_options
from medmodal.serve.settings import Settings
s = Settings.from_env(timeout_read_s=5.0, models_dir=sys.argv[2] or None)
uvicorn.run(create_app(s), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            **uvicorn_options(s))
"""


def _npz(**arrays: Any) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _npy_header(shape: tuple[int, ...]) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _wfdb(seconds: float, folder: Path) -> list[tuple[str, tuple[str, bytes]]]:
    rec = load_bundled("mitdb-100").crop(0, seconds)
    plain = Record(rec.signal, rec.sampling_rate, rec.lead_names, rec.units, name="r")
    header = write_record(plain, folder / "r.hea")
    return [("file", (p.name, p.read_bytes())) for p in (header, header.with_suffix(".dat"))]


def _one(name: str, data: bytes) -> list[tuple[str, tuple[str, bytes]]]:
    return [("file", (name, data))]


def analyze_cases() -> dict[str, list[tuple[str, Any, dict[str, str]]]]:
    """Per category, ``(label, files, form)`` of ``POST /v1/ecg/analyze``."""
    skew = b"r 1 360 1000\nr.dat 16x1:999999999 200 11 1024 0 0 0 MLII\n"
    wide = ",".join(f"c{i}" for i in range(6000)).encode() + b"\n" + b"1," * 5999 + b"1\n"
    wider = ",".join(f"c{i}" for i in range(100_000)).encode() + b"\n"
    return {
        "bombs": [
            ("npz of 30 M zeros", _one("b.npz", _npz(signal=np.zeros(30_000_000), fs=360.0)), {}),
            (
                "npy header (10**12,)",
                _one("b.npy", _npy_header((10**12,))),
                {"sampling_rate": "360"},
            ),
            ("zip of 300 MB csv", _one("b.zip", _zip({"b.csv": b"0\n" * 150_000_000})), {}),
            (
                "wfdb skew 999999999",
                [("file", ("r.hea", skew)), ("file", ("r.dat", b"\0" * 2000))],
                {},
            ),
        ],
        "cpu": [
            ("2.5 s at 100 kHz (npz)", _one("f.npz", _npz(signal=np.zeros(250_000), fs=1e5)), {}),
            ("rate 1e9 in npz", _one("g.npz", _npz(signal=np.zeros(5000), fs=1e9)), {}),
            ("csv 6,000 columns", _one("w.csv", wide), {"sampling_rate": "360"}),
            ("csv 100,000 columns", _one("w.csv", wider), {"sampling_rate": "360"}),
            ("form rate 100 kHz", _one("x.npy", _npy(np.zeros(5000))), {"sampling_rate": "100000"}),
        ],
        "malformed": [
            ("lead=²", _one("x.npy", _npy(np.zeros(5000))), {"sampling_rate": "360", "lead": "²"}),
            (
                "npz ann_fs=[1,2]",
                _one("a.npz", _npz(signal=np.zeros(5000), fs=360.0, ann_fs=[1, 2])),
                {},
            ),
            ("zip renamed .npz", _one("z.npz", _zip({"x.txt": b"hi"})), {}),
            ("complex npy", _one("c.npy", _npy(np.zeros(5000, complex))), {"sampling_rate": "360"}),
            ("random .edf", _one("r.edf", os.urandom(4096)), {}),
            ("empty file list", [], {"sampling_rate": "360"}),
            (
                "wfdb rate nan",
                [
                    ("file", ("r.hea", b"r 1 nan 10\nr.dat 16 200 11 1024 0 0 0 I\n")),
                    ("file", ("r.dat", b"\0" * 20)),
                ],
                {},
            ),
        ],
    }


def predict_cases() -> list[tuple[str, Any]]:
    row = [0.0] * 8
    return [
        ("[7] broadcast", {"a": [[7]]}),
        ("7 broadcast", {"a": [7]}),
        ("strings", {"a": [["1"] * 8]}),
        ("booleans", {"a": [[True] * 8]}),
        ("unknown modality", {"a": [row], "zz": [row]}),
        ("not a list", {"a": "x"}),
        ("nested deep", {"a": [[[[[1]]]]]}),
    ]


def _image(fmt: str) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.zeros((32, 32), np.uint8), mode="L").save(buffer, format=fmt)
    return buffer.getvalue()


@contextmanager
def _server(models: str) -> Iterator[tuple[str, int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {**os.environ, "MEDMODAL_API_KEY": KEY}
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), models], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=15)


class RssSampler:
    """Peak memory (MiB, proportional set size: a page shared by forked workers is counted
    once) of a process and all its descendants, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.now())

    def now(self) -> float:
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    parents[int(entry.name)] = int(
                        (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                    )
                except (OSError, ValueError, IndexError):
                    continue
        tree, frontier = {self.pid}, [self.pid]
        while frontier:
            p = frontier.pop()
            kids = [c for c, pp in parents.items() if pp == p]
            tree.update(kids)
            frontier.extend(kids)
        total = 0
        for p in tree:
            try:
                for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):  # shared pages (forked workers) counted once
                        total += int(line.split()[1])
            except OSError:
                continue
        return total / 1024


def _classify(r: httpx.Response | None) -> str:
    if r is None:
        return "hang"
    if r.status_code >= 500:
        return "5xx"
    try:
        clear = 400 <= r.status_code < 500 and set(r.json()) == {"error"}
    except ValueError:
        clear = False
    return "clear_4xx" if clear else ("accepted" if r.status_code < 400 else "unclear_4xx")


def _post(url: str, **kw: Any) -> tuple[httpx.Response | None, float]:
    start = time.perf_counter()
    try:
        r = httpx.post(url, timeout=30, **kw)
    except httpx.HTTPError:
        r = None
    return r, time.perf_counter() - start


def _category(rows: list[tuple[str, httpx.Response | None, float]]) -> dict[str, Any]:
    kinds = [_classify(r) for _, r, _ in rows]
    return {
        "cases": len(rows),
        "clear_4xx": kinds.count("clear_4xx"),
        "5xx": kinds.count("5xx"),
        "hangs": kinds.count("hang"),
        "other": len(rows) - kinds.count("clear_4xx") - kinds.count("5xx") - kinds.count("hang"),
        "max_s": round(max(t for _, _, t in rows), 2),
        "detail": [
            {"case": c, "status": None if r is None else r.status_code, "s": round(t, 2)}
            for c, r, t in rows
        ],
    }


def _slow_connections(url: str) -> list[tuple[str, httpx.Response | None, float]]:
    host, port = url.rsplit("//", 1)[1].split(":")
    sends = {"idle socket": b"", "slow headers": b"GET /health HTTP/1.1\r\nHost: loc",
             "slow body": b"POST /v1/ecg/analyze HTTP/1.1\r\nHost: localhost\r\nX-API-Key: "
             + KEY.encode() + b"\r\nContent-Length: 9999\r\n\r\nab"}  # fmt: skip
    rows = []
    for label, data in sends.items():
        socks = [socket.create_connection((host, int(port))) for _ in range(10)]
        start = time.perf_counter()
        closed = 0
        for s in socks:
            s.sendall(data)
            s.settimeout(30)
            try:
                while s.recv(4096):
                    pass
                closed += 1
            except TimeoutError:  # still open after 30 s
                pass
            except OSError:  # reset by the server: closed too
                closed += 1
            s.close()
        fake = httpx.Response(408, json={"error": {}}) if closed == 10 else None
        rows.append((f"{label} x10 (closed {closed})", fake, time.perf_counter() - start))
    return rows


async def _normal_under_attack(
    url: str, normal: list[Any], hostile: list[Any], n: int, form: dict[str, str] | None = None
) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=300, headers=HEAD) as client:
        stop = asyncio.Event()

        async def attacker() -> None:
            while not stop.is_set():
                await client.post(url + "/v1/ecg/analyze", files=hostile, data=form or {})

        attackers = [asyncio.create_task(attacker()) for _ in range(8)]
        await asyncio.sleep(1.0)
        times, statuses = [], []
        for _ in range(n):
            start = time.perf_counter()
            r = await client.post(url + "/v1/ecg/analyze", files=normal)
            times.append(time.perf_counter() - start)
            statuses.append(r.status_code)
        stop.set()
        await asyncio.gather(*attackers, return_exceptions=True)
    return {
        "requests": n,
        "ok": statuses.count(200),
        "p50_s": round(float(np.percentile(times, 50)), 2),
        "p99_s": round(float(np.percentile(times, 99)), 2),
        "max_s": round(max(times), 2),
    }


def _fusion_model(folder: Path) -> None:
    from medmodal.data.synthetic import make_multimodal_classification
    from medmodal.fusion import FusionClassifier

    data = make_multimodal_classification(120, seed=0)
    clf = FusionClassifier("early", epochs=2, batch_size=64, verbose=False, num_threads=1)
    clf.fit({"a": data.X[sorted(data.X)[0]][:, :8]}, data.y)
    clf.save(folder / "f")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--normal", type=int, default=40, help="normal analyses per scenario")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    info = _machine.machine_info(("fastapi", "uvicorn", "h11", "numpy"))
    tmp = Path(tempfile.mkdtemp(prefix="serve-abuse-"))
    _fusion_model(tmp / "models")
    normal = _wfdb(10.0, tmp)
    categories: dict[str, Any] = {}
    with _server(str(tmp / "models")) as (url, pid), RssSampler(pid) as rss:
        analyze = url + "/v1/ecg/analyze"
        for name, cases in analyze_cases().items():
            rows = [(c, *_post(analyze, files=f, data=d, headers=HEAD)) for c, f, d in cases]
            categories[name] = _category(rows)
        rows = [(c, *_post(url + "/v1/fusion/predict", json={"model": "f", "inputs": x},
                           headers=HEAD)) for c, x in predict_cases()]  # fmt: skip
        categories["predict"] = _category(rows)
        search = url + "/v1/align/search"
        rows = []
        for fmt in ("TIFF", "WEBP", "BMP"):
            image = {"image": ("q.png", _image(fmt))}
            rows.append((fmt, *_post(search, data={"model": "f"}, headers=HEAD, files=image)))
        categories["images"] = _category(rows)
        big = _one("big.csv", b"0\n" * (12 * 2**20))  # 24 MiB
        start = time.perf_counter()
        rows = [(f"24 MiB upload {i}", *_post(analyze, files=big)) for i in range(32)]
        categories["unauthenticated"] = _category(rows)
        categories["unauthenticated"]["total_s"] = round(time.perf_counter() - start, 2)
        categories["slow_connections"] = _category(_slow_connections(url))
        peak_hostile = rss.peak
        attack = {}
        issue = _one("fast.npz", _npz(signal=np.random.default_rng(0).normal(size=250_000), fs=1e5))
        attack["issue_100khz"] = asyncio.run(_normal_under_attack(url, normal, issue, args.normal))
        worst = _one("w.npy", _npy(np.random.default_rng(0).normal(size=2_000_000)))
        attack["in_budget_20khz_100s"] = asyncio.run(
            _normal_under_attack(url, normal, worst, args.normal // 2, {"sampling_rate": "20000"})
        )
        peak = rss.peak
    result = {
        "machine": info,
        "categories": categories,
        "under_attack": attack,
        "peak_rss_mib": round(peak, 1),
        "peak_rss_hostile_cases_mib": round(peak_hostile, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{NAME}.json").write_text(json.dumps(result, indent=1))
    (args.out / f"{NAME}.md").write_text(_markdown(result))
    print(_markdown(result))


def _markdown(r: dict[str, Any]) -> str:
    lines = [
        "# Hostile requests against the service (`benchmarks/serve_abuse.py`)",
        "",
        f"**Machine:** {_machine.describe(r['machine'])}",
        "",
        "| category | cases | clear 4xx | 5xx | hangs | other | slowest (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, c in r["categories"].items():
        lines.append(f"| {name} | {c['cases']} | {c['clear_4xx']} | {c['5xx']} | {c['hangs']} "
                     f"| {c['other']} | {c['max_s']} |")  # fmt: skip
    lines += ["", f"Peak memory (PSS) of the server and its workers: {r['peak_rss_mib']} MiB "
              f"({r['peak_rss_hostile_cases_mib']} MiB during the hostile cases).", "",
              "| normal 10 s analyses while 8 hostile uploads run | requests | 200 | p50 (s) "
              "| p99 (s) | max (s) |", "|---|---|---|---|---|---|"]  # fmt: skip
    for name, a in r["under_attack"].items():
        lines.append(f"| {name} | {a['requests']} | {a['ok']} | {a['p50_s']} | {a['p99_s']} "
                     f"| {a['max_s']} |")  # fmt: skip
    lines += ["", "Per case: `results/serve_abuse.json`. Slow connections: 10 sockets each, "
              "'clear' = closed by the server (read deadline 5 s).", "", MEMORY_LOG,
              ""]  # fmt: skip
    return "\n".join(lines)


#: Earlier runs of this script that set the memory limits (kept by hand).
MEMORY_LOG = """\
**Memory bar (1 GB) — earlier runs.** 2026-12-02 09:32 (one fresh worker process per
request; load average 3.9): 981.4 MiB. 2026-12-02 14:47, warm worker pool (issue 16)
with the report modules preloaded and up to 8 analyses of any size at once (load
average 11): **1341.9 MiB** — eight of the worst in-budget records at once. Since then
uploads over `Settings.large_upload_bytes` (2 MiB) run at most
`Settings.max_large_analyses` (1 per core) at a time, waiting without holding one of
the 8 analysis slots; the figure above is with that limit."""


if __name__ == "__main__":
    main()
