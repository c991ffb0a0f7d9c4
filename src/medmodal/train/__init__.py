"""Training: one readable loop for every model, checkpoints, seeding, data parallelism.

- :func:`fit` trains any ``nn.Module`` given a ``loss_fn(model, batch)``: AdamW,
  warm-up + cosine schedule, gradient clipping, bf16 autocast, evaluation and early
  stopping, progress bar, ``metrics.csv`` (+ TensorBoard), exact ``resume``; under
  ``torchrun`` it trains data-parallel (DDP).
- :class:`TrainConfig` holds its settings; :class:`TrainResult` is what it returns.
- :func:`save_checkpoint` / :func:`load_checkpoint`: folders of safetensors + JSON, saved
  crash-safe.
- :func:`claim_run_dir` / :func:`check_run_dir`: a run folder is written only when new or
  empty, resumed (``resume=True``) or replaced (``overwrite=True``).
- :func:`fit_alignment`: an alignment task (:mod:`medmodal.align.tasks`) trained with its
  recipe, loss and evaluation. The contrastive loss and the retrieval evaluation
  themselves are :mod:`medmodal.align`'s (``contrastive_loss_fn``, ``retrieval_evaluate``).
"""

from medmodal.train.checkpoint import (
    Checkpoint,
    find_checkpoint,
    load_checkpoint,
    read_train_config,
    restore_checkpoint,
    save_checkpoint,
)
from medmodal.train.config import TrainConfig
from medmodal.train.contrastive import fit_alignment
from medmodal.train.loop import fit
from medmodal.train.result import TrainResult
from medmodal.train.rundir import check_run_dir, claim_run_dir
from medmodal.train.seed import seed_everything
from medmodal.train.state import TrainState

__all__ = [
    "Checkpoint",
    "TrainConfig",
    "TrainResult",
    "TrainState",
    "check_run_dir",
    "claim_run_dir",
    "find_checkpoint",
    "fit",
    "fit_alignment",
    "load_checkpoint",
    "read_train_config",
    "restore_checkpoint",
    "save_checkpoint",
    "seed_everything",
]
