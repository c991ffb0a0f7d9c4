"""Intermediate (joint) fusion: per-modality encoders into a joint latent, then a head.

Each modality is encoded to a ``hidden``-wide vector; a missing modality's vector is a
learned "missing" embedding. The vectors are concatenated and classified by an MLP, and
the whole network is trained end to end, so the head can model interactions between
modalities that late fusion cannot.

References:
    Huang SC, Pareek A, Seyyedi S, Banerjee I, Lungren MP. Fusion of medical imaging and
    electronic health records using deep learning: a systematic review and implementation
    guidelines. npj Digit Med 3, 136 (2020).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from medmodal.fusion._base import FUSION_METHODS, FusionModel, FusionOutput
from medmodal.fusion.missing import MissingEmbedding
from medmodal.models.layers import MLP


@FUSION_METHODS.register(
    "intermediate",
    aliases=("joint", "mid"),
    description="per-modality encoders -> concatenated latent -> MLP head (end to end)",
)
class IntermediateFusion(FusionModel):
    """``head([enc_1(x_1), ..., enc_M(x_M)])`` with learned embeddings for missing ones."""

    def build_layers(self) -> None:
        """Encoders, missing embeddings and the head over the concatenated latent."""
        cfg, d, m = self.config, self.config.hidden, len(self.specs)
        self.encoders = self.build_encoders()
        self.missing = MissingEmbedding(m, d)
        self.head = MLP(
            m * d, self.num_outputs, hidden=d, depth=max(cfg.depth, 1), dropout=cfg.dropout
        )

    def forward(
        self, inputs: Mapping[str, Tensor], present: Tensor, *, need_weights: bool = False
    ) -> FusionOutput:
        """Encode, fill missing modalities, concatenate, classify."""
        present = self.modality_dropout(present)
        h = torch.stack(self.encode(inputs), dim=1)  # (B, M, D)
        h = self.missing(h, present)
        return FusionOutput(self.head(h.flatten(1)))  # (B, K)
