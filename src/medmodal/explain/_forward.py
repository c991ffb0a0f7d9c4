"""The fusion network's logits as a differentiable function of its inputs.

Late fusion trains its combiner on detached per-modality outputs (so the combiner does
not train the modality models); at explanation time that ``detach`` would cut every
gradient. For :class:`~medmodal.fusion.late.LateFusion` the combination is recomputed
here from the (attached) per-modality logits, exactly as ``LateFusion.forward`` does
(``tests/explain/test_forward.py`` checks that the two agree).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from medmodal.fusion._base import FusionModel
from medmodal.fusion.late import LateFusion


def fusion_logits(model: FusionModel, inputs: Mapping[str, Tensor], present: Tensor) -> Tensor:
    """``(B, K)`` logits of ``model`` (eval mode) through which gradients flow to ``inputs``."""
    out = model(inputs, present)
    if not isinstance(model, LateFusion) or out.modality_logits is None:
        return out.logits
    per = out.modality_logits  # (B, M, K), attached
    if model.config.combiner == "stacking":
        x = torch.cat([(per * present[..., None]).flatten(1), present.float()], dim=1)
        return model.stack(x)
    w = present.float()  # (B, M)
    if model.config.combiner == "weighted":
        w = w * model.weight_logits.softmax(dim=0)
    w = w / w.sum(dim=1, keepdim=True).clamp_min(1e-6)
    p = (w[..., None] * model._probs(per)).sum(dim=1)  # (B, K)
    none = ~present.any(dim=1, keepdim=True)
    prior = 0.5 if model.multilabel else 1.0 / p.shape[1]
    p = torch.where(none, torch.full_like(p, prior), p)
    return model._to_logits(p)
