"""Training: one readable loop for every model, checkpoints, seeding, data parallelism.

- :func:`fit` trains any ``nn.Module`` given a ``loss_fn(model, batch)``: AdamW,
  warm-up + cosine schedule, gradient clipping, bf16 autocast, evaluation and early
  stopping, progress bar, ``metrics.csv`` (+ TensorBoard), exact ``resume``; under
  ``torchrun`` it trains data-parallel (DDP).
- :class:`TrainConfig` holds its settings; :class:`TrainResult` is what it returns.
- :func:`save_checkpoint` / :func:`load_checkpoint`: folders of safetensors + JSON.
- :func:`contrastive_loss_fn` / :func:`retrieval_evaluate` (:func:`retrieval_evaluator`):
  the CLIP-style case (gathered loss across processes, retrieval recall as the monitor).
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
from medmodal.train.contrastive import (
    contrastive_loss_fn,
    retrieval_evaluate,
    retrieval_evaluator,
)
from medmodal.train.loop import fit
from medmodal.train.result import TrainResult
from medmodal.train.seed import seed_everything
from medmodal.train.state import TrainState

__all__ = [
    "Checkpoint",
    "TrainConfig",
    "TrainResult",
    "TrainState",
    "contrastive_loss_fn",
    "find_checkpoint",
    "fit",
    "load_checkpoint",
    "read_train_config",
    "restore_checkpoint",
    "retrieval_evaluate",
    "retrieval_evaluator",
    "save_checkpoint",
    "seed_everything",
]
