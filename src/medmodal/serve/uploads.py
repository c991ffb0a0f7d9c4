"""Safe handling of uploaded records: names, zips, WFDB headers, temporary folders.

An upload is one record: a CSV/TSV, EDF/BDF or NumPy file, a WFDB record as its
``.hea`` + ``.dat`` (+ ``.atr``) files, or one ``.zip`` holding any of these. The files
are written into a fresh temporary folder that :func:`upload_folder` always removes,
whatever happens. Refused with a :class:`~medmodal.serve._errors.ServiceError`:

- file names with a path, ``..``, a leading dot or odd characters, unknown extensions,
  duplicates, more than ``max_files`` files (422, field ``file``);
- zip entries with an absolute path, a ``..`` component or a drive letter, symbolic
  links, encrypted or corrupt archives (422); archives that expand past
  ``max_extracted_bytes``, counted while extracting, not trusted from the header (413);
- WFDB headers naming a signal file that is not a plain name in the upload, or one that
  was not uploaded (the message names it: "203.hea names 203.dat, which was not
  uploaded"), and multi-segment records (422).

The record is moved under neutral names (``record.csv``...) before any library reads it;
:class:`SavedUpload` keeps the client's own file name so that error messages can use it.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO, NamedTuple

from medmodal.io import infer_format
from medmodal.serve._errors import ServiceError
from medmodal.serve.settings import Settings

#: Extensions accepted in an upload (WFDB parts, then single-file formats).
WFDB_PARTS = (".hea", ".dat", ".atr")
SINGLE_FILE = (".csv", ".tsv", ".txt", ".edf", ".bdf", ".npy", ".npz")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_. -]{0,127}$")
_CHUNK = 1 << 20
#: Prefix of the per-request temporary folders (tests look for leftovers by it).
TMP_PREFIX = "medmodal-upload-"

#: An uploaded file: the client's file name and a readable binary stream.
Upload = tuple[str | None, BinaryIO]


@contextlib.contextmanager
def upload_folder(settings: Settings) -> Iterator[Path]:
    """A fresh private temporary folder, removed on exit even after an error."""
    folder = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=settings.tmp_dir))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class SavedUpload(NamedTuple):
    """Where the record was saved, its format, and the client's name for it."""

    path: Path  #: the neutral path to hand to :func:`medmodal.io.read_record`
    fmt: str  #: its format name
    shown: str  #: the uploaded file's own name (``203.csv``, ``203.hea``), for messages

    def words(self, message: str) -> str:
        """``message`` with the neutral file name replaced by the client's own."""
        return message.replace(self.path.name, self.shown)


def save_upload(files: Sequence[Upload], folder: Path, settings: Settings) -> SavedUpload:
    """Write ``files`` into ``folder`` (a zip is extracted) and find the record."""
    if not files:
        raise ServiceError(422, "upload a record file (field 'file')", field="file")
    if len(files) > settings.max_files:
        raise ServiceError(
            422, f"at most {settings.max_files} files per upload, got {len(files)}", field="file"
        )
    names = [_check_name(name, allow_zip=len(files) == 1) for name, _ in files]
    budget = _Budget(settings.max_extracted_bytes)
    if names[0].lower().endswith(".zip"):
        _extract_zip(files[0][1], folder, settings, budget)
    else:
        for name, (_, stream) in zip(names, files, strict=True):
            _write(stream, folder / name, budget)
    shown = _record_name(folder)
    path, fmt = find_record(folder)
    return SavedUpload(path, fmt, shown)


def _record_name(folder: Path) -> str:
    """The client's name of the record file: its header, else its one data file."""
    files = sorted(p.name for p in folder.iterdir() if p.is_file())
    headers = [n for n in files if n.lower().endswith(".hea")]
    data = [n for n in files if PurePosixPath(n).suffix.lower() in SINGLE_FILE]
    return (headers or data or ["the upload"])[0]


class _Budget:
    """Bytes left before an upload counts as too large once written out."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise ServiceError(
                413, f"the upload expands to more than {self.limit} bytes", field="file"
            )


def _check_name(name: str | None, *, allow_zip: bool, where: str = "file name") -> str:
    if not name:
        raise ServiceError(422, "every uploaded file needs a file name", field="file")
    suffixes = WFDB_PARTS + SINGLE_FILE + ((".zip",) if allow_zip else ())
    if not _NAME.match(name) or ".." in name:
        raise ServiceError(
            422,
            f"{where} not allowed: use letters, digits, '_', '-', '.' and spaces, no path "
            "(a zip must be the only file of its upload)",
            field="file",
        )
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in suffixes:
        raise ServiceError(
            422,
            f"unsupported file type {suffix or '(none)'!r}; accepted: {', '.join(suffixes)}",
            field="file",
        )
    return name


def _write(stream: IO[bytes], target: Path, budget: _Budget) -> None:
    if target.exists():
        raise ServiceError(422, "two uploaded files have the same name", field="file")
    with open(target, "xb") as out:  # exclusive: never follows or replaces anything
        while chunk := stream.read(_CHUNK):
            budget.take(len(chunk))
            out.write(chunk)


def _extract_zip(stream: BinaryIO, folder: Path, settings: Settings, budget: _Budget) -> None:
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ServiceError(422, "the .zip file is corrupt or not a zip", field="file") from None
    with archive:
        entries = [info for info in archive.infolist() if not info.is_dir()]
        for info in entries:
            _check_entry(info)
        entries = [i for i in entries if not _is_metadata(PurePosixPath(i.filename))]
        if len(entries) > settings.max_files:
            raise ServiceError(
                422, f"the zip holds more than {settings.max_files} files", field="file"
            )
        if sum(info.file_size for info in entries) > budget.limit:  # declared sizes first
            budget.take(sum(info.file_size for info in entries))
        for info in entries:
            name = _check_name(
                PurePosixPath(info.filename).name, allow_zip=False, where="zip entry"
            )
            try:
                with archive.open(info) as source:
                    _write(source, folder / name, budget)  # actual sizes, not the header's
            except (zipfile.BadZipFile, RuntimeError, OSError, EOFError, ValueError):
                raise ServiceError(
                    422, "a zip entry cannot be extracted (corrupt or encrypted)", field="file"
                ) from None


def _check_entry(info: zipfile.ZipInfo) -> None:
    name = info.filename
    path = PurePosixPath(name)
    escapes = (
        name.startswith(("/", "\\"))
        or "\\" in name
        or re.match(r"^[A-Za-z]:", name) is not None
        or ".." in path.parts
        or "\x00" in name
    )
    if escapes:
        raise ServiceError(
            422, "zip entry with an absolute path or '..' refused (zip slip)", field="file"
        )
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ServiceError(422, "zip entry that is a symbolic link refused", field="file")


def _is_metadata(path: PurePosixPath) -> bool:
    """macOS resource forks and dot files a zip tool adds next to the real files."""
    return path.parts[0] == "__MACOSX" or path.name.startswith(".")


def find_record(folder: Path) -> tuple[Path, str]:
    """The one record in ``folder`` (a WFDB header, or the single data file), moved under
    neutral names (``record.hea``, ``signal0.dat``, ``record.csv``...): the client's file
    names go no further, not even into a library's debug log."""
    files = sorted(p for p in folder.iterdir() if p.is_file())
    headers = [p for p in files if p.suffix.lower() == ".hea"]
    if len(headers) > 1:
        raise ServiceError(422, "upload one WFDB record at a time (several .hea)", field="file")
    neutral = folder / "record"
    neutral.mkdir()
    if headers:
        return _neutral_wfdb(headers[0], neutral), "wfdb"
    if any(p.suffix.lower() in WFDB_PARTS for p in files):
        parts = ", ".join(p.name for p in files if p.suffix.lower() in WFDB_PARTS)
        raise ServiceError(
            422,
            f"a WFDB record needs its .hea header: got {parts} without one; send the .hea "
            "with the .dat (or one .zip holding both)",
            field="file",
        )
    data = [p for p in files if p.suffix.lower() in SINGLE_FILE]
    if len(data) != 1:
        raise ServiceError(
            422, f"upload exactly one record file, got {len(data)} data files", field="file"
        )
    target = neutral / f"record{data[0].suffix.lower()}"
    data[0].rename(target)
    return target, infer_format(target)


def _neutral_wfdb(header: Path, out: Path) -> Path:
    """Check ``header`` (see :func:`check_wfdb_header`) and move the record into ``out`` as
    ``record.hea`` + ``signal<i><ext>`` (+ ``record.atr``), the header rewritten to match."""
    lines = check_wfdb_header(header)
    renamed: dict[str, str] = {}
    record_name = ""
    seen_record_line = False
    rewritten = []
    for line in lines:
        body = line.strip()
        if not body or body.startswith("#"):
            rewritten.append(line)
            continue
        token = body.split()[0]
        if not seen_record_line:
            seen_record_line, record_name, new = True, token, "record"
        else:
            suffix = PurePosixPath(token).suffix.lower()
            new = renamed.setdefault(token, f"signal{len(renamed)}{suffix}")
        rewritten.append(new + body[len(token) :])
    for old, new in renamed.items():
        (header.parent / old).rename(out / new)
    annotations = header.parent / f"{record_name}.atr"
    if annotations.is_file():
        annotations.rename(out / "record.atr")
    target = out / "record.hea"
    target.write_text("\n".join(rewritten) + "\n", encoding="latin-1")
    return target


def check_wfdb_header(header: Path) -> list[str]:
    """The header's lines, after refusing headers that point outside the upload or at
    files not uploaded, and multi-segment records."""
    with open(header, "rb") as fh:
        raw = fh.read(65_537)
    if len(raw) > 65_536:
        raise ServiceError(422, "the WFDB header is implausibly large", field="file")
    text_lines = raw.decode("latin-1").splitlines()
    lines = [
        line.strip() for line in text_lines if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise ServiceError(422, "the WFDB header is empty", field="file")
    if "/" in lines[0].split()[0]:
        raise ServiceError(422, "multi-segment WFDB records are not accepted", field="file")
    for line in lines[1:]:
        target = line.split()[0]
        if not _NAME.match(target) or ".." in target or target == "~":
            raise ServiceError(
                422, "the WFDB header names a signal file outside the upload", field="file"
            )
        if not (header.parent / target).is_file():
            raise ServiceError(
                422,
                f"the WFDB header {header.name} names the signal file {target}, which was not "
                f"uploaded: send {target} with {header.name} (or one .zip holding both)",
                field="file",
            )
    return text_lines
