"""Analyse a corpus of ECG records into a Parquet dataset, on one machine or a Dask cluster.

:func:`ecg_process_corpus` is :func:`~medmodal.ecg.batch.ecg_process_many` for corpora
too large to hold in memory: records are grouped into tasks of many records, each task's
rows are written as one Parquet part file as soon as it finishes (nothing accumulates),
each record has a time limit, a record that fails or runs past its limit becomes a row
saying why (never a lost run), and ``resume=True`` skips the records already written.
The columns (units in the names) are in :data:`medmodal.ecg.corpus.RECORD_COLUMNS` and
:data:`medmodal.ecg.corpus.BEAT_COLUMNS`.

The same call runs on a cluster: start a Dask scheduler and workers there (``dask-jobqueue``
on Slurm, the Dask Helm chart or ``dask-kubernetes`` on Kubernetes) and pass
``scheduler="tcp://host:8786"`` (or ``client=``). Workers must see the record files
under the same paths; the table is written by this process.

Example:
    >>> import tempfile, pandas as pd
    >>> from pathlib import Path
    >>> from medmodal.ecg import ecg_simulate
    >>> from medmodal.io import Record, write_record
    >>> folder = Path(tempfile.mkdtemp())
    >>> for i in range(3):
    ...     ecg = ecg_simulate(10, 250, n_leads=2, seed=i)
    ...     _ = write_record(Record(ecg, 250, ("II", "V1")), folder / f"rec{i}.hea")
    >>> run = ecg_process_corpus(folder, folder / "features.parquet",
    ...                          engine="joblib", workers=1, progress=False)
    >>> run.n_ok, sorted(pd.read_parquet(run.path)["status"])
    (3, ['ok', 'ok', 'ok'])
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from medmodal.ecg._engines import ENGINES
from medmodal.ecg._parquet import PartWriter
from medmodal.ecg._rows import BEAT_COLUMNS, RECORD_COLUMNS, beat_rows, failed_row, record_row
from medmodal.ecg._runner import call_with_limit, reason
from medmodal.ecg.batch import (
    _delay_for_tests,
    _expand,
    _sleep_if_named,
    analyse_record,
    check_timeout,
    check_workers,
    task_bounds,
    warm_up,
)
from medmodal.errors import InvalidParameterError, MedmodalError
from medmodal.io import Record
from medmodal.types import PathLike

__all__ = ["BEAT_COLUMNS", "RECORD_COLUMNS", "CorpusRun", "beats_path", "ecg_process_corpus"]

#: Default seconds per record (a 10 s 12-lead record takes about 0.3 s on one core).
DEFAULT_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class CorpusRun:
    """What one :func:`ecg_process_corpus` call did (the rows are in the dataset).

    Attributes:
        path: the record table (a folder of Parquet part files).
        beats: the beat table, or ``None`` without ``beats=True``.
        n_found: records in the source; n_skipped: already written (``resume=True``).
        n_ok, n_error, n_timeout: rows written by this call, by status.
        elapsed_s: wall time of the call; slowest_s, slowest_record: the longest record.
    """

    path: Path
    beats: Path | None
    n_found: int
    n_skipped: int
    n_ok: int = 0
    n_error: int = 0
    n_timeout: int = 0
    elapsed_s: float = 0.0
    slowest_s: float = 0.0
    slowest_record: str = ""
    counts: dict[str, int] = field(default_factory=dict, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The whole record table (every run written to ``path``), sorted by path."""
        return pd.read_parquet(self.path).sort_values("path", ignore_index=True)


def beats_path(out: PathLike) -> Path:
    """Where the beat table of record table ``out`` goes: ``<stem>_beats<suffix>`` beside it."""
    out = Path(out)
    return out.with_name(f"{out.stem}_beats{out.suffix}")


@dataclass(frozen=True)
class _Settings:
    sampling_rate: float | None
    lead: str | int | None
    format: str | None
    timeout: float | None
    beats: bool
    options: dict[str, Any]
    delay: tuple[tuple[str, ...], float] = ((), 0.0)  # test-only, see batch._delay_for_tests


@dataclass(frozen=True)
class _Task:
    paths: tuple[str, ...]
    settings: _Settings


def ecg_process_corpus(
    sources: PathLike | Iterable[PathLike],
    out: PathLike,
    *,
    engine: str = "dask",
    workers: int = -1,
    client: Any = None,
    scheduler: str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT_S,
    resume: bool = False,
    beats: bool = False,
    records_per_task: int | None = None,
    sampling_rate: float | None = None,
    lead: str | int | None = None,
    format: str | None = None,
    progress: bool | None = None,
    **process_options: Any,
) -> CorpusRun:
    """Analyse every record of ``sources`` into the Parquet dataset ``out``.

    Args:
        sources: a folder of records (as :func:`~medmodal.ecg.batch.ecg_process_many`) or
            an iterable of record files.
        out: the record table, a folder of part files (e.g. ``features.parquet``), read
            whole by ``pandas.read_parquet``, ``polars.read_parquet(out / "*.parquet")``
            or ``dask.dataframe.read_parquet``.
        engine: {methods}
        workers: worker processes of the LocalCluster (or joblib pool) started for the
            call, one thread each (-1: every core); ignored with ``client``/``scheduler``.
        client: a ``dask.distributed.Client`` to run on (left open).
        scheduler: address of a running Dask scheduler, e.g. ``"tcp://10.0.0.1:8786"``.
        timeout: seconds per record (``None``: no limit); a record still running after it
            is stopped and written with status ``"timeout"``.
        resume: continue a run into an existing ``out``, skipping the records (by
            resolved path) already written; without it an existing non-empty ``out`` is
            refused.
        beats: also write one row per beat to :func:`beats_path` ``(out)``.
        records_per_task: records per task and part file (default: about 4 tasks per
            worker, at most 100 records).
        sampling_rate, lead, format, **process_options: as for
            :func:`~medmodal.ecg.batch.ecg_process_many`.
        progress: show a progress bar (default: only when stderr is a terminal).

    Returns:
        A :class:`CorpusRun` with the counts by status and the slowest record.

    Raises:
        DataNotFoundError: the folder does not exist or holds no record.
        InvalidParameterError: an option is invalid, or ``out`` exists without ``resume``.
        MissingDependencyError: pyarrow (or Dask for ``engine="dask"``) is not installed
            (``pip install 'medmodal[scale]'``).
    """
    func = "ecg_process_corpus"
    paths = _paths(sources, func)
    run_engine = ENGINES.get(engine)
    n_workers = check_workers(workers, func)
    limit = check_timeout(timeout, func)
    settings = _Settings(
        sampling_rate, lead, format, limit, beats, process_options, _delay_for_tests()
    )
    start = time.perf_counter()
    records, beat_parts = _writers(Path(out), beats, resume, func)
    done = set(records.column("path"))
    todo = [p for p in paths if p not in done]
    tasks = [
        _Task(tuple(todo[lo:hi]), settings)
        for lo, hi in task_bounds(len(todo), n_workers, _per_task(records_per_task, func))
    ]
    tally = _Tally()
    outcomes = (
        run_engine(_run_task, tasks, workers=n_workers, client=client, scheduler=scheduler)
        if tasks
        else iter(())
    )
    with _progress(progress, len(todo)) as advance:
        for index, outcome in outcomes:
            rows, beat_frame = _task_rows(tasks[index], outcome)
            if beat_parts is not None and beat_frame is not None:
                beat_parts.write(index, beat_frame)
            records.write(index, rows)  # last: a record part marks the task as done
            tally.add(rows)
            advance(len(rows))
    return CorpusRun(
        path=records.folder,
        beats=None if beat_parts is None else beat_parts.folder,
        n_found=len(paths),
        n_skipped=len(paths) - len(todo),
        n_ok=tally.counts.get("ok", 0),
        n_error=tally.counts.get("error", 0),
        n_timeout=tally.counts.get("timeout", 0),
        elapsed_s=time.perf_counter() - start,
        slowest_s=tally.slowest_s,
        slowest_record=tally.slowest_record,
        counts=dict(tally.counts),
    )


ENGINES.document(ecg_process_corpus, indent=12)


def _paths(sources: PathLike | Iterable[PathLike], func: str) -> list[str]:
    items = list(_expand(sources))
    if not items:
        from medmodal.errors import DataNotFoundError

        raise DataNotFoundError(f"{func}: no ECG records found in {sources!s}")
    if any(isinstance(item, Record) for item in items):
        raise InvalidParameterError(
            f"{func}: sources must be record files (rows are keyed by path for resume); "
            "for Record objects use ecg_process_many"
        )
    return list(dict.fromkeys(str(Path(item).resolve()) for item in items))  # type: ignore[arg-type]


def _per_task(value: object, func: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidParameterError(f"{func}: records_per_task must be an int >= 1, got {value!r}")
    return value


def _writers(
    out: Path, beats: bool, resume: bool, func: str
) -> tuple[PartWriter, PartWriter | None]:
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"{func}: {out} is a file; out must be a dataset folder")
    if out.exists() and any(out.iterdir()) and not resume:
        raise InvalidParameterError(
            f"{func}: {out} already holds a table; pass resume=True (--resume) to continue it, "
            "or choose another out"
        )
    records = PartWriter(out, RECORD_COLUMNS)
    records.clean()
    if not beats:
        return records, None
    beat_parts = PartWriter(beats_path(out), BEAT_COLUMNS, run=records.run)
    beat_parts.clean()
    beat_parts.keep_only({p.name for p in records.parts()})  # beats of unfinished tasks
    return records, beat_parts


def _run_task(task: _Task) -> tuple[list[dict[str, Any]], pd.DataFrame | None]:
    """Runs on a worker: every record of one task, each within the time limit."""
    rows, frames = [], []
    for path in task.paths:
        outcome = call_with_limit(
            _analyse, (path, task.settings), task.settings.timeout, warm_up=(warm_up, None)
        )
        seconds = outcome.seconds
        name = Path(path).stem
        if outcome.status != "ok":
            rows.append(failed_row(name, path, outcome.status, outcome.reason, seconds))
            continue
        summary, fixes, beat_frame = outcome.value
        if summary is None:  # a MedmodalError: the record cannot be read or analysed
            rows.append(failed_row(name, path, "error", fixes, seconds))
            continue
        rows.append(record_row(name, path, summary, fixes, seconds))
        if beat_frame is not None:
            frames.append(beat_rows(name, beat_frame))
    return rows, (pd.concat(frames, ignore_index=True) if frames else None)


def _analyse(
    arg: tuple[str, _Settings],
) -> tuple[dict[str, Any] | None, str, pd.DataFrame | None]:
    path, s = arg
    _sleep_if_named(Path(path).stem, s.delay)
    try:
        result, fixes = analyse_record(
            path, sampling_rate=s.sampling_rate, lead=s.lead, format=s.format, **s.options
        )
    except MedmodalError as exc:
        return None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__, None
    return result.summary(), fixes, result.beats_frame() if s.beats else None


def _task_rows(task: _Task, outcome: Any) -> tuple[list[dict[str, Any]], pd.DataFrame | None]:
    if isinstance(outcome, Exception):  # the worker was lost: the records say so
        why = f"task lost: {reason(outcome)}"
        return [failed_row(Path(p).stem, p, "error", why, float("nan")) for p in task.paths], None
    rows, frame = outcome
    return rows, frame


class _Tally:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.slowest_s, self.slowest_record = 0.0, ""

    def add(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.counts[row["status"]] = self.counts.get(row["status"], 0) + 1
            if row["processing_s"] is not None and row["processing_s"] > self.slowest_s:
                self.slowest_s, self.slowest_record = row["processing_s"], row["record"]


@contextmanager
def _progress(enabled: bool | None, total: int) -> Iterator[Any]:
    """A Rich progress bar on stderr (default: only on a terminal); yields ``advance(n)``."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True)) as bar:
        task = bar.add_task("ECG records", total=total)
        yield lambda n: bar.advance(task, n)
