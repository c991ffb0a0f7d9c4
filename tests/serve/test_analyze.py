"""POST /v1/ecg/analyze: every upload format gives the record's true heart rate and beats."""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from tests.serve.conftest import one_file, wfdb_parts, zip_bytes

from medmodal.io import Record

URL = "/v1/ecg/analyze"


def _reference_rate(record: Record) -> float:
    """Beats per minute of the reference beats (not the mean of their 60/RR)."""
    assert record.annotations is not None
    beats = record.annotations.beats().sample
    return 60.0 * (beats.size - 1) * record.sampling_rate / float(beats[-1] - beats[0])


def _check_matches_reference(body: dict, record: Record) -> None:
    assert record.annotations is not None
    ref = record.annotations.beats().sample
    peaks = np.asarray(body["r_peaks"])
    assert abs(body["n_beats"] - ref.size) <= 1
    # every reference beat has a detected R peak within 150 ms (EC57 tolerance)
    nearest = np.min(np.abs(ref[:, None] - peaks[None, :]), axis=1)
    assert np.mean(nearest <= 0.15 * record.sampling_rate) >= 0.99
    assert body["heart_rate"]["mean_bpm"] == pytest.approx(_reference_rate(record), abs=1.0)


def test_wfdb_upload_matches_reference_beats(
    client: TestClient, record_files: dict[str, Path], record_100: Record
) -> None:
    r = client.post(URL, files=wfdb_parts(record_files["wfdb"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["record"] == {
        "format": "wfdb",
        "n_samples": 10800,
        "sampling_rate_hz": 360.0,
        "duration_s": 30.0,
        "leads": ["MLII", "V5"],
    }
    _check_matches_reference(body, record_100)
    assert body["rhythm"]["overall"] == "sinus"
    assert [w["start_s"] for w in body["rhythm"]["windows"]] == [0, 10, 20]
    assert len(body["quality"]["windows"]) == 3
    assert body["hrv"]["sdnn_ms"] > 0
    assert "mean_hr_bpm" not in body["hrv"]  # one mean heart rate per reply
    assert body["plot_png"] is None
    heart = body["heart_rate"]
    assert heart["min_bpm"] <= heart["median_bpm"] <= heart["max_bpm"]
    assert heart["note"] and set(heart["flagged"]) == {
        "too_short",
        "too_long",
        "ectopic_or_artefact",
    }
    shown = [r for r in body["beats"]["heart_rate_bpm"] if r is not None]
    assert len(body["beats"]["rr_flag"]) == body["n_beats"]
    assert all(20 <= r <= 300 for r in shown)
    intervals = body["intervals"]
    assert intervals["lead"] == "MLII+V5"  # both leads delineated together
    assert "delineated together" in intervals["lead_reason"]
    assert intervals["qt_ms"] is None and intervals["qt_withheld"].startswith("QT withheld")
    assert 60 <= intervals["qrs_ms"] <= 130
    assert body["powerline"]["text"] and body["powerline"]["source"] in {"detected", "none"}
    assert body["peak_lead_reason"]


@pytest.mark.parametrize("fmt", ["csv", "edf", "npy"])
def test_every_single_file_format_gives_the_same_answer(
    client: TestClient, record_files: dict[str, Path], record_100: Record, fmt: str
) -> None:
    path = record_files[fmt]
    data = {"sampling_rate": "360"} if fmt == "npy" else {}
    r = client.post(URL, files=one_file(path.name, path.read_bytes()), data=data)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["record"]["format"] == fmt
    assert body["record"]["sampling_rate_hz"] == pytest.approx(360.0)
    _check_matches_reference(body, record_100)


def test_zip_of_a_wfdb_record(
    client: TestClient, record_files: dict[str, Path], record_100: Record
) -> None:
    entries = {f"rec/{name}": data for _, (name, data) in wfdb_parts(record_files["wfdb"])}
    entries["__MACOSX/rec/._r100.hea"] = b"resource fork"
    r = client.post(URL, files=one_file("r100.zip", zip_bytes(entries)))
    assert r.status_code == 200, r.text
    _check_matches_reference(r.json(), record_100)


def test_plot_on_request_is_a_png(client: TestClient, record_files: dict[str, Path]) -> None:
    r = client.post(URL + "?plot=true", files=wfdb_parts(record_files["wfdb"]))
    assert r.status_code == 200, r.text
    png = base64.b64decode(r.json()["plot_png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 20_000  # a real figure, not an empty canvas


@pytest.mark.parametrize(
    ("query", "form", "drawn"), [("", "true", True), ("?plot=false", "", False)]
)
def test_plot_as_a_form_field(
    client: TestClient,
    record_files: dict[str, Path],
    query: str,
    form: str,
    drawn: bool,
) -> None:
    data = {"plot": form} if form else {}
    r = client.post(URL + query, files=wfdb_parts(record_files["wfdb"]), data=data)
    png = r.json()["plot_png"]
    assert (png is not None and base64.b64decode(png)[:4] == b"\x89PNG") is drawn


@pytest.mark.parametrize(
    ("lead", "expected"), [("V5", ["V5"]), ("0", ["MLII"]), ("mlii", ["MLII"])]
)
def test_lead_selection(
    client: TestClient, record_files: dict[str, Path], lead: str, expected: list[str]
) -> None:
    r = client.post(URL, files=wfdb_parts(record_files["wfdb"]), data={"lead": lead})
    assert r.status_code == 200, r.text
    assert r.json()["record"]["leads"] == expected
    assert r.json()["peak_lead"] == expected[0]


def test_window_changes_the_rhythm_windows(
    client: TestClient, record_files: dict[str, Path]
) -> None:
    r = client.post(URL, files=wfdb_parts(record_files["wfdb"]), data={"window": "15"})
    assert r.status_code == 200
    assert [w["end_s"] for w in r.json()["rhythm"]["windows"]] == [15, 30]


def test_automatic_fixes_are_reported_as_notes(client: TestClient, record_100: Record) -> None:
    signal = np.array(record_100.signal[:, 0])
    signal[1000:1010] = np.nan  # a short gap is interpolated, with a warning
    import io

    buffer = io.BytesIO()
    np.save(buffer, signal)
    r = client.post(URL, files=one_file("gap.npy", buffer.getvalue()), data={"sampling_rate": 360})
    assert r.status_code == 200, r.text
    notes = r.json()["notes"]
    assert any("interpolat" in n.lower() or "nan" in n.lower() for n in notes), notes


def test_analysis_runs_in_the_thread_pool(
    client: TestClient, record_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CPU-bound analysis runs outside the event loop (no running loop in its thread)."""
    from medmodal.serve import routes_ecg

    loops: list[bool] = []
    real = routes_ecg.analyze_upload

    def spy(*args: object) -> object:
        try:
            asyncio.get_running_loop()
            loops.append(True)
        except RuntimeError:
            loops.append(False)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(routes_ecg, "analyze_upload", spy)
    assert client.post(URL, files=wfdb_parts(record_files["wfdb"])).status_code == 200
    assert loops == [False]


def test_records_over_the_size_limit_are_refused(
    make_client: Callable[..., TestClient], record_files: dict[str, Path]
) -> None:
    """The readers refuse a record whose header declares more than ``max_values`` (413,
    before reading it); a smaller one is read and analysed."""
    client = make_client(max_values=15_000)
    r = client.post(URL, files=wfdb_parts(record_files["wfdb"]))  # 10800 samples x 2 leads
    assert r.status_code == 413 and r.json()["error"]["field"] == "file"
    assert "15000" in r.json()["error"]["message"]
    ok = make_client(max_values=25_000).post(URL, files=wfdb_parts(record_files["wfdb"]))
    assert ok.status_code == 200


def test_notes_stay_with_their_own_thread() -> None:
    """Warnings raised by concurrent analyses land in the notes of their own request."""
    import warnings

    from medmodal.errors import MedmodalWarning
    from medmodal.serve.ecg import collect_notes

    before = warnings.showwarning
    barrier = threading.Barrier(2)
    results: dict[str, list[str]] = {}

    def run(tag: str) -> None:
        with collect_notes() as notes:
            barrier.wait()
            for i in range(50):
                warnings.warn(f"{tag}{i % 2}", MedmodalWarning, stacklevel=1)
            barrier.wait()
        results[tag] = notes

    threads = [threading.Thread(target=run, args=(tag,)) for tag in "AB"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(results["A"]) == {"A0", "A1"} and len(results["A"]) == 50
    assert set(results["B"]) == {"B0", "B1"} and len(results["B"]) == 50
    assert warnings.showwarning is before  # the hook is gone once no request collects


def test_concurrent_analyses_are_bounded(
    upload_tmp: Path, record_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six requests at once, two analyses at a time (max_concurrent_analyses=2)."""
    import time

    import httpx

    from medmodal.serve import routes_ecg
    from medmodal.serve.app import create_app
    from medmodal.serve.settings import Settings

    running, peak = [0], [0]
    lock = threading.Lock()
    real = routes_ecg.analyze_upload

    def slow(*args: object) -> object:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            time.sleep(0.2)
            return real(*args)  # type: ignore[arg-type]
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(routes_ecg, "analyze_upload", slow)
    app = create_app(Settings(tmp_dir=upload_tmp, max_concurrent_analyses=2))
    parts = wfdb_parts(record_files["wfdb"])

    async def main() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            answers = await asyncio.gather(*(client.post(URL, files=parts) for _ in range(6)))
        return [r.status_code for r in answers]

    statuses = asyncio.run(main())
    assert peak[0] == 2
    assert statuses == [200] * 6


@pytest.mark.parametrize(("large_bytes", "expected_peak"), [(1_000, 1), (50 * 2**20, 3)])
def test_large_uploads_run_a_few_at_a_time(
    upload_tmp: Path,
    record_files: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    large_bytes: int,
    expected_peak: int,
) -> None:
    """Uploads over ``large_upload_bytes`` run ``max_large_analyses`` at a time (their
    memory); smaller ones use every analysis slot."""
    import time

    import httpx

    from medmodal.serve import routes_ecg
    from medmodal.serve.app import create_app
    from medmodal.serve.settings import Settings

    running, peak = [0], [0]
    lock = threading.Lock()

    def slow(*args: object) -> object:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.3)
        with lock:
            running[0] -= 1
        return b'{"n_beats": 0}'

    monkeypatch.setattr(routes_ecg, "analyze_upload", slow)
    settings = Settings(
        tmp_dir=upload_tmp,
        max_concurrent_analyses=3,
        max_large_analyses=1,
        large_upload_bytes=large_bytes,
    )
    app = create_app(settings)
    parts = wfdb_parts(record_files["wfdb"])  # about 43 kB

    async def main() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            answers = await asyncio.gather(*(client.post(URL, files=parts) for _ in range(3)))
        return [r.status_code for r in answers]

    assert asyncio.run(main()) == [200] * 3
    assert peak[0] == expected_peak


def test_settings_refuse_a_nonpositive_large_limit() -> None:
    from medmodal.errors import InvalidParameterError
    from medmodal.serve.settings import Settings

    assert Settings().max_large_analyses >= 1
    with pytest.raises(InvalidParameterError, match="max_large_analyses"):
        Settings(max_large_analyses=0)
    with pytest.raises(InvalidParameterError, match="large_upload_bytes"):
        Settings(large_upload_bytes=-1)
