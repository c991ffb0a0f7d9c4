"""Service settings: API key, size limits and the models folder, from the environment.

Environment variables (read by :meth:`Settings.from_env`):

- ``MEDMODAL_API_KEY``: when set, every ``/v1`` call must send it in the ``X-API-Key``
  header (or ``Authorization: Bearer <key>``), otherwise 401.
- ``MEDMODAL_MAX_UPLOAD_MB``: largest request body in MiB (default 25), otherwise 413.
- ``MEDMODAL_MODELS_DIR``: folder of saved models (one sub-folder per model holding
  ``config.json`` + ``model.safetensors``) served by ``/v1/fusion`` and ``/v1/align``.
- ``MEDMODAL_ANALYSIS_TIMEOUT_S``: seconds one analysis may run (default 60), else 504.
- ``MEDMODAL_ALLOWED_HOSTS``: comma-separated ``Host`` names the service answers
  (default: the loopback names), else 400; ``*`` allows any (behind a proxy that checks).

Example:
    >>> s = Settings.from_env({"MEDMODAL_MAX_UPLOAD_MB": "2"})
    >>> s.max_upload_bytes, s.api_key is None
    (2097152, True)
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from medmodal.errors import InvalidParameterError

_MIB = 1024 * 1024
#: The names a service bound to loopback is reached by (``allowed_hosts`` default).
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")


@dataclass(frozen=True)
class Settings:
    """Everything :func:`medmodal.serve.app.create_app` needs to know.

    Attributes:
        api_key: the key ``/v1`` calls must send; ``None`` leaves the API open (for a
            service bound to loopback).
        max_upload_bytes: largest request body (413 above it).
        max_extracted_bytes: largest total size of the files an upload expands to
            (a zip is refused with 413 above it: zip bombs).
        max_files: most files in one upload (or entries in one zip).
        max_values: most samples x leads one analysis takes (422 above it).
        max_concurrent_analyses: analyses running at once (default: 4 per usable core:
            numpy releases the GIL, so a few per core overlap; one per core measured 40 %
            less throughput on a shared 2-core machine); further requests wait their turn,
            which bounds CPU and memory under load.
        large_upload_bytes: an upload larger than this (the request's files together) is
            a *large* analysis.
        max_large_analyses: large analyses running at once (default: 1 per usable core);
            further ones wait their turn without holding one of the
            ``max_concurrent_analyses`` slots. The worst records the budgets admit take
            about 100 MiB each in their worker: eight at once took the service past
            1 GB, so only a few run together while small uploads keep flowing.
        analysis_timeout_s: seconds one analysis (reading the record included) may run
            in its worker process; past it the worker is killed, its slot freed and the
            request answered 504. 60 s: a 24 h 2-lead Holter at 360 Hz takes about 20 s
            on one core.
        allowed_hosts: ``Host`` header values the service answers (400 otherwise), so a
            page on another domain that resolves to this machine (DNS rebinding) gets
            nothing even without an API key.
        limit_concurrency: open connections uvicorn serves at once (``medmodal serve``);
            past it new requests get 503.
        timeout_keep_alive_s: seconds an idle keep-alive connection is held.
        timeout_read_s: seconds a client may take between bytes of its request headers
            and body before the connection is closed (slow-loris).
        models_dir: folder of saved models, or ``None`` (no model endpoints loaded).
        tmp_dir: where per-request temporary folders go (default: the system's).
    """

    api_key: str | None = None
    max_upload_bytes: int = 25 * _MIB  # a 30-min 2-lead MIT-BIH CSV is ~20 MiB
    max_extracted_bytes: int = 100 * _MIB
    max_files: int = 8
    max_values: int = 20_000_000  # e.g. 24 h x 2 leads at 100 Hz
    max_concurrent_analyses: int = field(default_factory=lambda: 4 * _usable_cores())
    large_upload_bytes: int = 2 * _MIB
    max_large_analyses: int = field(default_factory=lambda: _usable_cores())
    analysis_timeout_s: float = 60.0
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    limit_concurrency: int = 256
    timeout_keep_alive_s: float = 5.0
    timeout_read_s: float = 20.0
    models_dir: Path | None = None
    tmp_dir: Path | None = None

    def __post_init__(self) -> None:
        for name in (
            "max_upload_bytes",
            "max_extracted_bytes",
            "max_files",
            "max_values",
            "max_concurrent_analyses",
            "large_upload_bytes",
            "max_large_analyses",
            "limit_concurrency",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise InvalidParameterError(
                    f"Settings: {name} must be a positive integer, got {value!r}"
                )
        for name in ("analysis_timeout_s", "timeout_keep_alive_s", "timeout_read_s"):
            value = getattr(self, name)
            real = isinstance(value, int | float) and not isinstance(value, bool)
            if not real or not math.isfinite(value) or value <= 0:
                raise InvalidParameterError(
                    f"Settings: {name} must be a positive number of seconds, got {value!r}"
                )
        hosts = tuple(str(h).strip() for h in self.allowed_hosts if str(h).strip())
        if not hosts or isinstance(self.allowed_hosts, str):
            raise InvalidParameterError(
                f"Settings: allowed_hosts must be a non-empty tuple of host names, "
                f"got {self.allowed_hosts!r}"
            )
        object.__setattr__(self, "allowed_hosts", hosts)
        if self.api_key is not None and not self.api_key.strip():
            object.__setattr__(self, "api_key", None)
        for name in ("models_dir", "tmp_dir"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, Path(value).expanduser())

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``environ`` (default ``os.environ``), then ``overrides``.

        Raises:
            InvalidParameterError: a malformed variable, or an unknown override.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        if env.get("MEDMODAL_API_KEY"):
            values["api_key"] = env["MEDMODAL_API_KEY"]
        if env.get("MEDMODAL_MAX_UPLOAD_MB"):
            values["max_upload_bytes"] = _mib(env["MEDMODAL_MAX_UPLOAD_MB"])
        if env.get("MEDMODAL_MODELS_DIR"):
            values["models_dir"] = Path(env["MEDMODAL_MODELS_DIR"])
        if env.get("MEDMODAL_ANALYSIS_TIMEOUT_S"):
            values["analysis_timeout_s"] = _seconds(env["MEDMODAL_ANALYSIS_TIMEOUT_S"])
        if env.get("MEDMODAL_ALLOWED_HOSTS"):
            values["allowed_hosts"] = tuple(env["MEDMODAL_ALLOWED_HOSTS"].split(","))
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise InvalidParameterError(
                f"Settings: unknown setting(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)


def _usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return os.cpu_count() or 1


def _mib(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise InvalidParameterError(
            f"Settings: MEDMODAL_MAX_UPLOAD_MB must be a positive number of MiB, got {text!r}"
        )
    return int(value * _MIB)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value > 0 and math.isfinite(value)):
        raise InvalidParameterError(
            f"Settings: MEDMODAL_ANALYSIS_TIMEOUT_S must be a positive number of seconds, "
            f"got {text!r}"
        )
    return value
