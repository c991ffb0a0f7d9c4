"""The training loop every medmodal model uses: :func:`fit`.

One epoch reads: re-seed for the epoch, run the optimiser steps (AdamW, warm-up + cosine
LR, gradient clipping, optional bf16 autocast), evaluate, update the best metric and
early stopping, write ``best/`` and ``last/`` checkpoints and ``metrics.csv``. The model
and the data are the caller's; the loop only needs a ``loss_fn(model, batch) -> loss``.
Under ``torchrun`` the same code trains data-parallel (see
:mod:`medmodal.train.distributed`).

Example:
    >>> import torch
    >>> from torch import nn
    >>> from torch.utils.data import TensorDataset
    >>> from medmodal.train import TrainConfig, fit
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(64, 3, generator=g)
    >>> data = TensorDataset(x, x @ torch.tensor([1.0, -2.0, 0.5]))
    >>> def mse(model, batch):
    ...     inputs, target = batch
    ...     return ((model(inputs).squeeze(-1) - target) ** 2).mean()
    >>> torch.manual_seed(0) and None
    >>> model = nn.Linear(3, 1)
    >>> cfg = TrainConfig(epochs=30, batch_size=16, lr=0.1, progress=False)
    >>> result = fit(model, data, data, cfg, loss_fn=mse)
    >>> bool(result.history["val_loss"].iloc[-1] < 0.01 * result.history["val_loss"].iloc[0])
    True
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from medmodal._torch import AdamW, copy_weights, num_threads
from medmodal.errors import InvalidParameterError
from medmodal.train._checks import check_arguments, check_loss, checked_metrics
from medmodal.train.checkpoint import restore_checkpoint, save_checkpoint
from medmodal.train.config import TrainConfig
from medmodal.train.distributed import (
    DistContext,
    all_reduce_sum,
    barrier,
    broadcast_metrics,
    make_sampler,
    setup_distributed,
    to_device,
    wrap_model,
)
from medmodal.train.logger import MetricLogger
from medmodal.train.optim import LRSchedule, build_optimizer, build_scheduler
from medmodal.train.result import TrainResult
from medmodal.train.rundir import BEST, LAST, prepare_run_dir, run_checkpoint
from medmodal.train.seed import derive_seed, seed_everything
from medmodal.train.state import TrainState

#: ``loss_fn(model, batch) -> scalar loss``; ``model`` is DDP-wrapped when distributed.
LossFn = Callable[[nn.Module, Any], torch.Tensor]
#: ``evaluate(model, val_dataset) -> {metric: value}``; called with the plain model.
EvaluateFn = Callable[[nn.Module, Dataset], Mapping[str, float]]


@dataclass
class _Run:
    """Everything one run holds; the functions below read it top to bottom."""

    model: nn.Module  # the plain module (saved, evaluated)
    net: nn.Module  # what the steps call: the model, DDP-wrapped when distributed
    config: TrainConfig
    ctx: DistContext
    loss_fn: LossFn
    evaluate: EvaluateFn | None
    val_dataset: Dataset | None
    train_loader: DataLoader
    val_loader: DataLoader | None
    optimizer: AdamW
    scheduler: LRSchedule
    state: TrainState
    out_dir: Path | None
    logger: MetricLogger
    best_weights: dict[str, torch.Tensor] | None = None  # in memory when out_dir is None


def fit(
    model: nn.Module,
    train_dataset: Dataset,
    val_dataset: Dataset | None,
    config: TrainConfig,
    *,
    loss_fn: LossFn,
    evaluate: EvaluateFn | None = None,
    collate_fn: Callable[[list[Any]], Any] | None = None,
    resume: bool = False,
    overwrite: bool = False,
) -> TrainResult:
    """Train ``model`` on ``train_dataset``; evaluate on ``val_dataset`` every epoch.

    Args:
        model: any ``nn.Module``; moved to the configured device and trained in place.
            With ``config.restore_best`` it ends with the best epoch's weights.
        train_dataset: a map-style dataset with ``len``.
        val_dataset: validation data, or ``None`` (then no evaluation, no early stopping).
        config: the :class:`TrainConfig` (a dict is accepted and validated).
        loss_fn: ``loss_fn(model, batch)`` returns the scalar loss of a batch (batches
            are already on the device). It is also averaged over ``val_dataset`` as
            ``val_loss``.
        evaluate: optional ``evaluate(model, val_dataset) -> {name: value}`` with more
            validation metrics (e.g. retrieval recall), run in eval mode without
            gradients on the plain (unwrapped) model; ``config.monitor`` may name any
            of them. Under ``torchrun`` every rank runs it on the whole validation set
            and rank 0's values are used everywhere.
        collate_fn: passed to the ``DataLoader`` (default: ``default_collate``).
        resume: continue the run saved in ``config.out_dir/last`` exactly where it
            stopped (same weights, optimiser moments, schedule and data order).
        overwrite: replace the run in ``config.out_dir``: its checkpoints, metrics and
            event files are removed first (other files are kept). Without ``resume`` or
            ``overwrite`` a non-empty ``out_dir`` is refused and left as it was (see
            :mod:`medmodal.train.rundir`).

    Returns:
        A :class:`TrainResult`: per-epoch and per-step history, best metric and epoch,
        checkpoint folder.

    Raises:
        InvalidParameterError: bad arguments, a monitored metric the evaluation does not
            produce, a non-empty ``out_dir`` without ``resume`` or ``overwrite``.
        DataNotFoundError: ``resume=True`` without a checkpoint to resume from.
        MedmodalError: a non-finite loss.
    """
    config = check_arguments(model, train_dataset, val_dataset, config, loss_fn, evaluate)
    with num_threads(config.num_threads):
        ctx = setup_distributed(config.device)
        run = _start(model, train_dataset, val_dataset, config, ctx, loss_fn, evaluate,
                     collate_fn, resume, overwrite)  # fmt: skip
        try:
            for epoch in range(run.state.epoch + 1, config.epochs + 1):
                if run.state.stopped_early:
                    break
                seed_everything(derive_seed(config.seed, epoch, ctx.rank))
                row = _train_epoch(run, epoch)
                if run.val_loader is not None and _is_eval_epoch(epoch, config):
                    row.update(_validate(run))
                _end_epoch(run, row)
                _print_summary(run)
        finally:
            run.logger.close()
        _restore_best(run)
    return _result(run)


# ------------------------------------------------------------------------- set-up


def _start(
    model: nn.Module,
    train_dataset: Dataset,
    val_dataset: Dataset | None,
    config: TrainConfig,
    ctx: DistContext,
    loss_fn: LossFn,
    evaluate: EvaluateFn | None,
    collate_fn: Callable[[list[Any]], Any] | None,
    resume: bool,
    overwrite: bool,
) -> _Run:
    """Seed, place the model, build loaders, optimiser and schedule; load a resume point."""
    out_dir = prepare_run_dir(config, resume=resume, overwrite=overwrite, ctx=ctx)
    seed_everything(config.seed, deterministic=config.deterministic)
    model.to(ctx.device)
    train_loader = _loader(train_dataset, config, ctx, collate_fn, train=True)
    if len(train_loader) == 0:
        raise InvalidParameterError(
            f"fit: no training batch ({len(train_dataset)} examples, "  # type: ignore[arg-type]
            f"batch_size={config.batch_size}, drop_last={config.drop_last})"
        )
    val_loader = None
    if val_dataset is not None:
        val_loader = _loader(val_dataset, config, ctx, collate_fn, train=False)
    optimizer = build_optimizer(model, config)
    scheduler = build_scheduler(optimizer, config, len(train_loader) * config.epochs)
    state = TrainState()
    if resume and out_dir is not None:
        state = restore_checkpoint(out_dir / LAST, model, optimizer=optimizer, scheduler=scheduler)
    return _Run(
        model=model,
        net=wrap_model(model, ctx, find_unused=config.find_unused_parameters),
        config=config,
        ctx=ctx,
        loss_fn=loss_fn,
        evaluate=evaluate,
        val_dataset=val_dataset,
        train_loader=train_loader,
        val_loader=val_loader,
        optimizer=optimizer,
        scheduler=scheduler,
        state=state,
        out_dir=out_dir,
        logger=MetricLogger(out_dir, enabled=ctx.is_main, tensorboard=config.tensorboard),
    )


def _loader(
    dataset: Dataset,
    config: TrainConfig,
    ctx: DistContext,
    collate_fn: Callable[[list[Any]], Any] | None,
    *,
    train: bool,
) -> DataLoader:
    """This rank's loader; training order is a function of (seed, epoch) only.

    Worker processes need no init function: PyTorch seeds ``random``, NumPy and torch in
    each worker from the loader's base seed, itself drawn from the re-seeded generator.
    """
    sampler = make_sampler(dataset, ctx, shuffle=train, seed=config.seed)
    return DataLoader(
        dataset,
        batch_size=config.batch_size,
        sampler=sampler,
        num_workers=config.num_workers,
        collate_fn=collate_fn,
        drop_last=config.drop_last and train,
        pin_memory=ctx.device.type == "cuda",
    )


# -------------------------------------------------------------------------- epochs


def _train_epoch(run: _Run, epoch: int) -> dict[str, float]:
    """One pass over the training data; returns the epoch's mean loss and duration."""
    from tqdm.auto import tqdm

    run.net.train()
    cast(DistributedSampler, run.train_loader.sampler).set_epoch(epoch)
    start, loss_sum, running = time.perf_counter(), 0.0, 0.0
    bar = tqdm(
        run.train_loader,
        desc=f"epoch {epoch}/{run.config.epochs}",
        disable=not (run.config.progress and run.ctx.is_main),
        leave=False,
    )
    for batch in bar:
        lr = float(run.optimizer.param_groups[0]["lr"])
        loss, grad_norm = _train_step(run, batch, epoch)
        run.state.step += 1
        loss_sum += loss
        running = 0.9 * running + 0.1 * loss if run.state.step > 1 else loss
        record = {"step": run.state.step, "epoch": epoch, "lr": lr, "loss": loss}
        run.state.steps.append({**record, "grad_norm": grad_norm})
        if run.state.step % run.config.log_every == 0:
            bar.set_postfix(loss=f"{running:.4f}", lr=f"{lr:.2e}")
            run.logger.log_step(run.state.step, {"loss": loss, "lr": lr})
    totals = all_reduce_sum(torch.tensor([loss_sum, len(run.train_loader)]), run.ctx)
    return {
        "epoch": epoch,
        "train_loss": float(totals[0] / totals[1]),
        "time_s": time.perf_counter() - start,
    }


def _train_step(run: _Run, batch: Any, epoch: int) -> tuple[float, float]:
    """Forward + loss (autocast), backward, clip, optimiser and scheduler step."""
    batch = to_device(batch, run.ctx.device)
    with torch.autocast(run.ctx.device.type, dtype=torch.bfloat16, enabled=run.config.bf16):
        loss = run.loss_fn(run.net, batch)
    check_loss(loss, run.state.step + 1, epoch)
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    params = [p for p in run.model.parameters() if p.grad is not None]
    max_norm = run.config.grad_clip if run.config.grad_clip is not None else math.inf
    grad_norm = torch.nn.utils.clip_grad_norm_(params, max_norm) if params else torch.zeros(())
    run.optimizer.step()
    run.scheduler.step()
    return float(loss.detach()), float(grad_norm)


def _validate(run: _Run) -> dict[str, float]:
    """``val_loss`` over this rank's shard (averaged over ranks) plus ``evaluate``."""
    run.net.eval()
    loss_sum, batches = 0.0, 0
    with torch.no_grad():
        for batch in run.val_loader or ():
            batch = to_device(batch, run.ctx.device)
            with torch.autocast(run.ctx.device.type, dtype=torch.bfloat16, enabled=run.config.bf16):
                loss_sum += float(run.loss_fn(run.net, batch))
            batches += 1
        totals = all_reduce_sum(torch.tensor([loss_sum, batches]), run.ctx)
        metrics = {"val_loss": float(totals[0] / max(float(totals[1]), 1.0))}
        if run.evaluate is not None and run.val_dataset is not None:
            metrics.update(checked_metrics(run.evaluate(run.model, run.val_dataset)))
    if run.config.monitor not in metrics:
        raise InvalidParameterError(
            f"fit: monitor={run.config.monitor!r} is not among the validation metrics "
            f"{sorted(metrics)}"
        )
    return broadcast_metrics(metrics, run.ctx)


def _end_epoch(run: _Run, row: dict[str, float]) -> None:
    """Record the epoch: best metric, early stopping, checkpoints, metrics.csv."""
    state, config, epoch = run.state, run.config, int(row["epoch"])
    state.epoch = epoch
    row = {"epoch": epoch, "step": state.step, "lr": _current_lr(run), **row}
    row["time_s"] = row.pop("time_s")  # last column
    improved = config.monitor in row and state.record_evaluation(row[config.monitor], epoch, config)
    state.history.append(row)
    state.stopped_early = state.should_stop(config) and epoch < config.epochs
    if improved and run.out_dir is None:
        run.best_weights = copy_weights(run.model)
    if run.ctx.is_main and run.out_dir is not None:
        if improved:
            save_checkpoint(run.out_dir / BEST, run.model, train_config=config, state=state)
        save_checkpoint(
            run.out_dir / LAST,
            run.model,
            train_config=config,
            optimizer=run.optimizer,
            scheduler=run.scheduler,
            state=state,
        )
    run.logger.log_epoch(state.history)
    barrier(run.ctx)


def _print_summary(run: _Run) -> None:
    """One line per epoch under the progress bar (main process, progress on)."""
    if not (run.config.progress and run.ctx.is_main):
        return
    from tqdm.auto import tqdm

    row, config = run.state.history[-1], run.config
    parts = [f"epoch {row['epoch']}/{config.epochs}", f"train_loss {row['train_loss']:.4f}"]
    if "val_loss" in row:
        parts.append(f"val_loss {row['val_loss']:.4f}")
    if config.monitor in row and config.monitor != "val_loss":
        parts.append(f"{config.monitor} {row[config.monitor]:.4f}")
    if run.state.best_epoch == row["epoch"]:
        parts.append("(best)")
    if run.state.stopped_early:
        parts.append(f"- early stop: no improvement in {config.patience} evaluations")
    tqdm.write("  ".join(parts))


def _restore_best(run: _Run) -> None:
    """Load the best epoch's weights back (from memory or the ``best/`` checkpoint)."""
    if not run.config.restore_best or run.state.best_epoch is None:
        return
    if run.best_weights is not None:
        run.model.load_state_dict(run.best_weights)
    elif run.out_dir is not None and run_checkpoint(run.out_dir).name == BEST:
        restore_checkpoint(run.out_dir / BEST, run.model)


def _result(run: _Run) -> TrainResult:
    checkpoint = run_checkpoint(run.out_dir) if run.out_dir is not None else None
    return TrainResult(
        history=pd.DataFrame(run.state.history),
        steps=pd.DataFrame(run.state.steps),
        monitor=run.config.monitor,
        best_metric=run.state.best_metric,
        best_epoch=run.state.best_epoch,
        checkpoint=checkpoint,
        stopped_early=run.state.stopped_early,
    )


# ------------------------------------------------------------------------- helpers


def _current_lr(run: _Run) -> float:
    return float(run.optimizer.param_groups[0]["lr"])


def _is_eval_epoch(epoch: int, config: TrainConfig) -> bool:
    return epoch % config.eval_every == 0 or epoch == config.epochs
