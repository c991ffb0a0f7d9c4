"""Plain WFDB records read without the ``wfdb`` package, with the same answer.

``wfdb.rdheader`` looks each header field up in a pandas table (slow under pandas 3), and
``wfdb.rdrecord`` parses the header again. Most ECG records are *plain*: one segment,
every signal in one ``.dat`` file in format 16 or 212, one sample per frame, no skew, no
byte offset and a declared length. For those, this module parses the header text with
``wfdb``'s own line patterns and field conversions (defaults included: gain 0 or missing
-> 200, a missing baseline -> the ADC zero, missing units -> ``mV``, a missing description
-> ``None``), decodes the samples with numpy and scales them with the same numpy
operations as ``wfdb``'s ``Record.dac``, so the result is bitwise the same. Anything else
(or anything this parse cannot convert) gives ``None`` and the caller reads the record
with ``wfdb``, which also produces its errors.

Sources mirrored (WFDB-Python 4.x): ``wfdb/io/header.py`` (``rx_record``,
``rx_signal``, ``parse_header_content``, ``wfdb_strptime``), ``wfdb/io/_header.py``
(``_parse_record_line``, ``_parse_signal_lines``), ``wfdb/io/_signal.py``
(``_rd_dat_signals``, ``_blocks_to_samples``, ``Record.dac``).

References:
    Moody GB. WFDB header file format (header(5)). PhysioNet.
    https://physionet.org/physiotools/wag/header-5.htm
    Moody GB. WFDB signal file formats (signal(5)). PhysioNet.
    https://physionet.org/physiotools/wag/signal-5.htm
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: ``wfdb``'s record line pattern (``wfdb.io.header.rx_record``), verbatim.
RECORD_LINE = re.compile(
    r"""
    [ \t]* (?P<record_name>[-\w]+)
           /?(?P<n_seg>\d*)
    [ \t]+ (?P<n_sig>\d+)
    [ \t]* (?P<fs>\d*\.?\d*)
           /*(?P<counter_freq>-?\d*\.?\d*)
           \(?(?P<base_counter>-?\d*\.?\d*)\)?
    [ \t]* (?P<sig_len>\d*)
    [ \t]* (?P<base_time>\d{,2}:?\d{,2}:?\d{,2}\.?\d{,6})
    [ \t]* (?P<base_date>\d{,2}/?\d{,2}/?\d{,4})
    """,
    re.VERBOSE,
)

#: ``wfdb``'s signal line pattern (``wfdb.io.header.rx_signal``), verbatim.
SIGNAL_LINE = re.compile(
    r"""
    [ \t]* (?P<file_name>~?[-\w]*\.?[\w]*)
    [ \t]+ (?P<fmt>\d+)
           x?(?P<samps_per_frame>\d*)
           :?(?P<skew>\d*)
           \+?(?P<byte_offset>\d*)
    [ \t]* (?P<adc_gain>-?\d*\.?\d*e?[\+-]?\d*)
           \(?(?P<baseline>-?\d*)\)?
           /?(?P<units>[\w\^\-\?%\/]*)
    [ \t]* (?P<adc_res>\d*)
    [ \t]* (?P<adc_zero>-?\d*)
    [ \t]* (?P<init_value>-?\d*)
    [ \t]* (?P<checksum>-?\d*)
    [ \t]* (?P<block_size>\d*)
    [ \t]* (?P<sig_name>[\S]?[^\t\n\r\f\v]*)
    """,
    re.VERBOSE,
)

#: The formats read here and the digital value each uses for a missing sample.
INVALID_SAMPLE = {"16": -(2**15), "212": -(2**11)}


@dataclass(frozen=True)
class PlainHeader:
    """The fields of a plain header, as ``wfdb.rdheader`` would set them.

    Carries the attributes :func:`~medmodal.io._formats._wfdb_header.check_header`
    reads (``seg_name``, ``n_sig``, ``sig_len``, ``file_name``, ``fmt``,
    ``samps_per_frame``, ``skew``, ``byte_offset``), so the size checks are the same.
    """

    n_sig: int
    sig_len: int
    base_time: datetime.time | None
    base_date: datetime.date | None
    file_name: list[str]
    fmt: list[str]
    samps_per_frame: list[int]
    skew: list[int | None]
    byte_offset: list[int | None]
    adc_gain: list[float]
    baseline: list[int]
    units: list[str]
    sig_name: list[str | None]
    comments: list[str]
    seg_name: None = None


def _split(text: str) -> tuple[list[str], list[str]]:
    """Field lines and comments (``#`` stripped), as ``wfdb`` separates them."""
    lines, comments = [], []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#"):
            comments.append(line.strip(" \t#"))
        elif line:
            lines.append(line)
    return lines, comments


def _strptime(text: str) -> datetime.time:
    """``wfdb.io.header.wfdb_strptime``: ``SS``, ``MM:SS`` or ``HH:MM:SS[.ffffff]``."""
    fmt = ("%S", "%M:%S", "%H:%M:%S")[text.count(":")]
    if "." in text:
        fmt += ".%f"
    return datetime.datetime.strptime(text, fmt).time()


def _record_line(line: str) -> tuple[int, int | None, datetime.time | None, datetime.date | None]:
    """``n_sig``, ``sig_len``, base time and date of a single-segment record line.

    Raises ``ValueError`` where ``wfdb`` would fail or read something else (a
    multi-segment record), converting every field as ``_parse_record_line`` does.
    """
    match = RECORD_LINE.match(line)
    if match is None or match["n_seg"] != "":
        raise ValueError("not a plain record line")
    if match["fs"] != "":
        int(float(match["fs"]))  # wfdb casts the rate to int when whole: fails on inf
    for name in ("counter_freq", "base_counter"):
        if match[name] != "":
            float(match[name])
    sig_len = int(match["sig_len"]) if match["sig_len"] != "" else None
    base_time = _strptime(match["base_time"]) if match["base_time"] != "" else None
    base_date = None
    if match["base_date"] != "":
        base_date = datetime.datetime.strptime(match["base_date"], "%d/%m/%Y").date()
    return int(match["n_sig"]), sig_len, base_time, base_date


#: The signal-line fields kept, in the order :func:`_signal_line` returns them.
_KEPT = (
    "file_name", "fmt", "samps_per_frame", "skew", "byte_offset", "adc_gain", "baseline",
    "units", "sig_name",
)  # fmt: skip


def _signal_line(line: str) -> tuple[Any, ...]:
    """One signal line's :data:`_KEPT` fields with ``_parse_signal_lines``'s defaults and
    casts (an empty field is its default, a gain of 0 is 200)."""
    match = SIGNAL_LINE.match(line)
    if match is None:
        raise ValueError("invalid syntax in signal line")
    name, fmt, spf, skew, offset, gain, baseline, units, *ints, desc = match.groups()
    for value in ints:  # adc_res ... block_size: unused here, but wfdb casts them
        if value:
            int(value)
    adc_gain = float(gain) if gain else 200.0
    zero = int(ints[1]) if ints[1] else 0  # wfdb: a missing baseline is the ADC zero
    adc_baseline = int(baseline) if baseline else zero
    return (
        name or None, fmt, int(spf) if spf else 1, int(skew) if skew else None,
        int(offset) if offset else None, 200.0 if adc_gain == 0 else adc_gain, adc_baseline,
        units or "mV", desc or None,
    )  # fmt: skip


def _is_plain(n_sig: int, sig_len: int | None, columns: dict[str, list[Any]]) -> bool:
    """One segment, one ``.dat`` file in one supported format, nothing that shifts samples."""
    if n_sig < 1 or len(columns["fmt"]) != n_sig or not sig_len:
        return False
    files, formats = set(columns["file_name"]), set(columns["fmt"])
    name = columns["file_name"][0]
    if len(files) != 1 or name is None or name.startswith("~"):
        return False
    if len(formats) != 1 or columns["fmt"][0] not in INVALID_SAMPLE:
        return False
    return (
        all(v == 1 for v in columns["samps_per_frame"])
        and all(v in (None, 0) for v in columns["skew"])
        and all(v in (None, 0) for v in columns["byte_offset"])
    )


def parse_plain(text: str) -> PlainHeader | None:
    """The header ``text`` as a :class:`PlainHeader`, or ``None`` when the record is not
    plain or any field is one ``wfdb`` would convert differently or reject.

    Example:
        >>> h = parse_plain("r 2 500 5000\\nr.dat 16 200(0)/mV 16 0 0 0 0 I\\n"
        ...                 "r.dat 16 0 16 0 0 0 0\\n# age: 61\\n")
        >>> h.adc_gain, h.units, h.sig_name, h.comments
        ([200.0, 200.0], ['mV', 'mV'], ['I', None], ['age: 61'])
        >>> parse_plain("r 1 500 5000\\nr.dat 16x2 200 16 0 0 0 0 I\\n") is None
        True
    """
    try:
        lines, comments = _split(text)
        if not lines:
            return None
        n_sig, sig_len, base_time, base_date = _record_line(lines[0])
        signals = [_signal_line(line) for line in lines[1:]]
    except (ValueError, OverflowError, IndexError):  # wfdb raises on these: let it
        return None
    if not signals:
        return None
    columns = {k: list(v) for k, v in zip(_KEPT, zip(*signals, strict=True), strict=True)}
    if not _is_plain(n_sig, sig_len, columns):
        return None
    return PlainHeader(
        n_sig=n_sig, sig_len=int(sig_len or 0), base_time=base_time, base_date=base_date,
        file_name=columns["file_name"], fmt=columns["fmt"],
        samps_per_frame=columns["samps_per_frame"], skew=columns["skew"],
        byte_offset=columns["byte_offset"], adc_gain=columns["adc_gain"],
        baseline=columns["baseline"], units=columns["units"], sig_name=columns["sig_name"],
        comments=comments,
    )  # fmt: skip


def _unpack_212(raw: np.ndarray, n: int) -> np.ndarray:
    """Format 212 (two 12-bit samples in three bytes) to int16, as
    ``wfdb.io._signal._blocks_to_samples`` decodes it."""
    if n % 2:
        raw = np.append(raw, np.zeros(1, dtype=np.uint8))
    blocks = raw.astype(np.int16).reshape(-1, 3)  # (pairs, 3 bytes)
    out = np.empty(2 * blocks.shape[0], dtype=np.int16)
    out[0::2] = blocks[:, 0] + 256 * np.bitwise_and(blocks[:, 1], 0x0F)
    out[1::2] = blocks[:, 2] + 256 * np.bitwise_and(blocks[:, 1] >> 4, 0x0F)
    out = out[:n]
    out[out > 2047] -= 4096
    return out


def _digital(path: Path, fmt: str, n: int) -> np.ndarray | None:
    """The first ``n`` samples of ``path`` as int16, or ``None`` if it holds fewer."""
    if fmt == "16":
        data = np.fromfile(path, dtype="<i2", count=n)
        return data if data.size == n else None
    n_bytes = math.ceil(n * 1.5)  # wfdb's _required_byte_num("read", "212", n)
    raw = np.fromfile(path, dtype=np.uint8, count=n_bytes)
    return _unpack_212(raw, n) if raw.size == n_bytes else None


def read_plain(header: PlainHeader, base: Path) -> np.ndarray | None:
    """Physical samples ``(sig_len, n_sig)`` float64 of a plain record whose header
    passed ``check_header``; ``None`` when the file cannot be read as declared.

    The conversion is ``wfdb``'s ``Record.dac``: ``(d - baseline) / gain`` in float64,
    with the format's missing-sample value (-32768 in format 16, -2048 in 212) as NaN.
    """
    fmt = header.fmt[0]
    try:
        digital = _digital(base.parent / header.file_name[0], fmt, header.sig_len * header.n_sig)
    except OSError:  # unreadable: wfdb reports it
        return None
    if digital is None:
        return None
    digital = digital.reshape(header.sig_len, header.n_sig)
    missing = digital == INVALID_SAMPLE[fmt]
    signal = digital.astype(np.float64)
    try:  # the same numpy calls as wfdb's dac, with the same Python lists
        np.subtract(signal, header.baseline, signal)
        np.divide(signal, header.adc_gain, signal)
    except OverflowError:  # a baseline beyond int64: wfdb fails on it and says so
        return None
    if missing.any():
        signal[missing] = np.nan
    return signal
