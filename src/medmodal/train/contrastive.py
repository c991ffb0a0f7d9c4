"""The CLIP-style case of :func:`medmodal.train.fit`: a gathered contrastive loss_fn and a
retrieval evaluation.

A model fits when ``model(**{a: batch[a], b: batch[b]})`` returns an object with the
L2-normalised embeddings as attributes named after the modalities (``out.image``,
``out.text``; ``out.image_embeds`` also works) and ``out.logit_scale`` (the log of the
scale), and when it has ``encode_<modality>(x, normalize=True)`` methods, as
:class:`medmodal.models.CLIPModel` does. Batches are dicts keyed by modality (texts as
lists of str).

Under ``torchrun`` the loss gathers the embeddings of every process
(:func:`medmodal.align.distributed.gather_features`), so each rank's negatives are the
whole global batch and the gradients equal those of one process on the concatenated
batch.

Example:
    >>> from medmodal.train.contrastive import contrastive_loss_fn, retrieval_evaluator
    >>> loss_fn = contrastive_loss_fn(("image", "text"))
    >>> evaluate = retrieval_evaluator(("image", "text"), batch_size=64)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from medmodal.align import clip_loss, retrieval_metrics
from medmodal.align.distributed import gather_features
from medmodal.errors import InvalidParameterError
from medmodal.train.distributed import to_device
from medmodal.train.loop import EvaluateFn, LossFn


def contrastive_loss_fn(
    modalities: tuple[str, str] = ("image", "text"), *, chunk_size: int | None = None
) -> LossFn:
    """A ``loss_fn(model, batch)`` for :func:`~medmodal.train.fit`: gathered CLIP loss.

    Args:
        modalities: the two batch keys / model inputs to align, e.g. ``("ecg", "text")``.
        chunk_size: passed to :func:`medmodal.align.clip_loss` (memory-bounded exact
            loss for large global batches); ``None`` builds the full logit matrix.

    Returns:
        ``loss_fn(model, batch) -> scalar``. The loss is computed in float32 outside
        autocast (bf16 embeddings are cast and re-normalised first).
    """
    a_key, b_key = _check_modalities(modalities, "contrastive_loss_fn")

    def loss_fn(model: nn.Module, batch: Mapping[str, Any]) -> Tensor:
        if not isinstance(batch, Mapping) or a_key not in batch or b_key not in batch:
            keys = sorted(batch) if isinstance(batch, Mapping) else type(batch).__name__
            raise InvalidParameterError(
                f"contrastive loss: batches must be dicts with keys {a_key!r} and {b_key!r}, "
                f"got {keys}"
            )
        out = model(**{a_key: batch[a_key], b_key: batch[b_key]})
        a, b = _embeddings(out, a_key), _embeddings(out, b_key)
        with torch.autocast(a.device.type, enabled=False):
            a, b = gather_features(a), gather_features(b)  # (global B, D)
            bias = getattr(out, "logit_bias", None)
            return clip_loss(a, b, out.logit_scale.float(), logit_bias=bias, chunk_size=chunk_size)

    return loss_fn


@torch.no_grad()
def retrieval_evaluate(
    model: nn.Module,
    dataset: Dataset,
    *,
    modalities: tuple[str, str] = ("image", "text"),
    batch_size: int = 128,
    collate_fn: Callable[[list[Any]], Any] | None = None,
    ids_key: str | None = None,
    ks: Sequence[int] = (1, 5, 10),
) -> dict[str, float]:
    """Cross-modal retrieval metrics of a whole dataset (an ``evaluate`` for ``fit``).

    Every pair is embedded with ``model.encode_<modality>(x, normalize=True)`` in eval
    mode, then :func:`medmodal.align.retrieval_metrics` ranks all candidates.

    Args:
        model: a model with ``encode_<a>`` and ``encode_<b>`` methods.
        dataset: items are dicts with the two modality keys.
        modalities: ``(a, b)``; keys read ``a_to_b_R@k``, ``b_to_a_R@k``, ``mean_R@k``,
            ``*_median_rank`` and ``*_mean_rank``.
        batch_size: pairs embedded at once.
        collate_fn: batches items (default: ``default_collate``).
        ids_key: optional item key of a group id (e.g. the case): candidates sharing
            the query's id count as correct.
        ks: recall cut-offs.

    Returns:
        A flat ``{metric: value}`` dict (monitor e.g. ``"mean_R@10"`` with ``mode="max"``).
    """
    a_key, b_key = _check_modalities(modalities, "retrieval_evaluate")
    encoders = [_encoder(model, key) for key in (a_key, b_key)]
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    parts: tuple[list[Tensor], list[Tensor], list[Any]] = ([], [], [])
    try:
        loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=collate_fn)
        for batch in loader:
            batch = to_device(batch, device)
            parts[0].append(encoders[0](batch[a_key], normalize=True).float())
            parts[1].append(encoders[1](batch[b_key], normalize=True).float())
            if ids_key is not None:
                ids = batch[ids_key]
                parts[2].extend(ids.cpu().tolist() if isinstance(ids, Tensor) else list(ids))
    finally:
        model.train(was_training)
    metrics = retrieval_metrics(
        torch.cat(parts[0]),
        torch.cat(parts[1]),
        ids=parts[2] if ids_key is not None else None,
        ks=ks,
        names=(a_key, b_key),
    ).to_dict()
    metrics.pop("n", None)
    return metrics


def retrieval_evaluator(
    modalities: tuple[str, str] = ("image", "text"), **kwargs: Any
) -> EvaluateFn:
    """:func:`retrieval_evaluate` with its options bound: ``fit(..., evaluate=...)``."""
    _check_modalities(modalities, "retrieval_evaluator")
    return partial(retrieval_evaluate, modalities=modalities, **kwargs)


def _check_modalities(modalities: Any, where: str) -> tuple[str, str]:
    ok = isinstance(modalities, tuple | list) and len(modalities) == 2
    if not ok or not all(isinstance(m, str) for m in modalities) or modalities[0] == modalities[1]:
        raise InvalidParameterError(
            f"{where}: modalities must be two different names such as ('image', 'text'), "
            f"got {modalities!r}"
        )
    return str(modalities[0]), str(modalities[1])


def _embeddings(out: Any, key: str) -> Tensor:
    """``out.<key>`` (or ``out.<key>_embeds``) as float32 unit rows."""
    value = getattr(out, key, None)
    if value is None:
        value = getattr(out, f"{key}_embeds", None)
    if not isinstance(value, Tensor):
        raise InvalidParameterError(
            f"contrastive loss: the model output {type(out).__name__} has no {key!r} "
            "embeddings (expected an attribute named after the modality)"
        )
    if value.dtype != torch.float32:  # bf16 autocast: back to float32 unit vectors
        value = nn.functional.normalize(value.float(), dim=-1)
    return value


def _encoder(model: nn.Module, key: str) -> Callable[..., Tensor]:
    encode = getattr(model, f"encode_{key}", None)
    if not callable(encode):
        raise InvalidParameterError(
            f"retrieval_evaluate: {type(model).__name__} has no encode_{key}() method"
        )
    return encode
