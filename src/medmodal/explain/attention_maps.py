"""Cross-attention weights → relevance per time sample of a signal (an ECG trace).

:class:`~medmodal.fusion.attention.AttentionFusion` lets the tokens of each modality attend
to the concatenated tokens of the other modalities. The tokens of a signal modality are
the strided time steps of :class:`~medmodal.models.ecg_encoder.ECGEncoder1d`: token ``i``
sits over samples ``[i * s, (i + 1) * s)`` with stride ``s = 2 ** (depth + 1)``. This
module cuts the signal's keys out of every query modality's attention, averages (or
selects) heads and query tokens, and spreads each token's weight over its samples.

Example:
    >>> import numpy as np
    >>> from medmodal.explain.attention_maps import token_sample_ranges, tokens_to_samples
    >>> token_sample_ranges(3, 10, stride=4).tolist()
    [[0, 4], [4, 8], [8, 10]]
    >>> tokens_to_samples(np.array([0.5, 0.25, 0.25]), 10, stride=4).tolist()
    [0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from medmodal.errors import InvalidParameterError, NotFittedError
from medmodal.fusion import FusionClassifier
from medmodal.fusion.attention import AttentionFusion
from medmodal.types import ArrayLike

__all__ = [
    "AttentionMap",
    "attention_over_signal",
    "signal_stride",
    "token_sample_ranges",
    "tokens_to_samples",
]


@dataclass(frozen=True)
class AttentionMap:
    """Attention of the other modalities over one signal modality.

    Attributes:
        signal: the signal modality whose tokens are the keys.
        queries: the query modalities averaged into the map.
        heads: ``(n, H, T')`` attention per head on the signal's tokens (mean over the
            query tokens and query modalities).
        tokens: ``(n, T')`` the map on the tokens (selected heads averaged).
        relevance: ``(n, T)`` the map per input sample (each token's weight spread over
            its samples; a token's weight is not divided among them).
        stride: samples per token.
    """

    signal: str
    queries: tuple[str, ...]
    heads: np.ndarray
    tokens: np.ndarray
    relevance: np.ndarray
    stride: int

    def to_frame(self) -> pd.DataFrame:
        """One row per (sample, token): the token's sample range and its weight."""
        n, t = self.tokens.shape
        ranges = token_sample_ranges(t, self.relevance.shape[1], stride=self.stride)
        return pd.DataFrame(
            {
                "sample": np.repeat(np.arange(n), t),
                "token": np.tile(np.arange(t), n),
                "start": np.tile(ranges[:, 0], n),
                "stop": np.tile(ranges[:, 1], n),
                "weight": self.tokens.ravel(),
            }
        )


def token_sample_ranges(n_tokens: int, n_samples: int, *, stride: int | None = None) -> np.ndarray:
    """``(T', 2)`` half-open sample range ``[start, stop)`` under each token.

    Args:
        n_tokens: T'.
        n_samples: T, the input length.
        stride: samples per token (default ``ceil(T / T')``).
    """
    if n_tokens < 1 or n_samples < 1:
        raise InvalidParameterError(
            f"token_sample_ranges: n_tokens ({n_tokens}) and n_samples ({n_samples}) must be >= 1"
        )
    s = math.ceil(n_samples / n_tokens) if stride is None else int(stride)
    if s < 1 or (n_tokens - 1) * s >= n_samples:
        raise InvalidParameterError(
            f"token_sample_ranges: stride {s} does not fit {n_tokens} tokens into "
            f"{n_samples} samples"
        )
    start = np.arange(n_tokens) * s
    return np.stack([start, np.minimum(start + s, n_samples)], axis=1)


def tokens_to_samples(
    weights: ArrayLike, n_samples: int, *, stride: int | None = None
) -> np.ndarray:
    """Spread token weights ``(..., T')`` over the samples: ``(..., T)`` (piecewise constant)."""
    w = np.asarray(weights, dtype=np.float64)
    ranges = token_sample_ranges(w.shape[-1], n_samples, stride=stride)
    index = np.repeat(np.arange(len(ranges)), ranges[:, 1] - ranges[:, 0])  # (T,)
    return w[..., index]


def signal_stride(clf: FusionClassifier, signal: str) -> int:
    """Samples per token of the fitted signal encoder of ``signal``."""
    encoder = _encoders(clf)[signal]
    net = getattr(encoder, "net", None)
    depth = getattr(net, "depth", None)
    if depth is None:
        raise InvalidParameterError(
            f"signal_stride: modality {signal!r} is not encoded by a 1-D signal encoder"
        )
    return int(2 ** (depth + 1))


def attention_over_signal(
    clf: FusionClassifier,
    X: Mapping[str, ArrayLike],
    *,
    signal: str,
    queries: Sequence[str] | None = None,
    heads: int | Sequence[int] | None = None,
    masks: Mapping[str, ArrayLike] | None = None,
    renormalize: bool = True,
) -> AttentionMap:
    """Where the other modalities' tokens look on ``signal``, per time sample.

    Args:
        clf: a fitted ``FusionClassifier(method="attention")``.
        X: modality → array, as for ``predict``.
        signal: the signal modality (``(n, C, T)``) whose tokens are the keys.
        queries: query modalities to average (default: every other modality).
        heads: a head index or indices to keep (default: mean over all heads).
        masks: presence masks, as for ``predict``.
        renormalize: rescale each query's weights on the signal's tokens to sum to 1
            (the rest of its attention went to other modalities).

    Returns:
        An :class:`AttentionMap`; ``relevance`` has the signal's length.

    Raises:
        InvalidParameterError: not an attention model, ``signal`` is not a signal
            modality, or an unknown query or head.
    """
    names, spans = _key_layout(clf, signal)
    wanted = tuple(queries) if queries is not None else tuple(n for n in names if n != signal)
    bad = [q for q in wanted if q not in names or q == signal]
    if bad or not wanted:
        raise InvalidParameterError(
            f"attention_over_signal: queries must be other modalities of the model "
            f"{[n for n in names if n != signal]}, got {list(wanted)}"
        )
    out = clf.forward(X, masks=masks, need_weights=True)
    if out.attention is None:
        raise InvalidParameterError("attention_over_signal: the model returned no attention")
    per_query = []
    for q in wanted:
        start, stop = spans[q]
        w = out.attention[q][..., start:stop].double()  # (n, H, Tq, T')
        if renormalize:
            w = w / w.sum(dim=-1, keepdim=True).clamp_min(1e-12)
        per_query.append(w.mean(dim=2))  # (n, H, T')
    all_heads = torch.stack(per_query).mean(dim=0).numpy()  # (n, H, T')
    chosen = _heads(all_heads, heads)
    tokens = chosen.mean(axis=1)  # (n, T')
    stride = signal_stride(clf, signal)
    length = next(s.shape[-1] for s in clf.specs_ if s.name == signal)
    relevance = tokens_to_samples(tokens, length, stride=stride)
    return AttentionMap(signal, wanted, all_heads, tokens, relevance, stride)


def _encoders(clf: FusionClassifier) -> Mapping[str, torch.nn.Module]:
    if not hasattr(clf, "model_"):
        raise NotFittedError("FusionClassifier is not fitted yet: call fit(X, y) first")
    encoders = getattr(clf.model_, "encoders", None)
    if encoders is None:
        raise InvalidParameterError(f"explain: method {clf.method!r} has no per-modality encoders")
    return encoders


def _key_layout(
    clf: FusionClassifier, signal: str
) -> tuple[tuple[str, ...], dict[str, tuple[int, int]]]:
    """For each query modality, the ``[start, stop)`` of ``signal``'s tokens in its keys."""
    encoders = _encoders(clf)
    if not isinstance(clf.model_, AttentionFusion):
        raise InvalidParameterError(
            f"attention_over_signal: needs method='attention', got {clf.method!r}"
        )
    kinds = {s.name: s.kind for s in clf.specs_}
    if kinds.get(signal) != "signal":
        raise InvalidParameterError(
            f"attention_over_signal: signal must be a signal modality of the model "
            f"({[n for n, k in kinds.items() if k == 'signal']}), got {signal!r}"
        )
    names = tuple(clf.modalities_)
    sizes = {n: int(getattr(encoders[n], "num_tokens")) for n in names}  # noqa: B009
    spans: dict[str, tuple[int, int]] = {}
    for q in names:
        others = [n for n in names if n != q] or [q]
        if signal in others:
            start = sum(sizes[n] for n in others[: others.index(signal)])
            spans[q] = (start, start + sizes[signal])
    return names, spans


def _heads(weights: np.ndarray, heads: int | Sequence[int] | None) -> np.ndarray:
    if heads is None:
        return weights
    idx = [heads] if isinstance(heads, int) else list(heads)
    h = weights.shape[1]
    if not idx or any(not 0 <= i < h for i in idx):
        raise InvalidParameterError(
            f"attention_over_signal: heads must be indices in [0, {h}), got {heads!r}"
        )
    return weights[:, idx]
