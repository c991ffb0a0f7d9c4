"""Modality encoders: one per kind, its output shapes, and the sample shapes it refuses."""

from __future__ import annotations

import pytest
import torch

from medmodal.errors import InvalidParameterError
from medmodal.fusion._base import ModalitySpec
from medmodal.fusion.config import FusionConfig
from medmodal.fusion.encoders import build_encoder, default_kind

CFG = FusionConfig(hidden=8, signal_width=4, signal_depth=1)


@pytest.mark.parametrize(
    ("kind", "shape", "tokens"),
    [("tabular", (5,), 5), ("embedding", (6,), 1), ("embedding", (3, 6), 3)],
)
def test_pooled_and_token_shapes(kind: str, shape: tuple[int, ...], tokens: int) -> None:
    enc = build_encoder(ModalitySpec("m", kind, shape), CFG)
    x = torch.zeros(2, *shape)
    assert enc(x).shape == (2, 8)
    assert enc.tokens(x).shape == (2, tokens, 8)
    assert enc.num_tokens == tokens


def test_signal_tokens_are_strided_time_steps() -> None:
    enc = build_encoder(ModalitySpec("ecg", "signal", (2, 64)), CFG)
    x = torch.zeros(2, 2, 64)
    assert enc(x).shape == (2, 8)
    assert enc.tokens(x).shape == (2, enc.num_tokens, 8)
    assert 1 <= enc.num_tokens < 64


@pytest.mark.parametrize(
    ("kind", "shape", "message"),
    [
        ("tabular", (2, 3),
         "tabular modality 'm' needs (n, features) data, got sample shape (2, 3)"),
        ("signal", (5,), "signal modality 'm' needs (n, leads, time) data, got sample shape (5,)"),
        ("embedding", (1, 2, 3),
         "embedding modality 'm' needs (n, E) or (n, L, E) data, got sample shape (1, 2, 3)"),
    ],
)  # fmt: skip
def test_wrong_sample_rank_names_kind_modality_and_layout(
    kind: str, shape: tuple[int, ...], message: str
) -> None:
    with pytest.raises(InvalidParameterError) as err:
        build_encoder(ModalitySpec("m", kind, shape), CFG)
    assert str(err.value) == message


def test_default_kind_by_rank() -> None:
    assert default_kind((5,)) == "tabular"
    assert default_kind((2, 100)) == "signal"
    with pytest.raises(InvalidParameterError, match=r"kinds=.*embedding"):
        default_kind((1, 2, 3))
