"""Cross-attention between modality token sequences.

:class:`CrossAttentionFusion` is multi-head cross-attention on
:func:`torch.nn.functional.scaled_dot_product_attention` (fused kernels, no ``(Tq, Tk)``
matrix kept for backward when weights are not asked for), with key padding masks and
optional per-head weights. :class:`AttentionFusion` (``method="attention"``) lets each
modality's tokens attend to the tokens of the other modalities; a missing modality is
represented by its learned "missing" token.

Example:
    >>> import torch
    >>> from medmodal.fusion.attention import CrossAttentionFusion
    >>> _ = torch.manual_seed(0)
    >>> attn = CrossAttentionFusion(32, 4)
    >>> q, kv = torch.randn(2, 5, 32), torch.randn(2, 7, 32)
    >>> pad = torch.zeros(2, 7, dtype=torch.bool)
    >>> pad[1, 4:] = True  # the second sample has 4 real keys
    >>> out = attn(q, kv, key_padding_mask=pad, need_weights=True)
    >>> out.output.shape, out.weights.shape
    (torch.Size([2, 5, 32]), torch.Size([2, 4, 5, 7]))
    >>> float(out.weights[1, :, :, 4:].detach().abs().max())
    0.0

References:
    Vaswani A et al. Attention is all you need. NeurIPS (2017).
    Tsai YHH et al. Multimodal transformer for unaligned multimodal language sequences.
    ACL (2019).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor, nn

from medmodal.errors import InvalidParameterError
from medmodal.fusion._base import FUSION_METHODS, FusionModel, FusionOutput
from medmodal.fusion.missing import MissingEmbedding
from medmodal.models.layers import MLP


@dataclass
class AttentionOutput:
    """``output`` ``(B, Tq, D)``; ``weights`` ``(B, H, Tq, Tk)`` when asked for, else None."""

    output: Tensor
    weights: Tensor | None = None


class CrossAttentionFusion(nn.Module):
    """Multi-head cross-attention: queries from one sequence, keys/values from another.

    Numerically the same as :class:`torch.nn.MultiheadAttention` (``batch_first=True``)
    with the same projection weights.

    Args:
        dim: model width D (query, key and value inputs all have it).
        num_heads: H; ``dim`` must be divisible by it.
        dropout: dropout on the attention weights (training only).
    """

    def __init__(self, dim: int, num_heads: int, *, dropout: float = 0.0) -> None:
        super().__init__()
        if dim < 1 or num_heads < 1 or dim % num_heads:
            raise InvalidParameterError(
                f"CrossAttentionFusion: dim ({dim}) must be a positive multiple of "
                f"num_heads ({num_heads})"
            )
        if not 0 <= dropout < 1:
            raise InvalidParameterError(
                f"CrossAttentionFusion: dropout must be in [0, 1), got {dropout!r}"
            )
        self.dim, self.num_heads, self.head_dim = dim, num_heads, dim // num_heads
        self.dropout = dropout
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.out_proj = nn.Linear(dim, dim)

    def _heads(self, x: Tensor) -> Tensor:
        b, t, _ = x.shape
        return x.view(b, t, self.num_heads, self.head_dim).transpose(1, 2)  # (B, H, T, d)

    def forward(
        self,
        query: Tensor,
        key_value: Tensor,
        *,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = False,
    ) -> AttentionOutput:
        """Attend from ``query`` ``(B, Tq, D)`` to ``key_value`` ``(B, Tk, D)``.

        Args:
            query: ``(B, Tq, D)``.
            key_value: ``(B, Tk, D)``.
            key_padding_mask: ``(B, Tk)`` bool, ``True`` = ignore this key (PyTorch's
                convention). A sample whose keys are all ignored gets a zero output.
            need_weights: also return the ``(B, H, Tq, Tk)`` attention weights (computed
                explicitly; the fast fused path is used otherwise).
        """
        if query.ndim != 3 or key_value.ndim != 3 or query.shape[-1] != self.dim:
            raise InvalidParameterError(
                f"CrossAttentionFusion: expected (B, Tq, {self.dim}) and (B, Tk, {self.dim}), "
                f"got {tuple(query.shape)} and {tuple(key_value.shape)}"
            )
        b, tq, _ = query.shape
        q = self._heads(self.q_proj(query))  # (B, H, Tq, d)
        k = self._heads(self.k_proj(key_value))  # (B, H, Tk, d)
        v = self._heads(self.v_proj(key_value))  # (B, H, Tk, d)
        mask, empty = _attend_mask(key_padding_mask, key_value.shape[:2])
        p = self.dropout if self.training else 0.0
        weights: Tensor | None = None
        if need_weights:
            scores = q @ k.transpose(-2, -1) / self.head_dim**0.5  # (B, H, Tq, Tk)
            if mask is not None:
                scores = scores.masked_fill(~mask, float("-inf"))
            weights = scores.softmax(dim=-1)
            attended = F.dropout(weights, p, self.training) @ v  # (B, H, Tq, d)
        else:
            attended = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        out = self.out_proj(attended.transpose(1, 2).reshape(b, tq, self.dim))  # (B, Tq, D)
        if empty is not None:
            out = out.masked_fill(empty[:, None, None], 0.0)
            if weights is not None:
                weights = weights.masked_fill(empty[:, None, None, None], 0.0)
        return AttentionOutput(out, weights)


def _attend_mask(
    key_padding_mask: Tensor | None, shape: torch.Size
) -> tuple[Tensor | None, Tensor | None]:
    """SDPA's boolean mask (``True`` = attend) ``(B, 1, 1, Tk)`` and the all-ignored rows."""
    if key_padding_mask is None:
        return None, None
    if key_padding_mask.shape != shape:
        raise InvalidParameterError(
            f"CrossAttentionFusion: key_padding_mask must be (B, Tk) = {tuple(shape)}, "
            f"got {tuple(key_padding_mask.shape)}"
        )
    ignore = key_padding_mask.bool()
    empty = ignore.all(dim=1)  # (B,)
    if not bool(empty.any()):
        return (~ignore)[:, None, None, :], None
    ignore = ignore & ~empty[:, None]  # attend anywhere, zeroed afterwards
    return (~ignore)[:, None, None, :], empty


@FUSION_METHODS.register(
    "attention",
    aliases=("cross-attention", "xattn"),
    description="each modality's tokens cross-attend to the other modalities' tokens",
)
class AttentionFusion(FusionModel):
    """Cross-attention fusion with learned missing tokens.

    Every modality becomes a token sequence (plus a learned modality embedding). The
    tokens of modality ``m`` attend to the concatenated tokens of all other modalities
    (to themselves when there is only one), followed by a feed-forward block; the
    pooled result of every modality is concatenated and classified. A missing modality's
    tokens are replaced by its learned missing token, which stays visible to the others
    as a single key so they "know" it is absent.
    """

    def build_layers(self) -> None:
        """Encoders; per modality a type embedding, missing token, attention and FFN block."""
        cfg, d, m = self.config, self.config.hidden, len(self.specs)
        self.encoders = self.build_encoders()
        self.type_embed = nn.Parameter(torch.randn(m, d) * 0.02)  # (M, D)
        self.missing = MissingEmbedding(m, d)
        self.attn = nn.ModuleList(
            CrossAttentionFusion(d, cfg.num_heads, dropout=cfg.dropout) for _ in range(m)
        )
        self.norm1 = nn.ModuleList(nn.LayerNorm(d) for _ in range(m))
        self.norm2 = nn.ModuleList(nn.LayerNorm(d) for _ in range(m))
        self.ffn = nn.ModuleList(MLP(d, d, hidden=2 * d, depth=1) for _ in range(m))
        self.head = MLP(m * d, self.num_outputs, hidden=d, depth=cfg.depth, dropout=cfg.dropout)

    def _tokens(
        self, inputs: Mapping[str, Tensor], present: Tensor
    ) -> tuple[list[Tensor], list[Tensor]]:
        tokens, pads = [], []
        for i, name in enumerate(self.names):
            t = self.encoder(name).tokens(inputs[name]) + self.type_embed[i]  # (B, T_i, D)
            t = self.missing.fill_tokens(t, i, present[:, i])
            pad = torch.zeros(t.shape[:2], dtype=torch.bool, device=t.device)  # (B, T_i)
            pad[:, 1:] = ~present[:, i : i + 1]  # a missing modality shows one token
            tokens.append(t)
            pads.append(pad)
        return tokens, pads

    def forward(
        self, inputs: Mapping[str, Tensor], present: Tensor, *, need_weights: bool = False
    ) -> FusionOutput:
        """Cross-attend, pool each modality, classify the concatenation."""
        present = self.modality_dropout(present)
        tokens, pads = self._tokens(inputs, present)
        pooled, weights = [], {}
        for i, name in enumerate(self.names):
            others = [j for j in range(len(tokens)) if j != i] or [i]
            kv = torch.cat([tokens[j] for j in others], dim=1)  # (B, T_kv, D)
            pad = torch.cat([pads[j] for j in others], dim=1)  # (B, T_kv)
            att = self.attn[i](tokens[i], kv, key_padding_mask=pad, need_weights=need_weights)
            z = self.norm1[i](tokens[i] + att.output)  # (B, T_i, D)
            z = self.norm2[i](z + self.ffn[i](z))
            keep = (~pads[i]).float()[..., None]  # (B, T_i, 1)
            pooled.append((z * keep).sum(dim=1) / keep.sum(dim=1))  # (B, D)
            if att.weights is not None:
                weights[name] = att.weights
        logits = self.head(torch.cat(pooled, dim=1))  # (B, K)
        return FusionOutput(logits, attention=weights or None)
