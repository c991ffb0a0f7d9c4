"""What the strategies share: encoders built by kind, pooled encodings, modality dropout."""

from __future__ import annotations

import pytest
import torch

from medmodal.fusion import FUSION_METHODS
from medmodal.fusion._base import ModalitySpec
from medmodal.fusion.config import FusionConfig
from medmodal.fusion.early import EarlyFusion
from medmodal.fusion.encoders import EmbeddingEncoder, SignalEncoder, TabularEncoder

SPECS = (
    ModalitySpec("clinical", "tabular", (5,)),
    ModalitySpec("ecg", "signal", (2, 64)),
    ModalitySpec("text", "embedding", (12,)),
)
CFG = FusionConfig(hidden=8, signal_width=4, signal_depth=2, num_heads=2, modality_dropout=0.5)


@pytest.mark.parametrize("method", ["late", "intermediate", "gated", "attention"])
def test_every_strategy_encodes_each_modality_by_its_kind(method: str) -> None:
    model = FUSION_METHODS.get(method)(SPECS, 3, CFG)
    kinds = [type(model.encoder(s.name)) for s in SPECS]
    assert kinds == [TabularEncoder, SignalEncoder, EmbeddingEncoder]
    inputs = {s.name: torch.randn(4, *s.shape) for s in SPECS}
    model.eval()
    assert [tuple(h.shape) for h in model.encode(inputs)] == [(4, 8)] * 3
    assert model.modality_dropout.p == 0.5


def test_early_fusion_encodes_only_signals() -> None:
    model = FUSION_METHODS.get("early")(SPECS, 3, CFG)
    assert isinstance(model, EarlyFusion)
    assert list(model.signal_encoders) == ["ecg"]
    assert model.build_encoders(kinds=("tabular", "embedding")).keys() == {"clinical", "text"}


def test_same_seed_same_encoder_weights_in_every_strategy() -> None:
    weights = []
    for method in ("late", "intermediate", "gated", "attention"):
        torch.manual_seed(0)
        model = FUSION_METHODS.get(method)(SPECS, 3, CFG)
        weights.append(torch.cat([p.flatten() for p in model.encoders.parameters()]))
    for w in weights[1:]:
        torch.testing.assert_close(w, weights[0], rtol=0, atol=0)
