"""Dask distributed: a LocalCluster here, or any running scheduler (Slurm, Kubernetes...).

Tasks are submitted a few per worker thread at a time and each result is released as
soon as it has been yielded, so neither the scheduler nor the client accumulates results.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from typing import Any

from medmodal._optional import require
from medmodal.ecg._engines import ENGINES

#: Tasks in flight per worker thread (enough to keep workers busy between round trips).
IN_FLIGHT_PER_THREAD = 2


@ENGINES.register("dask", description="Dask distributed: LocalCluster or a scheduler address")
def run_dask(
    func: Callable[[Any], Any],
    tasks: Sequence[Any],
    *,
    workers: int,
    client: Any = None,
    scheduler: str | None = None,
) -> Iterator[tuple[int, Any]]:
    """Run ``func`` over ``tasks`` on ``client``, ``scheduler``, or a new LocalCluster.

    The LocalCluster has ``workers`` processes of one thread each and is closed at the end;
    a given ``client`` is left open.
    """
    distributed = require("distributed", extra="scale", feature="engine='dask'")
    with ExitStack() as stack:
        if client is None and scheduler is not None:
            client = stack.enter_context(distributed.Client(scheduler))
        elif client is None:
            cluster = distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            stack.enter_context(cluster)
            client = stack.enter_context(distributed.Client(cluster))
        yield from _stream(distributed, client, func, tasks)


def _stream(
    distributed: Any, client: Any, func: Callable[[Any], Any], tasks: Sequence[Any]
) -> Iterator[tuple[int, Any]]:
    threads = max(1, sum(client.nthreads().values()))
    pending = iter(enumerate(tasks))
    index_of: dict[str, int] = {}
    running = distributed.as_completed()

    def submit(n: int) -> None:
        for index, task in _take(pending, n):
            future = client.submit(func, task, pure=False)
            index_of[future.key] = index
            running.add(future)

    submit(IN_FLIGHT_PER_THREAD * threads)
    for future in running:
        index = index_of.pop(future.key)
        try:
            outcome = future.result()
        except Exception as exc:  # e.g. KilledWorker: the task's records become error rows
            outcome = exc
        future.release()
        submit(1)
        yield index, outcome


def _take(pending: Iterator[tuple[int, Any]], n: int) -> list[tuple[int, Any]]:
    out = []
    for item in pending:
        out.append(item)
        if len(out) == n:
            break
    return out
