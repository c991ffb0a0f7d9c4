"""A Parquet dataset written one part file at a time (pyarrow), resumable.

Each finished task becomes ``part-<run>-<task>.parquet`` in the dataset folder, written
to a hidden temporary name and renamed, so a run cut off at any moment leaves only whole
part files (readers skip names starting with ``.``). The beat table, when asked for, has
a part of the same name in its own folder, written first: a record part is the mark that
a task is complete, and :meth:`PartWriter.completed` drops beat parts that lack one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from medmodal._optional import require


def _pyarrow() -> Any:
    return require("pyarrow", extra="scale", feature="writing Parquet")


def schema(columns: Sequence[tuple[str, str]]) -> Any:
    """The pyarrow schema of ``(name, type)`` columns (types: string, float64, int64)."""
    pa = _pyarrow()
    types = {"string": pa.string(), "float64": pa.float64(), "int64": pa.int64()}
    return pa.schema([(name, types[kind]) for name, kind in columns])


class PartWriter:
    """Write tables as part files of one dataset folder, each with the same schema.

    Args:
        folder: the dataset folder (created).
        columns: ``(name, type)`` of every column.
        run: the run's part of the file names (random by default; tables written
            together share it, so their parts pair up by name).
    """

    def __init__(
        self, folder: Path, columns: Sequence[tuple[str, str]], run: str | None = None
    ) -> None:
        self.schema = schema(columns)  # first: without pyarrow, no folder is made
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.run = run or uuid.uuid4().hex[:8]

    def write(self, task: int, rows: list[dict[str, Any]] | pd.DataFrame) -> Path:
        """Write one part (atomically) and return its path."""
        pa = _pyarrow()
        import pyarrow.parquet as pq

        if isinstance(rows, pd.DataFrame):
            table = pa.Table.from_pandas(rows, schema=self.schema, preserve_index=False)
        else:
            table = pa.Table.from_pylist(rows, schema=self.schema)
        path = self.folder / f"part-{self.run}-{task:06d}.parquet"
        tmp = self.folder / f".{path.name}.tmp"
        pq.write_table(table, tmp)
        os.replace(tmp, path)
        return path

    def parts(self) -> list[Path]:
        """The complete part files, sorted by name."""
        return sorted(self.folder.glob("part-*.parquet"))

    def column(self, name: str) -> list[Any]:
        """Every value of one column over the complete parts."""
        import pyarrow.parquet as pq

        values: list[Any] = []
        for part in self.parts():
            values.extend(pq.read_table(part, columns=[name]).column(name).to_pylist())
        return values

    def keep_only(self, names: set[str]) -> int:
        """Delete the parts whose file name is not in ``names``; return how many went."""
        dropped = [p for p in self.parts() if p.name not in names]
        for part in dropped:
            part.unlink()
        return len(dropped)

    def clean(self) -> None:
        """Remove temporary files left by a run that was cut off."""
        for tmp in self.folder.glob(".part-*.tmp"):
            tmp.unlink()
