"""WFDB records (``.hea`` header + ``.dat`` samples + optional ``.atr`` annotations).

Reading and writing go through the ``wfdb`` package (PhysioNet's WFDB-Python).

References:
    Moody GB. WFDB Programmer's Guide. PhysioNet. https://physionet.org/physiotools/wpg/
    Xie C, McCullum L, Johnson A, Pollard T, Gow B, Moody B. Waveform Database Software
    Package (WFDB) for Python (version 4.1.0). PhysioNet (2023). doi:10.13026/9njx-6322.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from medmodal.errors import DataFormatError, DataNotFoundError, InvalidParameterError
from medmodal.io._formats._common import FORMATS, Format, finish, require_file, resolve_rate
from medmodal.io._record import Annotations, LeadSpec, Record

#: Bytes per sample of the WFDB storage formats whose size can be checked up front.
_BYTES_PER_SAMPLE = {
    "8": 1.0, "16": 2.0, "61": 2.0, "80": 1.0, "160": 2.0,
    "212": 1.5, "24": 3.0, "32": 4.0, "310": 4 / 3, "311": 4 / 3,
}  # fmt: skip
_SUFFIXES = (".hea", ".dat", ".atr")


def record_base(path: Path) -> Path:
    """The record path without extension (``x/100.hea`` -> ``x/100``)."""
    return path.with_suffix("") if path.suffix.lower() in _SUFFIXES else path


def _wfdb() -> Any:
    import wfdb  # imported lazily: it pulls in requests, matplotlib...

    return wfdb


def read_header(base: Path) -> Any:
    """The parsed ``wfdb`` header object of record ``base``."""
    hea = require_file(base.with_suffix(base.suffix + ".hea"), "WFDB header")
    try:
        return _wfdb().rdheader(str(base))
    except Exception as exc:
        raise DataFormatError(f"cannot parse WFDB header {hea}: {exc}") from exc


def _check_sizes(header: Any, base: Path) -> None:
    """Raise if a ``.dat`` file is shorter than its header says (a truncated copy)."""
    names = getattr(header, "file_name", None)
    if not names or header.sig_len is None:
        return
    for file_name in dict.fromkeys(names):
        chans = [i for i, f in enumerate(names) if f == file_name]
        fmt = str(header.fmt[chans[0]])
        path = require_file(base.parent / file_name, f"WFDB signal file of {base.name}")
        if fmt not in _BYTES_PER_SAMPLE:
            continue
        offset = (header.byte_offset or [0] * len(names))[chans[0]] or 0
        need = offset + math.ceil(header.sig_len * len(chans) * _BYTES_PER_SAMPLE[fmt])
        have = path.stat().st_size
        if have < need:
            raise DataFormatError(
                f"{path} is truncated: {have} bytes, but its header promises "
                f"{header.sig_len} samples x {len(chans)} leads in format {fmt} ({need} bytes)"
            )


def read_annotations(base: Path, extension: str = "atr") -> Annotations:
    """Annotations of record ``base`` stored in ``<base>.<extension>``."""
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
    rate = ann.fs
    if rate is None:
        try:
            rate = _wfdb().rdheader(str(base)).fs
        except Exception:
            rate = None
    if rate is None:
        raise DataFormatError(f"{path}: no sampling rate in the annotations or a header")
    notes = ["" if n is None else n for n in (ann.aux_note or [""] * len(ann.sample))]
    return Annotations(np.asarray(ann.sample), ann.symbol, notes, float(rate))


def _annotations(base: Path, annotation: str | bool | None) -> Annotations | None:
    if annotation is False:
        return None
    extension = "atr" if annotation in (None, True) else str(annotation)
    if annotation is None and not base.with_suffix(base.suffix + ".atr").is_file():
        return None  # optional by default; True or an extension makes it required
    return read_annotations(base, extension)


def _rdrecord(base: Path) -> Any:
    """``wfdb.rdrecord`` with its failures turned into medmodal errors."""
    try:
        rec = _wfdb().rdrecord(str(base), physical=True)
    except FileNotFoundError as exc:
        raise DataNotFoundError(f"WFDB record {base}: missing file {exc.filename}") from exc
    except Exception as exc:
        _check_sizes(read_header(base), base)  # a more precise message when truncated
        raise DataFormatError(f"cannot read WFDB record {base}: {exc}") from exc
    _check_sizes(rec, base)
    if rec.p_signal is None:
        raise DataFormatError(f"WFDB record {base} has no single-segment signal to read")
    return rec


def read(
    path: Path,
    *,
    sampling_rate: float | None,
    leads: LeadSpec | None,
    annotation: str | bool | None = None,
) -> Record:
    """Read a WFDB record; ``annotation`` picks the annotation extension (default: the
    ``.atr`` file when present; ``True`` requires it; ``False`` skips annotations)."""
    base = record_base(path)
    require_file(base.with_suffix(base.suffix + ".hea"), "WFDB header")
    rec = _rdrecord(base)
    rate = resolve_rate(float(rec.fs) if rec.fs else None, sampling_rate, path)
    meta: dict[str, Any] = {
        "format": "wfdb",
        "source": str(base),
        "comments": list(rec.comments or []),
        "base_date": rec.base_date,
        "base_time": rec.base_time,
        "fmt": list(rec.fmt or []),
        "adc_gain": [float(g) for g in (rec.adc_gain or [])],
        "baseline": [int(b) for b in (rec.baseline or [])],
    }
    record = Record(
        rec.p_signal,
        rate,
        tuple(rec.sig_name or (f"lead{i}" for i in range(rec.n_sig))),
        tuple(rec.units or ["mV"] * rec.n_sig),
        name=base.name,
        meta=meta,
        annotations=_annotations(base, annotation),
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
