"""Crash-safe replacement of a folder: the rename protocol every checkpoint save follows.

A directory cannot be renamed over a non-empty one, so replacing ``D/N`` takes more than
one rename. Each save of ``D/N`` uses one tag ``TAG = <pid>-<8 hex digits>`` and runs:

1. write every file into ``D/.N.tmp-TAG``; fsync each file and the folder;
2. rename ``.N.tmp-TAG`` to ``.N.new-TAG``; fsync ``D`` (a complete new copy exists);
3. rename ``N`` to ``.N.old-TAG``; fsync ``D`` (skipped when there is no ``N`` yet);
4. rename ``.N.new-TAG`` to ``N``; fsync ``D`` (the new copy is in place);
5. remove ``.N.old-TAG``.

A crash (or a kill) at any point leaves the old or the new copy, never a mix:

- before step 2, ``N`` is the old copy; ``.N.tmp-TAG`` is debris;
- between 2 and 3, ``N`` is the old copy; ``.N.new-TAG`` is complete but not in place;
- between 3 and 4, there is no ``N``: :func:`resolve` names ``.N.new-TAG`` (roll
  forward; the legacy two-rename save left only ``.N.old-TAG``, which is used then);
- after 4, ``N`` is the new copy; ``.N.old-TAG`` is debris.

:func:`resolve` reads that state without changing anything (loading never writes);
:func:`recover` (run before every save and when a run folder is opened for training)
renames the resolved copy into place and removes the debris this protocol created: only
names that match ``.N.(tmp|new|old)-<pid>-<8 hex>`` exactly, and only those of a process
that is no longer running (or of this process, outside a save in progress).

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> d = Path(tempfile.mkdtemp())
    >>> with replace_folder(d / "ck") as tmp:
    ...     _ = (tmp / "a.txt").write_text("new")
    >>> (d / "ck" / "a.txt").read_text(), [p.name for p in d.iterdir()]
    ('new', ['ck'])
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_KINDS = ("tmp", "new", "old")
_ACTIVE: set[Path] = set()  # this process's protocol folders of saves in progress


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(name)}\.(tmp|new|old)-(\d+)-[0-9a-f]{{8}}")


def protocol_folders(target: Path) -> list[tuple[str, int, Path]]:
    """``(kind, pid, path)`` of every folder the protocol made for ``target``."""
    if not target.parent.is_dir():
        return []
    pattern = _pattern(target.name)
    found = []
    for entry in target.parent.iterdir():
        match = pattern.fullmatch(entry.name)
        if match and entry.is_dir() and not entry.is_symlink():
            found.append((match.group(1), int(match.group(2)), entry))
    return sorted(found, key=lambda f: (f[2].stat().st_mtime_ns, f[2].name))


def resolve(target: Path) -> Path | None:
    """The folder holding ``target``'s current copy (``None`` when there is none).

    ``target`` itself when it exists; after a crash between steps 3 and 4 the newest
    complete ``.N.new-*`` copy, else the newest ``.N.old-*`` one. Changes nothing.
    """
    if target.is_dir():
        return target
    if target.exists():
        return None
    folders = protocol_folders(target)
    for kind in ("new", "old"):
        copies = [path for k, _, path in folders if k == kind]
        if copies:
            return copies[-1]
    return None


def recover(target: Path) -> None:
    """Finish an interrupted save of ``target`` and remove the protocol's stale debris."""
    current = resolve(target)
    if current is not None and current != target:
        os.rename(current, target)
        _fsync(target.parent)
    for _, pid, path in protocol_folders(target):
        if _is_stale(pid, path):
            shutil.rmtree(path)


@contextmanager
def replace_folder(target: Path) -> Iterator[Path]:
    """Yield an empty temporary folder; on success it replaces ``target`` (steps 1-5)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    recover(target)
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp, new, old = (target.parent / f".{target.name}.{kind}-{tag}" for kind in _KINDS)
    _ACTIVE.update((tmp, new, old))
    try:
        tmp.mkdir()
        yield tmp
        for file in tmp.iterdir():
            _fsync(file)
        _fsync(tmp)
        os.rename(tmp, new)
        _fsync(target.parent)
        if target.exists():
            os.rename(target, old)
            _fsync(target.parent)
        os.rename(new, target)
        _fsync(target.parent)
        if old.exists():
            shutil.rmtree(old)
    except BaseException:
        if tmp.exists():
            shutil.rmtree(tmp)  # a failed write: the old copy stays as it was
        raise
    finally:
        _ACTIVE.difference_update((tmp, new, old))


def _is_stale(pid: int, path: Path) -> bool:
    """True for debris: of this process outside a save, or of a process that has ended."""
    if pid == os.getpid():
        return path not in _ACTIVE
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return True  # no such process (or a number beyond any pid)
    except PermissionError:
        return False  # alive, someone else's
    return False


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
