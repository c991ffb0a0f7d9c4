"""One JSON shape for every error: ``{"error": {"code", "message", "field"}}``.

Handlers turn request-validation errors (422 naming the field), HTTP errors (401, 404,
405, 413, 504), medmodal's own errors and unexpected ones (500, without details) into it.
Nothing here logs a message text: messages may quote file names or values.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from medmodal.errors import (
    DataNotFoundError,
    MedmodalError,
    MissingDependencyError,
    RecordTooLargeError,
)

log = logging.getLogger("medmodal.serve")

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_parameter",
    500: "internal_error",
    503: "unavailable",
    504: "timeout",
}


class ServiceError(Exception):
    """An error with its HTTP status, code and (when one is at fault) request field."""

    def __init__(self, status: int, message: str, *, field: str | None = None, code: str = ""):
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.code = code or _CODES.get(status, "error")


def error_response(
    status: int, message: str, *, field: str | None = None, code: str = "", headers: Any = None
) -> JSONResponse:
    """The JSON error response."""
    error = {"code": code or _CODES.get(status, "error"), "message": message, "field": field}
    body = {"error": error}
    return JSONResponse(body, status_code=status, headers=headers)


def _field(loc: list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or "body"


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # registered for this class only
        raise exc
    errors = exc.errors()
    first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
    invalid_json = first.get("type") == "json_invalid"  # its loc is a character offset
    field = "body" if invalid_json else _field(list(first.get("loc", ())))
    # pydantic messages never quote file contents; keep only the message, not the input
    message = f"{field}: {first.get('msg', 'invalid value')}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem(s))"
    return error_response(422, message, field=field)


async def _service(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, ServiceError):  # registered for this class only
        raise exc
    return error_response(exc.status, exc.message, field=exc.field, code=exc.code)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):  # registered for this class only
        raise exc
    message = exc.detail if isinstance(exc.detail, str) else _CODES.get(exc.status_code, "error")
    return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))


async def _medmodal(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, MissingDependencyError):
        return error_response(503, str(exc))
    status = 404 if isinstance(exc, DataNotFoundError) else 422
    if isinstance(exc, RecordTooLargeError):
        status = 413
    return error_response(status, str(exc))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # the type only: an exception's text can quote a file name or a value
    log.error("unexpected %s while serving %s", type(exc).__name__, _route(request))
    return error_response(500, "internal error; the service log has the error type")


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", "<unmatched>"))


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(ServiceError, _service)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(MedmodalError, _medmodal)
    app.add_exception_handler(Exception, _unexpected)
