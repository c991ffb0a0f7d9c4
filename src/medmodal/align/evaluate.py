"""Evaluate an aligned model: retrieval both ways and zero-shot classification from prompts.

:func:`evaluate_alignment` serves the tasks (:mod:`medmodal.align.tasks`): a data set of
labelled pairs gives strict and same-text retrieval plus one zero-shot accuracy per
label. :func:`evaluate_by_class` serves a cohort with one class per pair (e.g. simulated
rhythms): exact-partner and class-level retrieval, zero-shot accuracy and confusion.

Example:
    >>> import numpy as np, pandas as pd, torch
    >>> from medmodal.align import ECGTextPairs, evaluate_alignment, ptbxl_prompts
    >>> from medmodal.models import create_model
    >>> _ = torch.manual_seed(0)
    >>> model = create_model("ecg-text-clip", ecg={"width": 8, "depth": 2})
    >>> labels = pd.DataFrame({"normal": ["normal", "abnormal", "normal"]})
    >>> pairs = ECGTextPairs(np.zeros((3, 12, 250), np.float32), ["a", "b", "a"], labels)
    >>> ev = evaluate_alignment(model, pairs, modalities=("ecg", "text"),
    ...                         prompts=ptbxl_prompts(), task="ptbxl", split="toy")
    >>> ev.n, sorted(ev.zero_shot), round(ev.zero_shot_chance["normal"], 3)
    (3, ['normal'], 0.667)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from medmodal.align.embed import embed_pairs
from medmodal.align.pairs import collate_pairs
from medmodal.align.prompts import PromptSet
from medmodal.align.retrieval import retrieval_metrics
from medmodal.align.zero_shot import ECG_TEMPLATES, ZeroShotClassifier
from medmodal.metrics.proportion import wilson_interval
from medmodal.metrics.retrieval import RetrievalMetrics

__all__ = [
    "AlignEvaluation",
    "ClassAlignment",
    "LabelledPairs",
    "evaluate_alignment",
    "evaluate_by_class",
]


class LabelledPairs(Protocol):
    """A pair data set with its texts and a label table (one row per pair)."""

    texts: list[str]
    labels: pd.DataFrame

    def __len__(self) -> int: ...
    def __getitem__(self, i: int) -> dict[str, Any]: ...


@dataclass(frozen=True)
class AlignEvaluation:
    """Retrieval in both directions and zero-shot accuracies on one split."""

    task: str
    split: str
    n: int
    retrieval: RetrievalMetrics  # signal (a) ↔ text (b), strict pairs
    retrieval_same_text: RetrievalMetrics  # identical texts count as correct
    zero_shot: dict[str, float] = field(default_factory=dict)  # accuracy per label
    zero_shot_chance: dict[str, float] = field(default_factory=dict)  # majority-class rate
    zero_shot_n: dict[str, int] = field(default_factory=dict)  # items scored per label
    evaluation: str = ""  # the task's named evaluation ("prompted", "zero-shot")

    def zero_shot_interval(self, label: str, confidence: float = 0.95) -> tuple[float, float]:
        """Wilson interval of one zero-shot accuracy (NaNs when nothing was scored)."""
        n = self.zero_shot_n.get(label, 0)
        accuracy = self.zero_shot.get(label, float("nan"))
        if n < 1 or not np.isfinite(accuracy):
            return float("nan"), float("nan")
        return wilson_interval(round(accuracy * n), n, confidence=confidence)

    def to_dict(self) -> dict[str, float]:
        """Flat metrics: ``a_to_b_R@10`` (signal→text), ``b_to_a_R@10``, ``zs_<label>``,
        its Wilson 95 % interval ``zs_<label>_low`` / ``_high``, ``zs_<label>_n``..."""
        out = dict(self.retrieval.to_dict())
        out |= {f"same_text_{k}": v for k, v in self.retrieval_same_text.to_dict().items()}
        out["chance_R@10"] = self.retrieval.chance_recall(10)
        out |= {f"zs_{k}": v for k, v in self.zero_shot.items()}
        out |= {f"zs_{k}_majority": v for k, v in self.zero_shot_chance.items()}
        for label in self.zero_shot_n:
            low, high = self.zero_shot_interval(label)
            out |= {f"zs_{label}_low": low, f"zs_{label}_high": high}
            out[f"zs_{label}_n"] = float(self.zero_shot_n[label])
        return out

    def to_frame(self) -> pd.DataFrame:
        """Retrieval table (directions x R@k / ranks)."""
        return self.retrieval.to_frame()


def evaluate_alignment(
    model: nn.Module,
    dataset: LabelledPairs,
    *,
    modalities: tuple[str, str],
    prompts: Mapping[str, PromptSet],
    task: str = "",
    split: str = "",
    names: tuple[str, str] | None = None,
    batch_size: int = 128,
    evaluation: str = "",
) -> AlignEvaluation:
    """Strict and same-text retrieval, and zero-shot accuracy for each label of ``prompts``.

    Args:
        model: a model with ``encode_<modality>(x, normalize=True)`` methods.
        dataset: labelled pairs (:class:`~medmodal.align.ImageTextPairs`,
            :class:`~medmodal.align.ECGTextPairs`); ``dataset.labels[label]`` holds the
            truth of each zero-shot label.
        modalities: ``(signal, "text")`` keys of the items.
        prompts: label -> :class:`~medmodal.align.PromptSet`.
        task, split, evaluation: recorded in the result.
        names: the retrieval table's names of the two sides (default: ``modalities``).
        batch_size: pairs embedded at once.

    Returns:
        The :class:`AlignEvaluation`; a label whose truth has no prompted class scores NaN.
    """
    emb = embed_pairs(
        model, dataset, modalities=modalities, batch_size=batch_size,  # type: ignore[arg-type]
        collate_fn=collate_pairs,
    )  # fmt: skip
    names = names or modalities
    strict = retrieval_metrics(emb.a, emb.b, names=names)
    same = retrieval_metrics(emb.a, emb.b, ids=np.asarray(dataset.texts, dtype=object), names=names)
    encode_text = _text_encoder(model, modalities[1])
    accuracy, chance, counts = {}, {}, {}
    for label, prompt in prompts.items():
        truth = dataset.labels[label].astype(str).to_numpy()
        scored = _zero_shot(encode_text, emb.a, truth, prompt)
        accuracy[label], chance[label], counts[label] = scored
    return AlignEvaluation(
        task, split, len(dataset), strict, same, accuracy, chance, counts, evaluation
    )


def _text_encoder(model: nn.Module, key: str) -> Callable[[list[str]], Tensor]:
    encode = getattr(model, f"encode_{key}")
    return lambda prompts: encode(prompts, normalize=True)


def _zero_shot(
    encode_text: Callable[[list[str]], Tensor], emb: Tensor, labels: np.ndarray, prompt: PromptSet
) -> tuple[float, float, int]:
    keep = np.isin(labels, list(prompt.classes))
    if not keep.any():
        return float("nan"), float("nan"), 0
    clf = ZeroShotClassifier(encode_text, prompt.classes, templates=prompt.templates)
    truth = labels[keep]
    accuracy = clf.score(emb[torch.as_tensor(keep)], truth)
    majority = float(pd.Series(truth).value_counts(normalize=True).iloc[0])
    return float(accuracy), majority, int(keep.sum())


@dataclass(frozen=True)
class ClassAlignment:
    """Held-out pairs with one class each: retrieval, zero-shot calls and embeddings.

    Attributes:
        pairs: retrieval of the exact partner.
        by_class: retrieval where any text of the same class counts.
        zero_shot_accuracy: share of signals whose nearest class prompts are their class.
        zero_shot_confusion: true class (rows) x zero-shot call (columns) counts.
        similarity: ``(N, N)`` signal x text cosine similarity.
        a_embeddings, b_embeddings: ``(N, D)`` unit embeddings of signals and texts.
    """

    pairs: RetrievalMetrics
    by_class: RetrievalMetrics
    zero_shot_accuracy: float
    zero_shot_confusion: pd.DataFrame
    similarity: np.ndarray
    a_embeddings: np.ndarray
    b_embeddings: np.ndarray


@torch.no_grad()
def evaluate_by_class(
    model: nn.Module,
    signals: np.ndarray,
    texts: Sequence[str],
    labels: Sequence[str],
    classes: Mapping[str, Sequence[str]],
    *,
    modality: str = "ecg",
    names: tuple[str, str] = ("ECG", "report"),
    templates: Sequence[str] = ECG_TEMPLATES,
) -> ClassAlignment:
    """Evaluate ``model`` on pairs of one class each, encoded in one batch (eval mode).

    Args:
        model: a model with ``encode_<modality>`` and ``encode_text``.
        signals: the ``(N, ...)`` inputs of ``encode_<modality>`` (float32).
        texts: the ``N`` paired texts.
        labels: each pair's class, one of ``classes``.
        classes: class -> zero-shot descriptions, in confusion-table order.
        modality: the signal's modality (``"ecg"``, ``"image"``).
        names: the retrieval tables' names of the two sides.
        templates: prompt templates of the zero-shot classifier.

    Returns:
        The :class:`ClassAlignment`.
    """
    model.eval()
    truth = list(labels)
    a = getattr(model, f"encode_{modality}")(torch.from_numpy(signals), normalize=True)
    b = model.encode_text(list(texts), normalize=True)  # type: ignore[operator]
    pairs = retrieval_metrics(a, b, names=names)
    by_class = retrieval_metrics(a, b, ids=truth, names=names)
    zero_shot = ZeroShotClassifier(
        lambda p: model.encode_text(p, normalize=True),  # type: ignore[operator]
        {k: list(v) for k, v in classes.items()},
        templates=tuple(templates),
    )
    predicted = list(zero_shot.predict(a))
    order = list(classes)
    confusion = pd.crosstab(
        pd.Series(truth, name="true class"), pd.Series(predicted, name="zero-shot call")
    ).reindex(index=order, columns=order, fill_value=0)
    accuracy = float(np.mean([p == t for p, t in zip(predicted, truth, strict=True)]))
    sim = (a @ b.T).numpy()
    return ClassAlignment(pairs, by_class, accuracy, confusion, sim, a.numpy(), b.numpy())
