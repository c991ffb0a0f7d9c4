"""Late fusion: gradients stop between modality models and combiner in training only."""

from __future__ import annotations

import pytest
import torch

from medmodal.fusion._base import ModalitySpec
from medmodal.fusion.config import FusionConfig
from medmodal.fusion.late import LateFusion

SPECS = (
    ModalitySpec("clinical", "tabular", (5,)),
    ModalitySpec("ecg", "signal", (2, 64)),
    ModalitySpec("text", "embedding", (12,)),
)

COMBINER_PARAMS = {"weighted": {"weight_logits"}, "stacking": {"stack.weight", "stack.bias"}}


def _model(combiner: str, multilabel: bool) -> tuple[LateFusion, dict[str, torch.Tensor]]:
    torch.manual_seed(0)
    cfg = FusionConfig(method="late", combiner=combiner, hidden=8, signal_width=4, signal_depth=2)
    model = LateFusion(SPECS, 3, cfg, multilabel=multilabel)
    inputs = {s.name: torch.randn(4, *s.shape, requires_grad=True) for s in SPECS}
    return model, inputs


@pytest.mark.parametrize("multilabel", [False, True])
@pytest.mark.parametrize("combiner", ["mean", "weighted", "stacking"])
def test_eval_output_is_differentiable_to_every_modality_input(
    combiner: str, multilabel: bool
) -> None:
    model, inputs = _model(combiner, multilabel)
    model.eval()
    present = torch.ones(4, 3, dtype=torch.bool)
    logits = model(inputs, present).logits  # (B, K)
    grads = torch.autograd.grad(logits[:, 1].sum(), list(inputs.values()))
    for name, g in zip(inputs, grads, strict=True):
        assert g.abs().sum(dim=tuple(range(1, g.ndim))).gt(0).all(), name  # every sample
    # a missing modality gets no gradient from the combination
    present[0, 0] = False
    logits = model(inputs, present).logits
    (g_clinical,) = torch.autograd.grad(logits[0].sum(), [inputs["clinical"]])
    assert float(g_clinical[0].abs().sum()) == 0.0
    assert float(g_clinical[1:].abs().sum()) == 0.0  # other samples do not enter logits[0]


@pytest.mark.parametrize("combiner", ["weighted", "stacking"])
def test_training_combiner_does_not_train_the_modality_models(combiner: str) -> None:
    model, inputs = _model(combiner, False)
    model.train()
    out = model(inputs, torch.ones(4, 3, dtype=torch.bool))
    out.logits.sum().backward()
    for name, p in model.named_parameters():
        if name in COMBINER_PARAMS[combiner]:
            assert p.grad is not None and float(p.grad.abs().sum()) > 0, name
        else:
            assert p.grad is None, name
    assert all(x.grad is None for x in inputs.values())
    assert out.modality_logits is not None and out.modality_logits.requires_grad  # own losses


def test_training_mean_combiner_has_no_gradient_path() -> None:
    model, inputs = _model("mean", False)
    model.train()
    assert not model(inputs, torch.ones(4, 3, dtype=torch.bool)).logits.requires_grad
