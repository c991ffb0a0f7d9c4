"""NumPy records: ``.npy`` (samples only; pass ``sampling_rate``) or ``.npz``.

An ``.npz`` holds ``signal`` (or a single array) and optionally ``fs`` or
``sampling_rate``, ``lead_names``, ``units`` and ``name``. Files are loaded with
``allow_pickle=False``: object arrays are refused rather than unpickled.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from medmodal.errors import DataFormatError, InvalidParameterError, MedmodalWarning
from medmodal.io._formats._common import FORMATS, Format, finish, resolve_rate
from medmodal.io._record import Annotations, LeadSpec, Record


def _load(path: Path) -> dict[str, np.ndarray]:
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            return {"signal": loaded}
        with loaded:
            return {k: loaded[k] for k in loaded.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataFormatError(f"cannot read {path} as a NumPy file: {exc}") from exc


def _signal(arrays: dict[str, np.ndarray], path: Path) -> np.ndarray:
    if "signal" in arrays:
        signal = arrays["signal"]
    elif len(arrays) == 1:
        signal = next(iter(arrays.values()))
    else:
        raise DataFormatError(
            f"{path}: no 'signal' array among {sorted(arrays)}; save the samples as signal="
        )
    if not (np.issubdtype(signal.dtype, np.number) or signal.dtype == bool):
        raise DataFormatError(f"{path}: samples must be numeric, got dtype {signal.dtype}")
    if signal.ndim not in (1, 2) or signal.size == 0:
        raise DataFormatError(
            f"{path}: samples must be (n_samples,) or (n_samples, n_leads), got {signal.shape}"
        )
    if signal.ndim == 2 and signal.shape[0] < signal.shape[1]:
        warnings.warn(
            f"{path.name}: array is {signal.shape}, more leads than samples; read it as "
            f"(n_leads, n_samples) and transposed it to {signal.shape[::-1]}",
            MedmodalWarning,
            stacklevel=5,
        )
        signal = signal.T
    return signal.astype(np.float64)


def _scalar_rate(arrays: dict[str, np.ndarray], path: Path) -> float | None:
    for key in ("fs", "sampling_rate"):
        if key in arrays:
            value = np.asarray(arrays[key])
            if value.size != 1 or not np.issubdtype(value.dtype, np.number):
                raise DataFormatError(f"{path}: {key!r} must be one number, got {value!r}")
            return float(value.reshape(-1)[0])
    return None


def _names(
    given: Sequence[str] | None, stored: np.ndarray | None, n: int, prefix: str
) -> tuple[str, ...]:
    if given is not None:
        return tuple(given)
    if stored is not None:
        return tuple(str(v) for v in np.asarray(stored).reshape(-1))
    return tuple(f"{prefix}{i}" for i in range(n)) if prefix else ("",) * n


def _stored_annotations(arrays: dict[str, np.ndarray], rate: float) -> Annotations | None:
    if "ann_sample" not in arrays or "ann_symbol" not in arrays:
        return None
    notes = arrays.get("ann_aux_note")
    fs = float(arrays["ann_fs"]) if "ann_fs" in arrays else rate
    return Annotations(arrays["ann_sample"], arrays["ann_symbol"].tolist(), notes, fs)


def read(
    path: Path,
    *,
    sampling_rate: float | None,
    leads: LeadSpec | None,
    lead_names: Sequence[str] | None = None,
    units: Sequence[str] | None = None,
) -> Record:
    """Read a ``.npy``/``.npz`` record; ``lead_names``/``units`` name the columns."""
    arrays = _load(path)
    signal = _signal(arrays, path)
    n = 1 if signal.ndim == 1 else signal.shape[1]
    rate = resolve_rate(_scalar_rate(arrays, path), sampling_rate, path)
    name = str(arrays["name"]) if "name" in arrays else path.stem
    try:
        record = Record(
            signal,
            rate,
            _names(lead_names, arrays.get("lead_names"), n, "lead"),
            _names(units, arrays.get("units"), n, ""),
            name=name,
            meta={"format": "npy", "source": str(path)},
            annotations=_stored_annotations(arrays, rate),
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
