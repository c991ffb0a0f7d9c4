"""Run one analysis in a warm worker process with a deadline: :func:`run_with_deadline`.

A thread cannot be stopped, so an analysis that runs too long (a record whose cost the
readers' budgets did not foresee) would keep its CPU and its analysis slot however long
it takes. Each analysis therefore runs in a worker process; past the deadline that
process is killed, its memory returned and the request answered 504.

The workers are kept between requests (:class:`WorkerPool`): a process forked per request
spent more than the HTTP layer on starting (about 100 ms), on importing the record
readers again and on rebuilding the filters' caches. They are forked from a
*forkserver* that imported and exercised the analysis code once
(:mod:`medmodal.serve._preload`), so a new worker starts warm and shares those pages.
A worker is replaced when it was killed or died, after :data:`MAX_TASKS` analyses, and
after an analysis that raised its peak memory by more than :data:`RECYCLE_GROWTH_MIB`
(one large record does not keep its memory between requests); after each task it hands
the memory it freed back to the system. The service starts the forkserver and one
worker when it starts (:func:`start_workers`), so the first request does not wait for
the warm-up.

The worker answers each task with ``("ok", value)`` or ``("error", fields of a
ServiceError)``; an unexpected exception is reported by its type only (its text can
quote a file name or a value), and a worker that dies (killed by the kernel when memory
runs out) is a 503.

Example:
    >>> run_with_deadline(divmod, (7, 2), timeout_s=30)
    (3, 1)
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import Any

from medmodal.serve._errors import ServiceError

log = logging.getLogger("medmodal.serve")

#: Modules the forkserver imports once, so each forked worker starts warm.
PRELOAD = ["medmodal.serve._preload"]
#: Analyses one worker runs before it is replaced (bounds slow leaks).
MAX_TASKS = 1000
#: A worker whose peak memory grew by more than this (MiB) since it started is replaced
#: after its answer, so that the memory of one large record is returned (a 60-s
#: two-lead record at 360 Hz grows it by about 25 MiB, a 5-min one by about 40 MiB).
RECYCLE_GROWTH_MIB = 64
_context: list[BaseContext] = []


def worker_context() -> BaseContext:
    """The multiprocessing context of the workers: forkserver (preloaded) where the
    platform has it, spawn elsewhere."""
    if not _context:
        ctx: BaseContext
        if "forkserver" in multiprocessing.get_all_start_methods():
            server = multiprocessing.get_context("forkserver")
            server.set_forkserver_preload(PRELOAD)
            ctx = server
        else:  # pragma: no cover - Windows
            ctx = multiprocessing.get_context("spawn")
        _context.append(ctx)
    return _context[0]


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, ctx: BaseContext) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_serve, args=(child,), daemon=True)  # type: ignore[attr-defined]
        self.process.start()
        child.close()

    def alive(self) -> bool:
        return bool(self.process.is_alive()) and not self.conn.closed

    def stop(self) -> None:
        """Kill the process (idle or not) and reap it."""
        self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join()


class WorkerPool:
    """Warm worker processes, one per analysis running at once.

    The pool does not bound how many run: the routes' limiter does
    (``Settings.max_concurrent_analyses``); a task finding no idle worker starts one.
    """

    def __init__(self) -> None:
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def prestart(self, n: int) -> None:
        """Start workers until ``n`` are idle (:func:`start_workers` does it at start-up)."""
        while True:
            with self._lock:
                if len(self._idle) >= n:
                    return
            worker = _Worker(worker_context())
            with self._lock:
                self._idle.append(worker)

    def run(self, func: Callable[..., Any], args: tuple[Any, ...], timeout_s: float) -> Any:
        """``func(*args)`` in a worker (see :func:`run_with_deadline`)."""
        worker = self._take()
        try:
            worker.conn.send((func, args))
            answered = worker.conn.poll(timeout_s)
            if answered:
                kind, payload, keep = worker.conn.recv()
        except (EOFError, OSError):
            worker.stop()
            raise ServiceError(
                503, "the analysis worker stopped (out of memory?); try a shorter record"
            ) from None
        except BaseException:  # a task that cannot be pickled, an interrupt: never reused
            worker.stop()
            raise
        if not answered:
            worker.stop()
            raise ServiceError(
                504,
                f"the analysis took longer than the limit of {timeout_s:g} s and was "
                "stopped (crop the record or pick one lead)",
                code="timeout",
            )
        self._give(worker, keep)
        return _unwrap(kind, payload)

    def close(self) -> None:
        """Stop every idle worker."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()

    def _take(self) -> _Worker:
        with self._lock:
            if self._pid != os.getpid():  # a forked copy of the pool: not our workers
                self._idle, self._pid = [], os.getpid()
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
                worker.stop()
        return _Worker(worker_context())

    def _give(self, worker: _Worker, keep: bool) -> None:
        if not keep:
            worker.stop()
            return
        with self._lock:
            self._idle.append(worker)


_pool = WorkerPool()


def worker_pool() -> WorkerPool:
    """The process's pool of analysis workers."""
    return _pool


def start_workers(n: int = 1) -> threading.Thread:
    """Start the forkserver (its warm-up) and ``n`` idle workers in a background thread;
    the service calls it at start-up. Returns the thread."""

    def start() -> None:
        try:
            _pool.prestart(n)
        except Exception as exc:  # the first request will try again
            log.warning("the analysis workers did not start (%s)", type(exc).__name__)

    thread = threading.Thread(target=start, name="medmodal-workers", daemon=True)
    thread.start()
    return thread


def run_with_deadline(func: Callable[..., Any], args: tuple[Any, ...], *, timeout_s: float) -> Any:
    """``func(*args)`` in a warm worker process, killed after ``timeout_s`` seconds.

    ``func`` must be importable by name, ``args`` and its value picklable.

    Raises:
        ServiceError: 504 past the deadline, 503 when the worker died, or the
            ServiceError ``func`` raised (with its status, message and field).
    """
    return _pool.run(func, args, timeout_s)


def _unwrap(kind: str, payload: Any) -> Any:
    if kind == "ok":
        return payload
    status, message, field, code = payload
    if status >= 500:
        log.error("unexpected %s in an analysis worker", message)
        message = "internal error; the service log has the error type"
    raise ServiceError(status, message, field=field, code=code)


def _serve(conn: Connection) -> None:
    """The worker's loop: run tasks until the pipe closes or the worker should go."""
    start = _peak_mib()
    for done in range(1, MAX_TASKS + 1):
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        except Exception as exc:  # a task that cannot be unpickled here
            task = (_raise, (exc,))
        kind, payload = _call(*task)
        del task
        _trim()
        keep = done < MAX_TASKS and _peak_mib() - start <= RECYCLE_GROWTH_MIB
        try:
            conn.send((kind, payload, keep))
        except Exception as exc:  # an answer that cannot be pickled
            conn.send(("error", (500, type(exc).__name__, None, "internal_error"), keep))
        if not keep:
            return


def _raise(exc: Exception) -> None:
    raise exc


def _call(func: Callable[..., Any], args: tuple[Any, ...]) -> tuple[str, Any]:
    try:
        return "ok", func(*args)
    except ServiceError as exc:
        return "error", (exc.status, exc.message, exc.field, exc.code)
    except MemoryError:
        message = "the record needs more memory than the service has; crop it"
        return "error", (413, message, "file", "payload_too_large")
    except Exception as exc:  # the type only: the text can quote a file name or a value
        return "error", (500, type(exc).__name__, None, "internal_error")


def _trim() -> None:
    """Hand the memory the task freed back to the system (glibc's ``malloc_trim``; a
    millisecond or two), so an idle worker holds little more than it started with."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _peak_mib() -> float:
    """This process's peak resident memory (MiB); 0 where the platform does not say."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)
