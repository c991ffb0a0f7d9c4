"""Multimodal fusion: strategies by name, an estimator, and honest comparisons.

Strategies (``method=``), each one small module:

- ``early``: feature concatenation + one MLP;
- ``late``: per-modality models whose posteriors are averaged, weighted or stacked;
- ``intermediate``: per-modality encoders into a joint latent, then a head;
- ``attention``: cross-attention between modality token sequences;
- ``gated``: a gated multimodal unit;
- ``unimodal:<name>``: the single-modality baseline.

Example:
    >>> from medmodal.fusion import available_methods
    >>> available_methods()
    ('early', 'late', 'intermediate', 'attention', 'gated')
"""

from __future__ import annotations

from medmodal.fusion import attention, early, gated, intermediate, late, unimodal  # noqa: F401
from medmodal.fusion._base import (
    FUSION_METHODS,
    FusionMethod,
    FusionModel,
    FusionOutput,
    ModalitySpec,
    resolve_method,
)
from medmodal.fusion.attention import AttentionOutput, CrossAttentionFusion
from medmodal.fusion.compare import FusionComparison, compare_fusion, run_comparison
from medmodal.fusion.config import FusionConfig, FusionTrainConfig
from medmodal.fusion.estimator import FusionClassifier
from medmodal.fusion.serialize import load_fusion_model, save_fusion_model


def available_methods() -> tuple[str, ...]:
    """Names of the registered fusion strategies; methods that take a modality
    (``unimodal:<modality>``) are left out."""
    order = ("early", "late", "intermediate", "attention", "gated")
    names = [n for n in FUSION_METHODS.names() if not FUSION_METHODS.get(n).takes_modality]
    return tuple(sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n)))


__all__ = [
    "FUSION_METHODS",
    "AttentionOutput",
    "CrossAttentionFusion",
    "FusionClassifier",
    "FusionComparison",
    "FusionConfig",
    "FusionMethod",
    "FusionModel",
    "FusionOutput",
    "FusionTrainConfig",
    "ModalitySpec",
    "available_methods",
    "compare_fusion",
    "load_fusion_model",
    "resolve_method",
    "run_comparison",
    "save_fusion_model",
]
