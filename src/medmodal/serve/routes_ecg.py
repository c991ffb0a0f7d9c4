"""``POST /v1/ecg/analyze``: upload a record, get heart rate, HRV, rhythm and quality."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, File, Form, Query, Response, UploadFile

from medmodal.io import DEFAULT_LIMITS
from medmodal.serve.ecg import AnalyzeParams, analyze_upload
from medmodal.serve.schemas import ECGAnalysis, ErrorResponse
from medmodal.serve.settings import Settings

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in (
        (400, "malformed request body (multipart or JSON that cannot be parsed) or Host"),
        (401, "missing or wrong API key (when the service has one)"),
        (413, "request, extracted upload or declared record too large"),
        (422, "invalid file or parameter; `error.field` names it"),
        (503, "the analysis worker stopped (out of memory)"),
        (504, "the analysis ran past the service's time limit and was stopped"),
    )
}


def large_gate(
    files: Sequence[UploadFile], settings: Settings, large: anyio.CapacityLimiter
) -> AbstractAsyncContextManager[Any]:
    """What a request waits on before its analysis slot: ``large`` when its files together
    exceed ``settings.large_upload_bytes``, nothing otherwise."""
    size = sum(f.size or 0 for f in files)
    return large if size > settings.large_upload_bytes else contextlib.nullcontext()


def ecg_router(
    settings: Settings,
    limiter: anyio.CapacityLimiter | None = None,
    large: anyio.CapacityLimiter | None = None,
) -> APIRouter:
    """The ECG routes, bound to ``settings`` (and ``limiter`` and ``large``, shared with
    the report routes; default: limiters of ``settings.max_concurrent_analyses`` and
    ``settings.max_large_analyses``)."""
    router = APIRouter(prefix="/v1/ecg", tags=["ecg"])
    # at most this many analyses in the thread pool at once; the others wait their turn
    if limiter is None:
        limiter = anyio.CapacityLimiter(settings.max_concurrent_analyses)
    if large is None:
        large = anyio.CapacityLimiter(settings.max_large_analyses)

    @router.post("/analyze", response_model=ECGAnalysis, responses=ERRORS)
    async def analyze(
        file: Annotated[
            list[UploadFile],
            File(
                min_length=1,
                description="the record: one CSV/TSV, EDF/BDF, .npy/.npz or .zip file, or "
                "a WFDB record's .hea + .dat (+ .atr) files",
            ),
        ],
        sampling_rate: Annotated[
            float | None,
            Form(
                gt=0,
                le=DEFAULT_LIMITS.max_sampling_rate,
                description="Hz; needed by .npy and CSV without time",
            ),
        ] = None,
        lead: Annotated[
            str | None,
            Form(max_length=64, description="analyse only this lead (name or 0-based index)"),
        ] = None,
        window: Annotated[
            float, Form(ge=2, le=120, description="seconds per rhythm/quality window")
        ] = 10.0,
        plot_field: Annotated[
            bool, Form(alias="plot", description="also return the annotated PNG")
        ] = False,
        plot: Annotated[bool, Query(description="also return the annotated PNG")] = False,
    ) -> Any:
        """Analyse one ECG record: heart rate, HRV, rhythm and quality per window, R peaks.

        The analysis runs in a worker process (at most ``max_concurrent_analyses`` at
        once, each stopped after ``analysis_timeout_s``: 504); the upload's temporary
        folder is removed as soon as the worker is done.
        """
        uploads = [(f.filename, f.file) for f in file]
        params = AnalyzeParams(sampling_rate, lead, window, plot or plot_field)
        async with large_gate(file, settings, large):
            body = await anyio.to_thread.run_sync(
                analyze_upload, uploads, params, settings, limiter=limiter
            )
        # the worker checked the body against ECGAnalysis and serialised it already
        return Response(body, media_type="application/json")

    return router
