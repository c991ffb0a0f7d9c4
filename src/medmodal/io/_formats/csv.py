"""CSV (and TSV/TXT) records: a header row of lead names, one row per sample.

A header cell ``"MLII [mV]"`` or ``"MLII (mV)"`` gives the lead name and its unit. A time
column named ``time``, ``t``, ``seconds``, ``sec`` or ``time_s`` (``time_ms``/``ms`` in
milliseconds, or a ``[s]``/``[ms]`` unit) gives the sampling rate; without one,
``sampling_rate`` is required. A file whose first row is numeric has no header: its
leads are named ``lead0``, ``lead1``...
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from medmodal.errors import DataFormatError, InvalidParameterError
from medmodal.io._formats._common import FORMATS, Format, finish, resolve_rate
from medmodal.io._record import LeadSpec, Record

_TIME_SECONDS = frozenset({"time", "t", "seconds", "second", "sec", "s", "time_s", "times"})
_TIME_MS = frozenset({"time_ms", "ms", "milliseconds", "t_ms"})
_UNIT = re.compile(r"^\s*(?P<name>.*?)\s*[\[(](?P<unit>[^\])]*)[\])]\s*$")


def _split_unit(header: str) -> tuple[str, str]:
    match = _UNIT.match(header)
    if match and match["name"]:
        return match["name"], match["unit"].strip()
    return header.strip(), ""


def _time_scale(name: str, unit: str) -> float | None:
    """Seconds per time-column unit, or ``None`` when the column is not a time column."""
    key = name.lower().strip()
    if key in _TIME_MS or (key in _TIME_SECONDS and unit.lower() == "ms"):
        return 1e-3
    return 1.0 if key in _TIME_SECONDS else None


def _delimiter(path: Path) -> str:
    try:
        with path.open(encoding="utf-8") as fh:
            first = fh.readline()
    except (UnicodeDecodeError, OSError) as exc:
        raise DataFormatError(f"{path} is not a text (CSV) file: {exc}") from exc
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else r"\s+"


def _read_table(path: Path, delimiter: str | None) -> pd.DataFrame:
    sep = delimiter if delimiter is not None else _delimiter(path)
    try:
        table = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
        if len(table.columns) and all(_is_number(c) for c in table.columns):
            table = pd.read_csv(path, sep=sep, dtype=str, header=None, keep_default_na=False)
            table.columns = [f"lead{i}" for i in range(table.shape[1])]
            table.attrs["header_lines"] = 0
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        raise DataFormatError(f"cannot parse {path} as CSV: {exc}") from exc
    if table.empty:
        raise DataFormatError(f"{path} holds no samples (a header and no data rows?)")
    return table


def _is_number(text: object) -> bool:
    try:
        float(str(text))
    except ValueError:
        return False
    return True


def _numeric(table: pd.DataFrame, path: Path) -> np.ndarray:
    """The table as float64; empty cells and NaN become NaN, any other text is an error."""
    out = np.empty(table.shape, dtype=np.float64)
    for j, column in enumerate(table.columns):
        text = table[column].str.strip()
        values = pd.to_numeric(text.where(text != "", "nan"), errors="coerce")
        bad = values.isna() & ~text.str.lower().isin(["", "nan", "na", "null"])
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            line = row + 1 + table.attrs.get("header_lines", 1)
            raise DataFormatError(
                f"{path}: column {column!r} holds {text.iloc[row]!r} on line {line}, not a number"
            )
        out[:, j] = values.to_numpy(dtype=np.float64)
    return out


def rate_from_time(seconds: np.ndarray, path: Path) -> tuple[float, float]:
    """Sampling rate from time stamps and its tolerance (half a sample over the record)."""
    n = seconds.shape[0]
    if n < 2 or not np.isfinite(seconds).all():
        raise DataFormatError(f"{path}: the time column needs 2+ finite values to give a rate")
    step = (seconds[-1] - seconds[0]) / (n - 1)
    if step <= 0:
        raise DataFormatError(f"{path}: the time column does not increase")
    off = np.abs(seconds - (seconds[0] + step * np.arange(n)))
    if off.max() > 0.5 * step:
        row = int(np.argmax(off))
        raise DataFormatError(
            f"{path}: samples are not evenly spaced in time (row {row + 1} is "
            f"{off[row] / step:.2f} samples off a uniform grid); resample before reading"
        )
    rate = 1.0 / step
    tol = 0.5 * rate / (n - 1)
    return (float(round(rate)) if abs(rate - round(rate)) <= tol else rate), tol


def _rate(
    data: np.ndarray,
    parsed: list[tuple[str, str]],
    time_cols: list[int],
    given: float | None,
    path: Path,
) -> float:
    if not time_cols:
        return resolve_rate(None, given, path)
    j = time_cols[0]
    scale = _time_scale(*parsed[j]) or 1.0
    file_rate, tol = rate_from_time(data[:, j] * scale, path)
    if given is not None and abs(given - file_rate) <= tol:
        file_rate = given  # the time stamps' rounding cannot tell the two apart
    return resolve_rate(file_rate, given, path)


def read(
    path: Path,
    *,
    sampling_rate: float | None,
    leads: LeadSpec | None,
    delimiter: str | None = None,
) -> Record:
    """Read a CSV record (``delimiter`` is sniffed from the header line when ``None``)."""
    table = _read_table(path, delimiter)
    parsed = [_split_unit(str(c)) for c in table.columns]
    time_cols = [j for j, (n, u) in enumerate(parsed) if _time_scale(n, u) is not None]
    data = _numeric(table, path)
    keep = [j for j in range(len(parsed)) if j not in time_cols[:1]]
    if not keep:
        raise DataFormatError(f"{path}: no signal columns besides the time column")
    rate = _rate(data, parsed, time_cols, sampling_rate, path)
    record = Record(
        data[:, keep],
        rate,
        tuple(parsed[j][0] for j in keep),
        tuple(parsed[j][1] for j in keep),
        name=path.stem,
        meta={"format": "csv", "source": str(path)},
    )
    return finish(record, leads)


def write(record: Record, path: Path, *, float_format: str | None = None) -> Path:
    """Write a ``time`` column (s) and one ``"name [unit]"`` column per lead."""
    if path.suffix.lower() not in (".csv", ".tsv", ".txt"):
        raise InvalidParameterError(f"write_record: a CSV file name ends in .csv, got {path.name}")
    headers = [
        f"{n} [{u}]" if u else n for n, u in zip(record.lead_names, record.units, strict=True)
    ]
    frame = pd.DataFrame(np.asarray(record.signal), columns=headers)
    frame.insert(0, "time", np.arange(record.n_samples) / record.sampling_rate)
    path.parent.mkdir(parents=True, exist_ok=True)
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    frame.to_csv(path, index=False, sep=sep, float_format=float_format)
    return path


FORMATS.add(
    "csv",
    Format("csv", (".csv", ".tsv", ".txt"), read, write),
    aliases=("tsv", "txt"),
    description="text table: lead-name header, optional time column (gives the rate)",
)
