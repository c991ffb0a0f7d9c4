"""The training recipe of an alignment task: the settings every caller trains with.

:meth:`Task.train_config(**overrides) <medmodal.align.tasks.MedPixTask.train_config>`
returns a :class:`TrainRecipe`; ``medmodal.train.TrainConfig.from_dict(recipe.to_dict())``
(or :func:`medmodal.train.fit_alignment`) turns it into the loop's config. The recipe
lives here, below ``train``, so the CLI, the report and the benchmarks share one copy.

A model may have its own defaults (:data:`MODEL_RECIPES`, read by
:meth:`TrainRecipe.for_model`): the ImageNet-pretrained ``medpix-clip-effnet`` trains
for fewer epochs at a lower learning rate than a tower trained from scratch.

Example:
    >>> from medmodal.align import TrainRecipe
    >>> recipe = TrainRecipe().replace(epochs=8, progress=False)
    >>> recipe.epochs, recipe.lr, recipe.to_dict()["progress"]
    (8, 0.002, False)
    >>> TrainRecipe.for_model("medpix-clip-effnet").epochs, TrainRecipe.for_model(None).epochs
    (15, 40)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from medmodal.errors import InvalidParameterError

__all__ = ["MODEL_RECIPES", "TrainRecipe"]

#: Recipe defaults of a named model, where they differ from :class:`TrainRecipe`'s.
#: ``medpix-clip-effnet`` (ImageNet-pretrained, 96 px, 12 of 18 image layers locked: the
#: lock and size chosen on the MedPix val split, ``benchmarks/results/
#: align_medpix_sweep.md``): 15 epochs at peak lr 5e-4, fixed before that sweep (not tuned).
MODEL_RECIPES: Mapping[str, Mapping[str, object]] = MappingProxyType(
    {"medpix-clip-effnet": MappingProxyType({"epochs": 15, "lr": 5e-4})}
)

#: Settings of ``medmodal.train.TrainConfig`` that a recipe may carry in ``options``.
_LOOP_OPTIONS = frozenset(
    {
        "betas", "warmup_steps", "min_lr_ratio", "grad_clip", "bf16", "deterministic",
        "eval_every", "min_delta", "num_workers", "drop_last", "log_every", "progress",
        "tensorboard", "device", "find_unused_parameters", "out_dir",
    }
)  # fmt: skip


@dataclass(frozen=True)
class TrainRecipe:
    """Optimiser, schedule and model selection of a contrastive run (AdamW + cosine).

    Attributes:
        epochs: passes over the training set.
        batch_size: pairs per step (the contrastive negatives).
        lr: peak learning rate.
        weight_decay: AdamW decoupled decay.
        warmup_ratio: share of the steps spent warming up.
        monitor: validation metric that picks the best epoch.
        mode: ``"max"`` or ``"min"`` for ``monitor``.
        patience: evaluations without improvement before stopping (``None``: never).
        restore_best: load the best epoch's weights back at the end.
        seed: seeds data order and augmentation.
        options: further ``TrainConfig`` settings (progress, out_dir, device, ...).
    """

    epochs: int = 40
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 0.05
    warmup_ratio: float = 0.1
    monitor: str = "mean_R@10"
    mode: str = "max"
    patience: int | None = None
    restore_best: bool = True
    seed: int = 0
    options: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def for_model(cls, model: str | None) -> TrainRecipe:
        """The defaults for the named ``model`` (:data:`MODEL_RECIPES`; others: the class's)."""
        return cls().replace(**MODEL_RECIPES.get(model or "", {}))

    def replace(self, **overrides: object) -> TrainRecipe:
        """A copy with ``overrides``: recipe fields, or loop settings kept in ``options``.

        Raises:
            InvalidParameterError: a key is neither a recipe field nor a loop setting.
        """
        fields = {f.name for f in dataclasses.fields(self)} - {"options"}
        unknown = sorted(set(overrides) - fields - _LOOP_OPTIONS)
        if unknown:
            raise InvalidParameterError(
                f"TrainRecipe.replace: unknown setting(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(sorted(fields | _LOOP_OPTIONS))}"
            )
        own = {k: v for k, v in overrides.items() if k in fields}
        options = {**self.options, **{k: v for k, v in overrides.items() if k not in fields}}
        return dataclasses.replace(self, **own, options=MappingProxyType(options))  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        """Every setting as ``TrainConfig`` keyword arguments."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        options = out.pop("options")
        return {**out, **dict(options)}
