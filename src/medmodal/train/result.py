"""What :func:`medmodal.train.fit` returns: the history and where the best model is.

Example:
    >>> import pandas as pd
    >>> from medmodal.train.result import TrainResult
    >>> history = pd.DataFrame({"epoch": [1, 2], "train_loss": [1.0, 0.5], "val_loss": [0.9, 0.7]})
    >>> result = TrainResult(history, pd.DataFrame(), "val_loss", 0.7, 2, None, False)
    >>> result.to_frame().shape
    (2, 3)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass
class TrainResult:
    """The outcome of a training run."""

    history: pd.DataFrame  # one row per epoch: epoch, step, lr, train_loss, val_*, time_s
    steps: pd.DataFrame  # one row per optimiser step: step, epoch, lr, loss, grad_norm
    monitor: str  # the metric that picked the best epoch
    best_metric: float | None  # its best value (None without validation)
    best_epoch: int | None  # 1-based epoch of the best value
    checkpoint: Path | None  # best checkpoint folder (else last; None without out_dir)
    stopped_early: bool  # True when early stopping ended the run

    def to_frame(self) -> pd.DataFrame:
        """The per-epoch history."""
        return self.history

    @property
    def epochs_run(self) -> int:
        """Number of epochs completed (resumed runs included)."""
        return len(self.history)
