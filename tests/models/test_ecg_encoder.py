"""The shared ECG encoder contract: shapes, token count, pooling, validation, gradients."""

from __future__ import annotations

import pytest
import torch

from medmodal.errors import InvalidParameterError
from medmodal.models.ecg_encoder import ECGEncoder1d
from medmodal.models.layers import MLP, ResidualBlock1d


@pytest.mark.parametrize(("length", "depth"), [(1000, 4), (256, 3), (97, 2), (1, 1)])
def test_token_count_matches_num_tokens(length: int, depth: int) -> None:
    enc = ECGEncoder1d(2, width=8, depth=depth, out_dim=16).eval()
    tokens = enc.forward_tokens(torch.randn(3, 2, length))
    assert tokens.shape == (3, enc.num_tokens(length), 16)


def test_forward_is_the_mean_of_the_tokens() -> None:
    torch.manual_seed(0)
    enc = ECGEncoder1d(12, width=8, depth=2, out_dim=24).eval()
    x = torch.randn(4, 12, 300)
    torch.testing.assert_close(enc(x), enc.forward_tokens(x).mean(dim=1))


def test_samples_are_encoded_independently_in_eval_mode() -> None:
    torch.manual_seed(1)
    enc = ECGEncoder1d(3, width=8, depth=2, out_dim=8).eval()
    x = torch.randn(5, 3, 200)
    torch.testing.assert_close(enc(x)[2:3], enc(x[2:3]), atol=1e-5, rtol=1e-5)


def test_gradients_reach_the_stem() -> None:
    enc = ECGEncoder1d(1, width=4, depth=2, out_dim=8)
    enc(torch.randn(2, 1, 64)).sum().backward()
    grad = enc.stem[0].weight.grad
    assert grad is not None and grad.abs().sum() > 0


@pytest.mark.parametrize(
    "kwargs",
    [{"in_channels": 0}, {"in_channels": 2, "depth": 0}, {"in_channels": 2, "dropout": 1.0}],
)
def test_bad_parameters_are_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidParameterError, match="ECGEncoder1d"):
        ECGEncoder1d(**kwargs)  # type: ignore[arg-type]


def test_wrong_input_shape_names_the_expected_one() -> None:
    enc = ECGEncoder1d(12, width=4, depth=1, out_dim=4)
    with pytest.raises(InvalidParameterError, match=r"\(B, 12, T\)"):
        enc(torch.randn(2, 3, 100))


def test_layers_validate_and_keep_shapes() -> None:
    assert MLP(3, 2, depth=0)(torch.zeros(4, 3)).shape == (4, 2)
    assert ResidualBlock1d(2, 2)(torch.zeros(1, 2, 9)).shape == (1, 2, 9)
    with pytest.raises(InvalidParameterError, match="kernel_size"):
        ResidualBlock1d(2, 2, kernel_size=4)
    with pytest.raises(InvalidParameterError, match="depth"):
        MLP(2, 2, depth=-1)
