"""Alignment tasks behind ``medmodal align``: data sets as torch pairs, loss, evaluation.

A task (``medpix``: images ↔ captions; ``ptbxl``: ECGs ↔ reports) knows how to load a
split as a torch ``Dataset`` of pairs, which model it trains by default, and how to
evaluate a model on a split: retrieval in both directions (R@1/5/10, median rank) and
zero-shot classification from prompts. The CLI and ``benchmarks/align_medpix.py`` share it.

Example:
    >>> from medmodal.cli._align_tasks import TASKS
    >>> TASKS.names()
    ('medpix', 'ptbxl')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from medmodal.align import ZeroShotClassifier, clip_loss, retrieval_metrics
from medmodal.align.distributed import gather_features, gather_labels
from medmodal.align.unicl import unicl_loss
from medmodal.data.image_transforms import ImageTransform, to_square
from medmodal.data.medpix import MODALITIES, load_medpix
from medmodal.errors import InvalidParameterError
from medmodal.metrics.retrieval import RetrievalMetrics
from medmodal.models import CLIPModel
from medmodal.registry import Registry
from medmodal.types import PathLike

_PLANES = ("axial", "coronal", "sagittal")
_REGIONS = {
    "Head": ["head", "head (brain and neuro)"],
    "Spine and Muscles": ["spine and muscles", "spine and muscles (musculoskeletal)"],
    "Thorax": ["thorax", "thorax (chest, pulmonary)"],
    "Abdomen": ["abdomen", "abdomen (gastrointestinal)"],
    "Reproductive and Urinary System": [
        "reproductive and urinary system",
        "reproductive and urinary system (genitourinary)",
    ],
}


# ----------------------------------------------------------------------------- data


class ImageTextPairs(Dataset[dict[str, Any]]):
    """Square uint8 images (cached in memory) paired with texts.

    Items are ``{"image": (1, S, S) float32 tensor, "text": str, "index": int}``. For
    training, ``views`` holds shorter alternatives of each text (its first entry is the
    text itself): with probability ``view_rate`` an item's text is one of the others,
    drawn from a seeded stream (ConVIRT's sentence sampling). ``groups`` adds an int
    ``"group"`` to each item: pairs of one group are all positives of each other in
    :func:`pair_loss` (UniCL).
    """

    def __init__(
        self, images: np.ndarray, texts: Sequence[str], transform: ImageTransform,
        labels: pd.DataFrame | None = None, *, views: Sequence[Sequence[str]] | None = None,
        view_rate: float = 0.5, groups: Sequence[int] | np.ndarray | None = None,
        seed: int = 0,
    ) -> None:  # fmt: skip
        n = len(texts)
        if len(images) != n:
            raise InvalidParameterError(f"{len(images)} images for {n} texts")
        for name, extra in (("views", views), ("groups", groups)):
            if extra is not None and len(extra) != n:
                raise InvalidParameterError(f"ImageTextPairs: {len(extra)} {name} for {n} texts")
        if not 0.0 <= view_rate <= 1.0:
            raise InvalidParameterError(f"ImageTextPairs: view_rate must be in [0, 1]: {view_rate}")
        self.images = images  # (N, S, S) uint8
        self.texts = list(texts)
        self.transform = transform
        self.labels = labels if labels is not None else pd.DataFrame(index=range(n))
        self.views = [tuple(v) for v in views] if views is not None else None
        self.view_rate = view_rate
        self.groups = None if groups is None else np.asarray(groups, dtype=np.int64)
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.texts)

    def _text(self, i: int) -> str:
        if self.views is None or len(self.views[i]) < 2 or self._rng.random() >= self.view_rate:
            return self.texts[i]
        return self.views[i][1 + int(self._rng.integers(len(self.views[i]) - 1))]

    def __getitem__(self, i: int) -> dict[str, Any]:
        image = torch.from_numpy(self.transform(self.images[i]))  # (1, S, S)
        item: dict[str, Any] = {"image": image, "text": self._text(i), "index": i}
        if self.groups is not None:
            item["group"] = int(self.groups[i])
        return item


class ECGTextPairs(Dataset[dict[str, Any]]):
    """ECGs ``(N, leads, T)`` (float32, mV) paired with texts; items hold ``"ecg"``."""

    def __init__(
        self, signals: np.ndarray, texts: Sequence[str], labels: pd.DataFrame | None = None
    ) -> None:
        if len(signals) != len(texts):
            raise InvalidParameterError(f"{len(signals)} ECGs for {len(texts)} texts")
        self.signals = np.clip(signals, -5.0, 5.0).astype(np.float32)  # (N, 12, T)
        self.texts = list(texts)
        self.labels = labels if labels is not None else pd.DataFrame(index=range(len(texts)))

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"ecg": torch.from_numpy(self.signals[i]), "text": self.texts[i], "index": i}


def collate_pairs(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack tensors, keep texts as a list of str."""
    out: dict[str, Any] = {}
    for key in items[0]:
        values = [item[key] for item in items]
        if isinstance(values[0], Tensor):
            out[key] = torch.stack(values)
        elif isinstance(values[0], int):
            out[key] = torch.tensor(values)
        else:
            out[key] = values
    return out


def _signal_key(dataset: Dataset[dict[str, Any]]) -> str:
    return "ecg" if isinstance(dataset, ECGTextPairs) else "image"


def pair_loss(model: nn.Module, batch: dict[str, Any]) -> Tensor:
    """Symmetric InfoNCE between the batch's signals (image or ECG) and texts.

    With a ``"group"`` entry (training pairs with groups) pairs of one group are all
    positives (:func:`~medmodal.align.unicl.unicl_loss`); without it, the diagonal
    (:func:`~medmodal.align.clip_loss`). Under torchrun the embeddings (and groups) of
    every process are gathered first, so each process's negatives are the whole global
    batch (as on one process).
    """
    key = "ecg" if "ecg" in batch else "image"
    out = model(**{key: batch[key], "text": batch["text"]})
    signal = out.ecg if key == "ecg" else out.image
    if signal is None or out.text is None:
        raise InvalidParameterError(f"pair_loss: the model returned no {key} or text embeddings")
    a, b = gather_features(signal), gather_features(out.text)
    if "group" not in batch:
        return clip_loss(a, b, out.logit_scale)
    groups = gather_labels(batch["group"].to(device=signal.device, dtype=torch.long))
    return unicl_loss(a, b, out.logit_scale, groups)


@torch.no_grad()
def embed_pairs(
    model: CLIPModel, dataset: Dataset[dict[str, Any]], *, batch_size: int = 128
) -> tuple[Tensor, Tensor]:
    """Normalised embeddings of every signal and text of ``dataset`` (eval mode)."""
    was_training = model.training
    model.eval()
    key = _signal_key(dataset)
    encode = model.encode_ecg if key == "ecg" else model.encode_image
    signals, texts = [], []
    device = model.logit_scale.device
    try:
        n = len(dataset)  # type: ignore[arg-type]
        for start in range(0, n, batch_size):
            batch = collate_pairs([dataset[i] for i in range(start, min(start + batch_size, n))])
            signals.append(encode(batch[key].to(device), normalize=True))
            texts.append(model.encode_text(batch["text"], normalize=True))
    finally:
        model.train(was_training)
    return torch.cat(signals), torch.cat(texts)


# ----------------------------------------------------------------------- evaluation


@dataclass
class AlignEvaluation:
    """Retrieval in both directions and zero-shot accuracies on one split."""

    task: str
    split: str
    n: int
    retrieval: RetrievalMetrics  # signal (a) ↔ text (b), strict pairs
    retrieval_same_text: RetrievalMetrics  # identical texts count as correct
    zero_shot: dict[str, float] = field(default_factory=dict)  # accuracy per label
    zero_shot_chance: dict[str, float] = field(default_factory=dict)  # majority-class rate

    def to_dict(self) -> dict[str, float]:
        """Flat metrics: ``a_to_b_R@10`` (signal→text), ``b_to_a_R@10``, ``zs_<label>``..."""
        out = dict(self.retrieval.to_dict())
        out |= {f"same_text_{k}": v for k, v in self.retrieval_same_text.to_dict().items()}
        out["chance_R@10"] = self.retrieval.chance_recall(10)
        out |= {f"zs_{k}": v for k, v in self.zero_shot.items()}
        out |= {f"zs_{k}_majority": v for k, v in self.zero_shot_chance.items()}
        return out

    def to_frame(self) -> pd.DataFrame:
        """Retrieval table (directions x R@k / ranks)."""
        return self.retrieval.to_frame()


def _zero_shot(
    model: CLIPModel, emb: Tensor, labels: np.ndarray, classes: dict[str, list[str]],
    templates: Sequence[str],
) -> tuple[float, float]:  # fmt: skip
    keep = np.isin(labels, list(classes))
    if not keep.any():
        return float("nan"), float("nan")
    clf = ZeroShotClassifier(
        lambda p: model.encode_text(p, normalize=True), classes, templates=templates
    )
    truth = labels[keep]
    accuracy = clf.score(emb[torch.as_tensor(keep)], truth)
    majority = float(pd.Series(truth).value_counts(normalize=True).iloc[0])
    return float(accuracy), majority


def medpix_prompts() -> dict[str, tuple[dict[str, list[str]], tuple[str, ...]]]:
    """Classes and templates of the MedPix zero-shot tasks (modality, region, plane).

    Templates mirror the structured header of the training texts ("CT, axial, head")
    and add plain sentences ("a CT image of the head").
    """
    regions = [d[0] for d in _REGIONS.values()]
    modality_templates = tuple(
        [f"{{}}, {p}, {r}" for p in _PLANES for r in regions]
        + [f"a {{}} image of the {r}" for r in regions]
    )
    region_templates = tuple(
        [f"{m}, {p}, {{}}" for m in MODALITIES for p in _PLANES]
        + [f"a {m} image of the {{}}" for m in MODALITIES]
    )
    plane_templates = tuple(
        [f"{m}, {{}}, {r}" for m in MODALITIES for r in regions]
        + [f"a {{}} {m} image" for m in MODALITIES]
    )
    return {
        "modality": ({"CT": ["CT"], "MR": ["MR"]}, modality_templates),
        "location_category": (dict(_REGIONS), region_templates),
        "plane": ({p.capitalize(): [p] for p in _PLANES}, plane_templates),
    }


def _retrievals(
    a: Tensor, b: Tensor, texts: Sequence[str], name: str
) -> tuple[RetrievalMetrics, RetrievalMetrics]:
    names = (name, "text")
    strict = retrieval_metrics(a, b, names=names)
    same = retrieval_metrics(a, b, ids=np.asarray(texts, dtype=object), names=names)
    return strict, same


def evaluate_medpix(
    model: CLIPModel, dataset: ImageTextPairs, *, split: str = ""
) -> AlignEvaluation:
    """Retrieval and zero-shot modality / body region / plane accuracy on MedPix pairs."""
    images, texts = embed_pairs(model, dataset)
    strict, same = _retrievals(images, texts, dataset.texts, "image")
    result = AlignEvaluation("medpix", split, len(dataset), strict, same)
    for label, (classes, templates) in medpix_prompts().items():
        values = dataset.labels[label].astype(str).to_numpy()
        acc, chance = _zero_shot(model, images, values, classes, templates)
        result.zero_shot[label] = acc
        result.zero_shot_chance[label] = chance
    return result


ECG_PROMPTS: dict[str, list[str]] = {
    "normal": ["normal ECG", "sinus rhythm, normal ECG", "sinusrhythmus normales ekg"],
    "abnormal": [
        "abnormal ECG",
        "myocardial infarction",
        "ST-T changes",
        "conduction disturbance, bundle branch block",
        "left ventricular hypertrophy",
        "pathologisches ekg",
    ],
}


def evaluate_ecg(model: CLIPModel, dataset: ECGTextPairs, *, split: str = "") -> AlignEvaluation:
    """Retrieval and zero-shot normal-vs-abnormal accuracy on PTB-XL ECG ↔ text pairs."""
    ecgs, texts = embed_pairs(model, dataset)
    strict, same = _retrievals(ecgs, texts, dataset.texts, "ECG")
    result = AlignEvaluation("ptbxl", split, len(dataset), strict, same)
    labels = dataset.labels["normal"].astype(str).to_numpy()
    acc, chance = _zero_shot(model, ecgs, labels, ECG_PROMPTS, ("{}",))
    result.zero_shot["normal"] = acc
    result.zero_shot_chance["normal"] = chance
    return result


# ---------------------------------------------------------------------------- tasks


class Task(Protocol):
    """What ``medmodal align`` needs from a data set."""

    @property
    def name(self) -> str: ...  # the registry name
    @property
    def default_model(self) -> str: ...  # model config trained by default
    @property
    def default_text(self) -> str: ...  # text kind loaded by default
    @property
    def modalities(self) -> tuple[str, ...]: ...  # towers the model needs
    @property
    def train_split(self) -> str: ...
    @property
    def val_split(self) -> str: ...

    def load(
        self, split: str, *, root: PathLike | None = None, image_size: int = 0,
        augment: bool = False, seed: int = 0, text: str = "",
    ) -> Any: ...  # fmt: skip

    def evaluate(self, model: CLIPModel, dataset: Any, *, split: str) -> AlignEvaluation: ...


@dataclass(frozen=True)
class MedPixTask:
    """MedPix 2.0 images ↔ structured captions."""

    name: str = "medpix"
    default_model: str = "medpix-clip"
    default_text: str = "structured"
    modalities: tuple[str, ...] = ("image", "text")
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
        """
        if text not in ("structured", "caption"):
            raise InvalidParameterError(
                f"medpix: text must be 'structured' or 'caption', got {text!r}"
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

    def evaluate(self, model: CLIPModel, dataset: Any, *, split: str = "") -> AlignEvaluation:
        return evaluate_medpix(model, dataset, split=split)


@dataclass(frozen=True)
class PTBXLTask:
    """PTB-XL 12-lead ECGs ↔ reports (or English SCP statement texts)."""

    name: str = "ptbxl"
    default_model: str = "ecg-text-clip"
    default_text: str = "report"
    modalities: tuple[str, ...] = ("ecg", "text")
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

    def evaluate(self, model: CLIPModel, dataset: Any, *, split: str = "") -> AlignEvaluation:
        return evaluate_ecg(model, dataset, split=split)


#: Alignment data sets by name.
TASKS: Registry[Callable[[], Task]] = Registry("alignment data set")
TASKS.add("medpix", MedPixTask, description="MedPix 2.0 CT/MR images and captions")
TASKS.add("ptbxl", PTBXLTask, aliases=("ptb-xl",), description="PTB-XL ECGs and reports")


def get_task(name: str) -> Task:
    """The task registered as ``name``."""
    return TASKS.get(name)()


def check_model_fits(model: CLIPModel, task: Task) -> None:
    """Raise unless ``model`` has the towers ``task`` needs."""
    missing = [m for m in task.modalities if m not in model.modalities]
    if missing:
        raise InvalidParameterError(
            f"model {model.config.name!r} encodes {', '.join(model.modalities)} but the "
            f"{task.name!r} data need {', '.join(task.modalities)}"
        )
