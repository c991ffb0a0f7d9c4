"""Alignment figures: heatmap (diagonal marked, colour bar), retrieval grid (true image
framed), PCA projection (pairs joined); numpy and torch input; bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.patches import Rectangle

from medmodal.errors import InvalidParameterError
from medmodal.viz.alignment import (
    COLORS,
    plot_embedding_projection,
    plot_retrieval_examples,
    plot_similarity_heatmap,
)


@pytest.fixture
def pairs(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    a = rng.normal(size=(30, 16))
    return a, a + 0.8 * rng.normal(size=a.shape)


def _outlined(ax) -> int:
    return sum(isinstance(p, Rectangle) and not p.get_fill() for p in ax.patches)


def test_heatmap_marks_the_diagonal_and_labels_everything(pairs, tmp_path: Path) -> None:
    a, b = pairs
    fig = plot_similarity_heatmap(
        a, b, names=("image", "text"), max_items=12, col_labels=[f"caption {i}" for i in range(30)]
    )
    ax, cbar = fig.axes
    assert _outlined(ax) == 12  # one frame per true pair drawn
    assert cbar.get_ylabel() == "cosine similarity"
    assert ax.get_xlabel() == "text (candidate)" and ax.get_ylabel() == "image (query)"
    assert ax.get_xticklabels()[3].get_text() == "caption 3"
    assert "true pairs" in ax.get_title() and "top-1" in ax.get_title()
    assert ax.images[0].get_array().shape == (12, 12)
    assert ax.images[0].get_clim() == (-1.0, 1.0)  # centred: 0 is white
    fig.savefig(tmp_path / "heatmap.png", dpi=60)
    assert (tmp_path / "heatmap.png").stat().st_size > 5000


def test_heatmap_best_match_markers(pairs) -> None:
    sim = np.eye(5)
    sim[3] = [0.9, 0, 0, 0.1, 0]  # row 3's best match is wrong
    ax = plot_similarity_heatmap(sim).axes[0]
    colors = [line.get_color() for line in ax.lines]
    assert colors.count(COLORS["true"]) == 4 and colors.count(COLORS["wrong"]) == 1


def test_heatmap_accepts_torch_tensors(pairs) -> None:
    torch = pytest.importorskip("torch")
    a, b = pairs
    fig = plot_similarity_heatmap(torch.tensor(a, requires_grad=True), torch.tensor(b))
    assert _outlined(fig.axes[0]) == 25


def test_retrieval_grid_frames_the_true_image(rng: np.random.Generator) -> None:
    images = rng.uniform(size=(6, 12, 10))
    sim = rng.normal(size=(3, 6))
    sim[0, 0], sim[1, 4] = 5.0, 5.0  # query 0 finds its image; query 1 does not
    sim[2, 2] = -5.0  # query 2's true image is last
    fig = plot_retrieval_examples(["a", "b", "c"], images, sim, k=3)
    assert len(fig.axes) == 3 * 4
    thumbs = [ax for i, ax in enumerate(fig.axes) if i % 4]
    framed = [ax for ax in thumbs if ax.spines["top"].get_visible()]
    assert len(framed) == 1 and framed[0] is fig.axes[1]  # row 0, rank 1
    texts = [t.get_text() for t in fig.axes[8].texts]
    assert "true image: rank 6" in texts
    assert fig.axes[1].get_title().startswith("#1  sim 5.00")


def test_retrieval_grid_accepts_lists_and_channels(rng: np.random.Generator) -> None:
    images = [rng.uniform(size=(8, 8)), rng.uniform(size=(8, 9, 3)), rng.uniform(size=(1, 8, 8))]
    fig = plot_retrieval_examples(
        ["x", "y"], images, rng.normal(size=(2, 3)), true_indices=[2, 0], k=2
    )
    assert len(fig.axes) == 2 * 3
    channels_first = rng.uniform(size=(3, 1, 8, 8))
    fig = plot_retrieval_examples(["x"], channels_first, np.ones((1, 3)), k=5)
    assert len(fig.axes) == 1 + 3  # k is capped at the number of images


def test_projection_joins_every_pair(pairs, tmp_path: Path) -> None:
    a, b = pairs
    labels = ["CT", "MR", "XR"] * 10
    fig = plot_embedding_projection(a, b, names=("image", "text"), labels=labels, max_pairs=20)
    ax = fig.axes[0]
    assert len(ax.lines) == 20
    assert [c.get_offsets().shape for c in ax.collections] == [(20, 2), (20, 2)]
    assert "PC1" in ax.get_xlabel() and "% of variance" in ax.get_ylabel()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["image", "text", "pair", "CT", "MR", "XR"]
    fig.savefig(tmp_path / "pca.png", dpi=60)


def test_projection_partner_distance_in_title() -> None:
    a = np.eye(4)
    ax = plot_embedding_projection(a, a).axes[0]
    assert "mean distance between partners 0.00" in ax.get_title()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: plot_similarity_heatmap(np.ones(3)), r"similarity has shape \(3,\)"),
        (lambda: plot_similarity_heatmap(np.ones((2, 3)), np.ones((2, 4))), "dimension 3, b 4"),
        (lambda: plot_similarity_heatmap(np.zeros((2, 3)), np.ones((2, 3))), "row 0 of a"),
        (lambda: plot_similarity_heatmap(np.eye(3), max_items=0), "max_items=0"),
        (
            lambda: plot_retrieval_examples(["q"], np.ones((2, 4, 4)), np.ones((1, 3))),
            r"similarity has shape \(1, 3\); expected \(1 queries, 2 images\)",
        ),
        (
            lambda: plot_retrieval_examples(
                ["q"], np.ones((2, 4, 4)), np.ones((1, 2)), true_indices=[5]
            ),
            "true_indices",
        ),
        (lambda: plot_retrieval_examples(["q"], np.ones((2, 4)), np.ones((1, 2))), "images"),
        (lambda: plot_embedding_projection(np.eye(3), np.eye(4)), r"a has shape \(3, 3\)"),
        (lambda: plot_embedding_projection(np.eye(3), np.eye(3), labels=["x"]), "1 labels"),
    ],
)
def test_bad_input(call, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        call()


def test_similarity_by_class_sorts_rows_and_columns_into_blocks() -> None:
    from medmodal.viz.alignment import plot_similarity_by_class

    labels = ["b", "a", "b", "a", "c"]
    sim = np.eye(5) * 2 - 1
    fig = plot_similarity_by_class(sim, labels, names=("image", "caption"))
    ax = fig.axes[0]
    shown = ax.images[0].get_array()
    order = np.argsort(labels, kind="stable")
    np.testing.assert_array_equal(shown, sim[np.ix_(order, order)])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    assert (ax.get_ylabel(), ax.get_xlabel()) == ("image", "caption")
    with pytest.raises(InvalidParameterError, match="N labels"):
        plot_similarity_by_class(sim, labels[:4])
