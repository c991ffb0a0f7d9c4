"""Bounded reading of ``.npy`` files and ``.npz`` archives, header first.

``np.load`` allocates whatever an ``.npy`` header declares (shape ``(10**12,)`` is a
MemoryError) and decompresses an ``.npz`` member whole (a 1 MiB archive of zeros
expands to gigabytes). Here each array's header is parsed with NumPy's public
``numpy.lib.format`` functions and checked (dtype, shape, bytes against the file or the
member's declared size and against :class:`~medmodal.io.Limits`) before its data are
read, as a bounded stream, into an array of exactly the declared size. The zip
directory is checked first: the members' declared uncompressed sizes, summed, must fit
``max_decompressed_bytes``. Object arrays are refused (nothing is ever unpickled), and
so are structured and sub-array dtypes.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from medmodal.errors import DataFormatError
from medmodal.io._limits import Limits, too_large

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
_CHUNK = 1 << 22
#: What can go wrong inside zipfile/zlib/numpy's header parser on a corrupt file.
_READ_ERRORS = (
    OSError, EOFError, ValueError, TypeError, SyntaxError, KeyError, IndexError,
    RuntimeError, NotImplementedError, zipfile.BadZipFile, zlib.error,
)  # fmt: skip


@dataclass(frozen=True)
class ArrayHeader:
    """What an ``.npy`` header declares."""

    shape: tuple[int, ...]
    fortran: bool
    dtype: np.dtype
    nbytes: int


#: Checks a declared array before it is read (raises to refuse it).
Check = Callable[[str, ArrayHeader], None]


def _header(stream: IO[bytes], where: str) -> ArrayHeader:
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version in ((2, 0), (3, 0)):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise DataFormatError(f"{where}: unsupported .npy format version {version}")
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise DataFormatError(
            f"{where}: dtype {dtype} holds Python objects or records; only plain numeric "
            f"and text arrays are read (nothing is unpickled)"
        )
    return ArrayHeader(tuple(shape), bool(fortran), dtype, math.prod(shape) * dtype.itemsize)


def _read_data(stream: IO[bytes], header: ArrayHeader, where: str) -> np.ndarray:
    """The array's data, read in chunks into an array of exactly the declared size."""
    out = np.empty(math.prod(header.shape), dtype=header.dtype)
    view = memoryview(out.reshape(-1).view(np.uint8))  # type: ignore[arg-type]
    pos = 0
    while pos < header.nbytes:
        chunk = stream.read(min(_CHUNK, header.nbytes - pos))
        if not chunk:
            raise DataFormatError(
                f"{where} is truncated: its header declares shape {header.shape} "
                f"({header.nbytes} bytes) but only {pos} bytes follow"
            )
        view[pos : pos + len(chunk)] = chunk
        pos += len(chunk)
    if header.fortran:
        return out.reshape(header.shape[::-1]).T
    return out.reshape(header.shape)


def _one(stream: IO[bytes], size: int, where: str, check: Check, key: str) -> np.ndarray:
    header = _header(stream, where)
    check(key, header)
    have = size - stream.tell()
    if header.nbytes > have:
        raise DataFormatError(
            f"{where} is truncated or lies: its header declares shape {header.shape} of "
            f"{header.dtype} ({header.nbytes} bytes) but the data hold {have} bytes"
        )
    return _read_data(stream, header, where)


def load_arrays(
    path: Path, limits: Limits, check: Check, wanted: Callable[[list[str]], set[str]]
) -> dict[str, np.ndarray]:
    """The arrays of an ``.npy`` (key ``"signal"``) or those ``wanted`` of an ``.npz``.

    ``check(key, header)`` is called on each array's header before its data are read;
    ``wanted(keys)`` picks the members of an archive to read from all its keys.
    """
    try:
        with path.open("rb") as fh:
            magic = fh.read(len(_NPY_MAGIC))
            fh.seek(0)
            if magic.startswith(_ZIP_MAGIC):
                return _load_zip(fh, path, limits, check, wanted)
            if magic != _NPY_MAGIC:
                raise DataFormatError(
                    f"cannot read {path} as a NumPy file: it starts with neither the .npy "
                    f"magic nor a zip header (.npz)"
                )
            return {"signal": _one(fh, path.stat().st_size, str(path), check, "signal")}
    except DataFormatError:
        raise
    except _READ_ERRORS as exc:
        raise DataFormatError(f"cannot read {path} as a NumPy file: {exc}") from exc


def _load_zip(
    fh: IO[bytes], path: Path, limits: Limits, check: Check, wanted: Callable[[list[str]], set[str]]
) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(fh) as archive:
        members = [i for i in archive.infolist() if i.filename.endswith(".npy")]
        if not members:
            names = [i.filename for i in archive.infolist()][:5]
            raise DataFormatError(
                f"{path} is a zip without .npy members (holds {names}); not an .npz"
            )
        total = sum(i.file_size for i in archive.infolist())
        if total > limits.max_decompressed_bytes:
            too_large(path, "the declared uncompressed size of its members",
                      f"{total} bytes", f"{limits.max_decompressed_bytes} bytes",
                      "max_decompressed_bytes")  # fmt: skip
        by_key = {i.filename[: -len(".npy")]: i for i in members}
        out = {}
        for key in sorted(wanted(sorted(by_key))):
            info = by_key[key]
            with archive.open(info) as stream:
                out[key] = _one(stream, info.file_size, f"{path}[{key}]", check, key)
        return out
