"""Contrastive alignment of two modalities (CLIP-style): losses, gathering, retrieval,
zero-shot classification, paired data sets, tasks and their evaluation.

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

    ImageTextPairs, ECGTextPairs, collate_pairs       # paired data sets (pairs.py)
    contrastive_loss_fn(modalities, *, chunk_size=None, group_key="group")  # loss_fn(model, batch)
    embed_pairs(model, dataset, *, modalities, ...) -> PairEmbeddings
    retrieval_evaluate(model, dataset, ...) -> dict; retrieval_evaluator(modalities, **kw)
    evaluate_alignment(model, dataset, *, modalities, prompts, ...) -> AlignEvaluation
    evaluate_by_class(model, signals, texts, labels, classes, ...) -> ClassAlignment
    medpix_prompts(), ptbxl_prompts() -> {label: PromptSet}
    TASKS, get_task(name) -> Task; task.train_config(**overrides) -> TrainRecipe

``logit_scale`` is always the **log** of the multiplier of the cosine similarities.
"""

from medmodal.align.contrastive import PairLossFn, contrastive_loss_fn
from medmodal.align.distributed import gather_features
from medmodal.align.embed import (
    EvaluateFn,
    PairEmbeddings,
    embed_pairs,
    retrieval_evaluate,
    retrieval_evaluator,
)
from medmodal.align.evaluate import (
    AlignEvaluation,
    ClassAlignment,
    LabelledPairs,
    evaluate_alignment,
    evaluate_by_class,
)
from medmodal.align.loss import (
    CLIP_INIT_LOG_SCALE,
    MAX_LOG_SCALE,
    ClipLoss,
    SigLipLoss,
    clip_loss,
    siglip_loss,
)
from medmodal.align.pairs import ECGTextPairs, ImageTextPairs, collate_pairs
from medmodal.align.prompts import ECG_PROMPTS, PromptSet, medpix_prompts, ptbxl_prompts
from medmodal.align.recipe import MODEL_RECIPES, TrainRecipe
from medmodal.align.retrieval import RetrievalMetrics, retrieval_metrics
from medmodal.align.similarity import similarity_matrix
from medmodal.align.tasks import (
    MEDPIX_DEFAULT_MODELS,
    MEDPIX_EVALUATIONS,
    TASKS,
    MedPixTask,
    PTBXLTask,
    Task,
    check_model_fits,
    get_task,
)
from medmodal.align.timing import TrainingTime, estimate_training_time
from medmodal.align.unicl import unicl_loss
from medmodal.align.zero_shot import DEFAULT_TEMPLATES, ECG_TEMPLATES, ZeroShotClassifier

__all__ = [
    "CLIP_INIT_LOG_SCALE",
    "DEFAULT_TEMPLATES",
    "ECG_PROMPTS",
    "ECG_TEMPLATES",
    "MAX_LOG_SCALE",
    "MEDPIX_DEFAULT_MODELS",
    "MEDPIX_EVALUATIONS",
    "MODEL_RECIPES",
    "TASKS",
    "AlignEvaluation",
    "ClassAlignment",
    "ClipLoss",
    "ECGTextPairs",
    "EvaluateFn",
    "ImageTextPairs",
    "LabelledPairs",
    "MedPixTask",
    "PTBXLTask",
    "PairEmbeddings",
    "PairLossFn",
    "PromptSet",
    "RetrievalMetrics",
    "SigLipLoss",
    "Task",
    "TrainRecipe",
    "TrainingTime",
    "ZeroShotClassifier",
    "check_model_fits",
    "clip_loss",
    "collate_pairs",
    "contrastive_loss_fn",
    "embed_pairs",
    "estimate_training_time",
    "evaluate_alignment",
    "evaluate_by_class",
    "gather_features",
    "get_task",
    "medpix_prompts",
    "ptbxl_prompts",
    "retrieval_evaluate",
    "retrieval_evaluator",
    "retrieval_metrics",
    "siglip_loss",
    "similarity_matrix",
    "unicl_loss",
]
