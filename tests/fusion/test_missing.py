"""Presence masks, modality dropout and learned missing embeddings."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from medmodal.errors import InvalidParameterError
from medmodal.fusion.missing import (
    MissingEmbedding,
    ModalityDropout,
    drop_modalities,
    presence_masks,
)


def test_nan_rows_and_masks_combine() -> None:
    a = np.ones((4, 3))
    a[1] = np.nan
    a[2, 0] = np.nan  # a partly missing row is present (its NaN are imputed)
    m = presence_masks({"a": a, "b": np.ones((4, 2, 5))}, {"a": np.array([1, 1, 1, 0])})
    assert m["a"].tolist() == [True, False, True, False]
    assert m["b"].all()


def test_masks_are_validated() -> None:
    x = {"a": np.ones((3, 2))}
    with pytest.raises(InvalidParameterError, match="unknown modalities"):
        presence_masks(x, {"b": np.ones(3, bool)})
    with pytest.raises(InvalidParameterError, match=r"shape \(3,\)"):
        presence_masks(x, {"a": np.ones(4, bool)})


@settings(max_examples=30, deadline=None)
@given(
    p=st.floats(0.0, 0.95),
    present=st.lists(st.lists(st.booleans(), min_size=3, max_size=3), min_size=1, max_size=40),
)
def test_dropout_only_hides_present_modalities_and_keeps_one(
    p: float, present: list[list[bool]]
) -> None:
    mask = torch.tensor(present)
    out = drop_modalities(mask, p, torch.Generator().manual_seed(0))
    assert not (out & ~mask).any()  # never reveals a missing modality
    had_any = mask.any(dim=1)
    assert (out.any(dim=1) == had_any).all()


def test_modality_dropout_is_off_in_eval_mode() -> None:
    mod = ModalityDropout(0.5)
    mask = torch.ones(400, 3, dtype=torch.bool)
    assert mod.train()(mask).float().mean() < 0.7  # 0.625 expected (all-dropped rows restored)
    assert mod.eval()(mask).all()
    with pytest.raises(InvalidParameterError):
        ModalityDropout(1.0)


def test_missing_embedding_replaces_only_missing_rows() -> None:
    emb = MissingEmbedding(2, 4)
    h = torch.randn(3, 2, 4)
    present = torch.tensor([[True, False], [True, True], [False, True]])
    out = emb(h, present)
    torch.testing.assert_close(out[present], h[present])
    torch.testing.assert_close(out[0, 1], emb.tokens[1])
    torch.testing.assert_close(out[2, 0], emb.tokens[0])
    tokens = emb.fill_tokens(torch.randn(3, 5, 4), 1, present[:, 1])
    torch.testing.assert_close(tokens[0], emb.tokens[1].expand(5, 4))
