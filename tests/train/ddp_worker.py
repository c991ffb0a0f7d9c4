"""Worker of ``tests/train/test_distributed.py``: one of 2 processes under torch.distributed.run.

Usage: ``python -m torch.distributed.run --standalone --nproc_per_node 2 ddp_worker.py OUT``.
Runs two data-parallel trainings on CPU (gloo) and saves each rank's final weights:

1. ``mse``: a small regression net; ``fit`` starts the process group from the
   ``torchrun`` variables and leaves it open;
2. ``clip``: a two-tower contrastive model with the gathered CLIP loss; ``fit`` reuses
   the open group.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.distributed as dist
from safetensors.torch import save_file
from tests.align.toys import AlignedPairs, TinyClip
from tests.train.conftest import mse_loss, regression_data
from torch import nn

from medmodal.align import contrastive_loss_fn, retrieval_evaluator
from medmodal.train import TrainConfig, fit

PER_RANK_BATCH = 8


def mse_config(out: Path | None, batch_size: int) -> TrainConfig:
    return TrainConfig(
        epochs=3, batch_size=batch_size, lr=0.05, progress=False, seed=5,
        out_dir=None if out is None else str(out),
    )  # fmt: skip


def clip_config(out: Path | None, batch_size: int) -> TrainConfig:
    return TrainConfig(
        epochs=3, batch_size=batch_size, lr=0.01, progress=False, seed=5, monitor="mean_R@1",
        mode="max", out_dir=None if out is None else str(out),
    )  # fmt: skip


def run_mse(out: Path | None, batch_size: int) -> tuple[nn.Module, object]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1), nn.Flatten(0))
    data = regression_data(64, seed=1)
    result = fit(model, data, regression_data(32, seed=2), mse_config(out, batch_size),
                 loss_fn=mse_loss)  # fmt: skip
    return model, result


def run_clip(out: Path | None, batch_size: int) -> tuple[nn.Module, object]:
    torch.manual_seed(0)
    model = TinyClip()
    result = fit(
        model, AlignedPairs(64, seed=1), AlignedPairs(32, seed=2), clip_config(out, batch_size),
        loss_fn=contrastive_loss_fn(), evaluate=retrieval_evaluator(),
    )  # fmt: skip
    return model, result


def main(out: Path) -> None:
    torch.set_num_threads(1)
    assert not dist.is_initialized()
    model, _ = run_mse(out / "mse", PER_RANK_BATCH)
    assert dist.is_initialized() and dist.get_world_size() == 2
    rank = dist.get_rank()
    save_file(model.state_dict(), str(out / f"mse_rank{rank}.safetensors"))

    model, _ = run_clip(out / "clip", PER_RANK_BATCH)
    save_file(model.state_dict(), str(out / f"clip_rank{rank}.safetensors"))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
