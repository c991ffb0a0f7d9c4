"""``medmodal serve``'s uvicorn settings hold against slow and idle connections."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

uvicorn = pytest.importorskip("uvicorn")

from medmodal.serve.app import create_app  # noqa: E402
from medmodal.serve.server import uvicorn_options  # noqa: E402
from medmodal.serve.settings import Settings  # noqa: E402


@pytest.fixture
def server(tmp_path: Path) -> Iterator[int]:
    """A real uvicorn on loopback with a 0.5 s read deadline and 1 s keep-alive."""
    settings = Settings(tmp_dir=tmp_path, timeout_read_s=0.5, timeout_keep_alive_s=1)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), log_level="warning", **uvicorn_options(settings))
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.02)
    yield port
    srv.should_exit = True
    thread.join(5)


def _closed_after(sock: socket.socket, limit: float) -> float:
    """Seconds until the server closes ``sock`` (reads return b"")."""
    sock.settimeout(limit)
    start = time.perf_counter()
    while sock.recv(4096):
        pass
    return time.perf_counter() - start


@pytest.mark.parametrize(
    "sent",
    [
        b"",
        b"GET /health HTTP/1.1\r\nHost: local",
        b"POST /v1/ecg/analyze HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\nabc",
    ],
    ids=["idle", "slow-headers", "slow-body"],
)
def test_slow_connections_are_closed(server: int, sent: bytes) -> None:
    """The old server held an idle socket > 120 s and a stalled body >= 70 s."""
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(sent)
        assert _closed_after(sock, 5.0) < 3.0


def test_normal_requests_are_served_and_kept_alive(server: int) -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=5)
    for _ in range(2):  # the second request reuses the connection
        conn.request("GET", "/health", headers={"Host": "localhost"})
        assert conn.getresponse().read() and True
    conn.close()
