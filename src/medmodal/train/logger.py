"""Metric logging of a run: ``metrics.csv`` (one row per epoch) and TensorBoard scalars.

Only the main process logs; TensorBoard is used when ``tensorboard`` is installed and
skipped silently otherwise (the CSV is always written when there is a run folder).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from medmodal._optional import is_available, require


class MetricLogger:
    """Writes the epoch history to ``<out_dir>/metrics.csv`` and TensorBoard.

    Args:
        out_dir: run folder; ``None`` keeps nothing on disk.
        enabled: False on non-main ranks (then every method is a no-op).
        tensorboard: also write TensorBoard event files under ``<out_dir>/tensorboard``.
    """

    def __init__(self, out_dir: Path | None, *, enabled: bool, tensorboard: bool) -> None:
        self.out_dir = out_dir if enabled else None
        self._writer: Any = None
        if self.out_dir is not None and tensorboard and is_available("tensorboard"):
            tb = require("torch.utils.tensorboard", extra="torch", feature="TensorBoard logs")
            self._writer = tb.SummaryWriter(log_dir=str(self.out_dir / "tensorboard"))

    def log_epoch(self, history: list[dict[str, float]]) -> None:
        """Rewrite the CSV with all rows; send the last row to TensorBoard."""
        if self.out_dir is None or not history:
            return
        pd.DataFrame(history).to_csv(self.out_dir / "metrics.csv", index=False)
        if self._writer is not None:
            row = history[-1]
            for key, value in row.items():
                if key not in ("epoch", "step"):
                    self._writer.add_scalar(f"epoch/{key}", value, int(row["epoch"]))
            self._writer.flush()

    def log_step(self, step: int, values: dict[str, float]) -> None:
        """Per-step scalars (loss, lr) to TensorBoard."""
        if self._writer is not None:
            for key, value in values.items():
                self._writer.add_scalar(f"step/{key}", value, step)

    def close(self) -> None:
        """Flush and close TensorBoard."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
