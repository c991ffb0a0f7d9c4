"""The format registry and helpers shared by the readers."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from medmodal.errors import (
    DataFormatError,
    DataNotFoundError,
    InvalidParameterError,
    MedmodalWarning,
)
from medmodal.io._limits import DEFAULT_LIMITS, Limits, too_large
from medmodal.io._record import LeadSpec, Record
from medmodal.registry import Registry

#: Reads one file: ``read(path, *, sampling_rate, leads, **options) -> Record``.
Reader = Callable[..., Record]


Writer = Callable[..., Path]


@dataclass(frozen=True)
class Format:
    """One file format: the extensions it claims, its reader and (optional) writer."""

    name: str
    extensions: tuple[str, ...]
    read: Reader
    write: Writer | None = None


#: Every readable format, by name (``"wfdb"``, ``"csv"``, ``"edf"``, ``"npy"``).
FORMATS: Registry[Format] = Registry("record format")


def check_rate(sampling_rate: object, *, func: str, limits: Limits) -> float | None:
    """``sampling_rate`` as a positive float within the budget, or ``None`` when not given."""
    if sampling_rate is None:
        return None
    ok = isinstance(sampling_rate, numbers.Real) and not isinstance(sampling_rate, bool)
    if not ok or not math.isfinite(float(sampling_rate)) or float(sampling_rate) <= 0:  # type: ignore[arg-type]
        raise InvalidParameterError(
            f"{func}: sampling_rate must be a positive number in Hz, got {sampling_rate!r}"
        )
    if float(sampling_rate) > limits.max_sampling_rate:  # type: ignore[arg-type]
        raise InvalidParameterError(
            f"{func}: sampling_rate={sampling_rate!r} Hz is above the limit of "
            f"{limits.max_sampling_rate:g} Hz; pass limits=Limits(max_sampling_rate=...) "
            f"to read faster recordings"
        )
    return float(sampling_rate)  # type: ignore[arg-type]


def _invalid(value: float, limits: Limits) -> str | None:
    """Why a rate stored in a file is unusable, or ``None`` when it is fine."""
    if not math.isfinite(value) or value <= 0:
        return "not a positive finite number"
    if value > limits.max_sampling_rate:
        return f"above the limit of {limits.max_sampling_rate:g} Hz"
    return None


def resolve_rate(
    file_rate: float | None,
    given: float | None,
    path: Path,
    *,
    limits: Limits = DEFAULT_LIMITS,
    field: str = "sampling rate",
) -> float:
    """The sampling rate: the file's, checked against ``given``; or ``given`` if the file
    has none or an unusable one (NaN, inf, <= 0, above ``limits.max_sampling_rate``).

    Raises when they disagree, when neither exists, or when the file's rate is unusable
    and no rate was given (an above-limit rate raises :class:`RecordTooLargeError`).
    """
    if file_rate is None:
        if given is None:
            raise InvalidParameterError(
                f"read_record: {path.name} does not store a sampling rate; pass sampling_rate="
            )
        return given
    why = _invalid(file_rate, limits)
    if why is not None:
        if given is not None:
            warnings.warn(
                f"read_record: {path.name} stores {field} {file_rate!r} ({why}); "
                f"using sampling_rate={given:g} Hz as passed",
                MedmodalWarning,
                stacklevel=4,
            )
            return given
        if math.isfinite(file_rate) and file_rate > 0:
            too_large(path, field, f"{file_rate:g} Hz", f"{limits.max_sampling_rate:g} Hz",
                      "max_sampling_rate")  # fmt: skip
        raise DataFormatError(
            f"read_record: {path}: {field} is {file_rate!r}, {why}; pass sampling_rate= "
            f"if you know the rate"
        )
    if given is not None and not math.isclose(file_rate, given, rel_tol=1e-6):
        raise InvalidParameterError(
            f"read_record: sampling_rate={given:g} Hz contradicts {path.name}, "
            f"which is sampled at {file_rate:g} Hz; leave sampling_rate unset or resample"
        )
    return file_rate


def require_file(path: Path, what: str) -> Path:
    """``path`` if it is a file, else :class:`DataNotFoundError` saying what was looked for."""
    if not path.is_file():
        where = "folder does not exist" if not path.parent.is_dir() else "no such file"
        raise DataNotFoundError(f"{what} not found: looked for {path} ({where})")
    return path


def finish(record: Record, leads: LeadSpec | None) -> Record:
    """Apply the ``leads`` selection, if any."""
    return record if leads is None else record.select(leads)
