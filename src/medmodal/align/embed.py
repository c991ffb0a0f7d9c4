"""Embed every pair of a data set, and the retrieval evaluation built on it.

:func:`embed_pairs` runs ``model.encode_<modality>(x, normalize=True)`` over a whole data
set in eval mode (batch by batch, no gradient); :func:`retrieval_evaluate` ranks the
result with :func:`~medmodal.align.retrieval_metrics` and is the ``evaluate`` that
:func:`medmodal.train.fit` calls (:func:`retrieval_evaluator` binds its options).

Example:
    >>> import numpy as np, torch
    >>> from medmodal.align import ECGTextPairs, embed_pairs
    >>> from medmodal.models import create_model
    >>> _ = torch.manual_seed(0)
    >>> model = create_model("ecg-text-clip", ecg={"width": 8, "depth": 2})
    >>> pairs = ECGTextPairs(np.zeros((3, 12, 250), np.float32), ["a", "b", "c"])
    >>> emb = embed_pairs(model, pairs, modalities=("ecg", "text"))
    >>> tuple(emb.a.shape), tuple(emb.b.shape), tuple(emb.similarity().shape)
    ((3, 128), (3, 128), (3, 3))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import Dataset, default_collate

from medmodal.align.contrastive import check_modalities
from medmodal.align.retrieval import retrieval_metrics
from medmodal.errors import InvalidParameterError

__all__ = [
    "EvaluateFn",
    "PairEmbeddings",
    "embed_pairs",
    "retrieval_evaluate",
    "retrieval_evaluator",
]

#: ``evaluate(model, dataset) -> {metric: value}`` (what :func:`medmodal.train.fit` calls).
EvaluateFn = Callable[[nn.Module, Dataset[Any]], Mapping[str, float]]


@dataclass(frozen=True)
class PairEmbeddings:
    """The unit embeddings of every pair of a data set, in data set order.

    Attributes:
        a: ``(N, D)`` float32 embeddings of the first modality (image, ECG).
        b: ``(N, D)`` float32 embeddings of the second (text).
        ids: the items' ``ids_key`` values (e.g. the case), or ``None``.
    """

    a: Tensor
    b: Tensor
    ids: tuple[object, ...] | None = None

    def similarity(self) -> np.ndarray:
        """``(N, N)`` cosine similarity, rows ``a`` and columns ``b``."""
        return (self.a @ self.b.T).numpy()


@torch.no_grad()
def embed_pairs(
    model: nn.Module,
    dataset: Dataset[Any],
    *,
    modalities: tuple[str, str] = ("image", "text"),
    batch_size: int = 128,
    collate_fn: Callable[[list[Any]], Any] | None = None,
    ids_key: str | None = None,
) -> PairEmbeddings:
    """Normalised embeddings of both modalities of every pair (eval mode, then restored).

    The global random state is left untouched, so evaluating between two steps of a
    seeded run does not change the run.

    Args:
        model: a model with ``encode_<a>`` and ``encode_<b>(x, normalize=True)`` methods.
        dataset: items are dicts with the two modality keys.
        modalities: ``(a, b)``, e.g. ``("ecg", "text")``.
        batch_size: pairs embedded at once.
        collate_fn: batches items (default: torch's ``default_collate``; texts become
            lists of str either way).
        ids_key: optional item key of a group id, kept in :attr:`PairEmbeddings.ids`.

    Returns:
        The :class:`PairEmbeddings`.

    Raises:
        InvalidParameterError: bad ``modalities`` or ``batch_size``, or a model without
            the encoders.
    """
    a_key, b_key = check_modalities(modalities, "embed_pairs")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidParameterError(f"embed_pairs: batch_size={batch_size!r}; expected an int >= 1")
    encoders = [_encoder(model, key) for key in (a_key, b_key)]
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    parts: tuple[list[Tensor], list[Tensor], list[object]] = ([], [], [])
    collate = collate_fn if collate_fn is not None else default_collate
    n = len(dataset)  # type: ignore[arg-type]
    try:  # batches by hand: a DataLoader would draw from the global torch RNG
        for start in range(0, n, batch_size):
            batch = collate([dataset[i] for i in range(start, min(start + batch_size, n))])
            batch = _to_device(batch, device)
            parts[0].append(encoders[0](batch[a_key], normalize=True).float())
            parts[1].append(encoders[1](batch[b_key], normalize=True).float())
            if ids_key is not None:
                ids = batch[ids_key]
                parts[2].extend(ids.cpu().tolist() if isinstance(ids, Tensor) else list(ids))
    finally:
        model.train(was_training)
    ids_out = tuple(parts[2]) if ids_key is not None else None
    return PairEmbeddings(torch.cat(parts[0]), torch.cat(parts[1]), ids_out)


def retrieval_evaluate(
    model: nn.Module,
    dataset: Dataset[Any],
    *,
    modalities: tuple[str, str] = ("image", "text"),
    batch_size: int = 128,
    collate_fn: Callable[[list[Any]], Any] | None = None,
    ids_key: str | None = None,
    ks: Sequence[int] = (1, 5, 10),
) -> dict[str, float]:
    """Cross-modal retrieval metrics of a whole data set (an ``evaluate`` for ``fit``).

    Every pair is embedded by :func:`embed_pairs`, then
    :func:`medmodal.align.retrieval_metrics` ranks all candidates.

    Args:
        model, dataset, modalities, batch_size, collate_fn: as for :func:`embed_pairs`.
        ids_key: optional item key of a group id (e.g. the case): candidates sharing
            the query's id count as correct.
        ks: recall cut-offs.

    Returns:
        A flat ``{metric: value}`` dict: ``a_to_b_R@k``, ``b_to_a_R@k``, ``mean_R@k``,
        ``*_median_rank`` and ``*_mean_rank`` (monitor e.g. ``"mean_R@10"``, ``"max"``).
    """
    a_key, b_key = check_modalities(modalities, "retrieval_evaluate")
    emb = embed_pairs(
        model, dataset, modalities=(a_key, b_key), batch_size=batch_size,
        collate_fn=collate_fn, ids_key=ids_key,
    )  # fmt: skip
    ids: list[Any] | None = list(emb.ids) if emb.ids is not None else None
    metrics = retrieval_metrics(emb.a, emb.b, ids=ids, ks=ks, names=(a_key, b_key)).to_dict()
    metrics.pop("n", None)
    return metrics


def retrieval_evaluator(
    modalities: tuple[str, str] = ("image", "text"), **kwargs: Any
) -> EvaluateFn:
    """:func:`retrieval_evaluate` with its options bound: ``fit(..., evaluate=...)``."""
    check_modalities(modalities, "retrieval_evaluator")
    return partial(retrieval_evaluate, modalities=modalities, **kwargs)


def _to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return {k: _to_device(v, device) for k, v in batch.items()}
    return batch


def _encoder(model: nn.Module, key: str) -> Callable[..., Tensor]:
    encode = getattr(model, f"encode_{key}", None)
    if not callable(encode):
        raise InvalidParameterError(
            f"embed_pairs: {type(model).__name__} has no encode_{key}() method"
        )
    return encode
