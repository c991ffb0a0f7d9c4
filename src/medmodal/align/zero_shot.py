"""Zero-shot classification of image/ECG embeddings from class names and prompt templates.

Each class becomes a set of prompts (every template filled with every description of the
class); the text tower embeds them, the prompt embeddings are L2-normalised and averaged,
and the mean is renormalised: one unit vector per class ("prompt ensembling", CLIP §3.1.4).
An embedding is assigned to the class whose vector it is most cosine-similar to.

Example:
    >>> import torch
    >>> vocab = {"ct": torch.tensor([1.0, 0.0]), "mr": torch.tensor([0.0, 1.0])}
    >>> def encode_text(prompts):  # a toy text tower: keyword -> direction
    ...     return torch.stack([sum(v for k, v in vocab.items() if k in p) for p in prompts])
    >>> clf = ZeroShotClassifier(encode_text, {"CT": ["ct scan"], "MRI": ["mr image"]},
    ...                          templates=("{}", "a {} of the head"))
    >>> clf.predict(torch.tensor([[0.9, 0.1], [0.2, 0.7]])).tolist()
    ['CT', 'MRI']
    >>> clf.score(torch.tensor([[0.9, 0.1], [0.2, 0.7]]), ["CT", "CT"])
    0.5

References:
    Radford A, Kim JW, Hallacy C, et al. Learning transferable visual models from natural
    language supervision. ICML 2021 (zero-shot transfer, prompt ensembling).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor

from medmodal.align.similarity import normalize_rows
from medmodal.errors import InvalidParameterError
from medmodal.types import ArrayLike, FloatArray

#: Templates for medical images (``{}`` is replaced by a class description).
DEFAULT_TEMPLATES: tuple[str, ...] = (
    "{}",
    "a medical image of {}.",
    "a radiology image showing {}.",
    "an image of {}.",
)
#: Templates for ECG reports.
ECG_TEMPLATES: tuple[str, ...] = ("{}", "ECG showing {}.", "electrocardiogram: {}.")

TextEncoder = Callable[[list[str]], Tensor]
_WHERE = "ZeroShotClassifier"


def _check_classes(classes: object) -> dict[str, list[str]]:
    if isinstance(classes, Mapping):
        items = [(str(k), v) for k, v in classes.items()]
    elif isinstance(classes, Sequence) and not isinstance(classes, str):
        items = [(str(c), [str(c)]) for c in classes]
    else:
        raise InvalidParameterError(
            f"{_WHERE}: classes is a {type(classes).__name__}; give a list of class names or "
            "a dict {class name: [descriptions]}"
        )
    if len(items) < 2:
        raise InvalidParameterError(
            f"{_WHERE}: classes={classes!r}; give at least two classes to choose between"
        )
    out: dict[str, list[str]] = {}
    for name, descriptions in items:
        if name in out:
            raise InvalidParameterError(f"{_WHERE}: class {name!r} is listed twice")
        if isinstance(descriptions, str) or not isinstance(descriptions, Sequence):
            raise InvalidParameterError(
                f"{_WHERE}: class {name!r} maps to {descriptions!r}; give a list of strings"
            )
        if not descriptions or any(not str(d).strip() for d in descriptions):
            raise InvalidParameterError(
                f"{_WHERE}: class {name!r} has an empty description list or an empty "
                f"description ({descriptions!r}); give at least one non-empty string"
            )
        out[name] = [str(d) for d in descriptions]
    return out


def _check_templates(templates: object) -> tuple[str, ...]:
    if isinstance(templates, str) or not isinstance(templates, Sequence) or not templates:
        raise InvalidParameterError(
            f"{_WHERE}: templates={templates!r}; give a non-empty list of strings with '{{}}'"
        )
    for template in templates:
        if not isinstance(template, str) or template.count("{}") != 1:
            raise InvalidParameterError(
                f"{_WHERE}: template {template!r} must be a string containing '{{}}' exactly once"
            )
    return tuple(templates)


class ZeroShotClassifier:
    """Classify embeddings by similarity to ensembled class-prompt embeddings.

    The class embeddings are computed on first use (or by :meth:`fit`) with one call of
    ``encode_text`` under ``torch.no_grad()``.

    Args:
        encode_text: the text tower, ``list[str] -> (len, D)`` tensor (normalised or not).
        classes: class names (each used as its own description), or ``{name: [descriptions]}``
            (e.g. ``{"CT": ["computed tomography", "CT scan"]}``).
        templates: prompt templates with one ``{}``; every description fills every template.
        scale: multiplier of the cosine similarities before the softmax of
            :meth:`predict_proba` (``exp`` of a trained ``ClipLoss.logit_scale``; CLIP: 100).

    Attributes:
        classes_: ``(C,)`` class names, in order.
        class_embeddings_: ``(C, D)`` unit-norm class embeddings.
    """

    def __init__(
        self,
        encode_text: TextEncoder,
        classes: Mapping[str, Sequence[str]] | Sequence[str],
        templates: Sequence[str] = DEFAULT_TEMPLATES,
        *,
        scale: float = 100.0,
    ) -> None:
        if not callable(encode_text):
            raise InvalidParameterError(f"{_WHERE}: encode_text must be callable")
        if not np.isfinite(scale) or scale <= 0:
            raise InvalidParameterError(f"{_WHERE}: scale={scale}; it must be finite and > 0")
        self.encode_text = encode_text
        self.classes = classes
        self.templates = templates
        self.scale = scale
        self._descriptions = _check_classes(classes)
        self._templates = _check_templates(templates)

    @property
    def prompts(self) -> dict[str, list[str]]:
        """Every prompt of every class, in the order they are embedded."""
        return {
            name: [t.format(d) for d in descriptions for t in self._templates]
            for name, descriptions in self._descriptions.items()
        }

    def fit(self, x: object = None, y: object = None) -> ZeroShotClassifier:
        """Embed the prompts and build the class embeddings (nothing is learned from data)."""
        prompts = self.prompts
        flat = [p for ps in prompts.values() for p in ps]
        with torch.no_grad():
            emb = self.encode_text(flat)
        if not isinstance(emb, Tensor) or emb.ndim != 2 or emb.shape[0] != len(flat):
            shape = tuple(emb.shape) if isinstance(emb, Tensor) else type(emb).__name__
            raise InvalidParameterError(
                f"{_WHERE}: encode_text returned {shape} for {len(flat)} prompts; "
                f"expected a ({len(flat)}, D) tensor"
            )
        unit = normalize_rows(emb.detach().float(), "the prompt embeddings", _WHERE)
        means, start = [], 0
        for ps in prompts.values():
            means.append(unit[start : start + len(ps)].mean(dim=0))
            start += len(ps)
        self.class_embeddings_ = F.normalize(torch.stack(means), dim=-1)  # (C, D)
        self.classes_ = np.array(list(prompts), dtype=object)
        return self

    def _fitted(self) -> Tensor:
        if not hasattr(self, "class_embeddings_"):
            self.fit()
        return self.class_embeddings_

    def similarities(self, x: Tensor | ArrayLike) -> Tensor:
        """``(M, C)`` cosine similarity of each embedding with each class."""
        classes = self._fitted()
        tx = x if isinstance(x, Tensor) else torch.as_tensor(np.asarray(x, dtype=np.float32))
        if tx.ndim == 1:
            tx = tx[None]
        if tx.ndim != 2 or tx.shape[1] != classes.shape[1] or tx.shape[0] == 0:
            raise InvalidParameterError(
                f"{_WHERE}: embeddings have shape {tuple(tx.shape)}; expected (M, "
                f"{classes.shape[1]}) like the class embeddings"
            )
        unit = normalize_rows(tx.detach().float(), "x", _WHERE)
        return unit @ classes.to(unit.device).T  # (M, C)

    def predict_proba(self, x: Tensor | ArrayLike) -> FloatArray:
        """``(M, C)`` class probabilities: softmax of ``scale`` times the similarities."""
        return torch.softmax(self.scale * self.similarities(x), dim=1).double().cpu().numpy()

    def predict(self, x: Tensor | ArrayLike) -> np.ndarray:
        """``(M,)`` predicted class names."""
        best = self.similarities(x).argmax(dim=1).cpu().numpy()
        return np.asarray(self.classes_[best])

    def score(self, x: Tensor | ArrayLike, y: Sequence[str] | ArrayLike) -> float:
        """Accuracy of :meth:`predict` against true class names (or class indices)."""
        pred = self.predict(x)
        truth = np.asarray(y).ravel()
        if truth.size != pred.size:
            raise InvalidParameterError(
                f"{_WHERE}.score: {truth.size} labels for {pred.size} embeddings"
            )
        if truth.dtype.kind in "iu":
            if truth.size and (truth.min() < 0 or truth.max() >= len(self.classes_)):
                raise InvalidParameterError(
                    f"{_WHERE}.score: class index out of range 0..{len(self.classes_) - 1}"
                )
            truth = self.classes_[truth]
        unknown = sorted(set(map(str, truth)) - set(self.classes_))
        if unknown:
            raise InvalidParameterError(
                f"{_WHERE}.score: unknown labels {unknown[:5]}; classes are {list(self.classes_)}"
            )
        return float(np.mean(pred == truth.astype(object)))


__all__ = ["DEFAULT_TEMPLATES", "ECG_TEMPLATES", "ZeroShotClassifier"]
