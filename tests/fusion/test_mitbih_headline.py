"""The MIT-BIH fusion headline (issue 14): seed means, patient-bootstrap intervals and the
committed page agree with the plain per-class report."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tests._benchmarks import BENCH, import_benchmarks

from medmodal.metrics.classification import per_class_report


@pytest.fixture(scope="module")
def seeds_module():  # type: ignore[no-untyped-def]
    return import_benchmarks("_fusion_mitbih_seeds")[0]


def test_seed_summary_is_the_mean_of_per_class_reports(seeds_module) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    n = 3000
    y = rng.choice(list("NSVFQ"), n, p=[0.8, 0.08, 0.08, 0.03, 0.01])
    preds = np.stack([np.where(rng.random(n) < 0.8, y, rng.choice(list("NSV"), n))
                      for _ in range(3)], axis=1)  # fmt: skip
    records = rng.choice([f"r{i}" for i in range(12)], n)
    out = seeds_module.seed_summary(y, preds, records, n_boot=200)
    reports = [
        per_class_report(y, p, ("N", "S", "V", "F"), scored=("N", "S", "V")) for p in preds.T
    ]
    assert out["macro_f1_nsv"]["values"] == pytest.approx([r.macro_f1 for r in reports])
    assert out["S_ppv"]["mean"] == pytest.approx(np.mean([r.scores["S"].ppv for r in reports]))
    assert out["accuracy"]["mean"] == pytest.approx(np.mean([r.accuracy for r in reports]))
    for stat in out.values():
        lo, hi = stat["ci"]
        assert lo <= stat["mean"] <= hi and lo < hi


def test_without_202_drops_only_that_record(seeds_module) -> None:  # type: ignore[no-untyped-def]
    y = np.array(list("NNSSVVNN"))
    preds = np.array(list("NNSNVVSN"))[:, None]
    records = np.array(["202", "202", "202", "100", "100", "100", "101", "101"])
    out = seeds_module.headline(y, preds, records, n_boot=20)
    keep = records != "202"
    plain = per_class_report(y[keep], preds[keep, 0], ("N", "S", "V", "F"), scored=("N", "S", "V"))
    assert out["ds2_without_202"]["macro_f1_nsv"]["mean"] == pytest.approx(plain.macro_f1)


def test_committed_headline_is_five_seeds_for_every_model() -> None:
    path = BENCH / "results" / "fusion_mitbih.json"
    if not path.is_file():
        pytest.skip("benchmarks/results/fusion_mitbih.json is not in this checkout")
    step = json.loads(path.read_text())["seeds"]
    assert step["seeds"] == [0, 1, 2, 3, 4]
    for summary in step["summary"].values():
        for part in ("ds2", "ds2_without_202"):
            f1 = summary[part]["macro_f1_nsv"]
            assert len(f1["values"]) == 5
            assert f1["mean"] == pytest.approx(np.mean(f1["values"]))
            assert f1["ci"][0] <= f1["mean"] <= f1["ci"][1]
