"""Argument checks of :func:`medmodal.train.fit` (clear errors at the public boundary)."""

from __future__ import annotations

from collections.abc import Mapping, Sized
from typing import Any

import torch
from torch import nn

from medmodal.errors import InvalidParameterError, MedmodalError
from medmodal.train.config import TrainConfig

#: Column names of the epoch history that ``evaluate`` may not use.
RESERVED = ("epoch", "step", "lr", "train_loss", "val_loss", "time_s")


def check_loss(loss: Any, step: int, epoch: int) -> None:
    """The loss of a step must be a finite scalar tensor."""
    if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
        shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise InvalidParameterError(f"fit: loss_fn must return a scalar tensor, got {shape}")
    if not torch.isfinite(loss.detach()):
        raise MedmodalError(
            f"fit: the loss is {float(loss.detach())} at step {step} (epoch {epoch}); lower lr, "
            "set grad_clip or check the data"
        )


def checked_metrics(metrics: Any) -> dict[str, float]:
    """``evaluate``'s output as ``{str: float}``, without history column names."""
    if not isinstance(metrics, Mapping):
        raise InvalidParameterError(
            f"fit: evaluate must return a dict of metric values, got {type(metrics).__name__}"
        )
    clash = [k for k in metrics if k in RESERVED]
    if clash:
        raise InvalidParameterError(f"fit: evaluate returned reserved metric names {clash}")
    return {str(k): float(v) for k, v in metrics.items()}


def check_arguments(
    model: Any,
    train_dataset: Any,
    val_dataset: Any,
    config: Any,
    loss_fn: Any,
    evaluate: Any,
) -> TrainConfig:
    """Validate the arguments of ``fit``; returns the config (a dict is converted)."""
    if isinstance(config, dict):
        config = TrainConfig.from_dict(config)
    if not isinstance(config, TrainConfig):
        raise InvalidParameterError(f"fit: config must be a TrainConfig, got {type(config)}")
    if not isinstance(model, nn.Module):
        raise InvalidParameterError(f"fit: model must be an nn.Module, got {type(model)}")
    for name, data in (("train_dataset", train_dataset), ("val_dataset", val_dataset)):
        if data is not None and not isinstance(data, Sized):
            raise InvalidParameterError(f"fit: {name} must be a map-style dataset with len()")
    if not callable(loss_fn) or (evaluate is not None and not callable(evaluate)):
        raise InvalidParameterError("fit: loss_fn (and evaluate, when given) must be callable")
    if val_dataset is None and config.patience is not None:
        raise InvalidParameterError("fit: early stopping (patience) needs a val_dataset")
    if evaluate is None and val_dataset is not None and config.monitor != "val_loss":
        raise InvalidParameterError(
            f"fit: monitor={config.monitor!r} needs an evaluate function "
            "(without one the only validation metric is 'val_loss')"
        )
    return config
