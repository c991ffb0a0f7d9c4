"""Figures of cross-modal alignment: similarity heatmaps (pairs; blocks by class),
retrieval examples, 2-D projection.

Every function returns a :class:`matplotlib.figure.Figure` (nothing is shown or saved) and
accepts numpy arrays or torch tensors (moved to the CPU and detached here).

Example:
    >>> import numpy as np
    >>> from medmodal.viz.alignment import plot_similarity_heatmap
    >>> rng = np.random.default_rng(0)
    >>> img = rng.normal(size=(6, 8))
    >>> txt = img + 0.5 * rng.normal(size=(6, 8))
    >>> fig = plot_similarity_heatmap(img, txt, names=("image", "text"))
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['image (query)', 'cosine similarity']
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from medmodal.errors import InvalidParameterError
from medmodal.types import FloatArray

#: Colours (Okabe-Ito): true pair, wrong best match, modality a, modality b.
COLORS = {"true": "#009E73", "wrong": "#D55E00", "a": "#0072B2", "b": "#E69F00"}


def _array(x: Any, name: str, where: str, ndim: int | tuple[int, ...] = 2) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().float().numpy()
    arr = np.asarray(x)
    dims = (ndim,) if isinstance(ndim, int) else ndim
    if arr.ndim not in dims or 0 in arr.shape:
        raise InvalidParameterError(
            f"{where}: {name} has shape {arr.shape}; expected a non-empty {dims[0]}-D array"
        )
    return arr


def _unit(x: np.ndarray, name: str, where: str) -> FloatArray:
    x = x.astype(np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if not np.all(np.isfinite(norms)) or np.any(norms == 0):
        row = int(np.flatnonzero(~np.isfinite(norms.ravel()) | (norms.ravel() == 0))[0])
        raise InvalidParameterError(f"{where}: row {row} of {name} is zero or not finite")
    return x / norms


def _short(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def plot_similarity_heatmap(
    a: Any,
    b: Any | None = None,
    *,
    names: tuple[str, str] = ("a", "b"),
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    max_items: int = 25,
    title: str | None = None,
) -> Figure:
    """Cosine similarity of paired embeddings, true pairs outlined on the diagonal.

    Each row (a query of modality ``a``) has its best match marked: a green dot when it
    is the true partner, an orange one when it is not. The title gives the mean similarity
    of true pairs and of the other pairs, the gap a contrastive model should open.

    Args:
        a: ``(N, D)`` embeddings of modality ``a``, or an ``(N, M)`` similarity matrix when
            ``b`` is ``None``.
        b: ``(N, D)`` embeddings of modality ``b``, paired row by row with ``a``.
        names: display names of the two modalities.
        row_labels, col_labels: tick labels (e.g. case ids or captions; shortened).
        max_items: at most this many rows and columns are drawn (the first ones).
        title: figure title (a default names the modalities).
    """
    where = "plot_similarity_heatmap"
    if b is None:
        sim = _array(a, "similarity", where).astype(np.float64)
    else:
        ua, ub = _unit(_array(a, "a", where), "a", where), _unit(_array(b, "b", where), "b", where)
        if ua.shape[1] != ub.shape[1]:
            raise InvalidParameterError(f"{where}: a has dimension {ua.shape[1]}, b {ub.shape[1]}")
        sim = ua @ ub.T
    if max_items < 1:
        raise InvalidParameterError(f"{where}: max_items={max_items}; it must be >= 1")
    rows, cols = min(sim.shape[0], max_items), min(sim.shape[1], max_items)
    shown = sim[:rows, :cols]
    limit = max(1.0, float(np.abs(shown).max()))
    width = 2.8 + 0.3 * cols + (1.4 if row_labels is not None else 0.0)
    height = 2.3 + 0.3 * rows + (1.3 if col_labels is not None else 0.0)
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(
        shown, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest", aspect="auto"
    )
    fig.colorbar(image, ax=ax).set_label("cosine similarity")
    _mark_pairs(ax, shown)
    _ticks(ax, rows, cols, row_labels, col_labels)
    ax.set_xlabel(f"{names[1]} (candidate)")
    ax.set_ylabel(f"{names[0]} (query)")
    n = min(sim.shape)
    diag = np.diag(sim)[:n]
    off = (sim[:n, :n].sum() - diag.sum()) / max(n * n - n, 1)
    top1 = float(np.mean(sim[:n, :n].argmax(axis=1) == np.arange(n)))
    subtitle = f"mean over {n}: true pairs {diag.mean():.2f}, others {off:.2f}; top-1 {top1:.0%}"
    ax.set_title(f"{title or f'{names[0]}–{names[1]} cosine similarity'}\n{subtitle}", fontsize=10)
    fig.legend(
        handles=[
            Rectangle((0, 0), 1, 1, fill=False, edgecolor="black", label="true pair"),
            Line2D([], [], ls="", marker="o", color=COLORS["true"], label="best match: true"),
            Line2D([], [], ls="", marker="o", color=COLORS["wrong"], label="best match: wrong"),
        ],
        loc="outside lower center",
        ncols=3,
        fontsize=8,
        frameon=False,
    )
    return fig


def plot_similarity_by_class(
    similarity: Any,
    labels: Sequence[str],
    *,
    names: tuple[str, str] = ("ECG", "report"),
) -> Figure:
    """A whole ``(N, N)`` similarity matrix with rows and columns sorted into class blocks.

    Args:
        similarity: ``(N, N)`` cosine similarity, rows ``names[0]``, columns ``names[1]``.
        labels: the class of each pair (rows and columns share it).
        names: display names of the rows' and the columns' modality.

    Raises:
        InvalidParameterError: the matrix is not square or ``labels`` do not match it.

    Example:
        >>> import numpy as np
        >>> sim = np.eye(4) * 2 - 1
        >>> fig = plot_similarity_by_class(sim, ["b", "a", "b", "a"], names=("image", "text"))
        >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
        ['a', 'b']
    """
    where = "plot_similarity_by_class"
    sim = _array(similarity, "similarity", where)
    if sim.shape[0] != sim.shape[1] or len(labels) != sim.shape[0]:
        raise InvalidParameterError(
            f"{where}: expected an (N, N) matrix and N labels, got {sim.shape} and {len(labels)}"
        )
    order = np.argsort(np.asarray(labels), kind="stable")
    sim = sim[np.ix_(order, order)]
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


def _mark_pairs(ax: Axes, shown: np.ndarray) -> None:
    for i in range(min(shown.shape)):
        ax.add_patch(Rectangle((i - 0.5, i - 0.5), 1, 1, fill=False, lw=1.5, edgecolor="black"))
    best = shown.argmax(axis=1)
    for i, j in enumerate(best):
        color = COLORS["true"] if i == j else COLORS["wrong"]
        ax.plot(j, i, "o", ms=4, color=color, mec="white", mew=0.6)


def _ticks(
    ax: Axes,
    rows: int,
    cols: int,
    row_labels: Sequence[str] | None,
    col_labels: Sequence[str] | None,
) -> None:
    step = 1 if max(rows, cols) <= 30 else 5
    ax.set_xticks(range(0, cols, step))
    ax.set_yticks(range(0, rows, step))
    if col_labels is not None:
        labels = [_short(col_labels[j], 22) for j in range(0, cols, step)]
        ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
    if row_labels is not None:
        ax.set_yticklabels([_short(row_labels[i], 22) for i in range(0, rows, step)], fontsize=7)


def _images(images: Any, where: str) -> list[np.ndarray]:
    if isinstance(images, list | tuple):
        out = [_array(im, f"images[{i}]", where, (2, 3)) for i, im in enumerate(images)]
    else:
        arr = _array(images, "images", where, (3, 4))
        out = list(arr[:, 0] if arr.ndim == 4 and arr.shape[1] in (1, 3) else arr)
    return [im[0] if im.ndim == 3 and im.shape[0] == 1 else im for im in out]


def plot_retrieval_examples(
    queries: Sequence[str],
    images: Any,
    similarity: Any,
    *,
    true_indices: Sequence[int] | None = None,
    k: int = 5,
    max_queries: int = 4,
    title: str = "Text → image retrieval",
) -> Figure:
    """A grid: each row a query caption, then its top-``k`` images, the true one framed.

    Args:
        queries: ``Q`` query texts (captions).
        images: ``N`` candidate images: an ``(N, H, W)``, ``(N, 1, H, W)`` or ``(N, H, W, 3)``
            array/tensor, or a list of 2-D/3-D arrays.
        similarity: ``(Q, N)`` query-candidate scores.
        true_indices: the true image of each query (default: ``i`` for query ``i``).
        k: images shown per query.
        max_queries: at most this many queries (the first ones).
        title: figure title.
    """
    where = "plot_retrieval_examples"
    sim = _array(similarity, "similarity", where).astype(np.float64)
    ims = _images(images, where)
    if sim.shape != (len(queries), len(ims)):
        raise InvalidParameterError(
            f"{where}: similarity has shape {sim.shape}; expected ({len(queries)} queries, "
            f"{len(ims)} images)"
        )
    truth = np.arange(len(queries)) if true_indices is None else np.asarray(true_indices)
    if truth.shape != (len(queries),) or truth.min() < 0 or truth.max() >= len(ims):
        raise InvalidParameterError(
            f"{where}: true_indices must give one image index in 0..{len(ims) - 1} per query"
        )
    if k < 1 or max_queries < 1:
        raise InvalidParameterError(f"{where}: k={k}, max_queries={max_queries}; both >= 1")
    k, rows = min(k, len(ims)), min(max_queries, len(queries))
    fig = Figure(figsize=(2.6 + 1.7 * k, 1.9 * rows), constrained_layout=True)
    grid = fig.add_gridspec(rows, k + 1, width_ratios=[1.6] + [1] * k)
    for q in range(rows):
        order = np.argsort(-sim[q], kind="stable")
        rank = int(np.sum(sim[q] >= sim[q, truth[q]]))  # ties count against
        _caption(fig.add_subplot(grid[q, 0]), queries[q], rank, k)
        for col, idx in enumerate(order[:k]):
            _thumb(
                fig.add_subplot(grid[q, col + 1]), ims[idx], col + 1, sim[q, idx], idx == truth[q]
            )
    fig.suptitle(f"{title} (green frame: the true image)", fontsize=11)
    return fig


def _caption(ax: Axes, text: str, rank: int, k: int) -> None:
    ax.axis("off")
    body = textwrap.fill(_short(text, 160), width=28)
    ax.text(0, 1, body, va="top", ha="left", fontsize=8, transform=ax.transAxes, wrap=True)
    status = f"true image: rank {rank}"
    color = COLORS["true"] if rank <= k else COLORS["wrong"]
    ax.text(0, 0, status, va="bottom", fontsize=8, color=color, transform=ax.transAxes)


def _thumb(ax: Axes, image: np.ndarray, rank: int, score: float, is_true: bool) -> None:
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"#{rank}  sim {score:.2f}", fontsize=8)
    for spine in ax.spines.values():
        spine.set_visible(is_true)
        spine.set_edgecolor(COLORS["true"])
        spine.set_linewidth(4)


def plot_embedding_projection(
    a: Any,
    b: Any,
    *,
    names: tuple[str, str] = ("a", "b"),
    labels: Sequence[str] | None = None,
    max_pairs: int = 150,
    title: str | None = None,
) -> Figure:
    """Both modalities in one 2-D PCA projection, each pair joined by a line.

    PCA is fitted on the L2-normalised embeddings of both modalities together, so the
    "modality gap" (two separate clouds) and how close partners sit are both visible.

    Args:
        a: ``(N, D)`` embeddings of modality ``a``.
        b: ``(N, D)`` embeddings of modality ``b``, paired row by row with ``a``.
        names: display names of the two modalities.
        labels: optional class of each pair (colours the points, with a legend).
        max_pairs: at most this many pairs are drawn (the first ones; PCA uses all).
        title: figure title.
    """
    where = "plot_embedding_projection"
    ua, ub = _unit(_array(a, "a", where), "a", where), _unit(_array(b, "b", where), "b", where)
    if ua.shape != ub.shape or ua.shape[1] < 2:
        raise InvalidParameterError(
            f"{where}: a has shape {ua.shape}, b {ub.shape}; expected paired (N, D), D >= 2"
        )
    if labels is not None and len(labels) != len(ua):
        raise InvalidParameterError(f"{where}: {len(labels)} labels for {len(ua)} pairs")
    both = np.vstack([ua, ub])
    centred = both - both.mean(axis=0)
    _, sv, vt = np.linalg.svd(centred, full_matrices=False)
    points = centred @ vt[:2].T  # (2N, 2)
    var = sv[:2] ** 2 / max(float(np.sum(sv**2)), 1e-300)
    n = min(len(ua), max_pairs)
    pa, pb = points[:n], points[len(ua) : len(ua) + n]
    fig = Figure(figsize=(6.4, 5.2), constrained_layout=True)
    ax = fig.add_subplot()
    segments = np.stack([pa, pb], axis=1)  # (n, 2, 2)
    for seg in segments:
        ax.plot(seg[:, 0], seg[:, 1], color="0.6", lw=0.6, alpha=0.6, zorder=1)
    colors = _label_colors(labels, n)
    ax.scatter(pa[:, 0], pa[:, 1], c=colors or COLORS["a"], marker="o", s=22, zorder=2)
    ax.scatter(pb[:, 0], pb[:, 1], c=colors or COLORS["b"], marker="^", s=26, zorder=2)
    ax.set_xlabel(f"PC1 ({100 * var[0]:.0f} % of variance)")
    ax.set_ylabel(f"PC2 ({100 * var[1]:.0f} % of variance)")
    gap = np.linalg.norm(ua - ub, axis=1).mean()
    ax.set_title(
        (title or f"{names[0]} and {names[1]} embeddings (PCA)")
        + f"\nmean distance between partners {gap:.2f} (unit sphere; 0 = identical)",
        fontsize=10,
    )
    handles = [
        Line2D([], [], ls="", marker="o", color="0.3", label=names[0]),
        Line2D([], [], ls="", marker="^", color="0.3", label=names[1]),
        Line2D([], [], color="0.6", label="pair"),
    ]
    if labels is not None:
        for name, color in _palette(labels).items():
            handles.append(Line2D([], [], ls="", marker="s", color=color, label=str(name)))
    ax.legend(handles=handles, fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    return fig


def _palette(labels: Sequence[str]) -> dict[str, str]:
    cycle = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442"]
    unique = sorted({str(x) for x in labels})
    return {name: cycle[i % len(cycle)] for i, name in enumerate(unique)}


def _label_colors(labels: Sequence[str] | None, n: int) -> list[str] | None:
    if labels is None:
        return None
    palette = _palette(labels)
    return [palette[str(labels[i])] for i in range(n)]


__all__ = ["plot_embedding_projection", "plot_retrieval_examples", "plot_similarity_heatmap"]
