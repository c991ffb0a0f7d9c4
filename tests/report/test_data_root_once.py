"""The data root is resolved once, by the entry point, and passed down as it is."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

import medmodal.data.paths as paths
from medmodal.cli.app import app
from medmodal.data.paths import DataRoot, data_root, dataset_dir, has_dataset
from medmodal.registry import Registry
from medmodal.report import runner
from medmodal.report.section import SectionContent, SectionContext


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[SectionContext]:
    """A one-section report whose section reads MIT-BIH the way the real ones do."""
    contexts: list[SectionContext] = []

    def build(ctx: SectionContext) -> SectionContent:
        contexts.append(ctx)
        folder = dataset_dir("mitdb", ctx.data_root) if ctx.has_data("mitdb") else None
        return SectionContent(headline=f"{ctx.has_data('mitdb')} {ctx.has_data('medpix')} {folder}")

    module = types.ModuleType("fake_reader")
    module.build = build  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_reader", module)
    registry: Registry[str] = Registry("report section")
    registry.add("reader", "fake_reader", description="reads mitdb")
    monkeypatch.setattr(runner, "SECTIONS", registry)
    return contexts


def test_the_demo_resolves_the_data_root_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seen: list[SectionContext]
) -> None:
    (tmp_path / "data" / "mitdb").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    finds: list[object] = []
    find = DataRoot.find.__func__  # type: ignore[attr-defined]

    def counting(cls: type[DataRoot], root: object = None) -> DataRoot:
        finds.append(root)
        return find(cls, root)  # type: ignore[no-any-return]

    monkeypatch.setattr(DataRoot, "find", classmethod(counting))
    result = CliRunner().invoke(
        app, ["demo", "--data-root", "data", "--out", "report", "--json", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert len(finds) == 1  # the CLI; the runner takes the DataRoot as it is
    [ctx] = seen
    assert ctx.data_root == tmp_path / "data" and ctx.data_root.is_absolute()
    assert ctx.datasets == frozenset({"mitdb"})
    assert '"data_root": "' + str(tmp_path / "data") in result.output
    assert f"True False {tmp_path / 'data' / 'mitdb'}" in result.output


def test_sections_ask_no_file_system_again(tmp_path: Path, seen: list[SectionContext]) -> None:
    (tmp_path / "mitdb").mkdir()
    root = DataRoot.find(tmp_path)
    (tmp_path / "mitdb").rmdir()  # gone after the entry point looked: no second look
    summary = runner.run_report(tmp_path / "report", data_root=root, progress=False)
    assert seen[0].has_data("mitdb") and seen[0].data_root is root.path
    assert summary.sections[0].error.startswith("DataNotFoundError")  # the loader's own check


def test_a_data_root_is_a_path_that_loaders_take_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "qtdb").mkdir()
    root = DataRoot.find(tmp_path)
    monkeypatch.setattr(paths, "_resolve", lambda root: pytest.fail("resolved again"))
    assert data_root(root) is root.path and Path(root) == tmp_path and str(root) == str(tmp_path)
    assert has_dataset("qtdb", root) and not has_dataset("mitdb", root)
    assert dataset_dir("qtdb", root) == tmp_path / "qtdb"
    assert DataRoot.find(root) is root


def test_a_context_given_a_plain_path_looks_once(tmp_path: Path) -> None:
    (tmp_path / "medpix2-256").mkdir()
    ctx = SectionContext(tmp_path / "out", data_root=tmp_path)
    assert ctx.datasets == frozenset({"medpix"}) and ctx.has_data("medpix")
    assert not SectionContext(tmp_path / "out").has_data("medpix")
