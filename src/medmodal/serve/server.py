"""uvicorn's settings from the service's: connection limits and timeouts.

:func:`uvicorn_options` is what ``medmodal serve`` passes to ``uvicorn.run``:

- ``limit_concurrency``: open connections (and tasks) served at once; past it 503;
- ``timeout_keep_alive``: seconds an idle keep-alive connection is held;
- ``h11_max_incomplete_event_size``: most bytes of request headers (64 KiB);
- ``http``: :func:`deadline_protocol`, uvicorn's h11 protocol with a *read deadline*:
  a connection must deliver a request's headers and body within ``timeout_read_s`` of
  its first byte (or of opening), else it is closed. uvicorn has no such setting: without
  it, an idle new socket or a body sent a byte at a time is held for ever (slow-loris).
"""

from __future__ import annotations

import asyncio
from typing import Any

from medmodal.serve.settings import Settings

#: Most bytes of a request's headers.
MAX_HEADER_BYTES = 64 * 1024


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments of ``uvicorn.run`` for ``settings`` (see the module docstring).

    Example:
        >>> opts = uvicorn_options(Settings(limit_concurrency=64))
        >>> opts["limit_concurrency"], opts["timeout_keep_alive"]
        (64, 5)
    """
    return {
        "limit_concurrency": settings.limit_concurrency,
        "timeout_keep_alive": max(1, round(settings.timeout_keep_alive_s)),
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "http": deadline_protocol(settings.timeout_read_s),
        "access_log": False,  # uvicorn's prints raw paths and queries; ours route templates
    }


def deadline_protocol(timeout_s: float) -> type[asyncio.Protocol]:
    """uvicorn's ``H11Protocol`` closing connections that take longer than ``timeout_s``
    to deliver a request (headers and body), counted from the connection's opening or
    from the first byte of each later request."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    finished = (h11.DONE, h11.MUST_CLOSE, h11.CLOSED, h11.ERROR)

    class DeadlineH11Protocol(H11Protocol):
        read_timeout_s = timeout_s
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._deadline is None and self.conn.their_state is h11.IDLE:
                self._arm()  # the first bytes of a new request on a kept-alive connection
            super().data_received(data)
            if self.conn.their_state in finished:
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(self.read_timeout_s, self._timed_out)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _timed_out(self) -> None:
            self._deadline = None
            if self.cycle is not None and not self.cycle.response_complete:
                self.cycle.disconnected = True
                self.cycle.message_event.set()
            if not self.transport.is_closing():
                self.transport.close()

    return DeadlineH11Protocol
