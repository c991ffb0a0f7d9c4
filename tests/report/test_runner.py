"""The runner: sections are timed and isolated; one failure never stops the others."""

from __future__ import annotations

import json
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from medmodal.errors import InvalidParameterError, MedmodalWarning
from medmodal.registry import Registry
from medmodal.report import runner
from medmodal.report.section import ReportTable, SectionContent, SectionContext


def _good(ctx: SectionContext) -> SectionContent:
    warnings.warn("something was fixed", MedmodalWarning, stacklevel=1)
    frame = pd.DataFrame({"x": [ctx.seed], "quick": [ctx.quick]})
    metrics = {"auroc": np.float64(0.75), "missing": float("nan"), "n": np.int64(3)}
    return SectionContent(
        tables=[ReportTable("t", frame)], headline=f"seed {ctx.seed}", metrics=metrics
    )


def _bad(ctx: SectionContext) -> SectionContent:
    raise RuntimeError("the practice broke\nsecond line")


@pytest.fixture
def fake_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    registry: Registry[str] = Registry("report section")
    for key, build in (("good", _good), ("bad", _bad), ("after", _good)):
        module = types.ModuleType(f"fake_{key}")
        module.TITLE = f"Fake {key}"  # type: ignore[attr-defined]
        module.build = build  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, f"fake_{key}", module)
        registry.add(key, f"fake_{key}", description=key)
    registry.add("missing", "medmodal.report.no_such_section", description="missing")
    monkeypatch.setattr(runner, "SECTIONS", registry)


@pytest.mark.usefixtures("fake_sections")
def test_a_failing_section_does_not_stop_the_others(tmp_path: Path) -> None:
    summary = runner.run_report(tmp_path, seed=7, quick=True, progress=False)
    assert [s.key for s in summary.sections] == ["good", "bad", "after", "missing"]
    assert summary.failed == ["bad", "missing"]
    assert not summary.ok
    bad = summary.sections[1]
    assert bad.error == "RuntimeError: the practice broke"
    assert "Traceback" in bad.details
    assert summary.sections[2].ok
    assert summary.sections[2].content.headline == "seed 7"
    assert summary.sections[3].error.startswith("ModuleNotFoundError")
    page = summary.index.read_text(encoding="utf-8")
    assert "the practice broke" in page
    assert "Fake after" in page


@pytest.mark.usefixtures("fake_sections")
def test_summary_json_and_frame(tmp_path: Path) -> None:
    summary = runner.run_report(tmp_path, sections=["good"], progress=False)
    assert summary.ok
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["ok"] is True
    assert saved["settings"] == {"quick": False, "seed": 0, "data_root": "embedded"}
    assert saved["sections"][0]["headline"] == "seed 0"
    assert saved["sections"][0]["metrics"] == {"auroc": 0.75, "missing": None, "n": 3}
    assert "NaN" not in (tmp_path / "summary.json").read_text()
    frame = summary.to_frame()
    assert list(frame["status"]) == ["ok"]
    assert (tmp_path / "good").is_dir()


@pytest.mark.usefixtures("fake_sections")
def test_warnings_become_section_notes(tmp_path: Path) -> None:
    result = runner.run_section("good", SectionContext(tmp_path / "good"))
    assert result.content.notes == ["Warning: something was fixed"]


@pytest.mark.usefixtures("fake_sections")
def test_unknown_section_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match="good"):
        runner.run_report(tmp_path, sections=["goood"], progress=False)


def test_real_sections_are_listed_in_report_order() -> None:
    assert runner.available_sections() == ("ecg", "fusion", "align", "attention")


def test_content_title_replaces_the_module_title(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A section that ran on another data set renames itself; otherwise TITLE stays."""
    module = types.ModuleType("fake_titled")
    module.TITLE = "Simulated data"  # type: ignore[attr-defined]
    module.build = lambda ctx: SectionContent(title="Real data" if ctx.data_root else "")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_titled", module)
    registry: Registry[str] = Registry("report section")
    registry.add("titled", "fake_titled", description="titled")
    monkeypatch.setattr(runner, "SECTIONS", registry)
    plain = runner.run_section("titled", SectionContext(tmp_path / "a"))
    real = runner.run_section("titled", SectionContext(tmp_path / "b", data_root=tmp_path))
    assert (plain.title, real.title) == ("Simulated data", "Real data")
