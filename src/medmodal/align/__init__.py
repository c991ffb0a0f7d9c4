"""Contrastive alignment of two modalities (CLIP-style): losses, gathering, retrieval,
zero-shot classification.

Public surface::

    clip_loss(a, b, logit_scale, *, logit_bias=None, chunk_size=None) -> Tensor
    ClipLoss(init_log_scale=ln(1/0.07), *, max_log_scale=ln 100, learnable=True,
             chunk_size=None)                                  # forward(a, b) -> Tensor
    siglip_loss(a, b, logit_scale, logit_bias) -> Tensor; SigLipLoss()
    unicl_loss(a, b, logit_scale, labels) -> Tensor   # same-label pairs are positives
    similarity_matrix(a, b, *, normalize=True) -> Tensor
    retrieval_metrics(a, b, *, ids=None, ks=(1, 5, 10), names=("a", "b")) -> RetrievalMetrics
    ZeroShotClassifier(encode_text, classes, templates=DEFAULT_TEMPLATES, *, scale=100.0)
    gather_features(x) -> Tensor                      # medmodal.align.distributed

``logit_scale`` is always the **log** of the multiplier of the cosine similarities.
"""

from medmodal.align.distributed import gather_features
from medmodal.align.loss import (
    CLIP_INIT_LOG_SCALE,
    MAX_LOG_SCALE,
    ClipLoss,
    SigLipLoss,
    clip_loss,
    siglip_loss,
)
from medmodal.align.retrieval import RetrievalMetrics, retrieval_metrics
from medmodal.align.similarity import similarity_matrix
from medmodal.align.unicl import unicl_loss
from medmodal.align.zero_shot import DEFAULT_TEMPLATES, ECG_TEMPLATES, ZeroShotClassifier

__all__ = [
    "CLIP_INIT_LOG_SCALE",
    "DEFAULT_TEMPLATES",
    "ECG_TEMPLATES",
    "MAX_LOG_SCALE",
    "ClipLoss",
    "RetrievalMetrics",
    "SigLipLoss",
    "ZeroShotClassifier",
    "clip_loss",
    "gather_features",
    "retrieval_metrics",
    "siglip_loss",
    "similarity_matrix",
    "unicl_loss",
]
