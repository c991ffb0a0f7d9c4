"""A CLI that respects time: estimates before long runs, smoke-run marks, quiet logs.

- :func:`announce`: one line on stderr before a run expected to take a while ("about
  9 min on 2 cores (--quick: a smoke run of about 30 s)"), from a cost measured on this machine
  (:func:`per_call_seconds`) or from timed runs (``benchmarks/results/cli_times.md``).
- :data:`SMOKE_RUN`: the line every ``--quick`` output carries (tables, JSON, files).
- :func:`progress_wanted`: progress bars only when stderr is a terminal, so a saved log
  holds no redraws.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import IO, Any

from medmodal.cli._common import err_console

#: The mark of every ``--quick`` output: its numbers check that the run works, nothing more.
SMOKE_RUN = "smoke run — not a result"

#: Estimates shorter than this are not announced.
ANNOUNCE_AFTER_S = 20.0


def progress_wanted(quiet: bool, json_output: bool, stream: IO[str] | None = None) -> bool:
    """Progress bars are drawn only for a person watching: not ``--quiet``, not ``--json``,
    and ``stream`` (default stderr, where the bars go) is a terminal."""
    if quiet or json_output:
        return False
    target = sys.stderr if stream is None else stream
    try:
        return bool(target.isatty())
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def format_duration(seconds: float) -> str:
    """``45 s``, ``9 min``, ``1.5 h`` (rounded for reading, not for accounting)."""
    if seconds < 90:
        return f"{max(1, round(seconds / 5) * 5 if seconds > 10 else round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def estimate_line(
    seconds: float, *, quick_seconds: float | None = None, upper: bool = False
) -> str:
    """``about 9 min on 2 cores (--quick: a smoke run of about 30 s)``; ``upper``: the
    figure is a bound (``up to about 9 min``, e.g. epochs counted in full)."""
    line = f"{'up to ' if upper else ''}about {format_duration(seconds)} on {cores()} core"
    line += "s" if cores() > 1 else ""
    if quick_seconds is not None:
        line += f" (--quick: a smoke run of about {format_duration(quick_seconds)})"
    return line


def announce(
    what: str,
    seconds: float,
    *,
    quick_seconds: float | None = None,
    show: bool = True,
    upper: bool = False,
) -> None:
    """Print ``<what>: about ...`` on stderr when ``seconds`` is worth a warning."""
    if show and seconds >= ANNOUNCE_AFTER_S:
        line = estimate_line(seconds, quick_seconds=quick_seconds, upper=upper)
        err_console.print(f"{what}: {line}", highlight=False, soft_wrap=True)


def per_call_seconds(call: Callable[[int], Any], small: int = 1, large: int = 3) -> float:
    """Seconds one more unit costs: ``(t(large) - t(small)) / (large - small)``, where
    ``call(k)`` does ``k`` units (e.g. epochs); fixed start-up costs cancel out."""
    t0 = time.perf_counter()
    call(small)
    t1 = time.perf_counter()
    call(large)
    t2 = time.perf_counter()
    return max((t2 - t1) - (t1 - t0), 0.0) / (large - small)


def mark_smoke(payload: dict[str, Any], quick: bool) -> dict[str, Any]:
    """``payload`` with ``smoke_run`` (and, for ``--quick``, ``note``: :data:`SMOKE_RUN`)."""
    out = {"smoke_run": quick, **payload}
    if quick:
        out["note"] = SMOKE_RUN
    return out
