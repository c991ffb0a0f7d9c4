"""How long will training take? One timed step, extrapolated to an epoch and a run.

Example:
    >>> import numpy as np, torch
    >>> from medmodal.align import ECGTextPairs, get_task
    >>> from medmodal.align.timing import estimate_training_time
    >>> from medmodal.models import create_model
    >>> _ = torch.manual_seed(0)
    >>> model = create_model("ecg-text-clip", ecg={"width": 8, "depth": 2})
    >>> pairs = ECGTextPairs(np.zeros((8, 12, 250), np.float32), ["a", "b"] * 4)
    >>> est = estimate_training_time(model, get_task("ptbxl"), pairs, batch_size=4, epochs=3)
    >>> est.steps_per_epoch, est.step_s > 0, est.total_s == est.epoch_s * 3
    (2, True, True)
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from torch import nn

from medmodal.align.pairs import collate_pairs
from medmodal.errors import InvalidParameterError

if TYPE_CHECKING:
    from medmodal.align.evaluate import LabelledPairs
    from medmodal.align.tasks import Task

__all__ = ["TrainingTime", "estimate_training_time"]


@dataclass(frozen=True)
class TrainingTime:
    """An estimate from one timed optimisation step (forward, loss, backward)."""

    step_s: float  # seconds of the timed step (the second of two; the first warms up)
    steps_per_epoch: int
    epoch_s: float  # step_s x steps per epoch (evaluation not included)
    total_s: float  # epoch_s x epochs

    def describe(self) -> str:
        """One line for the terminal."""
        return (
            f"estimated {self.epoch_s:.0f} s per epoch ({self.steps_per_epoch} steps of "
            f"{self.step_s:.2f} s), about {self.total_s / 60:.1f} min in all (one batch timed; "
            "evaluation not included)"
        )


def estimate_training_time(
    model: nn.Module, task: Task, dataset: LabelledPairs, *, batch_size: int, epochs: int
) -> TrainingTime:
    """Time one training step of ``task``'s loss on a copy of ``model`` and extrapolate.

    The model itself is not touched (weights, batch-norm statistics and gradients stay).

    Raises:
        InvalidParameterError: a batch size or epoch count below 1, or an empty dataset.
    """
    if batch_size < 1 or epochs < 1 or len(dataset) == 0:
        raise InvalidParameterError(
            f"estimate_training_time: need batch_size >= 1, epochs >= 1 and pairs, got "
            f"batch_size={batch_size}, epochs={epochs}, {len(dataset)} pairs"
        )
    probe = copy.deepcopy(model).train()
    batch = collate_pairs([dataset[i] for i in range(min(batch_size, len(dataset)))])
    loss_fn = task.loss_fn()
    seconds = []
    for _ in range(2):  # the first step warms caches (text features, kernels)
        start = time.perf_counter()
        loss = loss_fn(probe, batch)
        loss.backward()
        seconds.append(time.perf_counter() - start)
        probe.zero_grad(set_to_none=True)
    del probe
    steps = math.ceil(len(dataset) / batch_size)
    step = seconds[-1] * batch_size / min(batch_size, len(dataset))
    return TrainingTime(step, steps, step * steps, step * steps * epochs)
