"""The alignment section's similarity matrix, sorted into blocks by class."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure


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
