"""API key check, trusted hosts, request size limit, the docs' CSP and an access log.

- :class:`ApiKeyMiddleware`: with ``Settings.api_key`` set, ``/v1`` calls must send it
  (``X-API-Key: <key>`` or ``Authorization: Bearer <key>``), compared in constant time,
  *before* the body is read (an unauthenticated upload is never parsed or spooled to
  disk). :func:`api_key_dependency` checks it again and declares it in the OpenAPI schema.
- :class:`TrustedHostMiddleware`: 400 unless the ``Host`` header is in
  ``Settings.allowed_hosts`` (DNS rebinding).
- :class:`DocsCspMiddleware`: a Content-Security-Policy on ``/docs`` and ``/redoc``
  (their inline script allowed by its hash, nothing loaded from elsewhere).
- :class:`BodyLimitMiddleware`: 413 when ``Content-Length`` exceeds the limit, and when a
  body sent without one (chunked) grows past it while it is read.
- :class:`AccessLogMiddleware`: one line per request with the method, the route
  *template* (never the raw path or query), the status and the time taken. No file
  names, signal values or patient fields ever reach the log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

from fastapi import Request, Security
from fastapi.security import APIKeyHeader
from starlette.datastructures import Headers, MutableHeaders
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
        if expected is not None and not key_matches(expected, header, request.headers):
            raise ServiceError(401, UNAUTHORIZED, code="unauthorized")

    return check


UNAUTHORIZED = "missing or wrong API key: send it in the X-API-Key header"


def key_matches(expected: str, header: str | None, headers: Mapping[str, str]) -> bool:
    """Whether ``X-API-Key`` (``header``) or ``Authorization: Bearer`` holds ``expected``."""
    given = header
    auth = headers.get("authorization", "")
    if given is None and auth[:7].lower() == "bearer ":
        given = auth[7:].strip()
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class ApiKeyMiddleware:
    """401 for ``/v1`` requests without the key, answered before the body is received."""

    def __init__(self, app: ASGIApp, api_key: str | None) -> None:
        self.app = app
        self.api_key = api_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        guarded = scope["type"] == "http" and str(scope.get("path", "")).startswith("/v1")
        if guarded and self.api_key is not None:
            headers = Headers(scope=scope)
            if not key_matches(self.api_key, headers.get("x-api-key"), headers):
                response = error_response(401, UNAUTHORIZED, headers={"Connection": "close"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class TrustedHostMiddleware:
    """400 unless the request's ``Host`` (port stripped, IPv6 brackets kept) is allowed;
    ``*`` allows any host, ``*.example.org`` any sub-domain of example.org."""

    def __init__(self, app: ASGIApp, allowed_hosts: tuple[str, ...]) -> None:
        self.app = app
        self.allowed = {h.lower() for h in allowed_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not self.allows(scope):
            response = error_response(400, "this Host is not served here", field="host")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def allows(self, scope: Scope) -> bool:
        if "*" in self.allowed:
            return True
        host = host_name(Headers(scope=scope).get("host", ""))
        if host in self.allowed:
            return True
        return any(p.startswith("*.") and host.endswith(p[1:]) for p in self.allowed)


def host_name(header: str) -> str:
    """The host of a ``Host`` header, lower-case, without its port.

    Example:
        >>> host_name("[::1]:8000"), host_name("LocalHost:80"), host_name("a.example")
        ('[::1]', 'localhost', 'a.example')
    """
    header = header.strip().lower()
    if header.startswith("["):
        return header[: header.find("]") + 1] if "]" in header else header
    return header.split(":", 1)[0]


#: Pages whose Content-Security-Policy :class:`DocsCspMiddleware` sets.
DOC_PATHS = ("/docs", "/redoc", "/docs/oauth2-redirect")
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def docs_csp(html: bytes) -> str:
    """The policy of a docs page: its own files only, its inline scripts by hash
    (Swagger UI and ReDoc inject their styles at run time, so inline styles stay)."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(m).digest()).decode() + "'"
        for m in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


class DocsCspMiddleware:
    """Add :func:`docs_csp` to the HTML of :data:`DOC_PATHS`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") not in DOC_PATHS:
            await self.app(scope, receive, send)
            return
        start: list[Message] = []
        body = bytearray()

        async def buffered(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.append(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body", False):
                return
            head = MutableHeaders(scope=start[0])
            head["Content-Security-Policy"] = docs_csp(bytes(body))
            head["X-Content-Type-Options"] = "nosniff"
            await send(start[0])
            await send({"type": "http.response.body", "body": bytes(body)})

        await self.app(scope, receive, buffered)


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
