"""The contrastive loss of a paired batch: one ``loss_fn(model, batch)`` for every task.

A model fits when ``model(**{a: batch[a], b: batch[b]})`` returns an object with the
L2-normalised embeddings as attributes named after the modalities (``out.image``,
``out.text``; ``out.image_embeds`` also works) and ``out.logit_scale`` (the log of the
scale), as :class:`medmodal.models.CLIPModel` does. Batches are dicts keyed by modality
(texts as lists of str), e.g. from :func:`~medmodal.align.collate_pairs`.

Without a group entry the loss is the symmetric InfoNCE of the diagonal
(:func:`~medmodal.align.clip_loss`, SigLIP-style bias included when the model has one);
when the batch holds ``batch[group_key]`` (ints), pairs of one group are all positives
of each other (:func:`~medmodal.align.unicl_loss`, UniCL). The loss is computed in
float32 outside autocast (bf16 embeddings are cast and re-normalised first). Under
``torchrun`` the embeddings (and groups) of every process are gathered first
(:func:`~medmodal.align.distributed.gather_features`), so each rank's negatives are the
whole global batch and the gradients equal those of one process on the concatenated batch.

Example:
    >>> import torch
    >>> from medmodal.align import contrastive_loss_fn
    >>> from medmodal.models import create_model
    >>> _ = torch.manual_seed(0)
    >>> model = create_model("ecg-text-clip", ecg={"width": 8, "depth": 2})
    >>> batch = {"ecg": torch.randn(4, 12, 250), "text": ["a", "b", "c", "d"]}
    >>> loss = contrastive_loss_fn(("ecg", "text"))(model, batch)
    >>> loss.ndim, bool(loss > 0)
    (0, True)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor, nn

from medmodal.align._checks import check_chunk_size
from medmodal.align.distributed import gather_features, gather_labels
from medmodal.align.loss import clip_loss
from medmodal.align.unicl import unicl_loss
from medmodal.errors import InvalidParameterError

__all__ = ["PairLossFn", "check_modalities", "contrastive_loss_fn"]

#: ``loss_fn(model, batch) -> scalar loss`` (what :func:`medmodal.train.fit` calls).
PairLossFn = Callable[[nn.Module, Mapping[str, Any]], Tensor]


def contrastive_loss_fn(
    modalities: tuple[str, str] = ("image", "text"),
    *,
    chunk_size: int | None = None,
    group_key: str | None = "group",
) -> PairLossFn:
    """A ``loss_fn(model, batch)``: gathered CLIP loss, UniCL when the batch has groups.

    Args:
        modalities: the two batch keys / model inputs to align, e.g. ``("ecg", "text")``.
        chunk_size: passed to :func:`medmodal.align.clip_loss` (memory-bounded exact
            loss for large global batches); ``None`` builds the full logit matrix. Not
            for grouped batches.
        group_key: batch key of the per-pair group ids (multi-positive, UniCL); ``None``
            ignores groups.

    Returns:
        ``loss_fn(model, batch) -> scalar`` in float32.

    Raises:
        InvalidParameterError: ``modalities`` are not two different names or
            ``chunk_size`` is not a positive int; when called: the batch lacks a
            modality, the model output lacks embeddings, or a grouped batch meets a
            chunked or biased loss.

    References:
        Radford et al. (2021), Learning transferable visual models from natural language
        supervision (CLIP). Yang et al. (2022), Unified contrastive learning in
        image-text-label space (UniCL).
    """
    a_key, b_key = check_modalities(modalities, "contrastive_loss_fn")
    chunk = check_chunk_size(chunk_size, "contrastive_loss_fn")

    def loss_fn(model: nn.Module, batch: Mapping[str, Any]) -> Tensor:
        _check_batch(batch, a_key, b_key)
        out = model(**{a_key: batch[a_key], b_key: batch[b_key]})
        a, b = _embeddings(out, a_key), _embeddings(out, b_key)
        bias = getattr(out, "logit_bias", None)
        groups = batch.get(group_key) if group_key is not None else None
        with torch.autocast(a.device.type, enabled=False):
            a, b = gather_features(a), gather_features(b)  # (global B, D)
            scale = out.logit_scale.float()
            if groups is None:
                return clip_loss(a, b, scale, logit_bias=bias, chunk_size=chunk)
            if bias is not None or chunk is not None:
                raise InvalidParameterError(
                    f"contrastive loss: a batch with {group_key!r} (UniCL) takes neither "
                    f"a logit bias nor chunk_size (got bias={bias is not None}, "
                    f"chunk_size={chunk})"
                )
            labels = torch.as_tensor(groups).to(device=a.device, dtype=torch.long)
            return unicl_loss(a, b, scale, gather_labels(labels))

    return loss_fn


def check_modalities(modalities: Any, where: str) -> tuple[str, str]:
    """``modalities`` as two different names, else :class:`InvalidParameterError`."""
    ok = isinstance(modalities, tuple | list) and len(modalities) == 2
    if not ok or not all(isinstance(m, str) for m in modalities) or modalities[0] == modalities[1]:
        raise InvalidParameterError(
            f"{where}: modalities must be two different names such as ('image', 'text'), "
            f"got {modalities!r}"
        )
    return str(modalities[0]), str(modalities[1])


def _check_batch(batch: object, a_key: str, b_key: str) -> None:
    if not isinstance(batch, Mapping) or a_key not in batch or b_key not in batch:
        keys = sorted(batch) if isinstance(batch, Mapping) else type(batch).__name__
        raise InvalidParameterError(
            f"contrastive loss: batches must be dicts with keys {a_key!r} and {b_key!r}, got {keys}"
        )


def _embeddings(out: object, key: str) -> Tensor:
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
