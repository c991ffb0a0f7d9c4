"""The page, health, OpenAPI, the privacy of the logs and the `medmodal serve` command."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from tests.serve.conftest import SECRET_NAME, one_file, wfdb_parts

from medmodal.io import Record
from medmodal.serve.app import static_dir


def test_health(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["auth_required"] is False


def test_page_and_assets_are_served_without_any_cdn(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assets = re.findall(r'(?:src|href)="([^"#]+)"', page.text)
    assert "/static/app.js" in assets and "/static/style.css" in assets
    for asset in assets:
        assert asset.startswith("/"), f"external asset {asset}"
        assert client.get(asset).status_code == 200, asset
    for file in static_dir().iterdir():
        text = file.read_text()
        assert not re.search(r"https?://", text), f"{file.name} refers to another site"
        assert "innerHTML" not in text


def test_openapi_lists_every_endpoint(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert set(schema["paths"]) >= {
        "/health",
        "/v1/ecg/analyze",
        "/v1/models",
        "/v1/fusion/predict",
        "/v1/align/search",
        "/v1/align/images/{model}/{image_id}",
    }
    analyze = schema["paths"]["/v1/ecg/analyze"]["post"]
    assert {"200", "401", "413", "422"} <= set(analyze["responses"])
    for docs in ("/docs", "/redoc"):  # served offline: no CDN
        page = client.get(docs)
        assert page.status_code == 200
        assets = re.findall(r'(?:src|href)=["\']([^"\']+)', page.text)
        assert assets and all(a.startswith("/") for a in assets), assets
        assert all(client.get(a).status_code == 200 for a in assets)
    assert schema["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"


def test_logs_hold_no_file_names_values_or_patient_fields(
    client: TestClient,
    record_files: dict[str, Path],
    record_100: Record,
    all_logs: pytest.LogCaptureFixture,
) -> None:
    parts = [
        ("file", (f"{SECRET_NAME}{suffix}", data))
        for _, (name, data) in wfdb_parts(record_files["wfdb"])
        for suffix in [name[-4:]]
    ]
    header = parts[0][1][1].decode().replace("r100.dat", f"{SECRET_NAME}.dat")
    header += "# age: 69 sex: M secret-medication-xyz\n"
    parts[0] = ("file", (f"{SECRET_NAME}.hea", header.encode()))
    ok = client.post("/v1/ecg/analyze", files=parts)
    assert ok.status_code == 200, ok.text
    bad = client.post("/v1/ecg/analyze", files=parts, data={"lead": "V9"})
    assert bad.status_code == 422
    corrupt = client.post("/v1/ecg/analyze", files=one_file(f"{SECRET_NAME}.edf", b"junk"))
    assert corrupt.status_code == 422
    text = "\n".join(f"{r.name} {r.getMessage()}" for r in all_logs.records)
    assert "POST /v1/ecg/analyze 200" in text  # the access log works...
    assert "POST /v1/ecg/analyze 422" in text
    for secret in (SECRET_NAME, "jane", "secret-medication", "age: 69", "sex: M", "r100"):
        assert secret not in text  # ...and says nothing about the patient or the file
    values = {f"{v:.3f}" for v in np.asarray(record_100.signal[:200, 0])}
    assert not any(v in text for v in values if len(v) > 5)
    peaks = ok.json()["r_peaks"][:5]
    assert not any(re.search(rf"\b{p}\b", text) for p in peaks)


def test_unexpected_errors_are_500_json_without_details(
    client: TestClient,
    record_files: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    all_logs: pytest.LogCaptureFixture,
) -> None:
    from medmodal.serve import routes_ecg

    def broken(*args: object) -> None:
        raise RuntimeError(f"boom in {SECRET_NAME}")

    monkeypatch.setattr(routes_ecg, "analyze_upload", broken)
    r = client.post("/v1/ecg/analyze", files=wfdb_parts(record_files["wfdb"]))
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "internal_error"
    assert SECRET_NAME not in r.text
    text = "\n".join(rec.getMessage() for rec in all_logs.records)
    assert "RuntimeError" in text and SECRET_NAME not in text


def test_cli_serve_runs_uvicorn_with_the_app(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from medmodal.cli.app import app

    calls: list[dict] = []
    monkeypatch.setattr(
        uvicorn, "run", lambda application, **kw: calls.append({"app": application, **kw})
    )
    monkeypatch.delenv("MEDMODAL_API_KEY", raising=False)
    result = CliRunner().invoke(
        app, ["serve", "--port", "8123", "--models-dir", str(tmp_path), "--max-upload-mb", "2"]
    )
    assert result.exit_code == 0, result.output
    assert calls[0]["port"] == 8123 and calls[0]["host"] == "127.0.0.1"
    assert calls[0]["access_log"] is False
    assert calls[0]["limit_concurrency"] == 256 and calls[0]["timeout_keep_alive"] == 5
    assert calls[0]["http"].read_timeout_s == 20.0
    assert calls[0]["h11_max_incomplete_event_size"] == 64 * 1024
    settings = calls[0]["app"].state.settings
    assert settings.models_dir == tmp_path and settings.max_upload_bytes == 2 * 1024 * 1024
    assert "serve" in CliRunner().invoke(app, ["--help"]).output


def test_settings_validation() -> None:
    from medmodal.errors import InvalidParameterError
    from medmodal.serve.settings import Settings

    with pytest.raises(InvalidParameterError, match="max_files"):
        Settings(max_files=0)
    with pytest.raises(InvalidParameterError, match="unknown setting"):
        Settings.from_env({}, max_uploads=3)
    with pytest.raises(InvalidParameterError, match="MEDMODAL_MAX_UPLOAD_MB"):
        Settings.from_env({"MEDMODAL_MAX_UPLOAD_MB": "lots"})
    env = {"MEDMODAL_API_KEY": "k", "MEDMODAL_MODELS_DIR": "/srv/models"}
    s = Settings.from_env(env)
    assert s.api_key == "k" and s.models_dir == Path("/srv/models")
