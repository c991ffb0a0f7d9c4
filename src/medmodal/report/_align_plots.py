"""The alignment section's similarity matrix, sorted into blocks by class."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure


def plot_similarity(similarity: np.ndarray, labels: Sequence[str]) -> Figure:
    """ECG x report cosine similarity, rows and columns sorted by label."""
    order = np.argsort(np.asarray(labels), kind="stable")
    sim = similarity[np.ix_(order, order)]
    sorted_labels = np.asarray(labels)[order]
    fig = Figure(figsize=(6.8, 5.8), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(sim, cmap="magma", vmin=-1, vmax=1, interpolation="nearest")
    names, starts = np.unique(sorted_labels, return_index=True)
    centres = [(s + s + np.sum(sorted_labels == n)) / 2 for n, s in zip(names, starts, strict=True)]
    for s in starts[1:]:
        ax.axhline(s - 0.5, color="white", lw=0.6)
        ax.axvline(s - 0.5, color="white", lw=0.6)
    ax.set_yticks(centres, names)
    ax.set_xticks(centres, names, rotation=30, ha="right")
    ax.set(xlabel="report", ylabel="ECG", title="Held-out ECG x report similarity")
    fig.colorbar(image, ax=ax, label="cosine similarity")
    return fig
