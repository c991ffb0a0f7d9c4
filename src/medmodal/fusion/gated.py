"""Gated multimodal unit: a learned, per-sample convex combination of modality features.

``h_m = tanh(W_m enc_m(x_m))``; gates ``z = softmax_m(G [enc_1; ...; enc_M])`` per
feature dimension (a missing modality gets gate 0); ``h = sum_m z_m * h_m`` → head. With
two modalities this is the sigmoid gate of the original GMU.

References:
    Arevalo J, Solorio T, Montes-y-Gómez M, González FA. Gated multimodal units for
    information fusion. ICLR workshop (2017).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from medmodal.fusion._base import FUSION_METHODS, FusionModel, FusionOutput
from medmodal.fusion.missing import MissingEmbedding
from medmodal.models.layers import MLP


@FUSION_METHODS.register(
    "gated", aliases=("gmu",), description="gated multimodal unit (per-sample modality gates)"
)
class GatedFusion(FusionModel):
    """Gated multimodal unit over M modalities."""

    def build_layers(self) -> None:
        """Encoders, missing embeddings, per-modality transforms, the gate and the head."""
        cfg, d, m = self.config, self.config.hidden, len(self.specs)
        self.encoders = self.build_encoders()
        self.missing = MissingEmbedding(m, d)
        self.transform = nn.ModuleList(nn.Linear(d, d) for _ in range(m))
        self.gate = nn.Linear(m * d, m * d)
        self.head = MLP(d, self.num_outputs, hidden=d, depth=cfg.depth, dropout=cfg.dropout)

    def forward(
        self, inputs: Mapping[str, Tensor], present: Tensor, *, need_weights: bool = False
    ) -> FusionOutput:
        """Gate the modalities' transformed features and classify their mixture."""
        present = self.modality_dropout(present)
        e = torch.stack(self.encode(inputs), dim=1)  # (B, M, D)
        e = self.missing(e, present)
        h = torch.stack([torch.tanh(t(e[:, i])) for i, t in enumerate(self.transform)], dim=1)
        b, m, d = e.shape
        g = self.gate(e.flatten(1)).view(b, m, d)  # (B, M, D)
        g = g.masked_fill(~present[..., None], float("-inf"))
        z = torch.nan_to_num(g.softmax(dim=1), nan=0.0)  # no modality present -> all 0
        fused = (z * h).sum(dim=1)  # (B, D)
        return FusionOutput(self.head(fused), gates=z.mean(dim=2))
