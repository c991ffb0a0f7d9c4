"""The shared options of every command: ``--out``, ``--json``, ``--quiet``, ``--seed``,
``--data-root`` where they make sense, and what they do end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medmodal.cli.app import app
from medmodal.data.bundled import bundled_path

runner = CliRunner()

#: command -> the shared options it must offer.
EXPECTED = {
    ("ecg", "analyze"): ("--out", "--json", "--quiet"),
    ("ecg", "bench"): ("--out", "--data-root", "--json", "--quiet"),
    ("fusion", "compare"): ("--out", "--data-root", "--seed", "--json", "--quiet"),
    ("align", "train"): ("--out", "--data-root", "--seed", "--json", "--quiet"),
    ("align", "eval"): ("--out", "--data-root", "--json", "--quiet"),
    ("align", "gallery"): ("--out", "--data-root", "--json", "--quiet"),
    ("demo",): ("--out", "--data-root", "--seed", "--json", "--quiet"),
    ("models", "list"): ("--json",),
    ("serve",): ("--quiet",),
}


@pytest.mark.parametrize("command", list(EXPECTED), ids=" ".join)
def test_every_command_offers_the_shared_options(command: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for option in EXPECTED[command]:
        assert f" {option} " in result.output or f" {option}," in result.output, option


def test_short_flags_are_the_same_everywhere() -> None:
    for command, options in EXPECTED.items():
        result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
        for long, short in (("--quiet", "-q"), ("--out", "-o")):
            if long in options:
                rows = [
                    r for r in result.output.splitlines() if f" {long} " in r or f"{long}," in r
                ]
                assert any(f" {short} " in r for r in rows), (command, long)


def _hea() -> str:
    return str(bundled_path("mitdb-119")) + ".hea"


def test_analyze_out_writes_the_figure_and_quiet_prints_nothing(tmp_path: Path) -> None:
    figure = tmp_path / "fig" / "overview.png"
    result = runner.invoke(
        app, ["ecg", "analyze", _hea(), "--lead", "MLII", "-o", str(figure), "-q"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and result.stderr == ""
    assert figure.stat().st_size > 20_000


def test_analyze_keeps_plot_as_the_old_name_of_out() -> None:
    result = runner.invoke(app, ["ecg", "analyze", "--help"], env={"COLUMNS": "200"})
    assert "--out" in result.output and "--plot" in result.output


def test_quiet_still_prints_errors_on_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ecg", "analyze", str(tmp_path / "nope.hea"), "--quiet"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "error" in result.stderr


QUICK_FUSION = ["--n-samples", "80", "--cv", "2", "--epochs", "1", "--n-boot", "5",
                "--methods", "early"]  # fmt: skip


def test_fusion_compare_quiet_prints_nothing_and_seed_is_used(tmp_path: Path) -> None:
    quiet = runner.invoke(app, ["fusion", "compare", *QUICK_FUSION, "--quiet"])
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stdout == "" and quiet.stderr == ""
    runs = [
        runner.invoke(app, ["fusion", "compare", *QUICK_FUSION, "--seed", seed, "--json"])
        for seed in ("1", "2")
    ]
    assert all(r.exit_code == 0 for r in runs), runs[0].output
    tables = [json.loads(r.stdout) for r in runs]
    assert tables[0] != tables[1]  # another seed: another cohort, other scores
    again = runner.invoke(app, ["fusion", "compare", *QUICK_FUSION, "--seed", "2", "--json"])
    assert json.loads(again.stdout) == tables[1]


@pytest.mark.data
def test_ecg_bench_quick_json_and_quiet(tmp_path: Path, mitdb_dir: Path) -> None:
    base = ["ecg", "bench", "--quick", "--records", "100", "--jobs", "1",
            "--data-root", str(mitdb_dir.parent)]  # fmt: skip
    result = runner.invoke(app, [*base, "--out", str(tmp_path / "a"), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload == json.loads((tmp_path / "a" / "ecg_qrs.json").read_text())
    assert payload["smoke_run"] is True  # --quick output and files say it is a smoke run
    assert payload["note"] == "smoke run — not a result"
    assert (tmp_path / "a" / "ecg_qrs.md").read_text().startswith("**smoke run — not a result**")
    quiet = runner.invoke(app, [*base, "--out", str(tmp_path / "b"), "--quiet"])
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stdout == "" and quiet.stderr == ""
    assert (tmp_path / "b" / "ecg_qrs.md").is_file()


@pytest.mark.parametrize("quiet", [False, True])
def test_serve_quiet_drops_the_banner_and_info_logs(
    quiet: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    uvicorn = pytest.importorskip("uvicorn")
    pytest.importorskip("fastapi")
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app_, **kw: calls.append(kw))
    result = runner.invoke(app, ["serve", "--port", "8123", *(["--quiet"] if quiet else [])])
    assert result.exit_code == 0, result.output
    assert calls[0]["port"] == 8123 and calls[0]["access_log"] is False
    assert calls[0]["log_level"] == ("warning" if quiet else "info")
    assert ("medmodal service on" in result.stdout) is not quiet
