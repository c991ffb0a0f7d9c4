"""Tasks for the analysis workers' tests (importable by name, as worker tasks must be)."""

from __future__ import annotations

import os
import time


def pid() -> int:
    """The worker's process id."""
    return os.getpid()


def nap_pid(seconds: float) -> int:
    """Sleep, then the worker's process id."""
    time.sleep(seconds)
    return os.getpid()


def grow(mib: int) -> int:
    """Touch ``mib`` MiB (the worker's peak memory grows by as much); its process id."""
    block = bytearray(os.urandom(1024)) * (mib * 1024)
    del block
    return os.getpid()


def die() -> None:
    """End the worker without an answer (as the kernel's out-of-memory killer would)."""
    os._exit(3)


def fail(text: str) -> None:
    """An unexpected error whose text must not reach the client."""
    raise RuntimeError(text)
