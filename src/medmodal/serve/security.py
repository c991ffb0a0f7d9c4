"""API key check, request size limit and a privacy-safe access log.

- :func:`api_key_dependency`: with ``Settings.api_key`` set, ``/v1`` calls must send it
  (``X-API-Key: <key>`` or ``Authorization: Bearer <key>``); compared in constant time.
- :class:`BodyLimitMiddleware`: 413 when ``Content-Length`` exceeds the limit, and when a
  body sent without one (chunked) grows past it while it is read.
- :class:`AccessLogMiddleware`: one line per request with the method, the route
  *template* (never the raw path or query), the status and the time taken. No file
  names, signal values or patient fields ever reach the log.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Request, Security
from fastapi.security import APIKeyHeader
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medmodal.serve._errors import ServiceError, error_response
from medmodal.serve.settings import Settings

log = logging.getLogger("medmodal.serve.access")


#: The API key header, declared in the OpenAPI schema (the docs' "Authorize" button).
API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="needed when MEDMODAL_API_KEY is set"
)


def api_key_dependency(settings: Settings) -> Callable[..., Awaitable[None]]:
    """A FastAPI dependency that enforces ``settings.api_key`` (a no-op without one)."""
    expected = settings.api_key

    async def check(
        request: Request, header: Annotated[str | None, Security(API_KEY_HEADER)] = None
    ) -> None:
        if expected is None:
            return
        given = header
        auth = request.headers.get("authorization", "")
        if given is None and auth[:7].lower() == "bearer ":
            given = auth[7:].strip()
        if given is None or not hmac.compare_digest(given.encode(), expected.encode()):
            raise ServiceError(
                401,
                "missing or wrong API key: send it in the X-API-Key header",
                code="unauthorized",
            )

    return check


class BodyLimitMiddleware:
    """Refuse request bodies larger than ``max_bytes`` with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # FastAPI re-raises HTTPExceptions met while parsing a body
                    raise StarletteHTTPException(413, self._message())
            return message

        await self.app(scope, counted, send)

    def _message(self) -> str:
        return f"request body larger than the limit of {self.max_bytes} bytes"

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(413, self._message(), headers={"Connection": "close"})
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class AccessLogMiddleware:
    """Log ``METHOD /route/template STATUS TIMEms`` for every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = getattr(scope.get("route"), "path", None)
            if route is None:  # static files, unknown paths: never the raw path
                route = "/" if scope.get("path") == "/" else "<other>"
            log.info(
                "%s %s %d %.1fms",
                scope.get("method", "?"),
                route,
                status["code"],
                1000 * (time.perf_counter() - start),
            )
