"""Process many ECG records (a folder, a list of files or of records) in parallel.

Example:
    >>> from medmodal.data.bundled import bundled_path
    >>> from medmodal.ecg.batch import ecg_process_many
    >>> batch = ecg_process_many(bundled_path("mitdb-100").parent, progress=False)
    >>> sorted(batch.to_frame().index)[:1]
    ['100']
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from medmodal.ecg.process import ECGResult, ecg_process
from medmodal.errors import DataNotFoundError, InvalidParameterError, MedmodalError, MedmodalWarning
from medmodal.io import Record, available_formats, infer_format, read_record
from medmodal.types import PathLike

Source = PathLike | Record


@dataclass(frozen=True, eq=False)
class BatchResult:
    """Summaries of every record, the errors of those that failed, and optionally results.

    Attributes:
        summaries: one row per processed record (flattened :meth:`ECGResult.summary`).
        errors: record name -> one-line reason for each record that could not be processed.
        results: record name -> full :class:`ECGResult` (only with ``keep_results=True``).
    """

    summaries: pd.DataFrame
    errors: dict[str, str] = field(default_factory=dict)
    results: dict[str, ECGResult] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The per-record summaries (index: record name)."""
        return self.summaries


def ecg_process_many(
    sources: PathLike | Iterable[Source],
    *,
    sampling_rate: float | None = None,
    lead: str | int | None = None,
    format: str | None = None,
    n_jobs: int = 1,
    progress: bool = True,
    keep_results: bool = False,
    **process_options: Any,
) -> BatchResult:
    """Run :func:`~medmodal.ecg.process.ecg_process` on many records.

    Args:
        sources: a folder (every WFDB ``.hea``, ``.csv``, ``.edf``, ``.npy``/``.npz`` file
            in it), or an iterable of file paths and/or :class:`~medmodal.io.Record`.
        sampling_rate: Hz, for formats that do not store it (CSV without time, NumPy).
        lead: analyse only this lead (name or index); all leads otherwise.
        format: force a file format (see :func:`medmodal.io.available_formats`).
        n_jobs: parallel worker processes (joblib; -1 = all cores).
        progress: show a progress bar.
        keep_results: keep every full :class:`ECGResult` (memory grows with the records).
        **process_options: passed to :func:`~medmodal.ecg.process.ecg_process`.

    Returns:
        A :class:`BatchResult`. A record that fails does not stop the batch: its reason is
        in ``errors`` and a :class:`~medmodal.errors.MedmodalWarning` says how many failed.

    Raises:
        DataNotFoundError: the folder does not exist or holds no readable record.
    """
    items = list(_expand(sources))
    if not items:
        raise DataNotFoundError(f"ecg_process_many: no ECG records found in {sources!s}")
    if not isinstance(n_jobs, int) or n_jobs == 0:
        raise InvalidParameterError(
            f"ecg_process_many: n_jobs must be a non-zero int, got {n_jobs!r}"
        )
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    job = delayed(_process_one)
    tasks = (
        job(item, sampling_rate, lead, format, keep_results, process_options) for item in items
    )
    outputs = Parallel(n_jobs=n_jobs, return_as="generator")(tasks)
    rows, errors, results = {}, {}, {}
    for name, summary, error, result in tqdm(
        outputs, total=len(items), desc="ECG records", unit="record", disable=not progress
    ):
        if error is not None:
            errors[name] = error
            continue
        rows[name] = summary
        if result is not None:
            results[name] = result
    if errors:
        warnings.warn(
            f"ecg_process_many: {len(errors)} of {len(items)} record(s) failed; "
            "see BatchResult.errors",
            MedmodalWarning,
            stacklevel=2,
        )
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "record"
    return BatchResult(summaries=frame, errors=errors, results=results)


def _expand(sources: PathLike | Iterable[Source]) -> Iterator[Source]:
    if isinstance(sources, str | Path):
        folder = Path(sources)
        if not folder.exists():
            raise DataNotFoundError(f"ecg_process_many: {folder} does not exist")
        if folder.is_file():
            yield folder
            return
        yield from _records_in(folder)
        return
    yield from sources  # type: ignore[misc]


def _records_in(folder: Path) -> Iterator[Path]:
    """Record files in ``folder``: one per WFDB header, plus single-file formats."""
    known = set(available_formats())
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.suffix.lower() in {".dat", ".atr", ".txt", ".md"}:
            continue
        try:
            fmt = infer_format(path)
        except MedmodalError:
            continue
        if fmt in known:
            yield path


def _process_one(
    source: Source,
    sampling_rate: float | None,
    lead: str | int | None,
    format: str | None,
    keep: bool,
    options: dict[str, Any],
) -> tuple[str, dict[str, Any] | None, str | None, ECGResult | None]:
    name = source.name if isinstance(source, Record) else Path(source).stem
    try:
        record = (
            source
            if isinstance(source, Record)
            else read_record(source, format=format, sampling_rate=sampling_rate)
        )
        if lead is not None:
            record = record.select([lead])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", MedmodalWarning)
            options = {"metadata": record.meta, **options}  # e.g. the record's mains frequency
            result = ecg_process(
                record.signal, record.sampling_rate, lead_names=record.lead_names, **options
            )
    except MedmodalError as exc:
        return name, None, str(exc).splitlines()[0], None
    summary = _flatten(result.summary())
    # Automatic fixes are reported per record instead of being lost in worker processes.
    summary["warnings"] = " | ".join(
        dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, MedmodalWarning))
    )
    return name, summary, None, result if keep else None


def _flatten(summary: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in summary.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        elif isinstance(value, list):
            flat[f"{prefix}{key}"] = ",".join(map(str, value))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
