"""Torch retrieval metrics and similarity: same numbers as the numpy version, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medmodal.align import retrieval_metrics, similarity_matrix
from medmodal.errors import InvalidParameterError
from medmodal.metrics import retrieval as np_retrieval


def test_torch_and_numpy_versions_agree() -> None:
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(1100, 8, generator=g), torch.randn(1100, 8, generator=g)
    b = a + 1.5 * b  # partly aligned: ranks spread over 1..N
    ids = np.arange(1100) // 3
    for kwargs in ({}, {"ids": ids}):
        ours = retrieval_metrics(a, b, ks=(1, 5, 50), **kwargs)
        ref = np_retrieval.retrieval_metrics(a.numpy(), b.numpy(), ks=(1, 5, 50), **kwargs)
        np.testing.assert_array_equal(ours.ranks_a_to_b, ref.ranks_a_to_b)
        np.testing.assert_array_equal(ours.ranks_b_to_a, ref.ranks_b_to_a)
        assert 0.0 < ours.recall(50) < 1.0


def test_hand_computed_case() -> None:
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    b = torch.tensor([[1.0, 0.1], [1.0, 0.0], [1.0, 1.0]])
    m = retrieval_metrics(a, b, names=("image", "text"))
    # a1=(0,1): sims to b = 0.0995, 0, 0.707 -> true b1 (0) is last: rank 3
    assert m.ranks_a_to_b.tolist() == [2, 3, 1]
    assert m.to_frame().index[0] == "image→text"


def test_similarity_matrix_is_cosine_and_rectangular() -> None:
    a = torch.tensor([[3.0, 4.0]])
    b = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-6.0, -8.0]])
    assert similarity_matrix(a, b)[0].tolist() == pytest.approx([0.6, 0.8, -1.0])
    assert similarity_matrix(a, b, normalize=False)[0].tolist() == pytest.approx([3, 8, -50])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: similarity_matrix(torch.ones(2, 3), torch.ones(2, 4)), "dimension 3 but b has 4"),
        (lambda: similarity_matrix(torch.zeros(2, 3), torch.ones(2, 3)), "row 0 of a"),
        (lambda: retrieval_metrics(torch.ones(2, 3), torch.ones(3, 3)), r"\(2, 3\) but b"),
        (lambda: retrieval_metrics(torch.ones(2, 3), torch.ones(2, 3), ids=[1]), "1 ids"),
        (lambda: retrieval_metrics(torch.ones(2, 3), torch.ones(2, 3), ks=[]), "ks="),
    ],
)
def test_bad_input(call, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        call()
