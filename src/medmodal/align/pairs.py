"""Paired data sets for contrastive training: images or ECGs with their texts.

Items are dicts keyed by modality (``"image"`` or ``"ecg"``, ``"text"``) plus the pair's
``"index"``; :func:`collate_pairs` stacks tensors and keeps texts as a list of str, the
batch layout :func:`~medmodal.align.contrastive_loss_fn` and
:func:`~medmodal.align.embed_pairs` read.

Example:
    >>> import numpy as np
    >>> from medmodal.align import ECGTextPairs, collate_pairs
    >>> pairs = ECGTextPairs(np.zeros((2, 12, 50), np.float32), ["normal ECG", "AF"])
    >>> batch = collate_pairs([pairs[0], pairs[1]])
    >>> tuple(batch["ecg"].shape), batch["text"], batch["index"].tolist()
    ((2, 12, 50), ['normal ECG', 'AF'], [0, 1])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor
from torch.utils.data import Dataset

from medmodal.data.image_transforms import ImageTransform
from medmodal.errors import InvalidParameterError

__all__ = ["ECGTextPairs", "ImageTextPairs", "collate_pairs"]


class ImageTextPairs(Dataset[dict[str, Any]]):
    """Square uint8 images (cached in memory) paired with texts.

    Items are ``{"image": (1, S, S) float32 tensor, "text": str, "index": int}``. For
    training, ``views`` holds shorter alternatives of each text (its first entry is the
    text itself): with probability ``view_rate`` an item's text is one of the others,
    drawn from a seeded stream (ConVIRT's sentence sampling). ``groups`` adds an int
    ``"group"`` to each item: pairs of one group are all positives of each other in
    :func:`~medmodal.align.contrastive_loss_fn` (UniCL).

    Raises:
        InvalidParameterError: the images, views or groups do not match the texts in
            number, or ``view_rate`` is outside [0, 1].
    """

    def __init__(
        self, images: np.ndarray, texts: Sequence[str], transform: ImageTransform,
        labels: pd.DataFrame | None = None, *, views: Sequence[Sequence[str]] | None = None,
        view_rate: float = 0.5, groups: Sequence[int] | np.ndarray | None = None,
        seed: int = 0,
    ) -> None:  # fmt: skip
        n = len(texts)
        if len(images) != n:
            raise InvalidParameterError(f"ImageTextPairs: {len(images)} images for {n} texts")
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

    def sample(self, n: int) -> ImageTextPairs:
        """``n`` pairs spread evenly over the set (file order kept), with the same
        transform, views and groups: a smoke run's subset that spans every class."""
        keep = _spread(len(self), n)
        return ImageTextPairs(
            self.images[keep], [self.texts[i] for i in keep], self.transform,
            self.labels.iloc[keep].reset_index(drop=True),
            views=None if self.views is None else [self.views[i] for i in keep],
            view_rate=self.view_rate,
            groups=None if self.groups is None else self.groups[keep],
            seed=int(self._rng.integers(2**31)),
        )  # fmt: skip

    def plain(self) -> ImageTextPairs:
        """The same images and texts without augmentation, text views or groups."""
        return ImageTextPairs(
            self.images,
            self.texts,
            ImageTransform(self.transform.size, mean=self.transform.mean, std=self.transform.std),
            self.labels,
        )


class ECGTextPairs(Dataset[dict[str, Any]]):
    """ECGs ``(N, leads, T)`` (float32, mV, clipped to ±5 mV) paired with texts.

    Items are ``{"ecg": (leads, T) tensor, "text": str, "index": int}``.

    Raises:
        InvalidParameterError: ``signals`` and ``texts`` differ in number.
    """

    def __init__(
        self, signals: np.ndarray, texts: Sequence[str], labels: pd.DataFrame | None = None
    ) -> None:
        if len(signals) != len(texts):
            raise InvalidParameterError(f"ECGTextPairs: {len(signals)} ECGs for {len(texts)} texts")
        self.signals = np.clip(signals, -5.0, 5.0).astype(np.float32)  # (N, 12, T)
        self.texts = list(texts)
        self.labels = labels if labels is not None else pd.DataFrame(index=range(len(texts)))

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"ecg": torch.from_numpy(self.signals[i]), "text": self.texts[i], "index": i}

    def sample(self, n: int) -> ECGTextPairs:
        """``n`` pairs spread evenly over the set (smoke runs)."""
        keep = _spread(len(self), n)
        labels = self.labels.iloc[keep].reset_index(drop=True)
        return ECGTextPairs(self.signals[keep], [self.texts[i] for i in keep], labels)


def _spread(size: int, n: int) -> np.ndarray:
    """``min(n, size)`` (at least 1) evenly spaced indices of ``range(size)``."""
    k = max(1, min(int(n), size))
    return np.unique(np.linspace(0, size - 1, k).round().astype(np.int64))


def collate_pairs(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack tensors, turn ints into a tensor, keep texts (and anything else) as a list."""
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
