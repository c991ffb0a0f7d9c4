"""Attention weights -> relevance per ECG sample."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medmodal.errors import InvalidParameterError
from medmodal.explain import attention_over_signal, token_sample_ranges, tokens_to_samples

from .conftest import enrichment


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.integers(1, 16), st.integers(0, 15))
def test_token_ranges_cover_every_sample_once(n_tokens, stride, short):
    n_samples = n_tokens * stride - min(short, stride - 1)  # last token may be partial
    ranges = token_sample_ranges(n_tokens, n_samples, stride=stride)
    covered = np.concatenate([np.arange(a, b) for a, b in ranges])
    assert covered.tolist() == list(range(n_samples))


def test_tokens_to_samples_spreads_each_weight_over_its_samples():
    w = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])
    out = tokens_to_samples(w, 9, stride=4)
    assert out.shape == (2, 9)
    assert out[0].tolist() == [1, 1, 1, 1, 2, 2, 2, 2, 3]
    with pytest.raises(InvalidParameterError, match="stride"):
        tokens_to_samples(w, 8, stride=4)  # token 3 would start past the end


def test_attention_map_shapes_and_normalisation(pvc_attention, pvc_test):
    amap = attention_over_signal(pvc_attention, pvc_test.X, signal="ecg")
    n, t = len(pvc_test.y), pvc_test.X["ecg"].shape[-1]
    tokens = t // amap.stride + (t % amap.stride > 0)
    assert amap.queries == ("clinical",)
    assert amap.heads.shape == (n, 2, tokens)
    assert amap.tokens.shape == (n, tokens) and amap.relevance.shape == (n, t)
    np.testing.assert_allclose(amap.tokens.sum(axis=1), 1.0, atol=1e-6)
    assert (amap.relevance >= 0).all()
    one = attention_over_signal(pvc_attention, pvc_test.X, signal="ecg", heads=1)
    np.testing.assert_allclose(one.tokens, amap.heads[:, 1])
    frame = amap.to_frame()
    assert len(frame) == n * tokens and frame["stop"].max() == t


def test_attention_prefers_the_ectopic_beats(pvc_attention, pvc_test):
    amap = attention_over_signal(pvc_attention, pvc_test.X, signal="ecg")
    scores = [
        enrichment(r, p)
        for r, p, y in zip(amap.relevance, pvc_test.pvc_peaks, pvc_test.y, strict=True)
        if y
    ]
    assert np.mean(scores) > 1.0  # more attention on the PVCs than their share of time


def test_attention_map_rejects_wrong_models_and_modalities(
    pvc_attention, pvc_intermediate, pvc_test
):
    with pytest.raises(InvalidParameterError, match="signal"):
        attention_over_signal(pvc_attention, pvc_test.X, signal="clinical")
    with pytest.raises(InvalidParameterError, match="queries"):
        attention_over_signal(pvc_attention, pvc_test.X, signal="ecg", queries=["ecg"])
    with pytest.raises(InvalidParameterError, match="heads"):
        attention_over_signal(pvc_attention, pvc_test.X, signal="ecg", heads=5)
    with pytest.raises(InvalidParameterError, match="attention"):
        attention_over_signal(pvc_intermediate, pvc_test.X, signal="ecg")
