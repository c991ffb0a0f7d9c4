"""PTB-XL: 12-lead 10-second clinical ECGs with reports, SCP-ECG statements and folds.

The shared copy (``<data root>/ptbxl-500/``, or pass that folder as ``root``) holds the
first 500 records at 100 Hz (``records100/``), ``ptbxl_database.csv`` (one row per ECG)
and ``scp_statements.csv`` (what each SCP code means). Metadata conventions follow the
data set: ``sex`` is 0 for male and 1 for female; ``age`` is in years (the full data set
codes ages above 89 as 300 for privacy; they are kept as given); ``height`` (cm) and
``weight`` (kg) are NaN where missing.

Superclasses follow the PTB-XL benchmark (Strodthoff et al. 2021): each *diagnostic*
statement (``diagnostic == 1`` in ``scp_statements.csv``) of a record maps to its
``diagnostic_class`` (NORM, MI, STTC, CD, HYP); form and rhythm statements are ignored,
and by default every listed statement counts whatever its likelihood. The recommended
split is folds 1-8 train, 9 validation, 10 test.

Example:
    >>> from medmodal.data import ptbxl
    >>> ptbxl.SUPERCLASSES
    ('NORM', 'MI', 'STTC', 'CD', 'HYP')

References:
    Wagner P, Strodthoff N, Bousseljot RD, Kreiseler D, Lunze FI, Samek W, Schaeffter T.
    PTB-XL, a large publicly available electrocardiography dataset. Sci Data 7:154
    (2020). doi:10.1038/s41597-020-0495-6. Licence: CC BY 4.0.
    Strodthoff N, Wagner P, Schaeffter T, Samek W. Deep learning for ECG analysis:
    benchmarks and insights from PTB-XL. IEEE J Biomed Health Inform 25(5):1519-1528
    (2021).
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from medmodal.data.paths import dataset_dir
from medmodal.errors import DataFormatError, DataNotFoundError, InvalidParameterError
from medmodal.io import LeadSpec, Record, read_record
from medmodal.types import PathLike

#: The five diagnostic superclasses, in the benchmark's order.
SUPERCLASSES: tuple[str, ...] = ("NORM", "MI", "STTC", "CD", "HYP")
#: Sampling rate of the ``records100`` signals (Hz) and samples per record.
SAMPLING_RATE = 100.0
N_SAMPLES = 1000
#: Lead names as stored in the headers.
LEADS: tuple[str, ...] = (
    "I", "II", "III", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6",
)  # fmt: skip
#: The recommended split (Strodthoff et al. 2021) by ``strat_fold``.
FOLDS: dict[str, tuple[int, ...]] = {"train": tuple(range(1, 9)), "val": (9,), "test": (10,)}
_NUMERIC = ("age", "sex", "height", "weight", "strat_fold")

__all__ = [
    "FOLDS",
    "LEADS",
    "N_SAMPLES",
    "SAMPLING_RATE",
    "SUPERCLASSES",
    "load_metadata",
    "load_record",
    "load_signals",
    "load_statements",
    "split",
    "superclasses",
]


def _folder(root: PathLike | None) -> Path:
    if root is not None and (Path(root) / "ptbxl_database.csv").is_file():
        return Path(root)
    return dataset_dir("ptbxl", root)


def _parse_codes(text: object, ecg_id: object) -> dict[str, float]:
    if not isinstance(text, str) or not text.strip():
        return {}
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:
        raise DataFormatError(f"ptbxl: ecg_id {ecg_id}: scp_codes {text!r} is not a dict") from exc
    if not isinstance(value, dict):
        raise DataFormatError(f"ptbxl: ecg_id {ecg_id}: scp_codes {text!r} is not a dict")
    return {str(k): float(v) for k, v in value.items()}


@functools.lru_cache(maxsize=4)
def _metadata(csv: Path, mtime: float) -> pd.DataFrame:
    try:
        frame = pd.read_csv(csv, index_col="ecg_id")
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataFormatError(f"cannot read PTB-XL metadata {csv}: {exc}") from exc
    missing = {"scp_codes", "strat_fold", "patient_id", "filename_lr"} - set(frame.columns)
    if missing:
        raise DataFormatError(f"{csv} lacks the columns {sorted(missing)}")
    frame.index = frame.index.astype(np.int64)
    codes = [_parse_codes(t, i) for i, t in frame["scp_codes"].items()]
    frame["scp_codes"] = pd.Series(codes, index=frame.index, dtype=object)
    for column in _NUMERIC:
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(np.float64)
    frame["strat_fold"] = frame["strat_fold"].astype("Int64")
    frame["patient_id"] = pd.to_numeric(frame["patient_id"], errors="coerce").astype("Int64")
    frame["report"] = frame["report"].fillna("").astype(str) if "report" in frame else ""
    return frame


def _cached(root: PathLike | None) -> pd.DataFrame:
    csv = _folder(root) / "ptbxl_database.csv"
    if not csv.is_file():
        raise DataNotFoundError(f"PTB-XL metadata not found: looked for {csv}")
    return _metadata(csv.resolve(), csv.stat().st_mtime)


def load_metadata(*, root: PathLike | None = None) -> pd.DataFrame:
    """``ptbxl_database.csv`` indexed by ``ecg_id``, with ``scp_codes`` parsed to dicts.

    ``age``, ``sex``, ``height``, ``weight`` are float (NaN where missing),
    ``strat_fold`` and ``patient_id`` nullable integers, ``report`` a str.

    Raises:
        DataNotFoundError: the data set is not under the data root.
    """
    frame = _cached(root).copy()
    frame["scp_codes"] = frame["scp_codes"].map(dict)  # the caller may edit its own dicts
    return frame


def load_statements(*, root: PathLike | None = None) -> pd.DataFrame:
    """``scp_statements.csv`` indexed by SCP code (``diagnostic_class`` etc.)."""
    csv = _folder(root) / "scp_statements.csv"
    if not csv.is_file():
        raise DataNotFoundError(f"PTB-XL statement table not found: looked for {csv}")
    try:
        return pd.read_csv(csv, index_col=0)
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataFormatError(f"cannot read {csv}: {exc}") from exc


def superclasses(
    metadata: pd.DataFrame,
    *,
    statements: pd.DataFrame | None = None,
    root: PathLike | None = None,
    min_likelihood: float = 0.0,
) -> pd.DataFrame:
    """Multi-hot diagnostic superclasses: one 0/1 column per :data:`SUPERCLASSES`.

    Args:
        metadata: from :func:`load_metadata` (any subset of its rows).
        statements: from :func:`load_statements`; read from ``root`` if ``None``.
        min_likelihood: ignore statements whose likelihood (0-100) is below this. The
            default 0 keeps them all, as the PTB-XL benchmark does.

    Returns:
        int8 DataFrame indexed like ``metadata``. Rows with no diagnostic statement are
        all zero (the benchmark drops them from the superdiagnostic task).
    """
    table = load_statements(root=root) if statements is None else statements
    diagnostic = table[table["diagnostic"] == 1]["diagnostic_class"].dropna().to_dict()
    out = np.zeros((len(metadata), len(SUPERCLASSES)), dtype=np.int8)
    column = {name: j for j, name in enumerate(SUPERCLASSES)}
    for i, codes in enumerate(metadata["scp_codes"]):
        for code, likelihood in codes.items():
            cls = diagnostic.get(code)
            if cls in column and likelihood >= min_likelihood:
                out[i, column[cls]] = 1
    return pd.DataFrame(out, index=metadata.index, columns=list(SUPERCLASSES))


def split(metadata: pd.DataFrame) -> dict[str, np.ndarray]:
    """ecg_ids of the recommended train (folds 1-8), val (9) and test (10) sets."""
    folds = metadata["strat_fold"]
    return {
        name: metadata.index[folds.isin(numbers)].to_numpy(dtype=np.int64)
        for name, numbers in FOLDS.items()
    }


def _ecg_id(ecg_id: object) -> int:
    if isinstance(ecg_id, bool) or not isinstance(ecg_id, (int, np.integer, str)):
        raise InvalidParameterError(f"ptbxl: ecg_id must be an integer, got {ecg_id!r}")
    try:
        return int(ecg_id)
    except ValueError as exc:
        raise InvalidParameterError(f"ptbxl: ecg_id must be an integer, got {ecg_id!r}") from exc


def _row(ecg_id: object, root: PathLike | None) -> tuple[int, pd.Series, Path]:
    key = _ecg_id(ecg_id)
    meta = _cached(root)
    if key not in meta.index:
        raise DataNotFoundError(
            f"ptbxl: ecg_id {key} is not in this copy of PTB-XL ({len(meta)} records, "
            f"ids {meta.index.min()}-{meta.index.max()})"
        )
    row = meta.loc[key]
    if isinstance(row, pd.DataFrame):  # a duplicated ecg_id: take the first row
        row = row.iloc[0]
    return key, row, _folder(root)


def _meta(key: int, row: pd.Series, statements: pd.DataFrame) -> dict[str, Any]:
    labels = superclasses(pd.DataFrame({"scp_codes": [row["scp_codes"]]}), statements=statements)
    names = [c for c in SUPERCLASSES if labels.iloc[0][c]]
    fields = ("patient_id", "age", "sex", "height", "weight", "report", "strat_fold")
    meta: dict[str, Any] = {k: row[k] for k in fields if k in row}
    return {**meta, "ecg_id": key, "scp_codes": dict(row["scp_codes"]), "superclasses": names}


def load_record(
    ecg_id: int | str, *, root: PathLike | None = None, leads: LeadSpec | None = None
) -> Record:
    """ECG ``ecg_id`` at 100 Hz: 12 leads in mV, names as stored (``I`` ... ``V6``).

    ``meta`` carries the metadata row (age, sex, report, scp_codes, strat_fold...) and
    the record's ``superclasses``.

    Raises:
        DataNotFoundError: the data set, or this ``ecg_id``, is not there.
        InvalidParameterError: ``ecg_id`` is not an integer, or an unknown lead.
    """
    key, row, folder = _row(ecg_id, root)
    rec = read_record(folder / f"{row['filename_lr']}.hea", annotation=False, leads=leads)
    meta = {**rec.meta, **_meta(key, row, load_statements(root=folder))}
    return Record(rec.signal, rec.sampling_rate, rec.lead_names, rec.units, rec.name, meta)


def _filenames(keys: list[int], root: PathLike | None) -> tuple[list[str], Path]:
    """``filename_lr`` of each ecg_id in order (a duplicated id: its first row), looked up
    at once rather than row by row; an id not in the data set raises as in :func:`_row`."""
    meta = _cached(root)
    for key in keys:
        if key not in meta.index:
            _row(key, root)  # raises DataNotFoundError naming the id
    column = meta["filename_lr"]
    if not meta.index.is_unique:
        column = column[~meta.index.duplicated(keep="first")]
    return [str(name) for name in column.loc[keys]], _folder(root)


def load_signals(
    ids: Iterable[int], *, root: PathLike | None = None, dtype: type = np.float32
) -> np.ndarray:
    """Signals of several ECGs stacked as ``(n, 1000, 12)`` (float32 by default, mV).

    Each record is read by :func:`~medmodal.io.read_record`, whose plain-WFDB path
    parses a PTB-XL header and decodes its samples itself (timings in
    ``benchmarks/results/io_wfdb_read.md``).

    Raises:
        DataNotFoundError: the data set, or one of the ``ids``, is not there.
        DataFormatError: a record is not 1000 samples x 12 leads.
    """
    keys = [_ecg_id(i) for i in ids]
    names, folder = _filenames(keys, root) if keys else ([], Path())
    out: np.ndarray = np.empty((len(keys), N_SAMPLES, len(LEADS)), dtype=dtype)
    for n, (key, name) in enumerate(zip(keys, names, strict=True)):
        signal = read_record(folder / f"{name}.hea", annotation=False).signal
        if signal.shape != out.shape[1:]:
            raise DataFormatError(
                f"ptbxl: ecg_id {key} has shape {signal.shape}, expected {out.shape[1:]}"
            )
        out[n] = signal
    return out
