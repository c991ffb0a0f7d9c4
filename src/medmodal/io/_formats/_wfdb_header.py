"""WFDB headers read and checked before ``wfdb`` allocates anything.

``wfdb`` trusts its header: a skew of 999,999,999 in an 87-byte ``.hea`` makes it
allocate gigabytes, and its record-line pattern turns a rate of ``nan``, ``-360`` or
``inf`` into its 250 Hz default and ``1e9`` into 1 Hz. So the header text is read here
(bounded by ``Limits.max_header_bytes``), the rate field is parsed from it directly, and
every field that sizes the read (signals, samples, samples per frame, skew, byte offset)
is checked against :class:`~medmodal.io.Limits` and the size of each ``.dat`` file.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from medmodal.errors import DataFormatError
from medmodal.io._formats._common import require_file
from medmodal.io._limits import Limits, check_shape, too_large

#: Bytes per sample of the WFDB storage formats whose size can be checked up front.
BYTES_PER_SAMPLE = {
    "8": 1.0, "16": 2.0, "61": 2.0, "80": 1.0, "160": 2.0,
    "212": 1.5, "24": 3.0, "32": 4.0, "310": 4 / 3, "311": 4 / 3,
}  # fmt: skip


def header_text(base: Path, limits: Limits) -> str:
    """The ``.hea`` text of record ``base`` (ASCII, as ``wfdb`` reads it), size-checked."""
    hea = require_file(base.with_suffix(base.suffix + ".hea"), "WFDB header")
    size = hea.stat().st_size
    if size > limits.max_header_bytes:
        too_large(hea, "the header size", f"{size} bytes", limits.max_header_bytes,
                  "max_header_bytes")  # fmt: skip
    return hea.read_bytes().decode("ascii", errors="ignore")


def header_rate(text: str) -> tuple[float | None, str]:
    """The rate field of the record line (``name nsig fs[/counter[(base)]] ...``) as a
    float (NaN when it is not a number; ``None`` when absent) and as written.

    Example:
        >>> header_rate("# a comment\\n100 2 360 650000\\n")
        (360.0, '360')
        >>> header_rate("r 1 1e9\\n")
        (1000000000.0, '1e9')
        >>> header_rate("r 1\\n")
        (None, '')
    """
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        tokens = stripped.split()
        if len(tokens) < 3:
            return None, ""
        raw = tokens[2].split("/")[0]
        try:
            return float(raw), raw
        except ValueError:
            return math.nan, raw
    return None, ""


def _entries(values: Any, n: int, default: int) -> list[int]:
    """A per-signal header field with ``None`` entries replaced by ``default``."""
    listed = list(values) if values is not None else [None] * n
    return [default if v is None else int(v) for v in listed]


def check_header(header: Any, base: Path, limits: Limits) -> None:
    """Refuse a header whose fields would make ``wfdb`` read past the budget or the files.

    Checks the number of signals, samples x samples-per-frame (plus the largest skew)
    against :class:`Limits`, each skew against the record length, and each ``.dat``
    file's size against its byte offset and declared samples (a truncated copy).
    """
    if getattr(header, "seg_name", None) is not None:
        raise DataFormatError(f"WFDB record {base} is multi-segment; read its segments one by one")
    names = list(getattr(header, "file_name", None) or [])
    n_sig = int(header.n_sig or 0)
    hea = base.with_suffix(base.suffix + ".hea")
    check_shape(hea, 0, n_sig, limits, "signals in the header")
    if len(names) != n_sig:
        raise DataFormatError(
            f"WFDB header {hea} declares {n_sig} signals but describes {len(names)}"
        )
    spf = [max(v, 1) for v in _entries(header.samps_per_frame, n_sig, 1)]
    skew = _entries(header.skew, n_sig, 0)
    sig_len = _sig_len(header, base, names, spf)
    for i, s in enumerate(skew):
        if s > sig_len:
            raise DataFormatError(
                f"WFDB header {hea}: skew of signal {i} is {s} samples, longer than the "
                f"record ({sig_len} samples)"
            )
    frames = sig_len + max(skew, default=0)
    check_shape(hea, frames * sum(spf), 1, limits, "samples x samples per frame, skew included")
    check_shape(hea, sig_len, n_sig, limits, "header")
    if header.sig_len is not None:
        _check_files(header, base, names, spf, sig_len)


def _file_bytes(
    header: Any, base: Path, names: list[str], spf: list[int], file_name: str
) -> tuple[Path, float, int]:
    """A signal file's path, bytes per frame (0 when unknown) and byte offset."""
    chans = [i for i, f in enumerate(names) if f == file_name]
    fmt = str(header.fmt[chans[0]])
    path = require_file(base.parent / file_name, f"WFDB signal file of {base.name}")
    offset = _entries(header.byte_offset, len(names), 0)[chans[0]]
    per_frame = sum(spf[c] for c in chans) * BYTES_PER_SAMPLE.get(fmt, 0.0)
    return path, per_frame, offset


def _sig_len(header: Any, base: Path, names: list[str], spf: list[int]) -> int:
    """The declared samples per signal, or (when absent) what the largest file holds."""
    if header.sig_len is not None:
        return int(header.sig_len)
    longest = 0
    for file_name in dict.fromkeys(names):
        path, per_frame, offset = _file_bytes(header, base, names, spf, file_name)
        if per_frame:
            longest = max(longest, int(max(path.stat().st_size - offset, 0) // per_frame))
        else:  # unknown (e.g. compressed) format: one byte per sample at least
            longest = max(longest, path.stat().st_size)
    return longest


def _check_files(header: Any, base: Path, names: list[str], spf: list[int], sig_len: int) -> None:
    """Raise if a ``.dat`` file is shorter than its header says (a truncated copy)."""
    for file_name in dict.fromkeys(names):
        path, per_frame, offset = _file_bytes(header, base, names, spf, file_name)
        if not per_frame:
            continue
        need = offset + math.ceil(sig_len * per_frame)
        have = path.stat().st_size
        if have < need:
            chans = sum(1 for f in names if f == file_name)
            raise DataFormatError(
                f"{path} is truncated: {have} bytes, but its header promises "
                f"{sig_len} samples x {chans} leads in format {header.fmt[names.index(file_name)]}"
                f" ({need} bytes)"
            )
