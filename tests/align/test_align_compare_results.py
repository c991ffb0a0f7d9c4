"""The MedPix tower comparison (issue 15): epochs chosen on val, seed means that match the
runs, a sweep that never scored the test split, and a page that shows the figures."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from tests._benchmarks import BENCH, import_benchmarks

RESULTS = BENCH / "results"


@pytest.fixture(scope="module")
def bench() -> Any:
    return import_benchmarks("align_medpix", "_align_compare_report")


def _run(tower: str, evaluation: str, seed: int, r10: float, curve: list[float]) -> dict:
    test = {"a_to_b_R@10": r10, "b_to_a_R@10": r10 + 0.1, "zs_modality": 0.9,
            "zs_location_category": 0.6 + seed / 100, "zs_plane": 0.5,
            "zs_modality_low": 0.85, "zs_modality_high": 0.94}  # fmt: skip
    return {
        "tower": tower, "evaluation": evaluation, "seed": seed, "model": "m", "lr": 1e-3,
        "pretrained": tower == "pretrained", "lock_image": 12 if tower == "pretrained" else None,
        "image_size": 96, "epochs": len(curve), "best_epoch": int(np.argmax(curve)) + 1,
        "val_best": max(curve), "val_curve": curve, "params_trainable": 10,
        "train_cpu_s": 60.0, "train_wall_s": 60.0, "test": test,
        "n": {"train": 10, "val": 5, "test": 5},
    }  # fmt: skip


def test_summary_goals_and_page_from_runs(bench: Any) -> None:
    align_medpix, report = bench
    runs = [_run(t, e, s, 0.35 + 0.1 * s, [0.1, 0.3, 0.2])
            for t in ("scratch", "pretrained") for e in ("prompted", "zero-shot")
            for s in (0, 1, 2)]  # fmt: skip
    summary = align_medpix._summarise(runs)
    assert summary["scratch/prompted"]["a_to_b_R@10"]["mean"] == pytest.approx(0.45)
    assert summary["scratch/prompted"]["a_to_b_R@10"]["sd"] == pytest.approx(0.1)
    goals = align_medpix.compare_goals(summary)
    assert goals["scratch/prompted: R@10 >= 0.40 both ways"]  # 0.45 and 0.55
    assert not goals["pretrained/prompted: modality >= 95 %"]
    assert not any("zero-shot: modality" in g for g in goals)  # zero-shot has no bar
    results = {"settings": {}, "machine": {}, "n": runs[0]["n"], "runs": runs,
               "summary": summary, "goals": goals}  # fmt: skip
    page = report.render(results)
    assert "| scratch | prompted | 45.0 ± 10.0 |" in page
    assert "first 12 of 18 layers locked" in page
    assert "- MISSED: pretrained/prompted: body region >= 75 %" in page


def _committed(name: str) -> dict:
    path = RESULTS / name
    if not path.is_file():
        pytest.skip(f"benchmarks/results/{name} is not in this checkout")
    return json.loads(path.read_text())


def test_committed_sweep_never_scored_the_test_split() -> None:
    sweep = _committed("align_medpix_sweep.json")
    for run in sweep["runs"].values():
        assert "test" not in run
        assert run["best_epoch"] == int(np.argmax(run["val_curve"])) + 1
    assert sweep["chosen"] == max(sweep["runs"], key=lambda k: sweep["runs"][k]["val_best"])


def test_committed_comparison_is_three_seeds_with_epochs_chosen_on_val() -> None:
    results = _committed("align_medpix_compare.json")
    assert not results["quick"]
    groups = {(r["tower"], r["evaluation"]) for r in results["runs"]}
    assert groups == {(t, e) for t in ("scratch", "pretrained") for e in ("prompted", "zero-shot")}
    for run in results["runs"]:
        assert run["best_epoch"] == int(np.argmax(run["val_curve"])) + 1
        assert run["n"] == results["n"]
        low, high = run["test"]["zs_modality_low"], run["test"]["zs_modality_high"]
        assert low <= run["test"]["zs_modality"] <= high
    for key, summary in results["summary"].items():
        tower, evaluation = key.split("/")
        values = [r["test"]["a_to_b_R@10"] for r in results["runs"]
                  if r["tower"] == tower and r["evaluation"] == evaluation]  # fmt: skip
        assert len(values) == 3
        assert summary["a_to_b_R@10"]["mean"] == pytest.approx(np.mean(values))
