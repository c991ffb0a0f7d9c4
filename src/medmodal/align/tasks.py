"""Alignment tasks: a data set of pairs, its default model, recipe and evaluation.

A task (``medpix``: images ↔ captions; ``ptbxl``: ECGs ↔ reports) loads a split as a
torch ``Dataset`` of pairs, names the model it trains by default, gives its training
recipe (:meth:`~MedPixTask.train_config`) and its loss, and evaluates a model on a split:
retrieval in both directions (R@1/5/10, median rank) and classification from prompts
(accuracy with a Wilson 95 % interval). ``medmodal align``, the report and the
benchmarks all go through it.

MedPix has two named evaluations (:data:`MEDPIX_EVALUATIONS`):

- ``"prompted"`` (prompted classification): trained on the structured captions, whose
  header ("CT, axial, head") names the labels, with same-header pairs as UniCL
  positives; the labels are training targets, so this is not zero-shot.
- ``"zero-shot"`` (true zero-shot): trained on the free-text captions alone (no header,
  no label-defined positives: plain CLIP loss), scored with plain-sentence prompts
  ("a CT image of the head") that are never a training text.

MedPix splits are patient-clean: ``train`` to fit, ``val`` for every choice (epoch,
recipe, prompts), ``dev`` scored once as a test (:attr:`MedPixTask.test_split`).

Example:
    >>> from medmodal.align import TASKS, get_task
    >>> TASKS.names()
    ('medpix', 'ptbxl')
    >>> task = get_task("ptb-xl")
    >>> task.default_model, task.modalities, task.train_config(epochs=5).epochs
    ('ecg-text-clip', ('ecg', 'text'), 5)
    >>> get_task("medpix").default_model
    'medpix-clip-effnet'
    >>> zs = get_task("medpix", evaluation="zero-shot")
    >>> zs.default_model, zs.default_text, zs.val_split, zs.test_split
    ('medpix-clip', 'caption', 'val', 'dev')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

import numpy as np
import pandas as pd
from torch import nn

from medmodal.align.contrastive import PairLossFn, contrastive_loss_fn
from medmodal.align.evaluate import AlignEvaluation, LabelledPairs, evaluate_alignment
from medmodal.align.pairs import ECGTextPairs, ImageTextPairs
from medmodal.align.prompts import PromptSet, medpix_prompts, ptbxl_prompts
from medmodal.align.recipe import TrainRecipe
from medmodal.data.image_transforms import ImageTransform, to_square
from medmodal.data.medpix import load_medpix
from medmodal.errors import DataFormatError, InvalidParameterError
from medmodal.registry import Registry
from medmodal.types import PathLike

__all__ = [
    "MEDPIX_DEFAULT_MODELS",
    "MEDPIX_EVALUATIONS",
    "TASKS",
    "MedPixTask",
    "PTBXLTask",
    "Task",
    "check_model_fits",
    "get_task",
]

#: MedPix's named evaluations -> the training text each needs.
MEDPIX_EVALUATIONS: dict[str, str] = {"prompted": "structured", "zero-shot": "caption"}
#: The model ``align train`` trains by default under each MedPix evaluation, chosen on
#: the val split (``benchmarks/results/align_medpix_compare.md``, 3 seeds, val mean
#: R@10): prompted, the ImageNet-pretrained tower (51.9 % against 46.2 % from scratch);
#: zero-shot, the from-scratch tower (31.0 % against 27.8 %).
MEDPIX_DEFAULT_MODELS: dict[str, str] = {
    "prompted": "medpix-clip-effnet",
    "zero-shot": "medpix-clip",
}


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
    def val_split(self) -> str: ...  # every choice is made on it
    @property
    def test_split(self) -> str: ...  # scored once
    @property
    def evaluation(self) -> str: ...  # the named evaluation

    def load(
        self, split: str, *, root: PathLike | None = None, image_size: int = 0,
        augment: bool = False, seed: int = 0, text: str = "",
        normalize: tuple[float, float] = (0.5, 0.25),
    ) -> LabelledPairs: ...  # fmt: skip

    def train_config(self, model: str | None = None, **overrides: object) -> TrainRecipe: ...

    def loss_fn(self) -> PairLossFn: ...

    def evaluate(
        self, model: nn.Module, dataset: LabelledPairs, *, split: str = ""
    ) -> AlignEvaluation: ...


class _TaskBase:
    """The recipe, loss and evaluation every task shares (they differ in data and prompts)."""

    name: str
    modalities: tuple[str, str]
    evaluation: str
    #: The retrieval table's names of the two sides.
    side_names: ClassVar[tuple[str, str]]

    def train_config(self, model: str | None = None, **overrides: object) -> TrainRecipe:
        """The task's training recipe (AdamW 2e-3, weight decay 0.05, 10 % warm-up,
        batch 64, 40 epochs, best epoch by val ``mean_R@10``), with the named ``model``'s
        own defaults (:data:`~medmodal.align.recipe.MODEL_RECIPES`: ``medpix-clip-effnet``
        15 epochs at lr 5e-4) and then ``overrides`` (recipe fields or ``TrainConfig``
        settings such as ``progress``, ``out_dir``)."""
        return TrainRecipe.for_model(model).replace(**overrides)

    def loss_fn(self) -> PairLossFn:
        """The gathered contrastive loss of the task's pairs (UniCL where items have groups)."""
        return contrastive_loss_fn(self.modalities)

    def prompts(self) -> dict[str, PromptSet]:
        """The zero-shot prompts: label -> :class:`~medmodal.align.PromptSet`."""
        raise NotImplementedError

    def evaluate(
        self, model: nn.Module, dataset: LabelledPairs, *, split: str = ""
    ) -> AlignEvaluation:
        """Retrieval both ways and prompt accuracy of each label of :meth:`prompts`."""
        return evaluate_alignment(
            model, dataset, modalities=self.modalities, prompts=self.prompts(),
            task=self.name, split=split, names=self.side_names, evaluation=self.evaluation,
        )  # fmt: skip


@dataclass(frozen=True)
class MedPixTask(_TaskBase):
    """MedPix 2.0 images ↔ captions, under one of :data:`MEDPIX_EVALUATIONS`.

    Raises:
        InvalidParameterError: an unknown ``evaluation``.
    """

    name: str = "medpix"
    modalities: tuple[str, str] = ("image", "text")
    side_names: ClassVar[tuple[str, str]] = ("image", "text")
    train_split: str = "train"
    val_split: str = "val"
    test_split: str = "dev"
    evaluation: str = "prompted"

    def __post_init__(self) -> None:
        if self.evaluation not in MEDPIX_EVALUATIONS:
            raise InvalidParameterError(
                f"MedPixTask: evaluation must be one of {', '.join(MEDPIX_EVALUATIONS)}, "
                f"got {self.evaluation!r}"
            )

    @property
    def default_model(self) -> str:
        """The model trained by default (:data:`MEDPIX_DEFAULT_MODELS`, chosen on val)."""
        return MEDPIX_DEFAULT_MODELS[self.evaluation]

    @property
    def default_text(self) -> str:
        """The training text of the evaluation (``structured`` or ``caption``)."""
        return MEDPIX_EVALUATIONS[self.evaluation]

    def load(
        self, split: str, *, root: PathLike | None = None, image_size: int = 128,
        augment: bool = False, seed: int = 0, text: str = "",
        normalize: tuple[float, float] = (0.5, 0.25),
    ) -> ImageTextPairs:  # fmt: skip
        """One split as :class:`ImageTextPairs` (images squared once, kept in memory).

        With ``augment=True`` (training) and structured texts, images are augmented,
        half the texts are replaced by a shorter view of the caption (its header, or the
        header and one sentence) and pairs with the same header are positives of each
        other (UniCL). With caption texts (true zero-shot), the free-text captions alone
        and no groups. ``text=""`` is the evaluation's own; ``normalize`` is the image
        ``(mean, std)`` of the model (its config's ``image.mean`` / ``image.std``).

        Raises:
            InvalidParameterError: ``text`` is not ``structured`` or ``caption``, or is
                ``structured`` under the zero-shot evaluation (the labels would leak).
            DataFormatError: a split with no images, an unreadable image or an empty
                caption (the error names the file).
        """
        text = text or self.default_text
        if text not in ("structured", "caption"):
            raise InvalidParameterError(
                f"MedPixTask.load: text must be 'structured' or 'caption', got {text!r}"
            )
        if self.evaluation == "zero-shot" and text != "caption":
            raise InvalidParameterError(
                "MedPixTask.load: the zero-shot evaluation trains on free-text captions; "
                f"text={text!r} would put the labels in the training text"
            )
        data = load_medpix(split, root=root)
        _check_captions(data.to_frame(), data.folder, split)
        images = np.stack([to_square(data.image(i), image_size) for i in range(len(data))])
        mean, std = normalize
        transform = ImageTransform(image_size, augment=augment, seed=seed, mean=mean, std=std)
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
        """Prompts of modality, body region and plane (plain sentences for zero-shot)."""
        return medpix_prompts(style="plain" if self.evaluation == "zero-shot" else "all")


def _check_captions(frame: pd.DataFrame, folder: Path, split: str) -> None:
    """Every image needs a caption: refuse an empty one, naming the image file."""
    empty = frame["caption"].astype(str).str.strip() == ""
    if empty.any():
        first = frame["image_id"][empty].iloc[0]
        raise DataFormatError(
            f"MedPix {split!r}: {int(empty.sum())} image(s) with an empty caption, e.g. "
            f"{folder / 'images' / f'{first}.png'}"
        )


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
    test_split: str = "test"
    evaluation: str = "prompted"

    def __post_init__(self) -> None:
        if self.evaluation != "prompted":
            raise InvalidParameterError(
                f"PTBXLTask: evaluation must be 'prompted', got {self.evaluation!r}"
            )

    def load(
        self, split: str, *, root: PathLike | None = None, image_size: int = 0,
        augment: bool = False, seed: int = 0, text: str = "report",
        normalize: tuple[float, float] = (0.5, 0.25),
    ) -> ECGTextPairs:  # fmt: skip
        """One split as :class:`ECGTextPairs` (``text``: ``report`` or ``statements``)."""
        text = text or self.default_text
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


def get_task(name: str, **options: str) -> Task:
    """The task registered as ``name`` (aliases such as ``ptb-xl`` accepted).

    ``options`` configure it, e.g. ``evaluation="zero-shot"`` for MedPix.

    Raises:
        InvalidParameterError: unknown name (with a "did you mean") or option.
    """
    factory = TASKS.get(name)
    try:
        return factory(**options)
    except TypeError as exc:
        raise InvalidParameterError(
            f"get_task({name!r}): unknown option(s) {', '.join(sorted(options))}"
        ) from exc


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
