"""Read and write ECG records: WFDB, CSV, EDF and NumPy files, with units and lead names.

Every reader returns a :class:`Record` (float64 ``(n_samples, n_leads)`` in physical
units, the sampling rate in Hz, lead names, units, metadata, optional
:class:`Annotations`). The format is inferred from the file extension and can be forced
with ``format=``; the names resolve through :data:`FORMATS`:

- ``wfdb``: ``.hea``/``.dat`` (give the record name with or without extension); reads
  ``.atr`` annotations when present (``annotation=`` picks another extension). Plain
  records (one ``.dat`` file in format 16 or 212, one sample per frame, no skew or byte
  offset: PTB-XL, MIT-BIH, ``write_record``'s output) are parsed and decoded by medmodal
  with bitwise the same result as WFDB-Python and without its slow header parse
  (``benchmarks/results/io_wfdb_read.md``); any other record is read by ``wfdb``.
- ``csv``: a header row of lead names (``"MLII [mV]"`` carries a unit); a time column
  named ``time``/``t``/``seconds`` (or ``time_ms``/``ms``) gives the sampling rate,
  otherwise pass ``sampling_rate=``. ``.tsv``/``.txt`` too.
- ``edf``: EDF/EDF+/BDF through pyedflib; lead names, units and per-signal rates.
- ``npy``: ``.npy`` (pass ``sampling_rate=``) or ``.npz`` holding ``signal`` and
  ``fs``/``sampling_rate`` (optional ``lead_names``, ``units``).

Bad input raises :class:`~medmodal.errors.DataNotFoundError` (missing file, naming what
was looked for), :class:`~medmodal.errors.DataFormatError` (corrupt or truncated file,
a stored sampling rate that is NaN, infinite or <= 0),
:class:`~medmodal.errors.RecordTooLargeError` (the file declares more than the
:class:`Limits` budget) or :class:`~medmodal.errors.InvalidParameterError` (unknown
format or lead, a ``sampling_rate`` that contradicts the file).

Budgets: every reader checks what a file declares (rate, samples x leads, leads,
decompressed bytes, header fields against file sizes) against :class:`Limits` before it
allocates; the defaults (20 kHz, 2**31 values, 1,024 leads, 17 GiB decompressed, 1 MiB
headers) are explained in ``medmodal/io/_limits.py``; ``read_record(..., limits=...)``
raises them.

Example:
    >>> import tempfile, numpy as np
    >>> from medmodal.io import Record, read_record, write_record
    >>> rec = Record(np.zeros((720, 2)), 360.0, ("MLII", "V5"), ("mV", "mV"), name="demo")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_record(rec, tmp + "/demo.hea")
    ...     back = read_record(path, leads=["V5"])
    >>> back.sampling_rate, back.lead_names, back.units, back.signal.shape
    (360.0, ('V5',), ('mV',), (720, 1))
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from medmodal.errors import DataNotFoundError, InvalidParameterError
from medmodal.io._formats import FORMATS, Format
from medmodal.io._formats._common import check_rate
from medmodal.io._formats.wfdb import read_annotations as _read_wfdb_annotations
from medmodal.io._formats.wfdb import read_header as _read_wfdb_header
from medmodal.io._formats.wfdb import record_base
from medmodal.io._limits import DEFAULT_LIMITS, Limits, check_limits
from medmodal.io._record import BEAT_SYMBOLS, Annotations, LeadKey, LeadSpec, Record
from medmodal.types import PathLike

__all__ = [
    "BEAT_SYMBOLS",
    "DEFAULT_LIMITS",
    "FORMATS",
    "Annotations",
    "LeadKey",
    "LeadSpec",
    "Limits",
    "Record",
    "available_formats",
    "infer_format",
    "read_annotations",
    "read_record",
    "read_wfdb_header",
    "write_record",
]


def available_formats() -> tuple[str, ...]:
    """Names accepted by ``format=``.

    Example:
        >>> "wfdb" in available_formats()
        True
    """
    return FORMATS.names()


def infer_format(path: PathLike) -> str:
    """The format name for ``path`` from its extension (a bare WFDB record name works).

    Example:
        >>> infer_format("records/100.hea")
        'wfdb'
    """
    p = Path(path)
    suffix = p.suffix.lower()
    for name in FORMATS:
        if suffix and suffix in FORMATS.get(name).extensions:
            return name
    if p.with_suffix(p.suffix + ".hea").is_file():
        return "wfdb"
    if not suffix and not p.exists():
        raise DataNotFoundError(
            f"read_record: no such record: looked for {p} and the WFDB header {p}.hea"
        )
    known = sorted(ext for n in FORMATS for ext in FORMATS.get(n).extensions)
    raise InvalidParameterError(
        f"read_record: cannot infer the format of {p.name!r} from its extension "
        f"{suffix or '(none)'!r}; known extensions: {', '.join(known)}. Pass format= one of "
        f"{', '.join(available_formats())}"
    )


def _format(path: Path, format: str | None) -> Format:
    return FORMATS.get(infer_format(path) if format is None else format)


def read_record(
    path: PathLike,
    *,
    format: str | None = None,
    sampling_rate: float | None = None,
    leads: LeadSpec | None = None,
    limits: Limits | None = None,
    **options: Any,
) -> Record:
    """Read one record from ``path``.

    Args:
        path: the file (a WFDB record may be named without extension).
        format: inferred from the extension if ``None``; one of:

            {formats}

        sampling_rate: Hz; required when the file does not store it (``.npy``, CSV without
            a time column), otherwise checked against the file.
        leads: keep only these leads (names or indices), in this order.
        limits: the input budgets (:class:`Limits`: sampling rate, samples x leads,
            leads, decompressed bytes, header bytes), checked from what the file
            declares before anything large is allocated; :data:`DEFAULT_LIMITS` if
            ``None``. Raise them to read bigger records.
        **options: format-specific, e.g. ``annotation="qrs"`` (wfdb), ``delimiter=";"``
            (csv), ``lead_names=[...]`` (npy).

    Returns:
        The :class:`Record`.

    Raises:
        DataNotFoundError: the file does not exist.
        DataFormatError: the file is corrupt, truncated or not in the format, or the
            sampling rate it stores is missing-but-malformed, NaN, infinite or <= 0
            (pass ``sampling_rate=`` to override a rate the file gets wrong).
        RecordTooLargeError: the file declares more than ``limits`` allow (a
            :class:`DataFormatError`; the message names the file, field, value, limit).
        InvalidParameterError: unknown format or lead, or ``sampling_rate`` contradicts
            the file or is above ``limits.max_sampling_rate``.
    """
    p = _path(path, "read_record")
    budget = check_limits(limits, "read_record")
    rate = check_rate(sampling_rate, func="read_record", limits=budget)
    fmt = _format(p, format)
    _check_options(fmt.read, options, f"read_record (format {fmt.name!r})")
    if fmt.name != "wfdb" and not p.is_file():
        what = "a folder, not a file" if p.is_dir() else "no such file"
        raise DataNotFoundError(f"read_record: {p} is {what} ({fmt.name} record expected)")
    return fmt.read(p, sampling_rate=rate, leads=leads, limits=budget, **options)


FORMATS.document(read_record, "{formats}", indent=12)  # from the registry: cannot drift


def _path(path: object, func: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidParameterError(
            f"{func}: path must be a str or os.PathLike, got {type(path).__name__}"
        )
    return Path(path).expanduser()


@functools.cache
def _format_options(func: Callable[..., object]) -> tuple[str, ...]:
    """The keyword-only options of a format's reader/writer (cached: ``inspect`` is slow)."""
    params = inspect.signature(func).parameters
    allowed = [n for n, q in params.items() if q.kind is q.KEYWORD_ONLY]
    return tuple(n for n in allowed if n not in ("sampling_rate", "leads", "limits"))


def _check_options(func: Callable[..., object], options: dict[str, Any], where: str) -> None:
    """Reject keyword options the format's reader/writer does not take, naming those it does."""
    allowed = _format_options(func)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise InvalidParameterError(
            f"{where}: option(s) {', '.join(unknown)} not understood; "
            f"this format takes: {', '.join(allowed) or 'no options'}"
        )


def read_annotations(path: PathLike, extension: str = "atr") -> Annotations:
    """Read the WFDB annotations of record ``path`` (``x/100``, ``x/100.hea`` or
    ``x/100.atr``) stored with ``extension``.

    Raises:
        DataNotFoundError: no ``<record>.<extension>`` file.
        DataFormatError: the annotation file cannot be decoded.
    """
    p = _path(path, "read_annotations")
    if p.suffix.lower() not in (".hea", ".dat", "") and p.suffix[1:] == extension:
        p = p.with_suffix("")
    return _read_wfdb_annotations(record_base(p), extension)


def read_wfdb_header(path: PathLike) -> Any:
    """The parsed ``wfdb`` header of the WFDB record at ``path`` (with or without ``.hea``).

    Carries the header comments (age, sex, medications in MIT-BIH) and the lead names.
    Raises :class:`~medmodal.errors.DataNotFoundError` when the header is missing and
    :class:`~medmodal.errors.DataFormatError` when it cannot be parsed.
    """
    return _read_wfdb_header(record_base(_path(path, "read_wfdb_header")))


def write_record(
    record: Record, path: PathLike, *, format: str | None = None, **options: Any
) -> Path:
    """Write ``record`` to ``path`` in ``format`` (inferred from the extension).

    Writers exist for ``wfdb`` (``fmt="16"`` by default; annotations to ``.atr``),
    ``csv`` (a ``time`` column and ``"name [unit]"`` headers), ``npy`` (``.npz`` keeps
    the rate, lead names and units; ``.npy`` only the samples) and ``edf``.

    Returns:
        The path written (the ``.hea`` header for WFDB).
    """
    if not isinstance(record, Record):
        raise InvalidParameterError(f"write_record: expected a Record, got {type(record).__name__}")
    p = _path(path, "write_record")
    fmt = FORMATS.get(format) if format is not None else _writable_format(p)
    if fmt.write is None:
        raise InvalidParameterError(f"write_record: format {fmt.name!r} cannot be written")
    _check_options(fmt.write, options, f"write_record (format {fmt.name!r})")
    return fmt.write(record, p, **options)


def _writable_format(path: Path) -> Format:
    if path.suffix.lower() in ("", ".hea", ".dat"):
        return FORMATS.get("wfdb")
    return _format(path, None)
