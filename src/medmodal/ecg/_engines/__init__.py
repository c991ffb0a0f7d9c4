"""Engines that run a function over tasks in parallel (``engine=`` of the batch functions).

Each engine is one private module registered here. An engine maps ``func`` over
``tasks`` and yields ``(index, outcome)`` pairs as tasks finish (any order); the outcome
is what ``func`` returned, or the exception that lost the task (a dead worker process,
say), so one task never takes the run down with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from medmodal.registry import Registry


class Engine(Protocol):
    """``engine(func, tasks, *, workers, client, scheduler) -> (index, outcome)``."""

    def __call__(
        self,
        func: Callable[[Any], Any],
        tasks: Sequence[Any],
        *,
        workers: int,
        client: Any = None,
        scheduler: str | None = None,
    ) -> Iterator[tuple[int, Any]]: ...


ENGINES: Registry[Engine] = Registry("batch engine")

from medmodal.ecg._engines import _dask, _joblib  # noqa: E402,F401  (registration)


def available_engines() -> tuple[str, ...]:
    """Names accepted by ``engine=``."""
    return ENGINES.names()
