"""WFDB records (``.hea`` header + ``.dat`` samples + optional ``.atr`` annotations).

Writing goes through the ``wfdb`` package (PhysioNet's WFDB-Python); so does reading,
except for plain records (one ``.dat`` file in format 16 or 212, one sample per frame, no
skew or byte offset), which :mod:`._wfdb_plain` parses and decodes with the same result
without ``wfdb``'s pandas-bound header parse, which ``rdheader`` + ``rdrecord`` did twice
(``benchmarks/results/io_wfdb_read.md`` has the timings).

References:
    Moody GB. WFDB Programmer's Guide. PhysioNet. https://physionet.org/physiotools/wpg/
    Xie C, McCullum L, Johnson A, Pollard T, Gow B, Moody B. Waveform Database Software
    Package (WFDB) for Python (version 4.1.0). PhysioNet (2023). doi:10.13026/9njx-6322.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from medmodal.errors import DataFormatError, DataNotFoundError, InvalidParameterError
from medmodal.io._formats._common import FORMATS, Format, finish, require_file, resolve_rate
from medmodal.io._formats._wfdb_header import check_header, header_rate, header_text
from medmodal.io._formats._wfdb_plain import PlainHeader, parse_plain, read_plain
from medmodal.io._limits import DEFAULT_LIMITS, Limits
from medmodal.io._record import Annotations, LeadSpec, Record

_SUFFIXES = (".hea", ".dat", ".atr")


def record_base(path: Path) -> Path:
    """The record path without extension (``x/100.hea`` -> ``x/100``)."""
    return path.with_suffix("") if path.suffix.lower() in _SUFFIXES else path


def _wfdb() -> Any:
    import wfdb  # imported lazily: it pulls in requests, matplotlib...

    return wfdb


def read_header(base: Path, limits: Limits = DEFAULT_LIMITS) -> Any:
    """The parsed ``wfdb`` header object of record ``base`` (its size checked first)."""
    hea = base.with_suffix(base.suffix + ".hea")
    header_text(base, limits)
    try:
        return _wfdb().rdheader(str(base))
    except Exception as exc:
        raise DataFormatError(f"cannot parse WFDB header {hea}: {exc}") from exc


def _stores_resolution(path: Path) -> bool:
    """Whether an annotation file carries its own time resolution (a ``## time
    resolution`` note); otherwise ``wfdb`` takes the rate from the record header."""
    return b"## time resolution" in path.read_bytes()


def read_annotations(
    base: Path,
    extension: str = "atr",
    *,
    record_rate: float | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Annotations:
    """Annotations of record ``base`` stored in ``<base>.<extension>``.

    Their rate is the one the file stores, else ``record_rate``, else the header's rate
    field (parsed here, so an invalid one raises instead of becoming 250 Hz).
    """
    path = require_file(base.with_suffix(base.suffix + "." + extension), "WFDB annotation file")
    with path.open("rb") as fh:
        fh.seek(max(path.stat().st_size - 2, 0))
        tail = fh.read()
    if tail != b"\x00\x00":
        raise DataFormatError(
            f"{path} does not end with the WFDB end-of-annotations marker (0x0000): "
            f"truncated, or not an annotation file"
        )
    try:
        ann = _wfdb().rdann(str(base), extension)
    except Exception as exc:
        raise DataFormatError(f"cannot read WFDB annotations {path}: {exc}") from exc
    if ann.fs is not None and _stores_resolution(path):
        rate = resolve_rate(float(ann.fs), None, path, limits=limits, field="time resolution")
    elif record_rate is not None:
        rate = record_rate
    elif base.with_suffix(base.suffix + ".hea").is_file():
        rate = _header_rate(base, None, path, limits)
    else:
        raise DataFormatError(f"{path}: no sampling rate in the annotations or a header")
    notes = ["" if n is None else n for n in (ann.aux_note or [""] * len(ann.sample))]
    return Annotations(np.asarray(ann.sample), ann.symbol, notes, float(rate))


def _header_rate(base: Path, given: float | None, path: Path, limits: Limits) -> float:
    """The rate from the header's own text, resolved against ``given``."""
    return _text_rate(header_text(base, limits), given, path, limits)


def _text_rate(text: str, given: float | None, path: Path, limits: Limits) -> float:
    """The rate field of header ``text``, resolved against ``given``."""
    value, raw = header_rate(text)
    field = f"the header's sampling rate field {raw!r}"
    return resolve_rate(value, given, path, limits=limits, field=field)


def _annotations(
    base: Path, annotation: str | bool | None, rate: float, limits: Limits
) -> Annotations | None:
    if annotation is False:
        return None
    extension = "atr" if annotation in (None, True) else str(annotation)
    if annotation is None and not base.with_suffix(base.suffix + ".atr").is_file():
        return None  # optional by default; True or an extension makes it required
    return read_annotations(base, extension, record_rate=rate, limits=limits)


def _rdrecord(base: Path) -> Any:
    """``wfdb.rdrecord`` (after :func:`check_header`) with its failures as medmodal errors."""
    try:
        rec = _wfdb().rdrecord(str(base), physical=True)
    except FileNotFoundError as exc:
        raise DataNotFoundError(f"WFDB record {base}: missing file {exc.filename}") from exc
    except Exception as exc:
        raise DataFormatError(f"cannot read WFDB record {base}: {exc}") from exc
    if rec.p_signal is None:
        raise DataFormatError(f"WFDB record {base} has no single-segment signal to read")
    return rec


#: What a reader needs of a WFDB record: samples, lead names, units and metadata.
_Parts = tuple[np.ndarray, list[Any], list[str], dict[str, Any]]


def _wfdb_parts(base: Path) -> _Parts:
    """The record read by ``wfdb.rdrecord``."""
    rec = _rdrecord(base)
    meta = {
        "comments": list(rec.comments or []),
        "base_date": rec.base_date,
        "base_time": rec.base_time,
        "fmt": list(rec.fmt or []),
        "adc_gain": [float(g) for g in (rec.adc_gain or [])],
        "baseline": [int(b) for b in (rec.baseline or [])],
    }
    names = list(rec.sig_name or (f"lead{i}" for i in range(rec.n_sig)))
    return rec.p_signal, names, list(rec.units or ["mV"] * rec.n_sig), meta


def _plain_parts(header: PlainHeader, base: Path) -> _Parts | None:
    """The record read by :mod:`._wfdb_plain`, or ``None`` when its samples are not there
    as declared (``wfdb`` then reads it, or says what is wrong)."""
    signal = read_plain(header, base)
    if signal is None:
        return None
    meta = {
        "comments": list(header.comments),
        "base_date": header.base_date,
        "base_time": header.base_time,
        "fmt": list(header.fmt),
        "adc_gain": [float(g) for g in header.adc_gain],
        "baseline": [int(b) for b in header.baseline],
    }
    return signal, list(header.sig_name), list(header.units), meta


def read(
    path: Path,
    *,
    sampling_rate: float | None,
    leads: LeadSpec | None,
    limits: Limits,
    annotation: str | bool | None = None,
) -> Record:
    """Read a WFDB record; ``annotation`` picks the annotation extension (default: the
    ``.atr`` file when present; ``True`` requires it; ``False`` skips annotations).

    The header is checked against ``limits`` and the ``.dat`` sizes before any sample
    is read; the rate comes from the header's text (see
    :func:`~medmodal.io._formats._wfdb_header.header_rate`). A plain record (one
    ``.dat`` file in format 16 or 212, see :mod:`._wfdb_plain`) is parsed and decoded
    here with the same result as ``wfdb``; any other goes through ``wfdb``.
    """
    base = record_base(path)
    text = header_text(base, limits)
    plain = parse_plain(text)
    header = plain if plain is not None else read_header(base, limits)
    rate = _text_rate(text, sampling_rate, path, limits)
    check_header(header, base, limits)
    parts = None if plain is None else _plain_parts(plain, base)
    signal, names, units, fields = _wfdb_parts(base) if parts is None else parts
    record = Record(
        signal,
        rate,
        tuple(names),
        tuple(units),
        name=base.name,
        meta={"format": "wfdb", "source": str(base), **fields},
        annotations=_annotations(base, annotation, rate, limits),
    )
    return finish(record, leads)


def write(record: Record, path: Path, *, fmt: str = "16") -> Path:
    """Write ``record`` as ``<path>.hea``/``.dat`` (and ``.atr`` when annotated)."""
    base = record_base(path)
    if not np.isfinite(record.signal).all():
        raise InvalidParameterError(
            "write_record: WFDB output needs finite samples (NaN/inf found)"
        )
    units = [u if u and " " not in u else "NU" for u in record.units]
    names = [n.replace(" ", "_") for n in record.lead_names]
    comments = [str(c) for c in record.meta.get("comments", [])]
    base.parent.mkdir(parents=True, exist_ok=True)
    try:
        _wfdb().wrsamp(
            base.name, fs=record.sampling_rate, units=units, sig_name=names,
            p_signal=np.asarray(record.signal), fmt=[fmt] * record.n_leads,
            comments=comments or None, write_dir=str(base.parent),
        )  # fmt: skip
        ann = record.annotations
        if ann is not None and len(ann):
            _wfdb().wrann(
                base.name, "atr", ann.sample, list(ann.symbol.astype(str)),
                aux_note=list(ann.aux_note.astype(str)), fs=ann.sampling_rate,
                write_dir=str(base.parent),
            )  # fmt: skip
    except Exception as exc:
        raise DataFormatError(f"cannot write WFDB record {base}: {exc}") from exc
    return base.with_suffix(base.suffix + ".hea")


FORMATS.add(
    "wfdb",
    Format("wfdb", (".hea", ".dat", ".atr"), read, write),
    aliases=("physionet",),
    description="WFDB header + signal files (.hea/.dat), annotations from .atr",
)
