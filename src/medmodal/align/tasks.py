"""Alignment tasks: a data set of pairs, its default model, recipe and evaluation.

A task (``medpix``: images ↔ captions; ``ptbxl``: ECGs ↔ reports) loads a split as a
torch ``Dataset`` of pairs, names the model it trains by default, gives its training
recipe (:meth:`~MedPixTask.train_config`) and its loss, and evaluates a model on a split:
retrieval in both directions (R@1/5/10, median rank) and zero-shot classification from
prompts. ``medmodal align``, the report and the benchmarks all go through it.

Example:
    >>> from medmodal.align import TASKS, get_task
    >>> TASKS.names()
    ('medpix', 'ptbxl')
    >>> task = get_task("ptb-xl")
    >>> task.default_model, task.modalities, task.train_config(epochs=5).epochs
    ('ecg-text-clip', ('ecg', 'text'), 5)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np
from torch import nn

from medmodal.align.contrastive import PairLossFn, contrastive_loss_fn
from medmodal.align.evaluate import AlignEvaluation, LabelledPairs, evaluate_alignment
from medmodal.align.pairs import ECGTextPairs, ImageTextPairs
from medmodal.align.prompts import PromptSet, medpix_prompts, ptbxl_prompts
from medmodal.align.recipe import TrainRecipe
from medmodal.data.image_transforms import ImageTransform, to_square
from medmodal.data.medpix import load_medpix
from medmodal.errors import InvalidParameterError
from medmodal.registry import Registry
from medmodal.types import PathLike

__all__ = ["TASKS", "MedPixTask", "PTBXLTask", "Task", "check_model_fits", "get_task"]


class Task(Protocol):
    """What training and evaluating an alignment needs from a data set."""

    @property
    def name(self) -> str: ...  # the registry name
    @property
    def default_model(self) -> str: ...  # model config trained by default
    @property
    def default_text(self) -> str: ...  # text kind loaded by default
    @property
    def modalities(self) -> tuple[str, str]: ...  # towers the model needs
    @property
    def train_split(self) -> str: ...
    @property
    def val_split(self) -> str: ...

    def load(
        self, split: str, *, root: PathLike | None = None, image_size: int = 0,
        augment: bool = False, seed: int = 0, text: str = "",
    ) -> LabelledPairs: ...  # fmt: skip

    def train_config(self, **overrides: object) -> TrainRecipe: ...

    def loss_fn(self) -> PairLossFn: ...

    def evaluate(
        self, model: nn.Module, dataset: LabelledPairs, *, split: str = ""
    ) -> AlignEvaluation: ...


class _TaskBase:
    """The recipe, loss and evaluation every task shares (they differ in data and prompts)."""

    name: str
    modalities: tuple[str, str]
    #: The retrieval table's names of the two sides.
    side_names: ClassVar[tuple[str, str]]

    def train_config(self, **overrides: object) -> TrainRecipe:
        """The task's training recipe (AdamW 2e-3, weight decay 0.05, 10 % warm-up,
        batch 64, 40 epochs, best epoch by dev ``mean_R@10``) with ``overrides``
        (recipe fields or ``TrainConfig`` settings such as ``progress``, ``out_dir``)."""
        return TrainRecipe().replace(**overrides)

    def loss_fn(self) -> PairLossFn:
        """The gathered contrastive loss of the task's pairs (UniCL where items have groups)."""
        return contrastive_loss_fn(self.modalities)

    def prompts(self) -> dict[str, PromptSet]:
        """The zero-shot prompts: label -> :class:`~medmodal.align.PromptSet`."""
        raise NotImplementedError

    def evaluate(
        self, model: nn.Module, dataset: LabelledPairs, *, split: str = ""
    ) -> AlignEvaluation:
        """Retrieval both ways and zero-shot accuracy of each label of :meth:`prompts`."""
        return evaluate_alignment(
            model, dataset, modalities=self.modalities, prompts=self.prompts(),
            task=self.name, split=split, names=self.side_names,
        )  # fmt: skip


@dataclass(frozen=True)
class MedPixTask(_TaskBase):
    """MedPix 2.0 images ↔ structured captions."""

    name: str = "medpix"
    default_model: str = "medpix-clip"
    default_text: str = "structured"
    modalities: tuple[str, str] = ("image", "text")
    side_names: ClassVar[tuple[str, str]] = ("image", "text")
    train_split: str = "train"
    val_split: str = "dev"

    def load(
        self, split: str, *, root: PathLike | None = None, image_size: int = 128,
        augment: bool = False, seed: int = 0, text: str = "structured",
    ) -> ImageTextPairs:  # fmt: skip
        """One split as :class:`ImageTextPairs` (images squared once, kept in memory).

        With ``augment=True`` (training) and structured texts, images are augmented,
        half the texts are replaced by a shorter view of the caption (its header, or the
        header and one sentence) and pairs with the same header are positives of each
        other (UniCL): the model learns to match short prompt-like texts, and two head
        CTs in one batch are not pushed apart.

        Raises:
            InvalidParameterError: ``text`` is not ``structured`` or ``caption``.
        """
        if text not in ("structured", "caption"):
            raise InvalidParameterError(
                f"MedPixTask.load: text must be 'structured' or 'caption', got {text!r}"
            )
        data = load_medpix(split, root=root)
        images = np.stack([to_square(data.image(i), image_size) for i in range(len(data))])
        transform = ImageTransform(image_size, augment=augment, seed=seed)
        structured = text == "structured"
        texts = data.texts(structured=structured)
        if not (augment and structured):
            return ImageTextPairs(images, texts, transform, data.to_frame())
        # training: sample shorter views of the captions; same-header pairs are positives
        return ImageTextPairs(
            images, texts, transform, data.to_frame(), views=data.text_views(),
            groups=data.header_groups(), seed=seed,
        )  # fmt: skip

    def prompts(self) -> dict[str, PromptSet]:
        """Zero-shot prompts of modality, body region and plane."""
        return medpix_prompts()


@dataclass(frozen=True)
class PTBXLTask(_TaskBase):
    """PTB-XL 12-lead ECGs ↔ reports (or English SCP statement texts)."""

    name: str = "ptbxl"
    default_model: str = "ecg-text-clip"
    default_text: str = "report"
    modalities: tuple[str, str] = ("ecg", "text")
    side_names: ClassVar[tuple[str, str]] = ("ECG", "text")
    train_split: str = "train"
    val_split: str = "val"

    def load(
        self, split: str, *, root: PathLike | None = None, image_size: int = 0,
        augment: bool = False, seed: int = 0, text: str = "report",
    ) -> ECGTextPairs:  # fmt: skip
        """One split as :class:`ECGTextPairs` (``text``: ``report`` or ``statements``)."""
        from medmodal.data.ptbxl_reports import load_ecg_reports

        data = load_ecg_reports(split, text=text, root=root)
        labels = data.superclasses.reset_index(drop=True)
        labels["normal"] = data.normal_labels()
        return ECGTextPairs(data.signals, data.texts, labels)

    def prompts(self) -> dict[str, PromptSet]:
        """Zero-shot prompts of normal vs abnormal."""
        return ptbxl_prompts()


#: Alignment data sets by name.
TASKS: Registry[Callable[[], Task]] = Registry("alignment data set")
TASKS.add("medpix", MedPixTask, description="MedPix 2.0 CT/MR images and captions")
TASKS.add("ptbxl", PTBXLTask, aliases=("ptb-xl",), description="PTB-XL ECGs and reports")


def get_task(name: str) -> Task:
    """The task registered as ``name`` (aliases such as ``ptb-xl`` accepted).

    Raises:
        InvalidParameterError: unknown name (with a "did you mean").
    """
    return TASKS.get(name)()


def check_model_fits(model: nn.Module, task: Task) -> None:
    """Raise unless ``model`` has the towers ``task`` needs.

    Raises:
        InvalidParameterError: a tower is missing (names the model and the data).
    """
    have = tuple(getattr(model, "modalities", ()))
    missing = [m for m in task.modalities if m not in have]
    if missing:
        name = getattr(getattr(model, "config", None), "name", type(model).__name__)
        raise InvalidParameterError(
            f"model {name!r} encodes {', '.join(have)} but the "
            f"{task.name!r} data need {', '.join(task.modalities)}"
        )
