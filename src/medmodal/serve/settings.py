"""Service settings: API key, size limits and the models folder, from the environment.

Environment variables (read by :meth:`Settings.from_env`):

- ``MEDMODAL_API_KEY``: when set, every ``/v1`` call must send it in the ``X-API-Key``
  header (or ``Authorization: Bearer <key>``), otherwise 401.
- ``MEDMODAL_MAX_UPLOAD_MB``: largest request body in MiB (default 25), otherwise 413.
- ``MEDMODAL_MODELS_DIR``: folder of saved models (one sub-folder per model holding
  ``config.json`` + ``model.safetensors``) served by ``/v1/fusion`` and ``/v1/align``.

Example:
    >>> s = Settings.from_env({"MEDMODAL_MAX_UPLOAD_MB": "2"})
    >>> s.max_upload_bytes, s.api_key is None
    (2097152, True)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from medmodal.errors import InvalidParameterError

_MIB = 1024 * 1024


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
        models_dir: folder of saved models, or ``None`` (no model endpoints loaded).
        tmp_dir: where per-request temporary folders go (default: the system's).
    """

    api_key: str | None = None
    max_upload_bytes: int = 25 * _MIB  # a 30-min 2-lead MIT-BIH CSV is ~20 MiB
    max_extracted_bytes: int = 100 * _MIB
    max_files: int = 8
    max_values: int = 20_000_000  # e.g. 24 h x 2 leads at 100 Hz
    max_concurrent_analyses: int = field(default_factory=lambda: 4 * _usable_cores())
    models_dir: Path | None = None
    tmp_dir: Path | None = None

    def __post_init__(self) -> None:
        for name in (
            "max_upload_bytes",
            "max_extracted_bytes",
            "max_files",
            "max_values",
            "max_concurrent_analyses",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise InvalidParameterError(
                    f"Settings: {name} must be a positive integer, got {value!r}"
                )
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
