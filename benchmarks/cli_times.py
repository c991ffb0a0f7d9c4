"""How long each CLI command takes, end to end (issue 16: a CLI that respects time).

Runs each command below as a subprocess (``python -m medmodal ...``, outputs into a temp
folder, ``--quiet``) and records wall and CPU time with the machine's load; the README's
"typical time" column and the CLI's printed estimates quote these runs. Commands that
need a data set read ``--data-root`` (default ``$MEDMODAL_DATA``).

Usage::

    python benchmarks/cli_times.py [--data-root DIR] [--only NAME ...] [--render-only]

``--only`` reruns some commands and keeps the others' earlier results.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _machine import describe, load_average, machine_info

RESULTS = Path(__file__).resolve().parent / "results"
NAME = "cli_times"

#: name -> command after ``python -m medmodal`` ({tmp} and {root} are filled in).
COMMANDS: dict[str, list[str]] = {
    "ecg bench --records 100,203": ["ecg", "bench", "--records", "100,203", "--out", "{tmp}/b2"],
    "demo --quick": ["demo", "--quick", "--out", "{tmp}/demo-quick"],
    "ecg analyze (MIT-BIH 203, 30 min, 2 leads)": ["ecg", "analyze", "{root}/mitdb/203.hea"],
    "fusion compare --quick": ["fusion", "compare", "--quick"],
    "ecg bench --quick": ["ecg", "bench", "--quick", "--out", "{tmp}/bench-quick"],
    "fusion compare --data mitdb --quick": ["fusion", "compare", "--data", "mitdb", "--quick"],
    "align train --quick": ["align", "train", "--quick", "--out", "{tmp}/align"],
    "fusion compare": ["fusion", "compare"],
    "fusion compare --missing": ["fusion", "compare", "--missing"],
    "demo": ["demo", "--out", "{tmp}/demo"],
}


def _run(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = load_average()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "load_at_start": None if load is None else load[0],
        "exit_code": proc.returncode,
        "stderr_tail": proc.stderr[-500:],
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-root", type=Path, default=os.environ.get("MEDMODAL_DATA"))
    p.add_argument("--only", nargs="*", help="names of COMMANDS to (re)run")
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--render-only", action="store_true", help="rewrite the .md from the .json")
    args = p.parse_args(argv)
    path = args.out / f"{NAME}.json"
    old = json.loads(path.read_text()) if path.is_file() else {"runs": {}}
    if args.render_only:
        (args.out / f"{NAME}.md").write_text(render(old))
        return old
    tmp = Path(tempfile.mkdtemp(prefix="medmodal-cli-"))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    runs = dict(old.get("runs", {}))
    for name, tail in COMMANDS.items():
        if args.only and name not in args.only:
            continue
        filled = [a.format(tmp=tmp, root=args.data_root) for a in tail]
        cmd = [sys.executable, "-m", "medmodal", *filled, "--quiet"]
        own = dict(env, MEDMODAL_DATA=str(args.data_root))
        if name.startswith("demo"):  # the demo as `make demo` runs it: shipped data only
            own.pop("MEDMODAL_DATA")
        runs[name] = {"cmd": " ".join(["medmodal", *tail, "--quiet"]), **_run(cmd, own)}
        print(f"{name}: {runs[name]['wall_s']:.1f} s wall, {runs[name]['cpu_s']:.1f} s CPU",
              flush=True)  # fmt: skip
        _save(args.out, runs)  # after each command: a cut run keeps what it timed
    shutil.rmtree(tmp, ignore_errors=True)
    return _save(args.out, runs)


def _save(out: Path, runs: dict[str, Any]) -> dict[str, Any]:
    results = {"machine": machine_info(("torch",)), "runs": runs}
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{NAME}.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    (out / f"{NAME}.md").write_text(render(results))
    return results


def _fmt(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def render(r: dict[str, Any]) -> str:
    lines = [
        "# How long each CLI command takes",
        "",
        f"Produced by `benchmarks/cli_times.py`. Machine: {describe(r['machine'])}",
        "",
        "Each command run once as a subprocess with `--quiet`, outputs in a temp folder, "
        "data from the project's shared data root. Wall time depends on what else the "
        "machine runs (load average at each start is shown; the VM is shared); CPU time "
        "is the steadier figure.",
        "",
        "| command | wall | CPU | load at start | exit |",
        "|---|---:|---:|---:|---:|",
    ]
    for run in r["runs"].values():
        load = "" if run.get("load_at_start") is None else f"{run['load_at_start']:.1f}"
        lines.append(
            f"| `{run['cmd']}` | {_fmt(run['wall_s'])} | {_fmt(run['cpu_s'])} | {load} | "
            f"{run['exit_code']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
