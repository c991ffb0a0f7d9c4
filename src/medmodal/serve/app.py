"""The FastAPI application: :func:`create_app` wires settings, routes and the web page.

Routes: ``GET /`` (the web page), ``GET /health``, ``POST /v1/ecg/analyze`` (and its
clinician's page: ``POST /v1/ecg/analyze/report.pdf`` and ``.../report.html``),
``GET /v1/models``, ``POST /v1/fusion/predict``, ``POST /v1/align/search``, and the
OpenAPI docs at ``/docs`` and ``/redoc`` (``/openapi.json``), served offline under a
Content-Security-Policy. Every ``/v1`` route needs the API key when one is set (checked
before the body is read); only ``Settings.allowed_hosts`` are answered (loopback names by
default); request bodies are capped; every error is JSON (see ``schemas.ErrorResponse``).

Example:
    >>> from fastapi.testclient import TestClient
    >>> from medmodal.serve.app import create_app
    >>> from medmodal.serve.settings import Settings
    >>> client = TestClient(create_app(Settings()), base_url="http://localhost")
    >>> client.get("/health").json()["status"]
    'ok'
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any

import anyio
from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

import medmodal
from medmodal.serve import _loaders  # noqa: F401  (registers the model loaders)
from medmodal.serve._errors import install_error_handlers
from medmodal.serve.model_store import ModelStore
from medmodal.serve.routes_ecg import ecg_router
from medmodal.serve.routes_models import models_router
from medmodal.serve.routes_report import report_router
from medmodal.serve.schemas import Health
from medmodal.serve.security import (
    AccessLogMiddleware,
    ApiKeyMiddleware,
    BodyLimitMiddleware,
    DocsCspMiddleware,
    TrustedHostMiddleware,
    api_key_dependency,
)
from medmodal.serve.settings import Settings
from medmodal.serve.worker import start_workers, worker_pool

DESCRIPTION = """Clinical decision support over medmodal: ECG analysis (heart rate, HRV,
rhythm, signal quality, R peaks, an annotated figure), predictions of saved fusion models
and text/image search with saved alignment models. Research software: not a medical
device; a clinician reads every result."""


#: The page loads nothing from elsewhere: everything it needs is served by the app.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
}


def static_dir() -> Path:
    """The folder of the web page's files (HTML, JS, CSS) inside the package."""
    return Path(str(resources.files("medmodal.serve").joinpath("static")))


def _fastapi(**kwargs: Any) -> FastAPI:
    """The app, with API docs (``/docs``, ``/redoc``) served from the package, not a CDN
    (``fastapi-offline``, in the ``serve`` extra); plain FastAPI's docs without it."""
    try:
        from fastapi_offline import FastAPIOffline
    except ImportError:
        return FastAPI(**kwargs)
    return FastAPIOffline(**kwargs)


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """At start-up, warm the analysis workers in the background (the first request then
    finds one ready); at shutdown, stop the idle ones."""
    start_workers()
    yield
    worker_pool().close()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service.

    Args:
        settings: limits, API key and models folder; default :meth:`Settings.from_env`.
    """
    settings = Settings.from_env() if settings is None else settings
    app = _fastapi(
        title="medmodal", version=medmodal.__version__, description=DESCRIPTION, lifespan=_lifespan
    )
    app.state.settings = settings
    store = ModelStore(settings.models_dir)
    app.state.models = store
    install_error_handlers(app)
    secured = [Depends(api_key_dependency(settings))]
    # one limit for every analysis (JSON, PDF or HTML answer)
    limiter = anyio.CapacityLimiter(settings.max_concurrent_analyses)
    large = anyio.CapacityLimiter(settings.max_large_analyses)  # and of large uploads
    app.include_router(ecg_router(settings, limiter, large), dependencies=secured)
    app.include_router(report_router(settings, limiter, large), dependencies=secured)
    app.include_router(models_router(store), dependencies=secured)

    @app.get("/health", response_model=Health, tags=["service"])
    async def health() -> Health:
        """Liveness: the version and whether an API key and models folder are set."""
        return Health(
            version=medmodal.__version__,
            auth_required=settings.api_key is not None,
            models_dir_configured=store.configured,
        )

    static = static_dir()

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(static / "index.html", media_type="text/html", headers=PAGE_HEADERS)

    app.mount("/static", StaticFiles(directory=static), name="static")
    # the last added runs first: log, host, key (before any body is read), body size
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload_bytes)
    app.add_middleware(ApiKeyMiddleware, api_key=settings.api_key)
    app.add_middleware(DocsCspMiddleware)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(AccessLogMiddleware)
    return app
