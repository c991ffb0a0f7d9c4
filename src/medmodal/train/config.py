"""The training configuration: one dataclass, commented defaults, strict JSON round trip.

Example:
    >>> from medmodal.train import TrainConfig
    >>> cfg = TrainConfig(epochs=3, lr=1e-3, patience=2, monitor="i2t_r@10", mode="max")
    >>> TrainConfig.from_dict(cfg.to_dict()) == cfg
    True
    >>> TrainConfig.from_dict({"epoch": 3})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    medmodal.errors.InvalidParameterError: TrainConfig: unknown key 'epoch' (did you mean ...
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medmodal._config import check_fields
from medmodal.errors import DataFormatError, DataNotFoundError, InvalidParameterError

_MODES = ("min", "max")


@dataclass(frozen=True)
class TrainConfig:
    """Everything :func:`medmodal.train.fit` needs besides the model, data and loss.

    Steps are optimiser steps (one per batch). Early stopping is on when ``patience`` is
    set: training stops after ``patience`` evaluations without an improvement of
    ``monitor`` (a key of the validation metrics, e.g. ``"val_loss"`` or ``"i2t_r@10"``)
    larger than ``min_delta``; the best weights are restored at the end.
    """

    epochs: int = 10  # passes over the training set
    batch_size: int = 32  # examples per optimiser step on each process
    lr: float = 1e-3  # peak learning rate, reached at the end of the warm-up
    weight_decay: float = 0.01  # AdamW decoupled decay (not applied to biases or norms)
    betas: tuple[float, float] = (0.9, 0.999)  # AdamW moment decay rates
    warmup_ratio: float = 0.05  # fraction of all steps spent warming up linearly from 0
    warmup_steps: int | None = None  # absolute warm-up length; overrides warmup_ratio
    min_lr_ratio: float = 0.0  # the cosine decays to lr * min_lr_ratio at the last step
    grad_clip: float | None = 1.0  # max global L2 norm of the gradients; None: no clipping
    bf16: bool = False  # bfloat16 autocast of forward + loss (CPU and GPU)
    seed: int = 0  # seeds weights' randomness, data order, dropout and augmentation
    deterministic: bool = True  # deterministic algorithms (bit-identical runs on CPU)
    eval_every: int = 1  # evaluate every this many epochs (and always after the last)
    patience: int | None = None  # evaluations without improvement before stopping
    monitor: str = "val_loss"  # validation metric that picks the best epoch
    mode: str = "min"  # "min" or "max": which direction of `monitor` is better
    min_delta: float = 0.0  # smallest change of `monitor` counted as an improvement
    restore_best: bool = True  # load the best epoch's weights back at the end
    num_workers: int = 0  # DataLoader worker processes
    drop_last: bool = False  # drop the last incomplete training batch
    log_every: int = 10  # steps between progress-bar updates of the running loss
    progress: bool = True  # show tqdm progress bars (main process only)
    tensorboard: bool = True  # also log to TensorBoard when it is installed
    device: str = "auto"  # "auto" (CUDA when available), "cpu", "cuda" or "cuda:N"
    num_threads: int | None = None  # torch.set_num_threads during fit (None: leave as is)
    find_unused_parameters: bool = False  # DDP: set when some parameters get no gradient
    out_dir: str | None = None  # run folder (checkpoints, metrics.csv); None: keep nothing

    def __post_init__(self) -> None:
        _check_int(self.epochs, "epochs", 1)
        _check_int(self.batch_size, "batch_size", 1)
        _check_positive(self.lr, "lr")
        _check_range(self.weight_decay, "weight_decay", 0.0, math.inf)
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            _fail(f"betas must be two numbers in [0, 1), got {self.betas!r}")
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        _check_range(self.warmup_ratio, "warmup_ratio", 0.0, 1.0)
        if self.warmup_steps is not None:
            _check_int(self.warmup_steps, "warmup_steps", 0)
        _check_range(self.min_lr_ratio, "min_lr_ratio", 0.0, 1.0)
        if self.grad_clip is not None:
            _check_positive(self.grad_clip, "grad_clip")
        _check_int(self.eval_every, "eval_every", 1)
        if self.patience is not None:
            _check_int(self.patience, "patience", 1)
        if self.mode not in _MODES:
            _fail(f"mode must be one of {_MODES}, got {self.mode!r}")
        if not isinstance(self.monitor, str) or not self.monitor:
            _fail(f"monitor must be a metric name, got {self.monitor!r}")
        _check_range(self.min_delta, "min_delta", 0.0, math.inf)
        _check_int(self.num_workers, "num_workers", 0)
        _check_int(self.log_every, "log_every", 1)
        _check_int(self.seed, "seed", 0)
        if self.num_threads is not None:
            _check_int(self.num_threads, "num_threads", 1)
        if not (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:")):
            _fail(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {self.device!r}")

    def warmup_for(self, total_steps: int) -> int:
        """Warm-up length in steps for a run of ``total_steps`` optimiser steps."""
        if self.warmup_steps is not None:
            return min(self.warmup_steps, total_steps)
        return round(self.warmup_ratio * total_steps)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (tuples become lists)."""
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Build from a dict, rejecting unknown keys (with a suggestion)."""
        kwargs = dict(check_fields(cls, d))
        if "betas" in kwargs:
            kwargs["betas"] = tuple(kwargs["betas"])
        return cls(**kwargs)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` applied (validated, unknown keys rejected)."""
        return TrainConfig.from_dict({**self.to_dict(), **changes})

    def to_json(self, path: str | Path) -> Path:
        """Write the config as indented JSON; returns the path."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def from_json(cls, path: str | Path) -> TrainConfig:
        """Read a config written by :meth:`to_json` (or by hand)."""
        try:
            data = json.loads(Path(path).read_text())
        except FileNotFoundError as exc:
            raise DataNotFoundError(f"TrainConfig.from_json: no file {path}") from exc
        except (OSError, ValueError) as exc:
            raise DataFormatError(f"TrainConfig.from_json: cannot read {path}: {exc}") from exc
        return cls.from_dict(data)


def _fail(message: str) -> None:
    raise InvalidParameterError(f"TrainConfig: {message}")


def _check_int(value: object, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        _fail(f"{name} must be an integer >= {minimum}, got {value!r}")


def _check_positive(value: object, name: str) -> None:
    if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        _fail(f"{name} must be a finite number > 0, got {value!r}")


def _check_range(value: object, name: str, low: float, high: float) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not (low <= value <= high):  # type: ignore[operator]
        _fail(f"{name} must be a number in [{low}, {high}], got {value!r}")
