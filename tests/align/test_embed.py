"""Embedding every pair of a data set, and the retrieval evaluation on it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from tests.align.toys import AlignedPairs, TinyClip

from medmodal.align import embed_pairs, retrieval_evaluate, retrieval_evaluator
from medmodal.errors import InvalidParameterError


def test_retrieval_with_group_ids() -> None:
    torch.manual_seed(0)
    model = TinyClip()
    with torch.no_grad():  # identical towers on identical inputs: perfect retrieval
        model.text_tower = model.image_tower

    class Same(AlignedPairs):
        def __getitem__(self, i: int) -> dict[str, Any]:
            return {"image": self.image[i], "text": self.image[i], "case": f"c{i // 2}"}

    metrics = retrieval_evaluate(model, Same(20, seed=0), ids_key="case", ks=(1, 3))
    assert metrics["a_to_b_R@1"] == metrics["b_to_a_R@1"] == 1.0
    assert "mean_R@3" in metrics and "n" not in metrics
    assert model.training  # the mode is restored


def test_embed_pairs_keeps_order_and_batches_do_not_matter() -> None:
    torch.manual_seed(0)
    model, data = TinyClip(), AlignedPairs(10, seed=4)
    whole = embed_pairs(model, data, batch_size=64, ids_key="case")
    parts = embed_pairs(model, data, batch_size=3)
    expected = torch.nn.functional.normalize(model.image_tower(data.image), dim=-1)
    torch.testing.assert_close(whole.a, expected.detach())
    torch.testing.assert_close(whole.b, parts.b)
    assert whole.ids == tuple(i // 2 for i in range(10)) and parts.ids is None
    np.testing.assert_allclose(np.diag(whole.similarity()), (whole.a * whole.b).sum(1), atol=1e-6)


def test_evaluator_binds_options_and_bad_input_is_named() -> None:
    torch.manual_seed(0)
    model, data = TinyClip(), AlignedPairs(12, seed=5)
    bound = retrieval_evaluator(ks=(1, 2))(model, data)
    assert bound == retrieval_evaluate(model, data, ks=(1, 2))
    with pytest.raises(InvalidParameterError, match="two different names"):
        retrieval_evaluator(("text", "text"))
    with pytest.raises(InvalidParameterError, match=r"has no encode_ecg\(\) method"):
        retrieval_evaluate(model, data, modalities=("image", "ecg"))
    with pytest.raises(InvalidParameterError, match="batch_size=0"):
        embed_pairs(model, data, batch_size=0)


def test_embedding_leaves_the_global_random_state_alone() -> None:
    torch.manual_seed(0)
    model, data = TinyClip(), AlignedPairs(10, seed=4)
    before = torch.get_rng_state()
    embed_pairs(model, data, batch_size=4)
    assert torch.equal(torch.get_rng_state(), before)
