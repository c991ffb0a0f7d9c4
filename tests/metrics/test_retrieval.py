"""Retrieval metrics (numpy): hand-computed ranks, ties, ids, chance level, tables, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medmodal.errors import InvalidParameterError
from medmodal.metrics.retrieval import (
    block_ranks,
    retrieval_metrics,
    retrieval_metrics_from_similarity,
    retrieval_ranks,
)

SIM = np.array(
    [
        [0.9, 0.1, 0.0, 0.2],
        [0.8, 0.2, 0.1, 0.0],  # true 0.2 beaten by 0.8 -> rank 2
        [0.0, 0.3, 0.1, 0.5],  # true 0.1 beaten by 0.3, 0.5 -> rank 3
        [0.1, 0.1, 0.1, 0.1],  # all tied -> worst rank 4
    ]
)


def test_hand_computed_ranks_both_directions() -> None:
    assert retrieval_ranks(SIM).tolist() == [1, 2, 3, 4]
    # columns: col0 true 0.9 -> 1; col1 true 0.2 beaten by 0.3 -> 2;
    # col2 true 0.1 tied with rows 1 and 3 -> 3; col3 true 0.1 beaten by 0.2, 0.5 -> 3
    assert retrieval_ranks(SIM.T).tolist() == [1, 2, 3, 3]


def test_hand_computed_metrics_and_dict() -> None:
    m = retrieval_metrics_from_similarity(SIM, ks=(1, 2, 3))
    d = m.to_dict()
    assert d["a_to_b_R@1"] == 0.25 and d["a_to_b_R@2"] == 0.5 and d["a_to_b_R@3"] == 0.75
    assert d["b_to_a_R@1"] == 0.25 and d["b_to_a_R@2"] == 0.5 and d["b_to_a_R@3"] == 1.0
    assert d["a_to_b_median_rank"] == 2.5 and d["a_to_b_mean_rank"] == 2.5
    assert d["b_to_a_median_rank"] == 2.5 and d["b_to_a_mean_rank"] == 2.25
    assert d["mean_R@3"] == 0.875 and d["n"] == 4.0


def test_to_frame_has_both_directions_and_chance() -> None:
    m = retrieval_metrics_from_similarity(SIM, names=("image", "text"))
    frame = m.to_frame()
    assert list(frame.index) == ["image→text", "text→image", "chance"]
    assert list(frame.columns) == ["R@1", "R@5", "R@10", "median_rank", "mean_rank"]
    assert frame.loc["chance", "R@1"] == 0.25 and frame.loc["chance", "R@5"] == 1.0
    assert frame.loc["chance", "mean_rank"] == 2.5


def test_collapsed_embeddings_get_the_worst_rank() -> None:
    m = retrieval_metrics(np.ones((10, 3)), np.ones((10, 3)))
    assert m.ranks_a_to_b.tolist() == [10] * 10 and m.recall(5) == 0.0


def test_ids_count_every_same_id_candidate_as_correct() -> None:
    sim = np.array([[0.1, 0.9, 0.5], [0.9, 0.1, 0.5], [0.2, 0.3, 0.4]])
    assert retrieval_ranks(sim).tolist() == [3, 3, 1]
    # pairs 0 and 1 belong to the same case: the other's partner counts as a hit
    assert retrieval_ranks(sim, ids=["c1", "c1", "c2"]).tolist() == [1, 1, 1]


def test_block_ranks_breaks_ties_against_the_query() -> None:
    assert block_ranks(np.array([[0.5, 0.5, 0.5]]), np.array([[False, True, False]])) == [3]


def test_embeddings_version_matches_similarity_version(rng: np.random.Generator) -> None:
    a, b = rng.normal(size=(40, 6)), rng.normal(size=(40, 6))
    unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)  # noqa: E731
    direct = retrieval_metrics(a, b)
    via_sim = retrieval_metrics_from_similarity(unit(a) @ unit(b).T)
    assert direct.to_dict() == via_sim.to_dict()


def test_many_queries_are_ranked_in_blocks(rng: np.random.Generator) -> None:
    a = rng.normal(size=(2500, 4))
    m = retrieval_metrics(a, a + 1e-3 * rng.normal(size=a.shape))
    assert m.n == 2500 and m.recall(1) > 0.99 and m.recall(1, "b_to_a") > 0.99


def test_random_embeddings_are_at_chance(rng: np.random.Generator) -> None:
    recalls = [
        retrieval_metrics(rng.normal(size=(200, 16)), rng.normal(size=(200, 16))).recall(10)
        for _ in range(10)
    ]
    assert np.mean(recalls) == pytest.approx(10 / 200, abs=0.02)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 30), seed=st.integers(0, 2**16))
def test_rank_properties(n: int, seed: int) -> None:
    sim = np.random.default_rng(seed).normal(size=(n, n))
    ranks = retrieval_ranks(sim)
    assert ranks.min() >= 1 and ranks.max() <= n
    perm = np.random.default_rng(seed + 1).permutation(n)
    assert retrieval_ranks(sim[perm][:, perm]).tolist() == ranks[perm].tolist()
    # sorting each row agrees where there are no ties
    expected = [1 + int(np.sum(np.delete(sim[i], i) >= sim[i, i])) for i in range(n)]
    assert ranks.tolist() == expected


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: retrieval_ranks(np.ones((2, 3))), r"similarity has shape \(2, 3\)"),
        (lambda: retrieval_ranks(np.array([[1.0, np.nan], [0, 1]])), "row 0 is not finite"),
        (lambda: retrieval_metrics(np.ones((3, 2)), np.ones((4, 2))), r"a has shape \(3, 2\)"),
        (lambda: retrieval_metrics(np.zeros((3, 2)), np.ones((3, 2))), "row 0 of a has L2 norm"),
        (lambda: retrieval_metrics(np.ones(3), np.ones(3)), r"a has shape \(3,\)"),
        (lambda: retrieval_metrics(np.ones((3, 2)), np.ones((3, 2)), ks=(0,)), r"ks=\(0,\)"),
        (lambda: retrieval_ranks(np.eye(3), ids=[1, 2]), "2 ids for 3 pairs"),
        (lambda: retrieval_metrics_from_similarity(np.eye(2)).recall(0), "k=0"),
    ],
)
def test_bad_input_is_named(call, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        call()
