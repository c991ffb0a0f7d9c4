"""Every error path answers JSON ``{"error": {code, message, field}}`` with the right status,
and no request leaves a temporary folder behind (checked by the ``make_client`` fixture)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from tests.serve.conftest import leftovers, one_file, wfdb_parts, zip_bytes

from medmodal.serve.uploads import TMP_PREFIX

URL = "/v1/ecg/analyze"


def _error(r: object, status: int, field: str | None) -> dict:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "field"}
    assert body["error"]["field"] == field
    assert body["error"]["message"]
    return body["error"]


def _npy(signal: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, signal)
    return buffer.getvalue()


# ------------------------------------------------------------------ bad parameters


@pytest.mark.parametrize("rate", ["0", "-5", "abc", "nan", "1e9"])
def test_invalid_sampling_rate_is_refused(
    client: TestClient, record_files: dict[str, Path], rate: str
) -> None:
    r = client.post(URL, files=wfdb_parts(record_files["wfdb"]), data={"sampling_rate": rate})
    _error(r, 422, "sampling_rate")


def test_sampling_rate_contradicting_the_file(
    client: TestClient, record_files: dict[str, Path]
) -> None:
    r = client.post(URL, files=wfdb_parts(record_files["wfdb"]), data={"sampling_rate": "250"})
    err = _error(r, 422, "sampling_rate")
    assert "360" in err["message"]


def test_npy_needs_a_sampling_rate(client: TestClient) -> None:
    r = client.post(URL, files=one_file("x.npy", _npy(np.zeros(1000))))
    _error(r, 422, "sampling_rate")


@pytest.mark.parametrize("lead", ["V9", "7", "-1"])
def test_unknown_lead(client: TestClient, record_files: dict[str, Path], lead: str) -> None:
    r = client.post(URL, files=wfdb_parts(record_files["wfdb"]), data={"lead": lead})
    err = _error(r, 422, "lead")
    assert "MLII" in err["message"]


@pytest.mark.parametrize("window", ["1", "500", "x"])
def test_window_out_of_range(
    client: TestClient, record_files: dict[str, Path], window: str
) -> None:
    r = client.post(URL, files=wfdb_parts(record_files["wfdb"]), data={"window": window})
    _error(r, 422, "window")


def test_missing_file_field(client: TestClient) -> None:
    _error(client.post(URL, data={"sampling_rate": "360"}), 422, "file")


# --------------------------------------------------------------------- bad files


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("bad.csv", b"this is not,a record\nat,all\n"),
        ("bad.csv", b"\x00\xff\xfe garbage \x00"),
        ("empty.csv", b""),
        ("bad.edf", b"0       this is not an EDF header" + bytes(300)),
        ("bad.npy", b"\x93NUMPY broken"),
        ("bad.npz", b"PK\x03\x04 not really"),
    ],
)
def test_corrupt_files(client: TestClient, name: str, data: bytes) -> None:
    r = client.post(URL, files=one_file(name, data), data={"sampling_rate": "360"})
    _error(r, 422, "file")


def test_corrupted_edf_truncated(
    client: TestClient, record_files: dict[str, Path], upload_tmp: Path
) -> None:
    data = record_files["edf"].read_bytes()
    r = client.post(URL, files=one_file("cut.edf", data[: len(data) // 3]))
    message = _error(r, 422, "file")["message"]
    assert str(upload_tmp) not in message and "medmodal-upload" not in message


def test_truncated_wfdb_signal(client: TestClient, record_files: dict[str, Path]) -> None:
    parts = wfdb_parts(record_files["wfdb"])
    name, data = parts[1][1]
    parts[1] = ("file", (name, data[:1000]))
    _error(client.post(URL, files=parts), 422, "file")


def test_signal_too_short_to_analyse(client: TestClient) -> None:
    r = client.post(URL, files=one_file("s.npy", _npy(np.zeros(10))), data={"sampling_rate": 360})
    _error(r, 422, "file")


@pytest.mark.parametrize(
    "name",
    ["../evil.csv", "/etc/passwd.csv", "a/b.csv", ".hidden.csv", "x.exe", "noext", "a..b.csv"],
)
def test_unsafe_or_unknown_file_names(client: TestClient, name: str) -> None:
    _error(client.post(URL, files=one_file(name, b"time,a\n0,1\n")), 422, "file")


def test_dat_without_header(client: TestClient, record_files: dict[str, Path]) -> None:
    parts = wfdb_parts(record_files["wfdb"])[1:]
    err = _error(client.post(URL, files=parts), 422, "file")
    assert ".hea" in err["message"]


@pytest.mark.parametrize("target", ["../r100.dat", "/tmp/r100.dat", "other.dat"])
def test_header_pointing_outside_the_upload(
    client: TestClient, record_files: dict[str, Path], target: str
) -> None:
    parts = wfdb_parts(record_files["wfdb"])
    header = parts[0][1][1].decode().replace("r100.dat", target)
    parts[0] = ("file", ("r100.hea", header.encode()))
    _error(client.post(URL, files=parts), 422, "file")


def test_two_records_in_one_upload(client: TestClient, record_files: dict[str, Path]) -> None:
    parts = wfdb_parts(record_files["wfdb"]) + wfdb_parts(record_files["wfdb"], base="r101")
    _error(client.post(URL, files=parts), 422, "file")


def test_duplicate_names(client: TestClient, record_files: dict[str, Path]) -> None:
    parts = wfdb_parts(record_files["wfdb"])
    _error(client.post(URL, files=[*parts, parts[1]]), 422, "file")


def test_too_many_files(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_files=2)
    parts = [("file", (f"f{i}.csv", b"time,a\n0,1\n")) for i in range(3)]
    _error(client.post(URL, files=parts), 422, "file")


# -------------------------------------------------------------------------- zips


@pytest.mark.parametrize(
    "entry", ["../r100.hea", "rec/../../r100.hea", "/tmp/r100.hea", "C:/r100.hea", "a\\..\\b.hea"]
)
def test_zip_slip_is_refused(
    client: TestClient, record_files: dict[str, Path], upload_tmp: Path, entry: str
) -> None:
    parts = dict(wfdb_parts(record_files["wfdb"]))
    entries = {entry: parts["file"][1]}
    err = _error(client.post(URL, files=one_file("r.zip", zip_bytes(entries))), 422, "file")
    assert "zip" in err["message"]
    assert not (upload_tmp / "r100.hea").exists()
    assert not (upload_tmp.parent / "r100.hea").exists()


def test_zip_symlink_entry_is_refused(client: TestClient) -> None:
    data = zip_bytes({"r100.hea": b"/etc/passwd"}, symlinks=("r100.hea",))
    err = _error(client.post(URL, files=one_file("r.zip", data)), 422, "file")
    assert "link" in err["message"]


def test_zip_bomb_is_refused_by_size(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_extracted_bytes=1_000_000)
    data = zip_bytes({"big.csv": b"0" * 5_000_000})
    assert len(data) < 20_000  # compresses ~1000:1
    _error(client.post(URL, files=one_file("bomb.zip", data)), 413, "file")


def test_zip_bomb_with_a_lying_header_is_counted_while_extracting(
    make_client: Callable[..., TestClient],
) -> None:
    import zipfile

    data = bytearray(zip_bytes({"big.csv": b"0" * 3_000_000}))
    # shrink the declared uncompressed size in the central directory to 10 bytes
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    offset = data.rfind(b"PK\x01\x02")
    data[offset + 24 : offset + 28] = (10).to_bytes(4, "little")
    assert archive.infolist()[0].file_size == 3_000_000
    client = make_client(max_extracted_bytes=1_000_000)
    r = client.post(URL, files=one_file("liar.zip", bytes(data)))
    assert r.status_code in (413, 422), r.text  # counted (413) or caught as corrupt (422)
    assert r.json()["error"]["field"] == "file"


def test_corrupt_and_nested_zips(client: TestClient) -> None:
    _error(client.post(URL, files=one_file("x.zip", b"PK\x03\x04broken")), 422, "file")
    nested = zip_bytes({"inner.zip": zip_bytes({"a.csv": b"time,a\n0,1\n"})})
    _error(client.post(URL, files=one_file("outer.zip", nested)), 422, "file")


def test_zip_must_be_alone(client: TestClient, record_files: dict[str, Path]) -> None:
    parts = [*wfdb_parts(record_files["wfdb"]), ("file", ("r.zip", zip_bytes({"a.csv": b""})))]
    _error(client.post(URL, files=parts), 422, "file")


# --------------------------------------------------------------- size and auth


def test_request_too_large(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_upload_bytes=50_000)
    r = client.post(URL, files=one_file("big.csv", b"0\n" * 40_000))
    _error(r, 413, None)


def test_chunked_request_too_large_is_cut_while_reading(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(max_upload_bytes=50_000)
    boundary = "xyz"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()

    def body():  # no Content-Length: sent chunked
        yield head
        for _ in range(20):
            yield b"0\n" * 5_000
        yield f"\r\n--{boundary}--\r\n".encode()

    r = client.post(
        URL, content=body(), headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    )
    _error(r, 413, None)


def test_api_key(make_client: Callable[..., TestClient], record_files: dict[str, Path]) -> None:
    client = make_client(api_key="s3cret-key")
    parts = wfdb_parts(record_files["wfdb"])
    assert _error(client.post(URL, files=parts), 401, None)["code"] == "unauthorized"
    wrong = {"X-API-Key": "nope"}
    _error(client.post(URL, files=parts, headers=wrong), 401, None)
    _error(client.get("/v1/models", headers=wrong), 401, None)
    _error(client.post("/v1/fusion/predict", json={}), 401, None)
    _error(client.post("/v1/align/search", data={"model": "m", "text": "x"}), 401, None)
    _error(client.get("/v1/align/images/m/img-1"), 401, None)
    assert client.get("/v1/models", headers={"X-API-Key": "s3cret-key"}).status_code == 200
    bearer = {"Authorization": "Bearer s3cret-key"}
    assert client.post(URL, files=parts, headers=bearer).status_code == 200
    # liveness and the page stay open (they carry no data)
    assert client.get("/health").json()["auth_required"] is True
    assert client.get("/").status_code == 200


def test_api_key_from_the_environment(monkeypatch: pytest.MonkeyPatch, upload_tmp: Path) -> None:
    from medmodal.serve.app import create_app
    from medmodal.serve.settings import Settings

    monkeypatch.setenv("MEDMODAL_API_KEY", "env-key")
    client = TestClient(
        create_app(Settings.from_env(tmp_dir=upload_tmp)), base_url="http://localhost"
    )
    assert client.get("/v1/models").status_code == 401
    assert client.get("/v1/models", headers={"X-API-Key": "env-key"}).status_code == 200


def test_unknown_route_and_method(client: TestClient) -> None:
    _error(client.get("/v1/nothing"), 404, None)
    _error(client.get(URL), 405, None)


def test_temporary_folders_are_removed_even_after_errors(
    client: TestClient, record_files: dict[str, Path], upload_tmp: Path
) -> None:
    parts = wfdb_parts(record_files["wfdb"])
    for files, data in [
        (parts, {}),
        (parts, {"lead": "V9"}),
        (parts[1:], {}),
        (one_file("bad.edf", b"garbage"), {}),
        (one_file("r.zip", zip_bytes({"../x.csv": b"1"})), {}),
    ]:
        client.post(URL, files=files, data=data)
        assert leftovers(upload_tmp) == [], files
    assert not any(p.name.startswith(TMP_PREFIX) for p in upload_tmp.iterdir())
