"""``medmodal demo --data-root``: the fusion, alignment and attention sections switch to
MIT-BIH and MedPix 2.0 where they are present, and say so; without them nothing changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from medmodal.report import align_section, attention_section, fusion_section
from medmodal.report.section import SectionContent, SectionContext

SWITCHES = [
    (fusion_section, "mitdb", "medmodal.report._fusion_mitdb.build_mitdb"),
    (align_section, "medpix", "medmodal.report._align_medpix.build_medpix"),
    (attention_section, "mitdb", "medmodal.report.attention_section._build_mitdb"),
]


@pytest.mark.parametrize(("module", "dataset", "target"), SWITCHES)
def test_sections_switch_only_when_the_data_set_is_there(
    module: object, dataset: str, target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the data set under the root the real-data builder runs; the check names it."""
    asked: list[str] = []
    has_data = SectionContext.has_data

    def has(ctx: SectionContext, name: str) -> bool:
        asked.append(name)
        return has_data(ctx, name)

    monkeypatch.setattr(SectionContext, "has_data", has)
    monkeypatch.setattr(target, lambda ctx: SectionContent(meaning=f"real {ctx.data_root}"))
    ctx = SectionContext(tmp_path, data_root=tmp_path, datasets=frozenset({dataset}))
    content = module.build(ctx)  # type: ignore[attr-defined]
    assert content.meaning == f"real {tmp_path}"
    assert asked == [dataset]


def _run(key: str, tmp_path: Path, root: Path) -> SectionContent:
    from medmodal.report.runner import run_section

    result = run_section(key, SectionContext(tmp_path / key, True, 0, root, False))
    assert result.ok, result.details
    for figure in result.content.figures:
        assert figure.path.is_file()
    return result.content


@pytest.mark.data
@pytest.mark.slow
def test_fusion_section_on_mitdb(tmp_path: Path, mitdb_dir: Path) -> None:
    content = _run("fusion", tmp_path, mitdb_dir.parent)
    assert "MIT-BIH" in content.meaning and "synthetic cohort" in content.meaning
    assert content.metrics["data"] == "mitdb" and len(content.metrics["records"]) == 5
    assert not content.notes


@pytest.mark.data
@pytest.mark.slow
def test_attention_section_on_mitdb(tmp_path: Path, mitdb_dir: Path) -> None:
    content = _run("attention", tmp_path, mitdb_dir.parent)
    assert content.meaning.startswith("Data: real MIT-BIH recordings")
    assert content.metrics["auroc"] > 0.7  # PVC windows of unseen patients


@pytest.mark.data
@pytest.mark.slow
def test_align_section_on_medpix(tmp_path: Path) -> None:
    from medmodal.data.paths import data_root, has_dataset

    if not has_dataset("medpix"):
        pytest.skip(f"MedPix 2.0 not under {data_root()}")
    content = _run("align", tmp_path, data_root())
    assert content.meaning.startswith("Data: real MedPix 2.0") and "MedPix" in content.title
    retrieval = content.metrics["retrieval"]
    assert retrieval["a_to_b_R@10"] > 2 * 10 / retrieval["n"]  # above chance
    # early-stopped on val, scored once on dev, under the name of what it is
    assert (content.metrics["split"], content.metrics["evaluation"]) == ("dev", "prompted")
    assert "not zero-shot" in content.tables[1].title


def test_a_data_root_without_any_data_set_is_one_error(tmp_path: Path) -> None:
    """A mistyped --data-root fails at once instead of running on the embedded data."""
    from typer.testing import CliRunner

    from medmodal.cli.app import app
    from medmodal.errors import DataNotFoundError
    from medmodal.report.runner import run_report

    with pytest.raises(DataNotFoundError, match="mitdb/, ptbxl-500/, medpix2-256/"):
        run_report(tmp_path / "report", data_root=tmp_path / "typo", progress=False)
    assert not (tmp_path / "report").exists()
    result = CliRunner().invoke(
        app, ["demo", "--data-root", str(tmp_path / "typo"), "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 2
    assert "holds none of the data sets" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_ecg_section_keeps_the_excerpts_when_the_root_lacks_mitdb(tmp_path: Path) -> None:
    root = tmp_path / "data"
    (root / "medpix2-256").mkdir(parents=True)  # another data set only
    content = _run("ecg", tmp_path, root)
    assert content.meaning.startswith("Data: 5-minute excerpts")
    assert content.notes[0].startswith(f"No MIT-BIH database under {root}")
