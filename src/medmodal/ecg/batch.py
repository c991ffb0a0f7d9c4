"""Process many ECG records (a folder, a list of files or of records) in parallel.

Example:
    >>> from medmodal.data.bundled import bundled_path
    >>> from medmodal.ecg.batch import ecg_process_many
    >>> batch = ecg_process_many(bundled_path("mitdb-100").parent, progress=False)
    >>> sorted(batch.to_frame().index)[:1]
    ['100']
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from medmodal.ecg._engines import ENGINES
from medmodal.ecg._runner import call_with_limit, reason
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
    engine: str = "joblib",
    client: Any = None,
    timeout: float | None = None,
    progress: bool = True,
    keep_results: bool = False,
    **process_options: Any,
) -> BatchResult:
    """Run :func:`~medmodal.ecg.process.ecg_process` on many records.

    For a corpus too large to hold in memory, :func:`~medmodal.ecg.corpus.ecg_process_corpus`
    streams one row per record to a Parquet dataset instead.

    Args:
        sources: a folder (every WFDB ``.hea``, ``.csv``, ``.edf``, ``.npy``/``.npz`` file
            in it), or an iterable of file paths and/or :class:`~medmodal.io.Record`.
        sampling_rate: Hz, for formats that do not store it (CSV without time, NumPy).
        lead: analyse only this lead (name or index); all leads otherwise.
        format: force a file format (see :func:`medmodal.io.available_formats`).
        n_jobs: parallel worker processes (-1 = all cores; with ``engine="dask"`` the
            workers of the LocalCluster started for the call).
        engine: how records are spread over workers:
            {methods}
        client: a ``dask.distributed.Client`` to run on (``engine="dask"``; left open).
        timeout: seconds per record; a record still running after it is stopped and
            reported in ``errors`` as a timeout (records then run in a helper process per
            worker). ``None``: no limit.
        progress: show a progress bar.
        keep_results: keep every full :class:`ECGResult` (memory grows with the records).
        **process_options: passed to :func:`~medmodal.ecg.process.ecg_process`.

    Returns:
        A :class:`BatchResult` (rows in the order of ``sources``). A record that fails does
        not stop the batch: its reason is in ``errors`` and a
        :class:`~medmodal.errors.MedmodalWarning` says how many failed.

    Raises:
        DataNotFoundError: the folder does not exist or holds no readable record.
        InvalidParameterError: ``n_jobs``, ``engine`` or ``timeout`` is invalid.
    """
    items = list(_expand(sources))
    if not items:
        raise DataNotFoundError(f"ecg_process_many: no ECG records found in {sources!s}")
    workers = check_workers(n_jobs, "ecg_process_many", "n_jobs")
    run = ENGINES.get(engine)
    limit = check_timeout(timeout, "ecg_process_many")
    settings = _Settings(
        sampling_rate, lead, format, keep_results, limit, process_options, _delay_for_tests()
    )
    chunks = [
        _Chunk(tuple(range(lo, hi)), tuple(items[lo:hi]), settings)
        for lo, hi in task_bounds(len(items), workers)
    ]
    from tqdm.auto import tqdm

    done: dict[int, _Processed] = {}
    with tqdm(total=len(items), desc="ECG records", unit="record", disable=not progress) as bar:
        for index, outcome in run(_run_chunk, chunks, workers=workers, client=client):
            chunk = chunks[index]
            if isinstance(outcome, Exception):  # the worker was lost: every record failed
                outcome = [
                    (i, _name(s), None, f"task lost: {reason(outcome)}", None)
                    for i, s in zip(chunk.indices, chunk.sources, strict=True)
                ]
            done.update((row[0], row) for row in outcome)
            bar.update(len(chunk.indices))
    return _collect([done[i] for i in range(len(items))], len(items))


ENGINES.document(ecg_process_many, indent=12)


def check_workers(n_jobs: object, func: str, name: str = "workers") -> int:
    """Worker processes for ``n_jobs`` (-1: every core); raises if not a non-zero int."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise InvalidParameterError(
            f"{func}: {name} must be a positive int or -1 (all cores), got {n_jobs!r}"
        )
    return os.cpu_count() or 1 if n_jobs == -1 else n_jobs


def check_timeout(timeout: object, func: str) -> float | None:
    """``timeout`` in seconds (> 0) or ``None``; raises otherwise."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise InvalidParameterError(
            f"{func}: timeout must be a number of seconds > 0 or None, got {timeout!r}"
        )
    return float(timeout)


def task_bounds(n_items: int, workers: int, per_task: int | None = None) -> list[tuple[int, int]]:
    """Split ``n_items`` into tasks of many records: about 4 tasks per worker, at most 100."""
    size = per_task or max(1, min(100, math.ceil(n_items / (4 * workers))))
    return [(lo, min(lo + size, n_items)) for lo in range(0, n_items, size)]


def _collect(processed: list[_Processed], total: int) -> BatchResult:
    rows, errors, results = {}, {}, {}
    for _, name, summary, error, result in processed:
        if error is not None:
            errors[name] = error
            continue
        rows[name] = summary
        if result is not None:
            results[name] = result
    if errors:
        warnings.warn(
            f"ecg_process_many: {len(errors)} of {total} record(s) failed; see BatchResult.errors",
            MedmodalWarning,
            stacklevel=3,
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


@dataclass(frozen=True)
class _Settings:
    sampling_rate: float | None
    lead: str | int | None
    format: str | None
    keep: bool
    timeout: float | None
    options: dict[str, Any]
    delay: tuple[tuple[str, ...], float] = ((), 0.0)  # test-only, see _delay_for_tests


@dataclass(frozen=True)
class _Chunk:
    """One task: many records (and their positions in the input)."""

    indices: tuple[int, ...]
    sources: tuple[Source, ...]
    settings: _Settings


# (position, record name, flattened summary, error, full result)
_Processed = tuple[int, str, dict[str, Any] | None, str | None, ECGResult | None]


def _run_chunk(chunk: _Chunk) -> list[_Processed]:
    out: list[_Processed] = []
    settings = chunk.settings
    for index, source in zip(chunk.indices, chunk.sources, strict=True):
        outcome = call_with_limit(
            _process_one, (source, settings), settings.timeout, warm_up=(warm_up, None)
        )
        if outcome.status == "ok":
            out.append((index, *outcome.value))
        else:
            out.append((index, _name(source), None, outcome.reason, None))
    return out


def _name(source: Source) -> str:
    return source.name if isinstance(source, Record) else Path(source).stem


def analyse_record(
    source: Source,
    *,
    sampling_rate: float | None = None,
    lead: str | int | None = None,
    format: str | None = None,
    **options: Any,
) -> tuple[ECGResult, str]:
    """Read (if a path) and process one record; return the result and its warnings.

    The warnings are the distinct :class:`~medmodal.errors.MedmodalWarning` messages
    (automatic fixes) joined by ``" | "``, reported per record instead of being lost in
    worker processes. Raises :class:`~medmodal.errors.MedmodalError` on bad records.
    """
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
    fixes = " | ".join(
        dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, MedmodalWarning))
    )
    return result, fixes


def warm_up(_: object = None) -> None:
    """Analyse a short simulated record once: the imports and caches a first record needs."""
    from medmodal.ecg.simulate import ecg_simulate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ecg_process(ecg_simulate(10, 250, n_leads=2, seed=0), 250)


#: Test-only: records named in this variable (comma-separated) sleep for
#: ``_MEDMODAL_TEST_DELAY_S`` seconds before processing, to exercise the time limits.
_TEST_DELAY_RECORDS = "_MEDMODAL_TEST_DELAY_RECORDS"


def _delay_for_tests() -> tuple[tuple[str, ...], float]:
    """Test-only: the records to slow down and by how much, read where the run starts."""
    names = os.environ.get(_TEST_DELAY_RECORDS, "")
    return tuple(n for n in names.split(",") if n), float(
        os.environ.get("_MEDMODAL_TEST_DELAY_S", "60")
    )


def _sleep_if_named(name: str, delay: tuple[tuple[str, ...], float]) -> None:
    """Test-only: sleep if ``name`` is one of the records of :func:`_delay_for_tests`."""
    if name in delay[0]:
        time.sleep(delay[1])


def _process_one(
    arg: tuple[Source, _Settings],
) -> tuple[str, dict[str, Any] | None, str | None, ECGResult | None]:
    source, s = arg
    name = _name(source)
    _sleep_if_named(name, s.delay)
    try:
        result, fixes = analyse_record(
            source, sampling_rate=s.sampling_rate, lead=s.lead, format=s.format, **s.options
        )
    except MedmodalError as exc:
        return name, None, str(exc).splitlines()[0], None
    summary = _flatten(result.summary())
    summary["warnings"] = fixes
    return name, summary, None, result if s.keep else None


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
