"""The alignment sections' three figures (``viz`` plots), saved with their captions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from medmodal.report.section import ReportFigure, SectionContext, save_figure

if TYPE_CHECKING:
    from medmodal.train import TrainResult


def alignment_figures(
    ctx: SectionContext,
    result: TrainResult,
    similarity: np.ndarray,
    embeddings: tuple[np.ndarray, np.ndarray],
    labels: Sequence[str],
    *,
    names: tuple[str, str],
    titles: tuple[str, str],
    captions: tuple[str, str, str],
) -> list[ReportFigure]:
    """Training curves, similarity sorted by class and PCA projection.

    ``titles`` are the curves' and the projection's; ``captions`` those of the three
    figures in that order.
    """
    from medmodal.viz.alignment import plot_embedding_projection, plot_similarity_by_class
    from medmodal.viz.training import plot_training_curves

    curves = plot_training_curves(
        result, metrics=["mean_R@1", "mean_R@5", "mean_R@10"], title=titles[0]
    )
    heat = plot_similarity_by_class(similarity, labels, names=names)
    proj = plot_embedding_projection(*embeddings, names=names, labels=labels, title=titles[1])
    files = ("training_curves", "similarity", "projection")
    return [
        ReportFigure(save_figure(fig, ctx.out_dir, name), caption)
        for name, fig, caption in zip(files, (curves, heat, proj), captions, strict=True)
    ]
