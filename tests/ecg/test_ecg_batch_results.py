"""``benchmarks/ecg_batch.py``: the 100,000-record goal is judged from the run (complete,
memory flat in workers and client), the memory figure is drawn from the kept samples,
and the committed pages match their JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests._benchmarks import BENCH, import_benchmarks


@pytest.fixture(scope="module")
def bench() -> Any:
    return import_benchmarks("ecg_batch")[0]


def _samples(n: int, worker_growth: float, client_growth: float) -> list[dict[str, Any]]:
    return [
        {
            "t_s": 10.0 * i,
            "workers_mb": [380 + worker_growth * i / n, 375.0],
            "client_mb": 240 + client_growth * i / n,
        }
        for i in range(n)
    ]


def _run(bench: Any, samples: list[dict[str, Any]], records: int = 100_000) -> dict[str, Any]:
    return {
        "workers": 2, "records": records, "ok": records - 3000, "error": 2000,
        "timeout": 1000, "elapsed_s": 3600.0, "records_per_s": records / 3600,
        "slowest_record_s": 9.0, "slowest_record": "ecg000042", "median_record_s": 0.06,
        "peak_worker_mb": max(max(s["workers_mb"]) for s in samples),
        "peak_client_mb": max(s["client_mb"] for s in samples),
        "memory_flat": bench._flatness(samples), "load_before": [0.2, 0.2, 0.2],
        "load_after": [2.0, 2.0, 2.0], "memory_samples": samples,
    }  # fmt: skip


NK = {
    "records": 30, "unreadable": 0, "failed_leads": 1, "elapsed_s": 70.0, "cpu_s": 70.0,
    "records_per_s": 0.4, "slowest_record_s": 3.0, "load_before": None, "load_after": None,
}  # fmt: skip


def test_a_complete_run_with_flat_memory_meets_the_goal(bench: Any, tmp_path: Path) -> None:
    run = _run(bench, _samples(360, worker_growth=10, client_growth=5))
    last = bench.goals([run], NK)[-1]
    assert last.startswith("met: the 100,000-record run completed (97,000 ok, 2,000 error")
    assert "largest worker 383 → 389 MB, client 241 → 244 MB" in last
    payload = {"dask": [run], "neurokit2": NK, "config": {"n": 100_000, "seed": 0,
               "timeout": 30.0}, "corpus_kinds": "x", "goals": [last], "machine": {}}  # fmt: skip
    assert bench.plot_memory(payload, tmp_path / "m.png")
    assert (tmp_path / "m.png").stat().st_size > 5_000
    assert "![Memory over the run](m.png)" in bench.render(payload, "m.png")


@pytest.mark.parametrize(("worker", "client"), [(200, 0), (0, 200)])
def test_growing_memory_misses_the_goal(bench: Any, worker: float, client: float) -> None:
    run = _run(bench, _samples(360, worker_growth=worker, client_growth=client))
    assert bench.goals([run], NK)[-1].startswith("MISSED: the 100,000-record run")
    short = _run(bench, _samples(20, 0, 0), records=1000)
    assert bench.goals([short], NK)[-1].startswith("not run here (1000 records)")


@pytest.mark.parametrize(
    "name", ["ecg_batch", "ecg_batch_1000", "ecg_batch_100k", "ecg_batch_recheck"]
)
def test_committed_pages_match_their_json(bench: Any, name: str) -> None:
    results = BENCH / "results"
    payload = json.loads((results / f"{name}.json").read_text())
    figure = f"{name}_memory.png" if (results / f"{name}_memory.png").exists() else None
    assert (results / f"{name}.md").read_text() == bench.render(payload, figure)


def test_the_committed_100k_run_is_complete_and_flat(bench: Any) -> None:
    payload = json.loads((BENCH / "results" / "ecg_batch_100k.json").read_text())
    (run,) = payload["dask"]
    assert run["records"] == payload["config"]["n"] == 100_000
    assert run["ok"] + run["error"] + run["timeout"] == 100_000
    assert len(run["memory_samples"]) > 100 and bench._is_flat(run["memory_flat"])
    assert payload["goals"][-1].startswith("met: the 100,000-record run completed")
