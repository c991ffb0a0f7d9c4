"""The web page's fusion form, keyboard order, contrast and print layout, and the
clinician's page and PDF, in headless Chromium (Debian's, through Playwright).

Skips, saying why, without Playwright or Chromium; the clinician's page test is slow
(``-m slow``), the fusion form test runs with ``make test``. Screenshots and the printed PDFs are
saved in ``test-artifacts/serve/`` (gitignored).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.serve._live import live_app

from medmodal.serve.settings import Settings

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

#: WCAG 2.1 AA contrast of each visible element's own text against its background.
CONTRAST_JS = """() => {
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map(parseFloat);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const lum = (c) => { const f = (v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const back = (el) => { for (let e = el; e; e = e.parentElement) {
    const c = parse(getComputedStyle(e).backgroundColor); if (c && c[3] > 0.5) return c; }
    return [255, 255, 255, 1]; };
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const a = lum(parse(getComputedStyle(el).color)), b = lum(back(el));
    out.push([(Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
              `${el.tagName}#${el.id}`, el.textContent.trim().slice(0, 40)]);
  }
  return out.sort((x, y) => x[0] - y[0]).slice(0, 3);
}"""


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


@pytest.fixture(scope="module")
def fusion_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, dict]:
    pytest.importorskip("torch")
    from medmodal.data.synthetic import make_multimodal_classification
    from medmodal.fusion import FusionClassifier

    data = make_multimodal_classification(120, seed=0)
    clf = FusionClassifier("early", epochs=2, batch_size=64, verbose=False, num_threads=1)
    clf.fit(data.X, data.y)
    root = tmp_path_factory.mktemp("models")
    clf.save(root / "demo-fusion")
    from tests.serve._align_models import save_image_model

    save_image_model(root / "demo-search")  # for the search box
    return root, clf, {name: values[0] for name, values in data.X.items()}


@pytest.fixture
def browser_page(
    fusion_model: tuple[Path, Any, dict], tmp_path: Path
) -> Iterator[tuple[Any, Any, str]]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    settings = Settings(tmp_dir=uploads, models_dir=fusion_model[0])
    with live_app(settings) as url, sync_api.sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        except sync_api.Error as exc:
            pytest.skip(f"Chromium at {CHROMIUM} does not start: {str(exc).splitlines()[0]}")
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 1600})
            yield sync_api, context, url
        finally:
            browser.close()
    assert not any(uploads.iterdir()), "an upload folder was left behind"


def test_fusion_form_keyboard_contrast_and_print(
    browser_page: tuple[Any, Any, str], fusion_model: tuple[Path, Any, dict]
) -> None:
    sync_api, context, url = browser_page
    expect = sync_api.expect
    _, clf, sample = fusion_model
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(url + "/")
    expect(page.locator("#fusion-status")).to_have_text("1 fusion model(s).", timeout=30_000)
    names = list(sample)
    assert page.locator("#fusion-model option").all_text_contents() == ["demo-fusion"]
    labels = page.locator("#fusion-inputs label[for]").all_text_contents()
    assert labels == [f"{n} (tabular, {sample[n].size} values)" for n in names]

    # keyboard: Tab from the top reaches every control in reading order
    page.locator("body").focus()
    seen: list[str] = []
    for _ in range(25):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("() => document.activeElement.id"))
    controls = ["file", "sampling-rate", "lead", "window", "api-key", "analyze", "report-html",
                "report-pdf", "fusion-model", "fusion-load", "fusion-in-0", "fusion-missing-0",
                "fusion-in-1", "fusion-missing-1", "fusion-predict"]  # fmt: skip
    assert [s for s in seen if s in controls][: len(controls)] == controls, seen

    # a bad sample is refused in the page, naming the modality
    page.fill("#fusion-in-0", "1, 2")
    page.click("#fusion-predict")
    expect(page.locator("#fusion-status")).to_have_class("error")
    assert (page.text_content("#fusion-status") or "").startswith(f"{names[0]}: enter")

    # typed with the keyboard and submitted with Enter: the service's probabilities
    for i, name in enumerate(names):
        page.fill(f"#fusion-in-{i}", ", ".join(f"{v:.6f}" for v in sample[name]))
    page.focus("#fusion-predict")
    page.keyboard.press("Enter")
    expect(page.locator("#fusion-status")).to_have_text(re.compile(r"Done: "), timeout=30_000)
    X = {n: np.round(sample[n], 6)[None] for n in names}
    expected = clf.predict_proba(X)[0]
    shown = [
        float(v) for v in page.locator("#fusion-table tbody td:nth-child(2)").all_text_contents()
    ]
    np.testing.assert_allclose(shown, expected, atol=1e-3)
    assert page.text_content("#fusion-prediction") == str(clf.predict(X)[0])
    assert page.is_hidden("#fusion-interval-head")  # this model returns no interval

    # one modality missing: null for that sample
    page.check("#fusion-missing-1")
    page.click("#fusion-predict")
    expect(page.locator("#fusion-status")).to_have_text(re.compile(r"Done: "), timeout=30_000)

    # intervals are shown when the API returns them
    reply = {
        "model": "demo-fusion",
        "classes": ["0", "1"],
        "probabilities": [[0.2, 0.8]],
        "predictions": ["1"],
        "intervals": [[[0.1, 0.3], [0.7, 0.9]]],
        "interval_level": 0.95,
    }
    page.route("**/v1/fusion/predict", lambda route: route.fulfill(json=reply))
    page.click("#fusion-predict")
    expect(page.locator("#fusion-interval-head")).to_be_visible()
    cells = page.locator("#fusion-table tbody td:nth-child(3)").all_text_contents()
    assert cells == ["0.100–0.300", "0.700–0.900"]
    assert "95 % intervals" in (page.text_content("#fusion-table caption") or "")

    worst = page.evaluate(CONTRAST_JS)
    assert worst[0][0] >= 4.5, worst
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-fusion.png"), full_page=True)

    page.emulate_media(media="print")
    for control in ("#analyze", "#report-pdf", "#fusion-predict", "#fusion-load", "#file"):
        assert page.is_hidden(control), control
    assert page.is_visible("#fusion-table")  # the result prints
    pdf = page.pdf(print_background=True)
    (ARTIFACTS / "browser-fusion-print.pdf").write_bytes(pdf)
    assert _pages(pdf) == 1
    assert not [p for p in problems if "Content Security Policy" in p], problems


def test_search_box_shows_images_and_captions(browser_page: tuple[Any, Any, str]) -> None:
    """An image query shows the captions found with their gallery images; errors in words."""
    from tests.serve._align_models import CAPTIONS, CASES, png_query

    sync_api, context, url = browser_page
    expect = sync_api.expect
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(url + "/")
    expect(page.locator("#search-status")).to_have_text("1 search model(s).", timeout=30_000)
    assert page.locator("#search-model option").all_text_contents() == ["demo-search"]
    for control in ("search-text", "search-image", "search-k", "search-model"):
        assert page.locator(f"label[for={control}]").count() == 1, control
    assert page.get_attribute("#search-results", "aria-live") == "polite"
    assert page.get_attribute("#search-status", "aria-live") == "polite"

    png, _ = png_query(1)
    page.set_input_files(
        "#search-image", files=[{"name": "q.png", "mimeType": "image/png", "buffer": png}]
    )
    page.click("#search-run")
    expect(page.locator("#search-status")).to_have_text("Found 3 caption(s).", timeout=30_000)
    items = page.locator("#search-results li")
    expect(items).to_have_count(3)
    assert items.nth(0).locator(".search-caption").text_content() == CAPTIONS[1]
    meta = items.nth(0).locator(".search-meta").text_content() or ""
    assert "#1" in meta and "image img 1" in meta and f"case {CASES[1]}" in meta
    image = items.nth(0).locator("img")
    expect(image).to_have_count(1, timeout=30_000)
    assert image.evaluate("img => img.decode().then(() => img.naturalWidth)") == 32
    assert CAPTIONS[1] in (image.get_attribute("alt") or "")
    expect(page.locator("#search-results img")).to_have_count(3, timeout=30_000)
    worst = page.evaluate(CONTRAST_JS)
    assert worst[0][0] >= 4.5, worst
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-search.png"), full_page=True)

    # both or neither: refused in the page; a text query to a model without a text tower:
    # the service's 422, in words
    page.fill("#search-text", "axial CT")
    page.click("#search-run")
    expect(page.locator("#search-status")).to_have_class("error")
    page.set_input_files("#search-image", files=[])
    page.click("#search-run")
    expect(page.locator("#search-status")).to_have_text(
        re.compile(r"^Error 422 \(model\)"), timeout=30_000
    )
    assert failed == [f"422 {url}/v1/align/search"], failed  # the image URLs all load
    assert not [p for p in problems if "Content Security Policy" in p], problems


@pytest.mark.slow  # three analyses and two renderings in the browser: about 30 s
def test_clinicians_page_and_pdf_from_the_web_page(
    browser_page: tuple[Any, Any, str], record_files: dict[str, Path], tmp_path: Path
) -> None:
    sync_api, context, url = browser_page
    page = context.new_page()
    page.goto(url + "/")
    page.set_input_files("#file", [str(record_files["csv"])])
    # the web page's results print on one page, without controls
    page.click("#analyze")
    sync_api.expect(page.locator("#status")).to_have_text("Done.", timeout=60_000)
    page.emulate_media(media="print")
    assert page.is_hidden("#analyze") and page.is_hidden("#windows-table")
    assert page.is_visible("#figure") and page.is_visible("#hrv-table")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    results = page.pdf(print_background=True)  # Letter: the smaller of Letter and A4
    (ARTIFACTS / "browser-results-print.pdf").write_bytes(results)
    assert _pages(results) == 1
    page.emulate_media(media="screen")
    # the clinician's page opens in a new tab under its own CSP (inline style by hash)
    with page.expect_popup(timeout=60_000) as popup_info:
        page.click("#report-html")
    report = popup_info.value
    problems: list[str] = []
    report.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    report.wait_for_load_state()
    assert report.text_content("h1") == "ECG analysis: r100"
    assert report.evaluate("() => getComputedStyle(document.body).maxWidth") == "1150px"
    assert report.locator("h2").all_text_contents()[:5] == [
        "ECG", "Measurements", "Findings", "Lead used and why", "Withheld and why",
    ]  # fmt: skip
    width = report.eval_on_selector("figure img", "img => img.complete && img.naturalWidth")
    assert width and width > 1000
    worst = report.evaluate(CONTRAST_JS)
    assert worst[0][0] >= 4.5, worst
    report.emulate_media(media="print")
    assert report.is_hidden(".screen-only")
    printed = report.pdf(prefer_css_page_size=True, print_background=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "browser-clinician-page.pdf").write_bytes(printed)
    assert _pages(printed) == 1  # one A4 landscape sheet
    assert not problems, problems

    # with an API key typed, the PDF comes as a download link (a form cannot send the key)
    page.fill("#api-key", "any-key")  # this service has no key: the header is ignored
    page.click("#report-pdf")
    link = page.locator("#report-links a")
    sync_api.expect(link).to_have_text("Download the PDF", timeout=60_000)
    with page.expect_download() as download_info:
        link.click()
    saved = tmp_path / "report.pdf"
    download_info.value.save_as(saved)
    data = saved.read_bytes()
    assert data.startswith(b"%PDF-") and _pages(data) == 1
    # an error is shown in place, in words
    page.set_input_files(
        "#file", files=[{"name": "x.csv", "mimeType": "text/csv", "buffer": b"a\n"}]
    )
    page.click("#report-pdf")
    sync_api.expect(page.locator("#report-links")).to_have_class("hint error", timeout=30_000)
    assert (page.text_content("#report-links") or "").startswith("Error 422")
    assert json.dumps(problems) == "[]"
