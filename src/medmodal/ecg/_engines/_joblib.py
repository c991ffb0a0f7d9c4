"""joblib: worker processes on this machine (loky), no extra dependency."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from medmodal.ecg._engines import ENGINES


def _indexed(func: Callable[[Any], Any], index: int, task: Any) -> tuple[int, Any]:
    try:
        return index, func(task)
    except Exception as exc:  # the task's failure becomes its outcome, not the run's
        return index, exc


@ENGINES.register("joblib", description="worker processes on this machine (joblib/loky)")
def run_joblib(
    func: Callable[[Any], Any],
    tasks: Sequence[Any],
    *,
    workers: int,
    client: Any = None,
    scheduler: str | None = None,
) -> Iterator[tuple[int, Any]]:
    """Run ``func`` over ``tasks`` in ``workers`` processes (1: in this process)."""
    from joblib import Parallel, delayed

    if client is not None or scheduler is not None:
        from medmodal.errors import InvalidParameterError

        raise InvalidParameterError(
            "engine 'joblib' runs on this machine only; client= and scheduler= need engine='dask'"
        )
    job = delayed(_indexed)
    parallel = Parallel(n_jobs=workers, return_as="generator_unordered")
    yield from parallel(job(func, i, task) for i, task in enumerate(tasks))
