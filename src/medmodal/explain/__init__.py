"""Interpretability for fusion models: which part of which modality drove the call.

- :mod:`~medmodal.explain.attention_maps`: cross-attention weights → relevance per sample
  of an ECG trace (token positions mapped back to sample ranges; heads averaged or
  selected);
- :mod:`~medmodal.explain.modality_importance`: modality ablation and exact Shapley
  values over modalities (through presence masks);
- :mod:`~medmodal.explain.attributions`: Integrated Gradients (Captum) per modality input;
- :mod:`~medmodal.explain.gradcam`: Grad-CAM for 1-D and 2-D convolutional encoders.

Figures are in :mod:`medmodal.viz.explain`.
"""

from __future__ import annotations

from medmodal.explain.attention_maps import (
    AttentionMap,
    attention_over_signal,
    signal_stride,
    token_sample_ranges,
    tokens_to_samples,
)
from medmodal.explain.attributions import Attributions, integrated_gradients
from medmodal.explain.gradcam import fusion_grad_cam, grad_cam
from medmodal.explain.modality_importance import (
    ModalityImportance,
    modality_ablation,
    modality_shapley,
    shapley_values,
)

__all__ = [
    "AttentionMap",
    "Attributions",
    "ModalityImportance",
    "attention_over_signal",
    "fusion_grad_cam",
    "grad_cam",
    "integrated_gradients",
    "modality_ablation",
    "modality_shapley",
    "shapley_values",
    "signal_stride",
    "token_sample_ranges",
    "tokens_to_samples",
]
