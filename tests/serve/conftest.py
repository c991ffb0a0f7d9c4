"""Fixtures of the service tests: an app per test whose upload folders are watched."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the service needs the 'serve' extra")

from fastapi.testclient import TestClient

from medmodal.data.bundled import load_bundled
from medmodal.io import Record, write_record
from medmodal.serve.app import create_app
from medmodal.serve.settings import Settings
from medmodal.serve.uploads import TMP_PREFIX

#: A distinctive file name that must never reach the logs.
SECRET_NAME = "patient-jane-roe-1957"


@pytest.fixture(scope="session")
def record_100() -> Record:
    """The first 30 s of the shipped MIT-BIH record 100 (two leads, 360 Hz)."""
    return load_bundled("mitdb-100").crop(0, 30)


@pytest.fixture(scope="session")
def record_files(record_100: Record, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The 30-s excerpt written in every upload format."""
    folder = tmp_path_factory.mktemp("records")
    plain = Record(record_100.signal, 360.0, record_100.lead_names, record_100.units, name="r100")
    out = {
        "wfdb": write_record(plain, folder / "r100.hea"),
        "csv": write_record(plain, folder / "r100.csv"),
        "edf": write_record(plain, folder / "r100.edf"),
    }
    np.save(folder / "r100.npy", plain.signal)
    out["npy"] = folder / "r100.npy"
    return out


@pytest.fixture
def upload_tmp(tmp_path: Path) -> Path:
    """The folder the app creates its per-request temporary folders in."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    return folder


@pytest.fixture
def make_client(upload_tmp: Path) -> Iterator[Callable[..., TestClient]]:
    """Build a client for settings overrides; after the test, no upload folder is left."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        settings = Settings(tmp_dir=upload_tmp, **overrides)
        # a loopback Host: the app answers only its allowed hosts (DNS rebinding)
        app = create_app(settings)
        client = TestClient(app, base_url="http://localhost", raise_server_exceptions=False)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
    assert leftovers(upload_tmp) == []


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """A client of the app with default settings (no API key)."""
    return make_client()


def leftovers(folder: Path) -> list[str]:
    """Temporary upload folders still present."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(TMP_PREFIX))


def wfdb_parts(path: Path, base: str = "r100") -> list[tuple[str, tuple[str, bytes]]]:
    """Multipart entries of a WFDB record's .hea and .dat."""
    return [
        ("file", (f"{base}{suffix}", path.with_suffix(suffix).read_bytes()))
        for suffix in (".hea", ".dat")
    ]


def one_file(name: str, data: bytes) -> list[tuple[str, tuple[str, bytes]]]:
    """A multipart upload of one file."""
    return [("file", (name, data))]


def zip_bytes(entries: dict[str, bytes], *, symlinks: tuple[str, ...] = ()) -> bytes:
    """A zip archive of ``entries`` (names kept verbatim); ``symlinks`` entries are links."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in symlinks:
                info.external_attr = (0o120777 << 16) | 0
            archive.writestr(info, data)
    return buffer.getvalue()


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log record of every logger, DEBUG and up."""
    caplog.set_level(logging.DEBUG)
    return caplog
