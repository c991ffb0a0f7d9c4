"""Projection heads: tower features → the shared embedding space.

Example:
    >>> import torch
    >>> from medmodal.models.config import HeadConfig
    >>> from medmodal.models.heads import build_head
    >>> build_head(HeadConfig(kind="mlp", hidden=32), 384, 64)(torch.zeros(5, 384)).shape
    torch.Size([5, 64])
    >>> build_head(HeadConfig(kind="linear"), 384, 64)(torch.zeros(5, 384)).shape
    torch.Size([5, 64])
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from medmodal.models.config import HeadConfig
from medmodal.models.layers import MLP
from medmodal.registry import Registry

#: Projection heads by name: ``build(config, in_dim, out_dim) -> nn.Module``.
HEADS: Registry[Callable[[HeadConfig, int, int], nn.Module]] = Registry("projection head")


@HEADS.register("linear", description="one linear map (CLIP)")
def _linear(config: HeadConfig, in_dim: int, out_dim: int) -> nn.Module:
    return nn.Linear(in_dim, out_dim)


@HEADS.register("mlp", description="Linear-LayerNorm-GELU-Dropout blocks, then Linear")
def _mlp(config: HeadConfig, in_dim: int, out_dim: int) -> nn.Module:
    return MLP(in_dim, out_dim, hidden=config.hidden, depth=config.depth, dropout=config.dropout)


def build_head(config: HeadConfig, in_dim: int, out_dim: int) -> nn.Module:
    """The projection head named by ``config.kind``: ``(B, in_dim)`` → ``(B, out_dim)``."""
    return HEADS.get(config.kind)(config, in_dim, out_dim)


__all__ = ["HEADS", "build_head"]
