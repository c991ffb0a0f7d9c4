"""EDF, EDF+ and BDF records through pyedflib.

Lead names (labels), physical units and per-signal sampling rates come from the file.
A record is one rate: reading leads stored at different rates raises and names them, so
the caller picks leads of one rate with ``leads=``. EDF+ annotations become
:class:`Annotations` (symbol = the annotation text).

References:
    Kemp B, Värri A, Rosa AC, Nielsen KD, Gade J. A simple format for exchange of
    digitized polygraphic recordings. Electroencephalogr Clin Neurophysiol 82:391-393
    (1992). Kemp B, Olivan J. European data format 'plus' (EDF+). Clin Neurophysiol
    114:1755-1761 (2003).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from medmodal.errors import DataFormatError, InvalidParameterError
from medmodal.io._formats._common import FORMATS, Format, resolve_rate
from medmodal.io._limits import Limits, check_shape
from medmodal.io._record import Annotations, LeadSpec, Record

_HEADER_KEYS = ("patientname", "patientcode", "sex", "birthdate", "startdate", "equipment")
#: The notch entry of an EDF+ prefiltering field, e.g. "HP:0.1Hz LP:75Hz N:50Hz".
_NOTCH = re.compile(r"(?:^|[\s;,])N(?:otch)?\s*:?\s*(\d+(?:\.\d+)?)\s*Hz", re.IGNORECASE)


def _pyedflib() -> Any:
    import pyedflib

    return pyedflib


def _open(path: Path) -> Any:
    try:
        return _pyedflib().EdfReader(str(path))
    except OSError as exc:
        raise DataFormatError(f"cannot read {path} as EDF/BDF: {exc}") from exc


def _pick(labels: list[str], leads: LeadSpec | None, path: Path) -> list[int]:
    if leads is None:
        return list(range(len(labels)))
    # An empty probe record resolves names/indices with the usual "available leads" error.
    probe = Record(np.zeros((1, len(labels))), 1.0, tuple(labels), name=path.stem)
    keys = [leads] if isinstance(leads, (str, int, np.integer)) else list(leads)
    return [probe.lead_index(k) for k in keys]


def _annotations(reader: Any, rate: float) -> Annotations | None:
    onsets, durations, texts = reader.readAnnotations()
    if len(onsets) == 0:
        return None
    notes = [f"duration={d:g}s" if d > 0 else "" for d in durations]
    samples = np.round(np.asarray(onsets, dtype=np.float64) * rate).astype(np.int64)
    return Annotations(samples, [str(t) for t in texts], notes, rate)


def notch_hz(prefilters: list[str]) -> float | None:
    """The mains notch named by EDF+ prefiltering fields (``"N:50Hz"``), if they agree.

    Example:
        >>> notch_hz(["HP:0.5Hz LP:100Hz N:60Hz", "HP:0.5Hz LP:100Hz N:60Hz"])
        60.0
        >>> notch_hz(["HP:0.5Hz LP:100Hz"]) is None
        True
    """
    found = {float(m.group(1)) for text in prefilters for m in _NOTCH.finditer(text)}
    return found.pop() if len(found) == 1 else None


def _meta(reader: Any, path: Path, idx: list[int]) -> dict[str, Any]:
    header = reader.getHeader()
    meta: dict[str, Any] = {"format": "edf", "source": str(path)}
    meta.update({k: header[k] for k in _HEADER_KEYS if header.get(k) not in (None, "")})
    prefilters = [str(reader.getPrefilter(i)).strip() for i in idx]
    if any(prefilters):
        meta["prefilter"] = prefilters
    hz = notch_hz(prefilters)
    if hz is not None:
        meta["powerline_hz"] = hz
        meta["powerline_source"] = f"EDF+ prefiltering field {prefilters[0]!r}"
    return meta


def _rate(reader: Any, idx: list[int], labels: list[str], given: float | None,
          path: Path, limits: Limits) -> float:  # fmt: skip
    rates = [float(reader.getSampleFrequency(i)) for i in idx]
    if len(set(rates)) > 1:
        listing = ", ".join(f"{labels[i]} {r:g} Hz" for i, r in zip(idx, rates, strict=True))
        raise InvalidParameterError(
            f"read_record: {path.name} stores these leads at different rates ({listing}); "
            f"pass leads= naming leads of one rate (or resample them separately)"
        )
    return resolve_rate(rates[0], given, path, limits=limits, field="the header's sampling rate")


def read(
    path: Path, *, sampling_rate: float | None, leads: LeadSpec | None, limits: Limits
) -> Record:
    """Read an EDF/EDF+/BDF file; all leads read must share one sampling rate.

    The rate and samples x leads declared by the header are checked against ``limits``
    before any samples are read (pyedflib checks the header against the file size).
    """
    reader = _open(path)
    try:
        labels = [str(s).strip() for s in reader.getSignalLabels()]
        if not labels:
            raise DataFormatError(f"{path}: the EDF file holds no signals")
        check_shape(path, 0, len(labels), limits, "signals in the header")
        idx = _pick(labels, leads, path)
        rate = _rate(reader, idx, labels, sampling_rate, path, limits)
        n_samples = max(int(reader.getNSamples()[i]) for i in idx)
        check_shape(path, n_samples, len(idx), limits, "header")
        signal = np.column_stack([reader.readSignal(i) for i in idx])
        return Record(
            signal,
            rate,
            tuple(labels[i] for i in idx),
            tuple(str(reader.getPhysicalDimension(i)).strip() for i in idx),
            name=path.stem,
            meta=_meta(reader, path, idx),
            annotations=_annotations(reader, rate),
        )
    except (OSError, ValueError, RuntimeError) as exc:
        if isinstance(exc, InvalidParameterError | DataFormatError):
            raise
        raise DataFormatError(f"cannot read the signals of {path}: {exc}") from exc
    finally:
        reader.close()


def _prefilter(record: Record, lead: int) -> str:
    given = record.meta.get("prefilter")
    if isinstance(given, list | tuple) and len(given) == record.n_leads:
        return str(given[lead])[:80]
    hz = record.meta.get("powerline_hz")
    return f"N:{float(hz):g}Hz" if isinstance(hz, int | float) and hz > 0 else ""


def _bound(value: float, *, up: bool) -> float:
    """``value`` rounded outwards to a number EDF's 8-character header field can hold."""
    for decimals in range(6, -1, -1):
        scale = 10.0**decimals
        rounded = (math.ceil if up else math.floor)(value * scale) / scale
        if len(f"{rounded:.{decimals}f}".rstrip("0").rstrip(".")) <= 8:
            return rounded
    raise InvalidParameterError(f"write_record: EDF cannot store a physical range up to {value:g}")


def write(record: Record, path: Path) -> Path:
    """Write an EDF+ file (16-bit: the physical range is quantised to 65,536 levels).

    The prefiltering field is ``meta["prefilter"]`` (one per lead) when given, else
    ``N:<powerline_hz>Hz`` when ``meta`` names the mains frequency.
    """
    highlevel = _pyedflib().highlevel
    signal = np.asarray(record.signal)
    if not np.isfinite(signal).all():
        raise InvalidParameterError("write_record: EDF output needs finite samples (NaN/inf found)")
    headers = []
    for j, (name, unit) in enumerate(zip(record.lead_names, record.units, strict=True)):
        lo, hi = float(signal[:, j].min()), float(signal[:, j].max())
        pad = max(0.01 * (hi - lo), 1e-3)  # headroom keeps pyedflib from clipping/warning
        lo, hi = lo - pad, hi + pad
        headers.append(
            highlevel.make_signal_header(
                name[:16], dimension=unit[:8], sample_frequency=record.sampling_rate,
                physical_min=_bound(lo, up=False), physical_max=_bound(hi, up=True),
                prefiler=_prefilter(record, j),
            )
        )  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        columns = [np.ascontiguousarray(signal[:, j]) for j in range(record.n_leads)]
        highlevel.write_edf(str(path), columns, headers)
    except (OSError, ValueError, AssertionError) as exc:
        raise DataFormatError(f"cannot write EDF file {path}: {exc}") from exc
    return path


FORMATS.add(
    "edf",
    Format("edf", (".edf", ".bdf", ".rec"), read, write),
    aliases=("edf+", "bdf"),
    description="EDF/EDF+/BDF through pyedflib (one sampling rate per record)",
)
