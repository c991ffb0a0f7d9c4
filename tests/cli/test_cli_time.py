"""A CLI that respects time: --quick marks, estimates, 80 columns, no bars in a log."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from medmodal.cli import fusion as fusion_cli
from medmodal.cli._time import (
    SMOKE_RUN,
    estimate_line,
    format_duration,
    mark_smoke,
    per_call_seconds,
    progress_wanted,
)
from medmodal.cli.app import app
from medmodal.data.synthetic import make_multimodal_classification

runner = CliRunner()

#: What a progress bar leaves in a saved log: carriage-return redraws and rates.
BAR_MARKS = ("\r", "it/s", "s/it", "%|")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal() -> None:
    assert progress_wanted(False, False, _Tty())
    assert not progress_wanted(False, False, io.StringIO())  # a log file, a pipe
    assert not progress_wanted(True, False, _Tty())  # --quiet
    assert not progress_wanted(False, True, _Tty())  # --json


def test_quick_compare_is_marked_fits_80_columns_and_draws_no_bars() -> None:
    """CliRunner's streams are not terminals (as a saved log): no bar, every method name
    whole, the smoke-run line under the table."""
    result = runner.invoke(app, ["fusion", "compare", "--quick", "--n-samples", "200",
                                 "--missing"])  # fmt: skip
    assert result.exit_code == 0, result.output
    out = result.output
    assert SMOKE_RUN in out
    assert not any(mark in out for mark in BAR_MARKS), out[:500]
    for name in ("early", "late", "intermediate", "attention", "gated", "unimodal:clinical",
                 "unimodal:image"):  # fmt: skip
        assert f" {name} " in out, name
    assert max(len(line) for line in out.splitlines()) <= 80


def test_quick_compare_json_says_smoke_run() -> None:
    result = runner.invoke(app, ["fusion", "compare", "--quick", "--n-samples", "120", "--json",
                                 "--methods", "early"])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and all(r["smoke_run"] is True and r["note"] == SMOKE_RUN for r in rows)


def test_full_run_json_is_not_marked() -> None:
    args = ["fusion", "compare", "--n-samples", "120", "--json", "--methods", "early"]
    result = runner.invoke(app, [*args, "--epochs", "1", "--cv", "2", "--n-boot", "10"])
    assert result.exit_code == 0, result.output
    assert all(r["smoke_run"] is False and "note" not in r for r in json.loads(result.stdout))


def _table_for(methods: list[str], conditions: list[str]) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for cond in conditions:
        for m in methods:
            row: dict[str, object] = {"method": m, "condition": cond}
            for metric in fusion_cli.SHOWN:
                v = float(rng.uniform(0.05, 0.95))
                row.update({metric: v, f"{metric}_low": v - 0.05, f"{metric}_high": v + 0.05})
            rows.append(row)
    return pd.DataFrame(rows)


@pytest.mark.parametrize("quick", [False, True])
def test_tables_fit_80_columns_with_whole_method_names(quick: bool) -> None:
    """The MIT-BIH set's longest baseline name, three conditions, at COLUMNS=80."""
    methods = ["early", "intermediate", "attention", "unimodal:demographics", "unimodal:rhythm"]
    table = _table_for(methods, ["all", "without demographics", "without rhythm"])
    console = Console(width=80, record=True, file=io.StringIO())
    for t in fusion_cli._tables(table, quick=quick):
        console.print(t)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    for name in methods:
        assert f" {name} " in text, name
    assert "…" not in text  # nothing cut
    assert "bal.acc" in text and "AUROC" in text  # metric headers are the short ones
    assert (SMOKE_RUN in text) is quick
    assert "without rhythm at test time" in " ".join(text.split())


def test_estimate_is_measured_and_scales_with_the_work() -> None:
    d = make_multimodal_classification(300, seed=0)
    runs = {"cv": 5, "epochs": 20, "n_boot": 200, "missing": False}
    full, quick = fusion_cli._estimate(d.X, d.y, ["early", "late"], {"epochs": 20}, runs)
    assert full > quick > 0
    more, _ = fusion_cli._estimate(
        d.X, d.y, ["early", "late"], {"epochs": 80}, {**runs, "epochs": 80}
    )
    assert more > 1.5 * full  # 4x the epochs: clearly more (timings are noisy)


def test_estimate_wording() -> None:
    assert format_duration(8) == "8 s" and format_duration(540) == "9 min"
    line = estimate_line(540, quick_seconds=30)
    assert line.startswith("about 9 min on ") and "--quick: a smoke run of about 30 s" in line
    assert mark_smoke({"a": 1}, True) == {"smoke_run": True, "a": 1, "note": SMOKE_RUN}
    assert mark_smoke({"a": 1}, False) == {"smoke_run": False, "a": 1}
    calls: list[int] = []
    assert per_call_seconds(calls.append) >= 0 and calls == [1, 3]


def test_a_long_run_is_announced_before_it_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fusion_cli, "_estimate", lambda *a: (540.0, 30.0))
    monkeypatch.setattr(fusion_cli, "_tables", lambda *a, **k: [])
    args = ["fusion", "compare", "--n-samples", "60", "--methods", "early", "--epochs", "1"]
    result = runner.invoke(app, [*args, "--cv", "2", "--n-boot", "5"])
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("fusion compare: up to about 9 min on ")
    assert "--quick: a smoke run of about 30 s" in first


@pytest.mark.slow  # about 30 s on the shared 2-core VM
def test_align_train_quick_is_one_marked_epoch(
    medpix_dir: Path, tiny_config: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    args = ["align", "train", "--model", str(tiny_config), "--data-root", str(medpix_dir),
            "--out", str(out), "--batch-size", "16", "--quick", "--json"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["smoke_run"] is True and payload["note"] == SMOKE_RUN
    assert payload["epochs_run"] == 1


@pytest.mark.slow
def test_demo_log_has_no_bar_redraws(tmp_path: Path) -> None:
    """A saved demo log (no TTY) holds the table and the smoke-run line, no bar redraws."""
    result = runner.invoke(app, ["demo", "--quick", "--section", "ecg", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert not any(mark in result.output for mark in BAR_MARKS), result.output[:500]
    assert SMOKE_RUN in result.output and "medmodal demo" in result.output
    assert len(result.output.splitlines()) < 30
