"""The web page in a real browser: headless Chromium uploads a shipped MIT-BIH excerpt.

The app runs under uvicorn on a loopback port in a thread; Playwright drives the Debian
``chromium`` (never a downloaded browser). A screenshot is saved as a test artefact in
``test-artifacts/serve/`` (gitignored). Skips, saying why, without Playwright or Chromium.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.serve._live import live_app

from medmodal.data.bundled import bundled_path, load_bundled
from medmodal.ecg.process import ecg_process

CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).is_file()),
    None,
)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "serve"

pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="Chromium is not installed (Debian: apt-get install -y chromium; .ci/run does it)",
    ),
]


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, in a thread."""
    from medmodal.serve.settings import Settings

    with live_app(Settings(tmp_dir=tmp_path)) as url:
        yield url
    assert not any(tmp_path.iterdir()), "an upload folder was left behind"


def test_page_uploads_a_record_and_shows_rate_and_figure(live_server: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    record = load_bundled("mitdb-100")
    summary = ecg_process(
        record.signal, record.sampling_rate, lead_names=record.lead_names
    ).summary()
    expected = f"{summary['heart_rate']['mean_bpm']:.1f}"
    assert record.annotations is not None
    beats = record.annotations.beats().sample
    reference = 60 * (beats.size - 1) * record.sampling_rate / float(beats[-1] - beats[0])
    path = bundled_path("mitdb-100")

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        except sync_api.Error as exc:  # e.g. a chromium without its shared libraries
            pytest.skip(f"Chromium at {CHROMIUM} does not start: {str(exc).splitlines()[0]}")
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1800})
            external: list[str] = []
            page.on(
                "request",
                lambda req: None if req.url.startswith(live_server) else external.append(req.url),
            )
            page.goto(live_server + "/")
            page.set_input_files("#file", [str(path.with_suffix(s)) for s in (".hea", ".dat")])
            page.click("#analyze")
            # a locator assertion, not wait_for_function: the page's CSP forbids eval
            sync_api.expect(page.locator("#status")).to_have_text(
                re.compile(r"Done\.|Error|failed"), timeout=90_000
            )
            status = page.text_content("#status")
            assert status == "Done.", status
            shown = page.text_content("#hr-mean")
            width = page.eval_on_selector("#figure", "img => img.complete && img.naturalWidth")
            rhythm = page.text_content("#rhythm")
            pvc, classes = page.text_content("#pvc"), page.text_content("#beat-classes") or ""
            rows = page.locator("#windows-table tbody tr").count()
            href = page.get_attribute("#download", "href")
            page.screenshot(path=str(ARTIFACTS / "browser-mitdb-100.png"), full_page=True)
            # a bad file: the page shows the service's error, naming the field
            bad = {"name": "notes.csv", "mimeType": "text/csv", "buffer": b"not,an\necg,x\n"}
            page.set_input_files("#file", files=[bad])
            page.click("#analyze")
            sync_api.expect(page.locator("#status")).to_have_class("error", timeout=30_000)
            error = page.text_content("#status") or ""
        finally:
            browser.close()
    assert shown == expected
    assert float(shown or "nan") == pytest.approx(reference, abs=1.0)  # the annotated truth
    assert width and width > 600  # the annotated PNG figure rendered
    assert rhythm == "sinus"
    block = summary["beat_classes"]
    assert pvc == f"{block['pvc_burden_pct']:.1f} %"
    assert classes.startswith(f"N {block['counts']['N']} · S {block['counts']['S']}"), classes
    assert f"on {block['lead']}" in classes
    assert rows == 30  # 300 s in 10-s windows
    assert href and href.startswith("blob:")
    assert external == []  # nothing fetched from anywhere else
    assert error.startswith("Error 422 (file): cannot read the csv record"), error
    assert "/" not in error  # no server paths
