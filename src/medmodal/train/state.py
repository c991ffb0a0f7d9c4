"""The state of a run between steps: counters, best metric, early stopping, history.

It is everything besides weights and optimiser moments that a resumed run needs, and
it is saved as JSON in every checkpoint.

Example:
    >>> from medmodal.train import TrainConfig
    >>> from medmodal.train.state import TrainState
    >>> cfg = TrainConfig(patience=2, monitor="acc", mode="max")
    >>> state = TrainState()
    >>> [state.record_evaluation(v, epoch, cfg) for epoch, v in enumerate([0.5, 0.7, 0.6], 1)]
    [True, True, False]
    >>> state.best_metric, state.best_epoch, state.should_stop(cfg)
    (0.7, 2, False)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from medmodal._torch import is_improvement
from medmodal.errors import DataFormatError
from medmodal.train.config import TrainConfig


@dataclass
class TrainState:
    """Counters and records of a run (``epoch`` counts completed epochs)."""

    epoch: int = 0  # epochs completed
    step: int = 0  # optimiser steps taken
    best_metric: float | None = None  # best value of config.monitor so far
    best_epoch: int | None = None  # epoch (1-based) where it was reached
    evals_without_improvement: int = 0  # early-stopping counter
    stopped_early: bool = False  # True once early stopping ended the run
    history: list[dict[str, float]] = field(default_factory=list)  # one row per epoch
    steps: list[dict[str, float]] = field(default_factory=list)  # one row per step

    def is_improvement(self, value: float, config: TrainConfig) -> bool:
        """Whether ``value`` of the monitored metric beats the best so far."""
        return is_improvement(value, self.best_metric, mode=config.mode, min_delta=config.min_delta)

    def record_evaluation(self, value: float, epoch: int, config: TrainConfig) -> bool:
        """Update the best metric and the early-stopping counter; True when improved."""
        if self.is_improvement(value, config):
            self.best_metric, self.best_epoch = float(value), epoch
            self.evals_without_improvement = 0
            return True
        self.evals_without_improvement += 1
        return False

    def should_stop(self, config: TrainConfig) -> bool:
        """Early stopping: ``patience`` evaluations in a row without improvement."""
        return config.patience is not None and self.evals_without_improvement >= config.patience

    def to_dict(self) -> dict[str, Any]:
        """JSON-able copy."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainState:
        """Rebuild from :meth:`to_dict` output (unknown keys are a format error)."""
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise DataFormatError(f"TrainState.from_dict: unknown keys {sorted(unknown)}")
        return cls(**d)
