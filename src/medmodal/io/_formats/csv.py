"""CSV (and TSV/TXT) records: a header row of lead names, one row per sample.

A header cell ``"MLII [mV]"`` or ``"MLII (mV)"`` gives the lead name and its unit. A time
column named ``time``, ``t``, ``seconds``, ``sec`` or ``time_s`` (``time_ms``/``ms`` in
milliseconds, or a ``[s]``/``[ms]`` unit) gives the sampling rate; without one,
``sampling_rate`` is required. A file whose first row is numeric has no header: its
leads are named ``lead0``, ``lead1``...

A row-index column, as ``DataFrame.to_csv`` writes by default (an empty header, read as
``"Unnamed: 0"``, or an ``index`` column, or a first column counting 0, 1, 2... or
1, 2, 3...), is not a lead: it is dropped with a :class:`~medmodal.errors.MedmodalWarning`.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from medmodal.errors import DataFormatError, InvalidParameterError, MedmodalWarning
from medmodal.io._formats._common import FORMATS, Format, finish, resolve_rate
from medmodal.io._limits import Limits, check_shape, too_large
from medmodal.io._record import LeadSpec, Record

_TIME_SECONDS = frozenset({"time", "t", "seconds", "second", "sec", "s", "time_s", "times"})
_TIME_MS = frozenset({"time_ms", "ms", "milliseconds", "t_ms"})
#: Cells read as NaN: empty, or nan/na/null in any letter case (as the text path does).
_NA = [""] + [
    "".join(cs) for word in ("nan", "na", "null")
    for cs in itertools.product(*((c, c.upper()) for c in word))
]  # fmt: skip
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


def _check_delimiter(delimiter: object) -> None:
    if delimiter is None or delimiter == r"\s+":
        return
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '\r\n"':
        raise InvalidParameterError(
            f"read_record (format 'csv'): delimiter must be one character other than a "
            f"quote or line break (e.g. ',', ';', '\\t'), or r'\\s+' for runs of "
            f"whitespace; got {delimiter!r}"
        )


def _first_line(path: Path, limits: Limits) -> str:
    """The header line, read with a bound (a file of one endless line is refused)."""
    cap = limits.max_header_bytes
    with path.open("rb") as fh:
        line = fh.readline(cap + 1)
    if len(line) > cap:
        too_large(path, "the first line", f"longer than {cap} bytes", f"{cap} bytes",
                  "max_header_bytes")  # fmt: skip
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{path} is not a text (CSV) file: {exc}") from exc


def _sniff(first: str) -> str:
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else r"\s+"


def _scan(path: Path) -> tuple[int, bool]:
    """Lines in the file, and whether it spells true/false anywhere (pandas would read
    those as 1/0 in a float column), in one bounded-memory pass."""
    lines, boolean = 0, False
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            lines += chunk.count(b"\n")
            if not boolean:
                low = chunk.lower()
                boolean = b"true" in low or b"false" in low
    return lines + 1, boolean


def _cells(first: str, sep: str, path: Path) -> list[str]:
    """The cells of the first line (quotes honoured), split in microseconds."""
    if sep == r"\s+":
        return first.split()
    try:
        return next(csv.reader([first.rstrip("\r\n")], delimiter=sep), [])
    except csv.Error as exc:
        raise DataFormatError(f"cannot parse {path} as CSV: {exc}") from exc


def _read_table(
    path: Path, delimiter: str | None, limits: Limits
) -> tuple[pd.DataFrame, np.ndarray]:
    """The table (for its column names) and its values as float64.

    The first line is checked against the column budget and the line count x columns
    against the value budget before pandas parses anything; numbers are parsed by
    pandas' C reader in one pass (text cells fall back to a vectorised check that
    names the first offending cell).
    """
    _check_delimiter(delimiter)
    first = _first_line(path, limits)
    sep = delimiter if delimiter is not None else _sniff(first)
    cells = _cells(first, sep, path) if first.strip() else []
    if not cells:
        raise DataFormatError(f"{path} holds no samples (an empty file)")
    if len(cells) > limits.max_leads:
        too_large(path, "the number of columns", len(cells), limits.max_leads, "max_leads")
    lines, boolean = _scan(path)
    check_shape(path, lines, len(cells), limits, "lines x columns")
    header = 0 if not all(_is_number(c) for c in cells) else None
    try:
        if not boolean:
            with contextlib.suppress(ValueError):
                table = pd.read_csv(path, sep=sep, header=header, dtype=np.float64,
                                    na_values=_NA, keep_default_na=False)  # fmt: skip
                return _named(table, header), table.to_numpy(dtype=np.float64)
        text = pd.read_csv(path, sep=sep, header=header, dtype=str, keep_default_na=False)
        table = _named(text, header)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        raise DataFormatError(f"cannot parse {path} as CSV: {exc}") from exc
    return table, _numeric(table, path)


def _named(table: pd.DataFrame, header: int | None) -> pd.DataFrame:
    if header is None:
        table.columns = [f"lead{i}" for i in range(table.shape[1])]
    table.attrs["header_lines"] = 0 if header is None else 1
    return table


def _is_number(text: object) -> bool:
    try:
        float(str(text))
    except ValueError:
        return False
    return True


def _numeric(table: pd.DataFrame, path: Path) -> np.ndarray:
    """The table as float64; empty cells and NaN become NaN, any other text is an error.

    One vectorised conversion over every cell (column by column order, so the error
    names the first bad cell of the first bad column).
    """
    if table.empty:
        return np.empty(table.shape, dtype=np.float64)
    text = pd.Series(table.to_numpy(dtype=object).ravel(order="F")).str.strip()
    values = pd.to_numeric(text.where(text != "", "nan"), errors="coerce")
    bad = values.isna() & ~text.str.lower().isin(["", "nan", "na", "null"])
    if bad.any():
        col, row = divmod(int(np.flatnonzero(bad.to_numpy())[0]), table.shape[0])
        line = row + 1 + table.attrs.get("header_lines", 1)
        raise DataFormatError(
            f"{path}: column {table.columns[col]!r} holds {text.iloc[col * table.shape[0] + row]!r}"
            f" on line {line}, not a number"
        )
    return values.to_numpy(dtype=np.float64).reshape(table.shape, order="F")


def _index_column(
    parsed: list[tuple[str, str]], data: np.ndarray, time_cols: list[int], path: Path
) -> int | None:
    """Column 0 when it is a row index (see the module doc) next to other columns."""
    if len(parsed) < 2 or 0 in time_cols[:1] or data.shape[0] == 0:
        return None
    name = parsed[0][0].strip().lower()
    first = data[:, 0]
    counting = data.shape[0] >= 3 and any(
        np.array_equal(first, start + np.arange(data.shape[0])) for start in (0, 1)
    )
    if not (name.startswith("unnamed:") or counting):
        return None
    label = parsed[0][0] or "(no name)"
    warnings.warn(
        f"read_record: {path.name}'s first column {label!r} is a row index (as pandas "
        "writes one), not a lead; it is left out",
        MedmodalWarning,
        stacklevel=4,
    )
    return 0


def rate_from_time(seconds: np.ndarray, path: Path) -> tuple[float, float]:
    """Sampling rate from time stamps and its tolerance (half a sample over the record).

    The rate is NaN when the column cannot give one (fewer than 2 finite values, or not
    increasing): the caller's ``sampling_rate`` is then used, or the read fails.
    """
    n = seconds.shape[0]
    if n < 2 or not np.isfinite(seconds).all():
        return math.nan, 0.0
    step = (seconds[-1] - seconds[0]) / (n - 1)
    if not step > 0:
        return math.nan, 0.0
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
    limits: Limits,
) -> float:
    if not time_cols:
        return resolve_rate(None, given, path, limits=limits)
    j = time_cols[0]
    scale = _time_scale(*parsed[j]) or 1.0
    file_rate, tol = rate_from_time(data[:, j] * scale, path)
    if given is not None and abs(given - file_rate) <= tol:
        file_rate = given  # the time stamps' rounding cannot tell the two apart
    field = f"the rate of its time column {parsed[j][0]!r} (2+ increasing finite values needed)"
    return resolve_rate(file_rate, given, path, limits=limits, field=field)


def read(
    path: Path,
    *,
    sampling_rate: float | None,
    leads: LeadSpec | None,
    limits: Limits,
    delimiter: str | None = None,
) -> Record:
    """Read a CSV record (``delimiter`` is sniffed from the header line when ``None``).

    The first line must fit ``limits.max_header_bytes`` and ``limits.max_leads``
    columns, and lines x columns ``limits.max_values``, before the table is parsed.
    """
    table, data = _read_table(path, delimiter, limits)
    if data.shape[0] == 0:
        raise DataFormatError(f"{path} holds no samples (a header and no data rows?)")
    parsed = [_split_unit(str(c)) for c in table.columns]
    time_cols = [j for j, (n, u) in enumerate(parsed) if _time_scale(n, u) is not None]
    index = _index_column(parsed, data, time_cols, path)
    keep = [j for j in range(len(parsed)) if j not in time_cols[:1] and j != index]
    if not keep:
        raise DataFormatError(f"{path}: no signal columns besides the time column")
    rate = _rate(data, parsed, time_cols, sampling_rate, path, limits)
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
