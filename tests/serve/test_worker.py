"""The analysis workers (:mod:`medmodal.serve.worker`): kept warm between requests,
replaced when killed, dead, or grown large; errors as the service reports them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.serve import _worker_tasks as tasks

from medmodal.serve._errors import ServiceError
from medmodal.serve.worker import RECYCLE_GROWTH_MIB, WorkerPool, run_with_deadline

#: The repository root: workers import the test tasks from it.
ROOT = str(Path(__file__).resolve().parents[2])


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[WorkerPool]:
    """A pool of its own; its workers start with the repository on their path."""
    monkeypatch.syspath_prepend(ROOT)
    pool = WorkerPool()
    yield pool
    pool.close()


def test_a_worker_serves_request_after_request(pool: WorkerPool) -> None:
    """One idle worker answers consecutive tasks (no process per request)."""
    first = pool.run(tasks.pid, (), timeout_s=60)
    assert [pool.run(tasks.pid, (), timeout_s=60) for _ in range(3)] == [first] * 3
    assert pool.run(divmod, (7, 2), timeout_s=60) == (3, 1)


def test_a_worker_past_the_deadline_is_killed_and_replaced(pool: WorkerPool) -> None:
    first = pool.run(tasks.pid, (), timeout_s=60)
    start = time.perf_counter()
    with pytest.raises(ServiceError) as info:
        pool.run(time.sleep, (30,), timeout_s=0.2)
    assert info.value.status == 504 and "0.2 s" in info.value.message
    assert time.perf_counter() - start < 10
    assert pool.run(tasks.pid, (), timeout_s=60) != first


def test_a_dead_worker_is_503_and_replaced(pool: WorkerPool) -> None:
    first = pool.run(tasks.pid, (), timeout_s=60)
    with pytest.raises(ServiceError) as info:
        pool.run(tasks.die, (), timeout_s=60)
    assert info.value.status == 503
    assert pool.run(tasks.pid, (), timeout_s=60) != first


def test_a_worker_that_grew_large_is_replaced_after_its_answer(pool: WorkerPool) -> None:
    """The memory of one large task is returned: its worker does not serve again."""
    small = pool.run(tasks.grow, (1,), timeout_s=60)
    assert pool.run(tasks.pid, (), timeout_s=60) == small
    big = pool.run(tasks.grow, (RECYCLE_GROWTH_MIB + 40,), timeout_s=60)
    assert big == small  # answered by the same worker ...
    assert pool.run(tasks.pid, (), timeout_s=60) != big  # ... which then went


def test_errors_keep_their_status_and_unexpected_ones_only_their_type(
    pool: WorkerPool, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ServiceError) as info:
        pool.run(tasks.fail, ("patient-jane-roe",), timeout_s=60)
    assert info.value.status == 500 and "patient" not in info.value.message
    assert "RuntimeError" in caplog.text and "patient" not in caplog.text
    with pytest.raises(ServiceError) as info:  # an answer that cannot be sent back
        pool.run(threading.Lock, (), timeout_s=60)
    assert info.value.status == 500
    assert pool.run(divmod, (7, 2), timeout_s=60) == (3, 1)


def test_a_task_the_worker_cannot_import_is_500_and_the_worker_stays(
    pool: WorkerPool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first = pool.run(tasks.pid, (), timeout_s=60)
    (tmp_path / "only_in_the_parent.py").write_text("def f():\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))  # after the worker started: not on its path
    from only_in_the_parent import f  # type: ignore[import-not-found]

    with pytest.raises(ServiceError) as info:
        pool.run(f, (), timeout_s=60)
    assert info.value.status == 500
    assert pool.run(tasks.pid, (), timeout_s=60) == first


def test_concurrent_tasks_get_their_own_workers(pool: WorkerPool) -> None:
    """Tasks running at once each get a worker; afterwards they wait idle for the next."""
    from concurrent.futures import ThreadPoolExecutor

    pool.prestart(2)
    with ThreadPoolExecutor(3) as threads:
        pids = set(threads.map(lambda _: pool.run(tasks.nap_pid, (0.5,), 60), range(3)))
    assert len(pids) == 3
    assert {pool.run(tasks.nap_pid, (0.0,), 60) for _ in range(3)} <= pids


def test_the_module_function_uses_the_shared_pool() -> None:
    assert run_with_deadline(divmod, (9, 4), timeout_s=60) == (2, 1)
