"""CLI errors in the CLI's words: flags, not keywords; a busy port before the banner."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from medmodal.cli._common import in_cli_words
from medmodal.cli.app import app
from medmodal.ecg.simulate import ecg_simulate

runner = CliRunner()


def _one_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), output
    return lines[0]


@pytest.fixture(scope="module")
def csv_without_rate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("csv") / "203.csv"
    np.savetxt(path, ecg_simulate(10, 250, seed=1), header="II", comments="", delimiter=",")
    return path


def test_cli_names_the_flag_not_the_keyword(csv_without_rate: Path) -> None:
    result = runner.invoke(app, ["ecg", "analyze", str(csv_without_rate)])
    assert result.exit_code == 2
    line = _one_line(result.output)
    assert "203.csv does not store a sampling rate" in line
    assert "--sampling-rate" in line and "sampling_rate" not in line


def test_in_cli_words() -> None:
    message = "sampling_rate=360 Hz contradicts x.hea; leave sampling_rate unset"
    assert (
        in_cli_words(message)
        == "--sampling-rate 360 Hz contradicts x.hea; leave --sampling-rate unset"
    )
    assert in_cli_words("no rate; pass sampling_rate=") == "no rate; pass --sampling-rate HZ"


def test_serve_refuses_a_busy_port_before_its_banner(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: calls.append(a))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 2 and not calls
    line = _one_line(result.output)
    assert f"127.0.0.1:{port}" in line and "--port" in line
    assert "medmodal service on" not in result.output
