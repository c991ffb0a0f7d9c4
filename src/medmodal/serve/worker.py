"""Run one analysis in a child process with a deadline: :func:`run_with_deadline`.

A thread cannot be stopped, so an analysis that runs too long (a record whose cost the
readers' budgets did not foresee) would keep its CPU and its analysis slot however long
it takes. Each analysis therefore runs in its own process, forked from a *forkserver*
that has already imported the analysis code (a few milliseconds per request); past the
deadline the process is killed, its memory returned and the request answered 504.

The child answers through a pipe with ``("ok", value)`` or ``("error", fields of a
ServiceError)``; an unexpected exception is reported by its type only (its text can
quote a file name or a value), and a child that dies (killed by the kernel when memory
runs out) is a 503.

Example:
    >>> run_with_deadline(divmod, (7, 2), timeout_s=30)
    (3, 1)
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import Any

from medmodal.serve._errors import ServiceError

log = logging.getLogger("medmodal.serve")

#: Modules the forkserver imports once, so each forked worker starts warm.
PRELOAD = ["medmodal.serve.ecg"]
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


def run_with_deadline(func: Callable[..., Any], args: tuple[Any, ...], *, timeout_s: float) -> Any:
    """``func(*args)`` in a fresh worker process, killed after ``timeout_s`` seconds.

    ``func`` must be importable by name and ``args`` picklable.

    Raises:
        ServiceError: 504 past the deadline, 503 when the worker died, or the
            ServiceError ``func`` raised (with its status, message and field).
    """
    ctx = worker_context()
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(sender, func, args), daemon=True)  # type: ignore[attr-defined]
    process.start()
    sender.close()
    try:
        if not receiver.poll(timeout_s):
            raise ServiceError(
                504,
                f"the analysis took longer than the limit of {timeout_s:g} s and was stopped "
                "(crop the record or pick one lead)",
                code="timeout",
            )
        try:
            kind, payload = receiver.recv()
        except (EOFError, OSError):
            raise ServiceError(
                503, "the analysis worker stopped (out of memory?); try a shorter record"
            ) from None
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join()
    if kind == "ok":
        return payload
    status, message, field, code = payload
    if status >= 500:
        log.error("unexpected %s in an analysis worker", message)
        message = "internal error; the service log has the error type"
    raise ServiceError(status, message, field=field, code=code)


def _child(sender: Connection, func: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        result: tuple[str, Any] = ("ok", func(*args))
    except ServiceError as exc:
        result = ("error", (exc.status, exc.message, exc.field, exc.code))
    except MemoryError:
        message = "the record needs more memory than the service has; crop it"
        result = ("error", (413, message, "file", "payload_too_large"))
    except Exception as exc:  # the type only: the text can quote a file name or a value
        result = ("error", (500, type(exc).__name__, None, "internal_error"))
    sender.send(result)
    sender.close()
