"""``medmodal serve``: the clinical decision-support service and its web page (uvicorn)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from medmodal.cli._common import console, err_console, handle_errors
from medmodal.errors import InvalidParameterError


def check_port(host: str, port: int) -> None:
    """Bind ``host:port`` once (as uvicorn will, address reuse on) and let it go.

    Raises:
        InvalidParameterError: the port is in use or the address cannot be bound, with
            the flag to change.
    """
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InvalidParameterError(
            f"serve: --host {host} is not an address here ({exc})"
        ) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise InvalidParameterError(
                f"serve: cannot listen on {host}:{port} ({reason}); another program may "
                "be using the port: stop it or pass another --port"
            ) from None


@handle_errors
def serve(
    host: Annotated[
        str, typer.Option("--host", help="Interface to bind (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    models_dir: Annotated[
        Path | None,
        typer.Option(
            "--models-dir",
            help="Folder of saved models (default: $MEDMODAL_MODELS_DIR).",
            file_okay=False,
        ),
    ] = None,
    max_upload_mb: Annotated[
        float | None,
        typer.Option("--max-upload-mb", help="Largest request body (default 25 MiB).", min=0.001),
    ] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level.")] = "info",
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No banner; log warnings and errors only.")
    ] = False,
) -> None:
    """Serve the ECG analysis API, model endpoints and the web page (set MEDMODAL_API_KEY
    to require an API key on every /v1 call, MEDMODAL_ALLOWED_HOSTS to the names clients
    use when not on loopback)."""
    import logging
    import os

    from medmodal._optional import require

    uvicorn = require("uvicorn", extra="serve", feature="medmodal serve")
    require("fastapi", extra="serve", feature="medmodal serve")
    from medmodal.serve.app import create_app
    from medmodal.serve.server import uvicorn_options
    from medmodal.serve.settings import LOOPBACK_HOSTS, Settings

    if quiet:
        log_level = "warning"
    max_bytes = None if max_upload_mb is None else int(max_upload_mb * 1024 * 1024)
    hosts = None
    if host not in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "::") and not os.environ.get(
        "MEDMODAL_ALLOWED_HOSTS"
    ):
        hosts = (*LOOPBACK_HOSTS, host)  # the address it is bound to answers too
    settings = Settings.from_env(
        models_dir=models_dir, max_upload_bytes=max_bytes, allowed_hosts=hosts
    )
    check_port(host, port)  # a port in use fails here, before any banner
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    if not quiet:
        console.print(f"medmodal service on http://{shown}:{port}/  (API docs: /docs)")
    if settings.api_key is None and host not in ("127.0.0.1", "localhost", "::1"):
        err_console.print("[yellow]warning:[/yellow] no MEDMODAL_API_KEY set on a public interface")
    # connection limits and read/keep-alive timeouts from the settings; no uvicorn access
    # log (it prints raw paths and queries; ours logs route templates only)
    options = uvicorn_options(settings)
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level, **options)
