"""The alignment sections' figures: training curves, the similarity matrix sorted into
blocks by class, and the shared embedding space."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from medmodal.report.section import ReportFigure, SectionContext, save_figure


def plot_similarity(
    similarity: np.ndarray,
    labels: Sequence[str],
    *,
    names: tuple[str, str] = ("ECG", "report"),
) -> Figure:
    """Row x column (``names``, default ECG x report) cosine similarity, sorted by label."""
    order = np.argsort(np.asarray(labels), kind="stable")
    sim = similarity[np.ix_(order, order)]
    sorted_labels = np.asarray(labels)[order]
    fig = Figure(figsize=(6.8, 5.8), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(sim, cmap="magma", vmin=-1, vmax=1, interpolation="nearest")
    groups, starts = np.unique(sorted_labels, return_index=True)
    sizes = [np.sum(sorted_labels == g) for g in groups]
    centres = [s + (k - 1) / 2 for s, k in zip(starts, sizes, strict=True)]
    for s in starts[1:]:
        ax.axhline(s - 0.5, color="white", lw=0.6)
        ax.axvline(s - 0.5, color="white", lw=0.6)
    ax.set_yticks(centres, groups)
    ax.set_xticks(centres, groups, rotation=30, ha="right")
    ax.set(xlabel=names[1], ylabel=names[0], title=f"Held-out {names[0]} x {names[1]} similarity")
    fig.colorbar(image, ax=ax, label="cosine similarity")
    return fig


def alignment_figures(
    ctx: SectionContext,
    result: Any,
    similarity: np.ndarray,
    embeddings: tuple[np.ndarray, np.ndarray],
    labels: Sequence[str],
    *,
    names: tuple[str, str],
    titles: tuple[str, str],
    captions: tuple[str, str, str],
) -> list[ReportFigure]:
    """Training curves, sorted similarity and PCA projection, saved with their captions.

    ``titles`` are the curves' and the projection's; ``captions`` those of the three
    figures in that order.
    """
    from medmodal.viz.alignment import plot_embedding_projection
    from medmodal.viz.training import plot_training_curves

    curves = plot_training_curves(
        result, metrics=["mean_R@1", "mean_R@5", "mean_R@10"], title=titles[0]
    )
    heat = plot_similarity(similarity, labels, names=names)
    proj = plot_embedding_projection(*embeddings, names=names, labels=labels, title=titles[1])
    files = ("training_curves", "similarity", "projection")
    return [
        ReportFigure(save_figure(fig, ctx.out_dir, name), caption)
        for name, fig, caption in zip(files, (curves, heat, proj), captions, strict=True)
    ]
