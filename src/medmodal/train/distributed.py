"""Data-parallel plumbing: process group from ``torchrun`` variables, samplers, reductions.

Launch any script that calls :func:`medmodal.train.fit` with
``torchrun --nproc_per_node N script.py`` (or ``python -m torch.distributed.run``): each
process reads ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE`` from the environment, joins a
process group (``gloo`` on CPU, ``nccl`` on GPU), wraps the model in
:class:`~torch.nn.parallel.DistributedDataParallel` and reads its own shard of the data.
Only rank 0 logs and writes checkpoints. Without those variables everything here is a
no-op for a single process, so the loop has one code path. A process group started here
stays open for later ``fit`` calls of the same script and closes at exit.

Example:
    >>> from medmodal.train.distributed import setup_distributed
    >>> ctx = setup_distributed("cpu")
    >>> ctx.world_size, ctx.rank, ctx.is_main
    (1, 0, True)
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import Dataset, DistributedSampler

from medmodal.errors import InvalidParameterError


@dataclass(frozen=True)
class DistContext:
    """Where this process sits: rank, world size and the device it trains on."""

    rank: int = 0  # global rank of this process
    local_rank: int = 0  # rank on this machine (selects the GPU)
    world_size: int = 1  # number of processes
    device: torch.device = torch.device("cpu")  # noqa: RUF009 - immutable default
    created_group: bool = False  # True when setup_distributed started the process group

    @property
    def is_distributed(self) -> bool:
        """More than one process."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that logs, draws progress bars and writes checkpoints."""
        return self.rank == 0


def setup_distributed(device: str = "auto") -> DistContext:
    """Read the ``torchrun`` environment and join (or reuse) the process group.

    Args:
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``;
            under ``torchrun`` with CUDA each process takes GPU ``LOCAL_RANK``.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    if use_cuda and not torch.cuda.is_available():
        raise InvalidParameterError(f"setup_distributed: device {device!r} but CUDA is absent")
    if use_cuda:
        index = local_rank if world_size > 1 or ":" not in device else int(device.split(":")[1])
        torch_device = torch.device("cuda", index)
        torch.cuda.set_device(torch_device)
    else:
        torch_device = torch.device("cpu")
    created = False
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo", init_method="env://")
        # Kept open for later fits in the same script (re-creating a group after
        # destroying it can hang under torchrun) and closed when the process exits.
        atexit.register(_destroy_if_initialized)
        created = True
    if dist.is_initialized():
        world_size, rank = dist.get_world_size(), dist.get_rank()
    return DistContext(rank, local_rank, world_size, torch_device, created)


def cleanup_distributed(ctx: DistContext) -> None:
    """Leave the process group now if :func:`setup_distributed` created it.

    Optional: a group it created is otherwise closed when the process exits. Call it
    only after the last ``fit`` of the script.
    """
    if ctx.created_group:
        _destroy_if_initialized()


def _destroy_if_initialized() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def wrap_model(model: nn.Module, ctx: DistContext, *, find_unused: bool = False) -> nn.Module:
    """The model as the training step should call it: DDP-wrapped when distributed."""
    if not ctx.is_distributed:
        return model
    device_ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids, find_unused_parameters=find_unused)


def unwrap_model(model: nn.Module) -> nn.Module:
    """The plain module inside a DDP wrapper (the model itself otherwise)."""
    return model.module if isinstance(model, DistributedDataParallel) else model


def make_sampler(
    dataset: Dataset, ctx: DistContext, *, shuffle: bool, seed: int, drop_last: bool = False
) -> DistributedSampler:
    """This rank's shard of ``dataset``; call ``set_epoch(e)`` for the order of epoch ``e``.

    Used with a single process too (one shard): the order of epoch ``e`` then depends
    only on ``seed`` and ``e``, which is what makes resumed runs exact.
    """
    return DistributedSampler(
        dataset,
        num_replicas=ctx.world_size,
        rank=ctx.rank,
        shuffle=shuffle,
        seed=seed,
        drop_last=drop_last,
    )


def all_reduce_sum(values: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Sum a float tensor over all ranks (returns it unchanged for one process)."""
    if not ctx.is_distributed:
        return values
    out = values.detach().to(ctx.device, torch.float64).clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out.cpu()


def broadcast_metrics(metrics: dict[str, float], ctx: DistContext) -> dict[str, float]:
    """Rank 0's metric values on every rank (same keys everywhere, e.g. from one evaluate).

    Every rank then takes the same early-stopping and best-epoch decisions even if the
    evaluations differ in the last bits across devices.
    """
    if not ctx.is_distributed or not metrics:
        return metrics
    keys = sorted(metrics)
    values = torch.tensor([metrics[k] for k in keys], dtype=torch.float64, device=ctx.device)
    dist.broadcast(values, src=0)
    received = dict(zip(keys, values.cpu().tolist(), strict=True))
    return {k: float(received[k]) for k in metrics}  # the caller's order


def barrier(ctx: DistContext) -> None:
    """Wait for every rank (no-op for one process)."""
    if ctx.is_distributed:
        dist.barrier()


def to_device(batch: Any, device: torch.device) -> Any:
    """Move every tensor in a (nested) dict/list/tuple batch to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # namedtuple
        return type(batch)(*(to_device(v, device) for v in batch))
    if isinstance(batch, list | tuple):
        return type(batch)(to_device(v, device) for v in batch)
    return batch
