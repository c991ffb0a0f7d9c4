"""Train an alignment task: its recipe, loss, pairs and evaluation through :func:`fit`.

The loss, the embedding and the evaluation live in :mod:`medmodal.align`
(:func:`~medmodal.align.contrastive_loss_fn`, :func:`~medmodal.align.retrieval_evaluate`);
this module only runs the loop on a task's terms, so the CLI, the report and the
benchmarks train MedPix and PTB-XL the same way.

Example:
    >>> from medmodal.align import get_task
    >>> from medmodal.train import TrainConfig
    >>> recipe = get_task("medpix").train_config(epochs=2, progress=False)
    >>> TrainConfig.from_dict(recipe.to_dict()).weight_decay
    0.05
"""

from __future__ import annotations

from typing import Any

from torch import nn
from torch.utils.data import Dataset

from medmodal.align import LabelledPairs, Task, TrainRecipe, collate_pairs
from medmodal.train.config import TrainConfig
from medmodal.train.loop import fit
from medmodal.train.result import TrainResult

__all__ = ["fit_alignment"]


def fit_alignment(
    model: nn.Module,
    task: Task,
    train_set: LabelledPairs,
    val_set: LabelledPairs,
    recipe: TrainRecipe | None = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
) -> TrainResult:
    """Train ``model`` on ``task``'s pairs with its recipe, loss and evaluation.

    Args:
        model: a model with the task's towers (:func:`medmodal.align.check_model_fits`).
        task: the alignment task (:func:`medmodal.align.get_task`).
        train_set, val_set: splits from ``task.load``.
        recipe: ``task.train_config(...)`` (default: the task's own for the model's
            config name, unchanged).
        resume, overwrite: passed to :func:`~medmodal.train.fit` (continue or replace
            the run in the recipe's ``out_dir``; a non-empty one is refused otherwise).

    Returns:
        The :class:`TrainResult`; the history holds the task's evaluation metrics
        (``mean_R@10``, ``zs_<label>``...) per epoch.
    """
    if recipe is None:
        config_of = getattr(model, "config", None)
        recipe = task.train_config(getattr(config_of, "name", None))
    config = TrainConfig.from_dict(recipe.to_dict())

    def evaluate(m: nn.Module, dataset: Dataset[Any]) -> dict[str, float]:
        return task.evaluate(m, dataset, split=task.val_split).to_dict()  # type: ignore[arg-type]

    return fit(
        model, train_set, val_set, config, loss_fn=task.loss_fn(), evaluate=evaluate,  # type: ignore[arg-type]
        collate_fn=collate_pairs, resume=resume, overwrite=overwrite,
    )  # fmt: skip
