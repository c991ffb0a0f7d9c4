"""Figures of the alignment section: similarity matrix and 2-D projection."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")


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


def plot_projection(ecg: np.ndarray, text: np.ndarray, labels: Sequence[str]) -> Figure:
    """PCA of both modalities' embeddings together, coloured by label."""
    both = np.vstack([ecg, text])
    centred = both - both.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    xy = centred @ vt[:2].T  # (2N, 2)
    n = len(ecg)
    fig = Figure(figsize=(8.5, 5.5), layout="constrained")
    ax = fig.subplots()
    arr = np.asarray(labels)
    for colour, name in zip(_COLOURS, sorted(set(labels)), strict=False):
        rows = np.flatnonzero(arr == name)
        ax.scatter(xy[rows, 0], xy[rows, 1], s=14, color=colour, alpha=0.6, label=f"{name} ECG")
        ax.scatter(
            xy[n + rows, 0], xy[n + rows, 1], s=40, color=colour, marker="x", label=f"{name} report"
        )
    ax.set(xlabel="PC 1", ylabel="PC 2", title="Shared embedding space (PCA)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig
