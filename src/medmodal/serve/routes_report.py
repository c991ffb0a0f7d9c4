"""``POST /v1/ecg/analyze/report.pdf`` and ``.../report.html``: the clinician's page.

The same upload and options as ``POST /v1/ecg/analyze``; the answer is the one-page PDF
(``application/pdf``) or the HTML page of the analysis instead of JSON. They are formats
of the analysis request, not ``GET`` of a stored analysis, because the service stores
none: an upload is analysed, answered and deleted, so no patient record stays on the
server. Both share the analysis routes' concurrency limit and deadline; errors are the
same JSON as there. The HTML page is served under a Content-Security-Policy that allows
nothing but its own inline style (by hash) and its inline image.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import HTMLResponse, Response

from medmodal.io import DEFAULT_LIMITS
from medmodal.report.ecg_html import css_hash
from medmodal.serve.ecg import AnalyzeParams, analyze_upload, upload_name
from medmodal.serve.ecg_report import report_html, report_pdf
from medmodal.serve.routes_ecg import ERRORS, large_gate
from medmodal.serve.settings import Settings

FileField = Annotated[
    list[UploadFile],
    File(min_length=1, description="the record, as for POST /v1/ecg/analyze"),
]
RateField = Annotated[
    float | None,
    Form(gt=0, le=DEFAULT_LIMITS.max_sampling_rate, description="Hz, for files without one"),
]
LeadField = Annotated[
    str | None, Form(max_length=64, description="analyse only this lead (name or index)")
]
WindowField = Annotated[float, Form(ge=2, le=120, description="seconds per window")]


def html_headers() -> dict[str, str]:
    """The report page's headers: nothing runs, nothing is fetched, no framing."""
    return {
        "Content-Security-Policy": f"default-src 'none'; style-src {css_hash()}; "
        "img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        "X-Content-Type-Options": "nosniff",
    }


def report_router(
    settings: Settings,
    limiter: anyio.CapacityLimiter,
    large: anyio.CapacityLimiter | None = None,
) -> APIRouter:
    """The report routes, bound to ``settings`` and the analyses' shared ``limiter`` (and
    ``large``, the limit of large uploads' analyses; default: one of its own)."""
    router = APIRouter(prefix="/v1/ecg", tags=["ecg"])
    gate = large or anyio.CapacityLimiter(settings.max_large_analyses)

    async def run(files: list[UploadFile], params: AnalyzeParams, task: Any) -> Any:
        uploads = [(f.filename, f.file) for f in files]
        async with large_gate(files, settings, gate):
            return await anyio.to_thread.run_sync(
                lambda: analyze_upload(uploads, params, settings, task=task), limiter=limiter
            )

    @router.post(
        "/analyze/report.pdf",
        response_class=Response,
        responses={**ERRORS, 200: {"content": {"application/pdf": {}}, "description": "PDF"}},
    )
    async def analyze_pdf(
        file: FileField,
        sampling_rate: RateField = None,
        lead: LeadField = None,
        window: WindowField = 10.0,
    ) -> Response:
        """Analyse one ECG record; answer its one-page PDF (A4 landscape)."""
        data = await run(file, AnalyzeParams(sampling_rate, lead, window), report_pdf)
        name = upload_name([(f.filename, f.file) for f in file])
        disposition = f'inline; filename="{name}-ecg.pdf"'
        return Response(
            data, media_type="application/pdf", headers={"Content-Disposition": disposition}
        )

    @router.post(
        "/analyze/report.html",
        response_class=Response,  # not HTMLResponse: the errors stay documented as JSON
        responses={**ERRORS, 200: {"content": {"text/html": {}}, "description": "the page"}},
    )
    async def analyze_html(
        file: FileField,
        sampling_rate: RateField = None,
        lead: LeadField = None,
        window: WindowField = 10.0,
    ) -> HTMLResponse:
        """Analyse one ECG record; answer the clinician's page (HTML, prints on one page)."""
        page = await run(file, AnalyzeParams(sampling_rate, lead, window), report_html)
        return HTMLResponse(page, headers=html_headers())

    return router
