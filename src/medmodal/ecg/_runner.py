"""Calls with a time limit: a long-lived helper process that can be killed mid-record.

A record that runs past its limit cannot be stopped inside the process running it (numpy
code ignores thread interrupts, and Dask or joblib run tasks off the main thread, where
no alarm signal reaches). So records with a limit run in one helper Python process per
worker, started once and reused: the worker sends ``(func, argument)``, waits at most
the limit for the answer, and on a timeout kills the helper (a fresh one starts for the
next record). A helper that dies (out of memory, a crash in a C extension) costs one
record, reported with its exit code.

POSIX only (the helper talks over inherited pipes).
"""

from __future__ import annotations

import atexit
import dataclasses
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

#: Seconds a new helper may take to import numpy, scipy and medmodal before giving up.
STARTUP_LIMIT_S = 300.0

#: The helper's loop: answer each ``(func, arg)`` with ``("ok", value)`` or ``("error",
#: reason)``. Inline, so that starting a helper imports nothing but the standard library.
_BOOT = """
import sys
from multiprocessing.connection import Connection
requests = Connection(int(sys.argv[1]), writable=False)
answers = Connection(int(sys.argv[2]), readable=False)
while True:
    try:
        func, arg = requests.recv()
    except EOFError:
        break
    try:
        answers.send(("ok", func(arg)))
    except Exception as exc:
        lines = str(exc).splitlines()
        answers.send(("error", type(exc).__name__ + (": " + lines[0] if lines else "")))
"""


@dataclass(frozen=True)
class Outcome:
    """What one limited call gave: ``status`` is ``"ok"``, ``"error"`` or ``"timeout"``."""

    status: str
    value: Any = None
    reason: str = ""
    seconds: float = 0.0  # time of the call itself (not the start of a helper)


def reason(exc: BaseException) -> str:
    """One line naming the exception: ``"ValueError: first line of the message"``."""
    lines = str(exc).splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


class _Helper:
    """One helper process and its two pipes."""

    def __init__(self, warm_up: tuple[Callable[[Any], Any], Any] | None) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        env.setdefault("OMP_NUM_THREADS", "1")
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOT, str(to_child_r), str(from_child_w)],
            pass_fds=(to_child_r, from_child_w),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self.requests = Connection(to_child_w, readable=False)
        self.answers = Connection(from_child_r, writable=False)
        # Imports and first-call costs (numpy, scipy...) do not count as record time.
        first, arg = warm_up or (abs, 0)
        outcome = self.call(first, arg, STARTUP_LIMIT_S)
        if outcome.status != "ok":
            self.close()
            raise RuntimeError(f"the record helper process did not start: {outcome.reason}")

    def call(self, func: Callable[[Any], Any], arg: Any, limit: float) -> Outcome:
        try:
            self.requests.send((func, arg))
            if not self.answers.poll(limit):
                self.close()
                return Outcome("timeout", reason=f"timeout: still running after {limit:g} s")
            status, value = self.answers.recv()
        except (EOFError, OSError):
            code = self.process.wait()
            self.close()
            return Outcome("error", reason=f"the record's process died (exit code {code})")
        if status == "ok":
            return Outcome("ok", value)
        return Outcome("error", reason=value)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for conn in (self.requests, self.answers):
            conn.close()


_local = threading.local()


def call_with_limit(
    func: Callable[[Any], Any],
    arg: Any,
    limit: float | None,
    *,
    warm_up: tuple[Callable[[Any], Any], Any] | None = None,
) -> Outcome:
    """``func(arg)`` with at most ``limit`` seconds (``None``: in this process, no limit).

    ``func`` must be a module-level function and ``arg`` picklable. Exceptions of ``func``
    become ``Outcome("error", reason=...)``; they never propagate. ``warm_up`` is a
    ``(function, argument)`` call a new helper makes first, without the limit (imports
    and caches that should not count against the first record).
    """
    if limit is None:
        began = time.perf_counter()
        try:
            value = func(arg)
        except Exception as exc:
            return Outcome("error", reason=reason(exc), seconds=time.perf_counter() - began)
        return Outcome("ok", value, seconds=time.perf_counter() - began)
    helper: _Helper | None = getattr(_local, "helper", None)
    if helper is None or not helper.alive:
        try:
            helper = _local.helper = _Helper(warm_up)
        except RuntimeError as exc:
            return Outcome("error", reason=str(exc))
        atexit.register(helper.close)
    began = time.perf_counter()
    outcome = helper.call(func, arg, limit)
    if not helper.alive:
        _local.helper = None
    return dataclasses.replace(outcome, seconds=time.perf_counter() - began)
