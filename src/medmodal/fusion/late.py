"""Late (decision-level) fusion: one model per modality, their posteriors combined.

Each modality has its own encoder and linear head, trained on its own loss only (as
separate models would be): in training mode the combiner sees their outputs with
gradients stopped. In eval mode nothing is stopped, so the fused logits are differentiable
end to end (Integrated Gradients and Grad-CAM reach every modality's input). The
combiners:

- ``mean``: average of the present modalities' posteriors (the classic late fusion);
- ``weighted``: a learned softmax weight per modality (renormalised over present ones);
- ``stacking``: a linear model on the per-modality logits and presence flags.

Every combiner is a sum of per-modality terms fed through a monotone link, so late fusion
cannot represent a label that depends on an interaction between modalities (e.g. an XOR
of signs of one factor in each): see ``benchmarks/results/fusion_synthetic.md``.

References:
    Wolpert DH. Stacked generalization. Neural Networks 5(2) (1992).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from medmodal.fusion._base import FUSION_METHODS, FusionModel, FusionOutput

_EPS = 1e-6


@FUSION_METHODS.register(
    "late",
    aliases=("decision",),
    description="per-modality models; posteriors averaged, weighted or stacked (combiner=)",
)
class LateFusion(FusionModel):
    """Per-modality models combined at the decision level."""

    def build_layers(self) -> None:
        """Encoders, a linear head per modality and the weighted / stacking combiners."""
        m, k = len(self.specs), self.num_outputs
        self.encoders = self.build_encoders()
        self.heads = nn.ModuleList(nn.Linear(self.config.hidden, k) for _ in range(m))
        self.weight_logits = nn.Parameter(torch.zeros(m))  # weighted
        self.stack = nn.Linear(m * k + m, k)  # stacking

    def _probs(self, logits: Tensor) -> Tensor:
        return torch.sigmoid(logits) if self.multilabel else logits.softmax(dim=-1)

    def _to_logits(self, p: Tensor) -> Tensor:
        p = p.clamp(_EPS, 1 - _EPS)
        return torch.log(p) - torch.log1p(-p) if self.multilabel else torch.log(p)

    def forward(
        self, inputs: Mapping[str, Tensor], present: Tensor, *, need_weights: bool = False
    ) -> FusionOutput:
        """Per-modality logits ``(B, M, K)`` and their combination ``(B, K)``."""
        present = self.modality_dropout(present)
        per = torch.stack(
            [head(h) for head, h in zip(self.heads, self.encode(inputs), strict=True)], dim=1
        )  # (B, M, K)
        # training: the combiner does not train the modality models; eval: end to end
        fixed = per.detach() if self.training else per
        combiner = self.config.combiner
        if combiner == "stacking":
            x = torch.cat([(fixed * present[..., None]).flatten(1), present.float()], dim=1)
            return FusionOutput(self.stack(x), modality_logits=per)
        w = present.float()  # (B, M)
        if combiner == "weighted":
            w = w * self.weight_logits.softmax(dim=0)
        w = w / w.sum(dim=1, keepdim=True).clamp_min(_EPS)
        p = (w[..., None] * self._probs(fixed)).sum(dim=1)  # (B, K)
        none = ~present.any(dim=1, keepdim=True)
        prior = 0.5 if self.multilabel else 1.0 / p.shape[1]  # nothing present: no opinion
        p = torch.where(none, torch.full_like(p, prior), p)
        return FusionOutput(self._to_logits(p), modality_logits=per)
