"""Real MIT-BIH excerpts shipped inside medmodal, for the demo and for offline tests.

Three 5-minute two-lead excerpts (360 Hz) with their reference annotations: sinus
rhythm (``mitdb-100``), ventricular bigeminy (``mitdb-119``) and atrial fibrillation
(``mitdb-201``). They load without the shared data sets; the licence (ODC-By 1.0) and
citations sit next to them in ``medmodal/data/_bundled/``.

Example:
    >>> from medmodal.data.bundled import list_bundled, load_bundled
    >>> list_bundled()
    ['mitdb-100', 'mitdb-119', 'mitdb-201']
    >>> rec = load_bundled("mitdb-119")
    >>> rec.sampling_rate, rec.lead_names, rec.duration
    (360.0, ('MLII', 'V1'), 300.0)
    >>> int((rec.annotations.beats().symbol == "V").sum())
    80

References:
    Moody GB, Mark RG. The impact of the MIT-BIH Arrhythmia Database. IEEE Eng Med Biol
    20(3):45-50 (2001). Goldberger AL et al. PhysioBank, PhysioToolkit, and PhysioNet.
    Circulation 101(23):e215-e220 (2000).
"""

from __future__ import annotations

import contextlib
import functools
import json
import shutil
import tempfile
from dataclasses import replace
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from medmodal.data.mitdb import _parse_info, mains_meta
from medmodal.errors import DataFormatError
from medmodal.io import LeadSpec, Record, read_record
from medmodal.registry import Registry

__all__ = ["bundled_info", "bundled_path", "list_bundled", "load_bundled"]

_PACKAGE_DIR = ("_bundled",)
_SUFFIXES = (".hea", ".dat", ".atr")


def _root() -> Traversable:
    return resources.files("medmodal.data").joinpath(*_PACKAGE_DIR)


@functools.lru_cache(maxsize=1)
def _registry() -> Registry[dict[str, Any]]:
    manifest = _root().joinpath("manifest.json")
    try:
        entries = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataFormatError(f"the bundled sample manifest is missing or broken: {exc}") from exc
    registry: Registry[dict[str, Any]] = Registry("bundled record")
    for name, entry in entries.items():
        registry.add(name, entry, aliases=(entry["record"],), description=entry["description"])
    return registry


def list_bundled() -> list[str]:
    """Names of the shipped records (e.g. ``"mitdb-100"``)."""
    return list(_registry().names())


def bundled_info(name: str) -> dict[str, Any]:
    """Manifest entry of ``name``: source record, ``start_s``/``stop_s`` in the original
    record, beat count and a description."""
    return dict(_registry().get(name))


@contextlib.contextmanager
def _as_path(name: str) -> Any:
    entry = _registry().get(name)
    parts = entry["path"].split("/")
    folder = _root().joinpath(*parts[:-1])
    if isinstance(folder, Path):  # the usual case: an installed or source package
        yield folder / parts[-1]
        return
    with tempfile.TemporaryDirectory() as tmp:  # e.g. a zipped package: copy it out
        for suffix in _SUFFIXES:
            src = folder.joinpath(parts[-1] + suffix)
            with src.open("rb") as fin, open(Path(tmp) / src.name, "wb") as fout:
                shutil.copyfileobj(fin, fout)
        yield Path(tmp) / parts[-1]


def bundled_path(name: str) -> Path:
    """File-system path of the shipped WFDB record ``name`` (without extension), e.g. to
    hand to the CLI. Only for packages installed as plain files (the usual case)."""
    with _as_path(name) as path:
        if not path.with_suffix(".hea").is_file():
            raise DataFormatError(f"bundled record {name!r} is not available as a plain file")
        return Path(path)


def load_bundled(name: str, *, leads: LeadSpec | None = None) -> Record:
    """The shipped record ``name`` (see :func:`list_bundled`) with its annotations.

    ``meta`` holds the header's ``age``, ``sex`` and ``medications`` and the mains
    frequency ``powerline_hz`` (as :func:`medmodal.data.mitdb.load_record` gives them)
    and ``bundled``, the manifest entry (source record and excerpt window).

    Raises:
        InvalidParameterError: unknown name, with the closest ones suggested.
    """
    key = _registry().resolve(name)
    with _as_path(key) as path:
        rec = read_record(path.with_suffix(".hea"), annotation="atr", leads=leads)
    info = bundled_info(key)
    header = _parse_info(info["record"], rec.meta["comments"], rec.lead_names)
    person = {"age": header.age, "sex": header.sex, "medications": header.medications}
    meta = {**rec.meta, **person, **mains_meta(), "bundled": info}
    return replace(rec, name=key, meta=meta)
