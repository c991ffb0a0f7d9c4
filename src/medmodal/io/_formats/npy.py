"""NumPy records: ``.npy`` (samples only; pass ``sampling_rate``) or ``.npz``.

An ``.npz`` holds ``signal`` (or a single array) and optionally ``fs`` or
``sampling_rate``, ``lead_names``, ``units`` and ``name``. Files are loaded with
``allow_pickle=False``: object arrays are refused rather than unpickled.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from medmodal.errors import DataFormatError, InvalidParameterError, MedmodalWarning
from medmodal.io._formats._common import FORMATS, Format, finish, resolve_rate
from medmodal.io._formats._npyfile import ArrayHeader, Check, load_arrays
from medmodal.io._limits import Limits, check_shape, too_large
from medmodal.io._record import Annotations, LeadSpec, Record

#: Members of an ``.npz`` the reader uses (any others are never decompressed).
_KNOWN = frozenset(
    {"signal", "fs", "sampling_rate", "lead_names", "units", "name"}
    | {"ann_sample", "ann_symbol", "ann_aux_note", "ann_fs"}
)
_TEXT_KEYS = frozenset({"lead_names", "units", "name", "ann_symbol", "ann_aux_note"})


def _wanted(keys: list[str]) -> set[str]:
    if "signal" not in keys and len(keys) == 1:
        return set(keys)
    return set(_KNOWN.intersection(keys))


def _signal_key(arrays: dict[str, np.ndarray], path: Path) -> str:
    if "signal" in arrays:
        return "signal"
    if len(arrays) == 1 and not _KNOWN.intersection(arrays):
        return next(iter(arrays))
    raise DataFormatError(
        f"{path}: no 'signal' array among {sorted(arrays)}; save the samples as signal="
    )


def _orientation(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(n_samples, n_leads)`` of a 1-D or 2-D sample array (2-D may be transposed)."""
    if len(shape) == 1:
        return shape[0], 1
    return max(shape), min(shape)


def _checker(path: Path, limits: Limits) -> Check:
    """Refuse, from its header, any array the reader would not take or cannot afford.

    The samples (``signal``, or the lone array of a file) are checked as a record
    (shape, leads, values); every other array may hold at most ``max_values`` entries.
    """

    def check(key: str, header: ArrayHeader) -> None:
        kind = header.dtype.kind
        if kind == "c":
            raise DataFormatError(
                f"{path}: {key!r} holds complex numbers ({header.dtype}); a record is real "
                f"(save np.real or np.abs of it explicitly)"
            )
        if not (kind in "biuf" or (key in _TEXT_KEYS and kind in "US")):
            raise DataFormatError(f"{path}: {key!r} must be numeric, got dtype {header.dtype}")
        if key == "signal" or key not in _KNOWN:
            _check_signal(path, header, limits)
        elif math.prod(header.shape) > limits.max_values:
            too_large(path, f"the entries of {key!r}", math.prod(header.shape),
                      limits.max_values, "max_values")  # fmt: skip

    return check


def _check_signal(path: Path, header: ArrayHeader, limits: Limits) -> None:
    if len(header.shape) not in (1, 2) or math.prod(header.shape) == 0:
        raise DataFormatError(
            f"{path}: samples must be (n_samples,) or (n_samples, n_leads), got {header.shape}"
        )
    n_samples, n_leads = _orientation(header.shape)
    check_shape(path, n_samples, n_leads, limits, f"array of shape {header.shape}")


def _load(path: Path, limits: Limits) -> dict[str, np.ndarray]:
    return load_arrays(path, limits, _checker(path, limits), _wanted)


def _signal(arrays: dict[str, np.ndarray], path: Path) -> np.ndarray:
    signal = arrays[_signal_key(arrays, path)]  # dtype and shape checked from its header
    if signal.ndim == 2 and signal.shape[0] < signal.shape[1]:
        warnings.warn(
            f"{path.name}: array is {signal.shape}, more leads than samples; read it as "
            f"(n_leads, n_samples) and transposed it to {signal.shape[::-1]}",
            MedmodalWarning,
            stacklevel=5,
        )
        signal = signal.T
    return signal.astype(np.float64, copy=False)


def _scalar(arrays: dict[str, np.ndarray], key: str, path: Path) -> float | None:
    if key not in arrays:
        return None
    value = np.asarray(arrays[key])
    if value.size != 1 or value.dtype.kind not in "iuf":
        raise DataFormatError(f"{path}: {key!r} must be one number, got {value!r}")
    return float(value.reshape(-1)[0])


def _scalar_rate(arrays: dict[str, np.ndarray], path: Path) -> tuple[float | None, str]:
    for key in ("fs", "sampling_rate"):
        if key in arrays:
            return _scalar(arrays, key, path), key
    return None, "fs"


def _names(
    given: Sequence[str] | None, stored: np.ndarray | None, n: int, prefix: str
) -> tuple[str, ...]:
    if given is not None:
        return tuple(given)
    if stored is not None:
        return tuple(str(v) for v in np.asarray(stored).reshape(-1))
    return tuple(f"{prefix}{i}" for i in range(n)) if prefix else ("",) * n


def _stored_annotations(
    arrays: dict[str, np.ndarray], rate: float, path: Path, limits: Limits
) -> Annotations | None:
    if "ann_sample" not in arrays or "ann_symbol" not in arrays:
        return None
    notes = arrays.get("ann_aux_note")
    fs = _scalar(arrays, "ann_fs", path)
    if fs is not None:
        fs = resolve_rate(fs, None, path, limits=limits, field="'ann_fs'")
    symbols = arrays["ann_symbol"].reshape(-1).tolist()
    return Annotations(arrays["ann_sample"], symbols, notes, rate if fs is None else fs)


def _name(arrays: dict[str, np.ndarray], path: Path) -> str:
    value = arrays.get("name")
    return path.stem if value is None or value.size != 1 else str(value.reshape(-1)[0])


def read(
    path: Path,
    *,
    sampling_rate: float | None,
    leads: LeadSpec | None,
    limits: Limits,
    lead_names: Sequence[str] | None = None,
    units: Sequence[str] | None = None,
) -> Record:
    """Read a ``.npy``/``.npz`` record; ``lead_names``/``units`` name the columns.

    Every array's header is checked (dtype, shape, bytes) against ``limits`` and the
    file before its data are read (see :mod:`medmodal.io._formats._npyfile`).
    """
    arrays = _load(path, limits)
    signal = _signal(arrays, path)
    n = 1 if signal.ndim == 1 else signal.shape[1]
    file_rate, key = _scalar_rate(arrays, path)
    rate = resolve_rate(file_rate, sampling_rate, path, limits=limits, field=repr(key))
    try:
        record = Record(
            signal,
            rate,
            _names(lead_names, arrays.get("lead_names"), n, "lead"),
            _names(units, arrays.get("units"), n, ""),
            name=_name(arrays, path),
            meta={"format": "npy", "source": str(path)},
            annotations=_stored_annotations(arrays, rate, path, limits),
        )
    except InvalidParameterError as exc:
        raise DataFormatError(f"{path}: {exc}") from exc
    return finish(record, leads)


def write(record: Record, path: Path) -> Path:
    """``.npz``: samples, rate, lead names, units and name; ``.npy``: the samples only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".npy":
        np.save(path, np.asarray(record.signal))
        return path
    if path.suffix.lower() != ".npz":
        raise InvalidParameterError(
            f"write_record: a NumPy file ends in .npy or .npz, got {path.name}"
        )
    arrays: dict[str, np.ndarray] = {
        "signal": np.asarray(record.signal),
        "fs": np.array(record.sampling_rate),
        "lead_names": np.array(record.lead_names, dtype=str),
        "units": np.array(record.units, dtype=str),
        "name": np.array(record.name),
    }
    ann = record.annotations
    if ann is not None:
        arrays["ann_sample"] = ann.sample
        arrays["ann_symbol"] = ann.symbol.astype(str)
        arrays["ann_aux_note"] = ann.aux_note.astype(str)
        arrays["ann_fs"] = np.array(ann.sampling_rate)
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return path


FORMATS.add(
    "npy",
    Format("npy", (".npy", ".npz"), read, write),
    aliases=("npz", "numpy"),
    description=".npy samples (pass sampling_rate) or .npz with signal and fs",
)
