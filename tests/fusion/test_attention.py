"""CrossAttentionFusion equals torch.nn.MultiheadAttention; masks and weights behave."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from medmodal.errors import InvalidParameterError
from medmodal.fusion import CrossAttentionFusion


def _pair(dim: int = 32, heads: int = 4) -> tuple[CrossAttentionFusion, nn.MultiheadAttention]:
    torch.manual_seed(0)
    ours = CrossAttentionFusion(dim, heads).eval()
    ref = nn.MultiheadAttention(dim, heads, batch_first=True).eval()
    with torch.no_grad():
        ref.in_proj_weight.copy_(
            torch.cat([ours.q_proj.weight, ours.k_proj.weight, ours.v_proj.weight])
        )
        ref.in_proj_bias.copy_(torch.cat([ours.q_proj.bias, ours.k_proj.bias, ours.v_proj.bias]))
        ref.out_proj.weight.copy_(ours.out_proj.weight)
        ref.out_proj.bias.copy_(ours.out_proj.bias)
    return ours, ref


@pytest.mark.parametrize("need_weights", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_matches_multihead_attention(need_weights: bool, masked: bool) -> None:
    ours, ref = _pair()
    q, kv = torch.randn(3, 5, 32), torch.randn(3, 9, 32)
    pad = None
    if masked:
        pad = torch.zeros(3, 9, dtype=torch.bool)
        pad[0, 6:] = True
        pad[2, 1:] = True
    out = ours(q, kv, key_padding_mask=pad, need_weights=need_weights)
    expected, weights = ref(
        q, kv, kv, key_padding_mask=pad, need_weights=True, average_attn_weights=False
    )
    torch.testing.assert_close(out.output, expected, atol=1e-5, rtol=1e-5)
    if need_weights:
        assert out.weights is not None and out.weights.shape == (3, 4, 5, 9)
        torch.testing.assert_close(out.weights, weights, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(out.weights.sum(-1), torch.ones(3, 4, 5))
    else:
        assert out.weights is None


def test_gradients_match_multihead_attention() -> None:
    ours, ref = _pair(16, 2)
    q = torch.randn(2, 4, 16, requires_grad=True)
    kv = torch.randn(2, 6, 16)
    ours(q, kv).output.square().sum().backward()
    g_ours = q.grad.clone()
    q.grad = None
    ref(q, kv, kv, need_weights=False)[0].square().sum().backward()
    torch.testing.assert_close(g_ours, q.grad, atol=1e-5, rtol=1e-5)


def test_masked_keys_get_no_weight_and_do_not_change_the_output() -> None:
    ours, _ = _pair()
    q, kv = torch.randn(1, 3, 32), torch.randn(1, 8, 32)
    pad = torch.tensor([[False] * 5 + [True] * 3])
    out = ours(q, kv, key_padding_mask=pad, need_weights=True)
    assert out.weights is not None and float(out.weights[..., 5:].detach().abs().max()) == 0.0
    torch.testing.assert_close(out.output, ours(q, kv[:, :5]).output, atol=1e-6, rtol=1e-5)


def test_a_sample_with_every_key_masked_gets_zeros_not_nan() -> None:
    ours, _ = _pair()
    pad = torch.zeros(2, 4, dtype=torch.bool)
    pad[1] = True
    for need in (False, True):
        out = ours(torch.randn(2, 3, 32), torch.randn(2, 4, 32), key_padding_mask=pad,
                   need_weights=need)  # fmt: skip
        assert torch.isfinite(out.output).all()
        assert float(out.output[1].detach().abs().max()) == 0.0


def test_bad_shapes_and_parameters_are_rejected() -> None:
    with pytest.raises(InvalidParameterError, match="multiple of num_heads"):
        CrossAttentionFusion(30, 4)
    attn = CrossAttentionFusion(8, 2)
    with pytest.raises(InvalidParameterError, match="expected"):
        attn(torch.randn(2, 8), torch.randn(2, 3, 8))
    with pytest.raises(InvalidParameterError, match="key_padding_mask"):
        attn(torch.randn(2, 1, 8), torch.randn(2, 3, 8), key_padding_mask=torch.zeros(2, 4))
