"""Early fusion: concatenate the modalities' features (and presence flags), then one MLP.

Tabular and embedding inputs enter as they are (flattened); a signal, whose raw samples
are not features, enters through its 1-D CNN encoder. A missing modality enters as zeros
with its presence flag off.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from medmodal.fusion._base import FUSION_METHODS, FusionModel, FusionOutput
from medmodal.models.layers import MLP


@FUSION_METHODS.register(
    "early", aliases=("concat", "feature"), description="feature concatenation + one MLP"
)
class EarlyFusion(FusionModel):
    """Feature-level fusion: ``MLP([x_1, ..., x_M, present])``."""

    def build_layers(self) -> None:
        """Encoders for the signals only; one MLP over all features and presence flags."""
        cfg = self.config
        self.signal_encoders = self.build_encoders(kinds=("signal",))
        width = len(self.specs)
        for s in self.specs:
            width += cfg.hidden if s.kind == "signal" else int(torch.Size(s.shape).numel())
        self.head = MLP(
            width, self.num_outputs, hidden=cfg.hidden, depth=max(cfg.depth, 1),
            dropout=cfg.dropout,
        )  # fmt: skip

    def forward(
        self, inputs: Mapping[str, Tensor], present: Tensor, *, need_weights: bool = False
    ) -> FusionOutput:
        """Concatenate (zeroing missing modalities) and classify."""
        present = self.modality_dropout(present)
        parts = []
        for i, name in enumerate(self.names):
            x = inputs[name]
            x = self.signal_encoders[name](x) if name in self.signal_encoders else x.flatten(1)
            parts.append(x * present[:, i : i + 1])  # (B, F_i)
        parts.append(present.float())  # (B, M)
        return FusionOutput(self.head(torch.cat(parts, dim=1)))
