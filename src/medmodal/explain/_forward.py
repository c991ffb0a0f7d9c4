"""The fusion network's logits as a differentiable function of its inputs.

Every strategy's ``forward`` is differentiable end to end in eval mode (late fusion stops
gradients between its modality models and its combiner in training mode only), so this
is the model's own ``logits``; explanations call it with the model in eval mode.
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor

from medmodal.fusion._base import FusionModel


def fusion_logits(model: FusionModel, inputs: Mapping[str, Tensor], present: Tensor) -> Tensor:
    """``(B, K)`` logits of ``model`` (eval mode) through which gradients flow to ``inputs``."""
    return model(inputs, present).logits
