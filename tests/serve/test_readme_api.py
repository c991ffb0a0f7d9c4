"""The README's API examples (curl and the Python client) run against the app as written.

The curl lines are parsed (``-F field=@file`` uploads, ``-F field=value`` form fields,
the URL's path) and replayed with a TestClient; the Python block runs with
``httpx.Client`` standing for a TestClient of the app (both take the same calls).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from medmodal.io import Record, write_record

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = README.read_text(encoding="utf-8").split("## The service API", 1)[1].split("\n## ")[0]


def _block(language: str) -> str:
    match = re.search(rf"```{language}\n(.*?)```", SECTION, re.S)
    assert match, f"no {language} block in the README's API section"
    return match.group(1)


@pytest.fixture
def record_folder(tmp_path: Path, record_100: Record) -> Path:
    """100.hea/100.dat and 203.csv (leads MLII, V1; no time column) as the README names."""
    plain = Record(record_100.signal, 360.0, record_100.lead_names, record_100.units, name="100")
    write_record(plain, tmp_path / "100.hea")
    header = ",".join(record_100.lead_names)
    np.savetxt(tmp_path / "203.csv", record_100.signal, delimiter=",", header=header,
               comments="", fmt="%.4f")  # fmt: skip
    return tmp_path


def _replay(client: TestClient, line: str, folder: Path) -> Any:
    args = shlex.split(line)
    assert args[0] == "curl"
    files: list[tuple[str, tuple[str, bytes]]] = []
    data: dict[str, str] = {}
    url = ""
    i = 1
    while i < len(args):
        if args[i] == "-F":
            name, value = args[i + 1].split("=", 1)
            if value.startswith("@"):
                files.append((name, (value[1:], (folder / value[1:]).read_bytes())))
            else:
                data[name] = value
            i += 2
        elif args[i] == "-s":
            i += 1
        else:
            url = args[i]
            i += 1
    parts = urlsplit(url)
    assert parts.netloc == "localhost:8000", url
    if files or data:
        return client.post(parts.path, files=files, data=data)
    return client.get(parts.path)


def test_curl_examples_answer(client: TestClient, record_folder: Path) -> None:
    lines = [line for line in _block("bash").splitlines() if line.startswith("curl")]
    assert len(lines) >= 3
    for line in lines:
        r = _replay(client, line, record_folder)
        assert r.status_code == 200, (line, r.text[:300])
        assert isinstance(r.json(), dict)


def test_python_client_example_runs(
    make_client: Callable[..., TestClient],
    record_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app_client = make_client()

    def client_factory(*args: Any, base_url: str = "", **kwargs: Any) -> TestClient:
        assert base_url == "http://localhost:8000"
        return app_client

    monkeypatch.setattr(httpx, "Client", client_factory)
    monkeypatch.chdir(record_folder)
    code = _block("python")
    exec(compile(code, "README.md (API)", "exec"), {"__name__": "__readme__"})
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("['MLII', 'V5']")
    assert printed[-1].startswith("200 ")
