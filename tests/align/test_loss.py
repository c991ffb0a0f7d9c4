"""CLIP and SigLIP losses: values against hand-written references, dense = chunked (values
and gradients), the logit-scale clamp, the modules, properties, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from hypothesis import given, settings
from hypothesis import strategies as st

from medmodal.align import (
    CLIP_INIT_LOG_SCALE,
    MAX_LOG_SCALE,
    ClipLoss,
    SigLipLoss,
    clip_loss,
    siglip_loss,
)
from medmodal.errors import InvalidParameterError


def _pair(n: int, d: int, dtype: torch.dtype = torch.float64, seed: int = 0, noise: float = 1.0):
    g = torch.Generator().manual_seed(seed)
    a = F.normalize(torch.randn(n, d, generator=g, dtype=dtype), dim=-1)
    b = F.normalize(a + noise * torch.randn(n, d, generator=g, dtype=dtype), dim=-1)
    return a, b


def _reference(a: np.ndarray, b: np.ndarray, scale: float) -> float:
    """Symmetric InfoNCE written out with numpy log-sum-exp, one row/column at a time."""
    logits = scale * a @ b.T
    n = len(a)
    rows = [np.logaddexp.reduce(logits[i]) - logits[i, i] for i in range(n)]
    cols = [np.logaddexp.reduce(logits[:, j]) - logits[j, j] for j in range(n)]
    return (np.mean(rows) + np.mean(cols)) / 2


def _rel(x: torch.Tensor, y: torch.Tensor) -> float:
    return float((x - y).detach().norm() / y.detach().norm().clamp_min(1e-30))


def test_clip_loss_matches_numpy_reference() -> None:
    a, b = _pair(12, 5, seed=1)
    t = math.log(20.0)
    got = clip_loss(a, b, torch.tensor(t, dtype=torch.float64))
    assert float(got) == pytest.approx(_reference(a.numpy(), b.numpy(), 20.0), rel=1e-12)


def test_clip_loss_hand_computed_two_pairs() -> None:
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    # logits = s * I: each row's softmax puts e^s / (e^s + 1) on its pair
    s = 3.0
    expected = math.log(1 + math.exp(-s))
    assert float(clip_loss(a, a, math.log(s))) == pytest.approx(expected, rel=1e-12)


def test_clip_loss_is_ln_n_without_signal() -> None:
    a, b = _pair(16, 8, seed=2)
    loss = clip_loss(a, b, torch.tensor(-40.0, dtype=torch.float64))  # scale ~ 4e-18
    assert float(loss) == pytest.approx(math.log(16), abs=1e-12)


def test_clip_loss_stable_at_the_lowest_temperature() -> None:
    """The notebook's exp-then-log overflows in float32 at scale 100; log-sum-exp does not."""
    a, b = _pair(64, 4, dtype=torch.float32, seed=3, noise=0.1)
    loss = clip_loss(a, b, torch.tensor(MAX_LOG_SCALE))
    assert torch.isfinite(loss)
    ref = _reference(a.double().numpy(), b.double().numpy(), 100.0)
    assert float(loss) == pytest.approx(ref, rel=1e-4, abs=1e-6)
    assert ref > 1e-3
    with np.errstate(over="ignore", invalid="ignore"):  # the notebook's exp, then log
        exp_logits = np.exp(np.float32(100.0) * (a.numpy() @ b.numpy().T))
        naive = -np.mean(np.log(np.diag(exp_logits) / exp_logits.sum(axis=1)))
    assert not np.isfinite(naive)


def test_clip_loss_near_zero_for_perfect_pairs() -> None:
    a = torch.eye(8, dtype=torch.float64)
    assert float(clip_loss(a, a, MAX_LOG_SCALE)) < 1e-40


def test_logit_scale_is_clamped_at_ln_100() -> None:
    a, b = _pair(10, 4, seed=4)
    high = torch.tensor(6.0, dtype=torch.float64, requires_grad=True)
    capped = clip_loss(a, b, torch.tensor(MAX_LOG_SCALE, dtype=torch.float64))
    loss = clip_loss(a, b, high)
    assert float(loss.detach()) == pytest.approx(float(capped), rel=1e-14)
    loss.backward()
    assert high.grad is not None and float(high.grad) == 0.0


def test_logit_bias_cancels() -> None:
    a, b = _pair(10, 4, seed=5)
    bias = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    t = torch.tensor(2.0, dtype=torch.float64)
    for chunk in (None, 4):
        with_bias = clip_loss(a, b, t, logit_bias=bias, chunk_size=chunk)
        assert float(with_bias.detach()) == pytest.approx(float(clip_loss(a, b, t)), rel=1e-12)
        (grad,) = torch.autograd.grad(with_bias, bias)
        assert abs(float(grad)) < 1e-12


# --- chunked = dense ------------------------------------------------------------------


def _loss_and_grads(a, b, t, chunk):
    a, b = a.clone().requires_grad_(), b.clone().requires_grad_()
    t = t.clone().requires_grad_()
    loss = clip_loss(a, b, t, chunk_size=chunk)
    return (loss, *torch.autograd.grad(loss, (a, b, t)))


@pytest.mark.parametrize(
    ("dtype", "tol"), [(torch.float64, 1e-10), (torch.float32, 1e-5)], ids=["f64", "f32"]
)
@pytest.mark.parametrize(("n", "chunk"), [(64, 16), (203, 64), (50, 7), (9, 1), (30, 100)])
def test_chunked_equals_dense(dtype: torch.dtype, tol: float, n: int, chunk: int) -> None:
    a, b = _pair(n, 32, dtype=dtype, seed=n)
    t = torch.tensor(CLIP_INIT_LOG_SCALE, dtype=dtype)
    dense = _loss_and_grads(a, b, t, None)
    tiled = _loss_and_grads(a, b, t, chunk)
    names = ("loss", "d/da", "d/db", "d/dlogit_scale")
    for name, x, y in zip(names, tiled, dense, strict=True):
        assert _rel(x, y) <= tol, f"{name}: relative error {_rel(x, y):.2e} > {tol}"


@pytest.mark.parametrize("scale", [1.0, 30.0, 100.0])
def test_chunked_equals_dense_across_temperatures(scale: float) -> None:
    a, b = _pair(97, 16, dtype=torch.float64, seed=7, noise=0.3)
    t = torch.tensor(math.log(scale), dtype=torch.float64)
    for x, y in zip(_loss_and_grads(a, b, t, 10), _loss_and_grads(a, b, t, None), strict=True):
        assert _rel(x, y) <= 1e-10


@pytest.mark.parametrize(
    ("dtype", "tol"), [(torch.float64, 1e-10), (torch.float32, 1e-5)], ids=["f64", "f32"]
)
def test_chunked_exact_when_some_pairs_sit_far_below_the_tile_maximum(
    dtype: torch.dtype, tol: float
) -> None:
    """At scale 100, anti-aligned pairs have diagonal logits ~180 below the best pair:
    the column sums' shared shift would underflow them, so they are recomputed exactly."""
    a, b = _pair(60, 8, dtype=dtype, seed=15, noise=0.05)
    b[::7] = -b[::7]  # every 7th pair points the opposite way
    t = torch.tensor(MAX_LOG_SCALE, dtype=dtype)
    dense = _loss_and_grads(a, b, t, None)
    assert float(dense[0].detach()) > 10  # the anti-aligned pairs dominate the loss
    for chunk in (8, 25):
        for x, y in zip(_loss_and_grads(a, b, t, chunk), dense, strict=True):
            assert _rel(x, y) <= tol


def test_chunked_loss_is_once_differentiable() -> None:
    a, b = _pair(6, 3, seed=16)
    a.requires_grad_()
    (grad,) = torch.autograd.grad(clip_loss(a, b, 1.0, chunk_size=4), a, create_graph=True)
    with pytest.raises(RuntimeError, match=r"does not require grad|twice"):
        grad.sum().backward()


def test_chunked_backward_passes_gradcheck() -> None:
    from medmodal.align._chunked import chunked_clip_loss

    g = torch.Generator().manual_seed(8)
    a = torch.randn(7, 3, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(7, 3, generator=g, dtype=torch.float64, requires_grad=True)
    s = torch.tensor(2.5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, y, z: chunked_clip_loss(x, y, z, 3), (a, b, s))


def test_chunked_upstream_gradient_scales() -> None:
    a, b = _pair(20, 6, seed=9)
    a.requires_grad_()
    (3.5 * clip_loss(a, b, 2.0, chunk_size=6)).backward()
    grad_chunked = a.grad.clone()
    a.grad = None
    (3.5 * clip_loss(a, b, 2.0)).backward()
    assert _rel(grad_chunked, a.grad) <= 1e-10


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_chunked_half_precision_computes_in_float32(dtype: torch.dtype) -> None:
    a, b = _pair(40, 16, dtype=torch.float32, seed=10)
    a, b = a.to(dtype).requires_grad_(), b.to(dtype)
    loss = clip_loss(a, b, 2.0, chunk_size=16)
    loss.backward()
    assert loss.dtype == dtype and a.grad is not None and a.grad.dtype == dtype
    ref = clip_loss(a.detach().float(), b.float(), 2.0)
    assert float(loss) == pytest.approx(float(ref), rel=1e-2)


# --- properties -----------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 24),
    d=st.integers(2, 8),
    seed=st.integers(0, 2**16),
    log_scale=st.floats(-3.0, MAX_LOG_SCALE),
)
def test_clip_loss_symmetry_and_invariances(n: int, d: int, seed: int, log_scale: float) -> None:
    a, b = _pair(n, d, seed=seed)
    t = torch.tensor(log_scale, dtype=torch.float64)
    loss = float(clip_loss(a, b, t))
    g = torch.Generator().manual_seed(seed + 1)
    perm = torch.randperm(n, generator=g)
    rot, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    assert float(clip_loss(b, a, t)) == pytest.approx(loss, rel=1e-12)  # swap modalities
    assert float(clip_loss(a[perm], b[perm], t)) == pytest.approx(loss, rel=1e-12)  # reorder
    assert float(clip_loss(a @ rot, b @ rot, t)) == pytest.approx(loss, rel=1e-9)  # rotate
    assert 0.0 <= loss <= math.log(n) + 2 * math.exp(log_scale) + 1e-9


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 40), chunk=st.integers(1, 45), seed=st.integers(0, 2**16))
def test_chunked_equals_dense_property(n: int, chunk: int, seed: int) -> None:
    a, b = _pair(n, 6, seed=seed)
    t = torch.tensor(2.5, dtype=torch.float64)
    for x, y in zip(_loss_and_grads(a, b, t, chunk), _loss_and_grads(a, b, t, None), strict=True):
        assert float((x - y).abs().max()) <= 1e-10 * max(1.0, float(y.abs().max()))


# --- SigLIP ---------------------------------------------------------------------------


def test_siglip_matches_pairwise_reference() -> None:
    a, b = _pair(7, 3, seed=11)
    t, bias = math.log(10.0), -5.0
    sim = (a @ b.T).numpy()
    expected = 0.0
    for i in range(7):
        for j in range(7):
            z = 1.0 if i == j else -1.0
            expected += math.log1p(math.exp(-z * (10.0 * sim[i, j] + bias)))
    assert float(siglip_loss(a, b, t, bias)) == pytest.approx(expected / 7, rel=1e-12)


def test_siglip_module_initialisation_and_gradients() -> None:
    loss_fn = SigLipLoss()
    assert float(loss_fn.logit_scale) == pytest.approx(math.log(10.0))
    assert float(loss_fn.logit_bias) == -10.0
    a, b = _pair(6, 4, dtype=torch.float32, seed=12)
    loss_fn(a, b).backward()
    assert loss_fn.logit_scale.grad is not None and loss_fn.logit_bias.grad is not None


# --- ClipLoss module ------------------------------------------------------------------


def test_clip_module_initialisation_and_learning() -> None:
    loss_fn = ClipLoss()
    assert float(loss_fn.logit_scale) == pytest.approx(math.log(1 / 0.07))
    assert isinstance(loss_fn.logit_scale, torch.nn.Parameter)
    a, b = _pair(8, 4, dtype=torch.float32, seed=13, noise=0.1)
    loss = loss_fn(a, b)
    assert float(loss) == pytest.approx(float(clip_loss(a, b, CLIP_INIT_LOG_SCALE)), rel=1e-6)
    loss.backward()
    assert float(loss_fn.logit_scale.grad) < 0  # well-aligned pairs: sharpen (raise scale)


def test_clip_module_keeps_the_parameter_under_the_cap() -> None:
    loss_fn = ClipLoss(chunk_size=3)
    with torch.no_grad():
        loss_fn.logit_scale.fill_(7.0)
    a, b = _pair(8, 4, dtype=torch.float32, seed=14)
    loss_fn(a, b).backward()
    assert float(loss_fn.logit_scale) == pytest.approx(MAX_LOG_SCALE)
    assert float(loss_fn.logit_scale.grad) != 0.0  # still learns at the cap


def test_clip_module_fixed_scale_is_a_buffer() -> None:
    loss_fn = ClipLoss(math.log(20.0), learnable=False)
    assert not list(loss_fn.parameters())
    assert "logit_scale" in dict(loss_fn.named_buffers())


def test_contrastive_training_beats_chance_on_aligned_synthetic_pairs() -> None:
    torch.manual_seed(0)
    n, d_in, d_out = 256, 12, 8
    x = torch.randn(n, d_in)
    y = x @ torch.randn(d_in, d_in) + 0.1 * torch.randn(n, d_in)
    tower_a, tower_b = torch.nn.Linear(d_in, d_out), torch.nn.Linear(d_in, d_out)
    loss_fn = ClipLoss(chunk_size=48)
    params = [*tower_a.parameters(), *tower_b.parameters(), *loss_fn.parameters()]
    opt = torch.optim.Adam(params, lr=0.02)
    train, test = slice(0, 128), slice(128, n)
    for _ in range(60):
        opt.zero_grad()
        ea, eb = F.normalize(tower_a(x[train]), dim=-1), F.normalize(tower_b(y[train]), dim=-1)
        loss_fn(ea, eb).backward()
        opt.step()
    with torch.no_grad():
        ea, eb = F.normalize(tower_a(x[test]), dim=-1), F.normalize(tower_b(y[test]), dim=-1)
        top1 = (ea @ eb.T).argmax(dim=1) == torch.arange(128)
    assert float(top1.float().mean()) > 10 / 128  # chance is 1/128


# --- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "match"),
    [
        (torch.eye(4), torch.eye(3, 4), r"clip_loss: a has shape \(4, 4\) but b has \(3, 4\)"),
        (torch.eye(4), torch.eye(4, 3), r"but b has \(4, 3\)"),
        (torch.ones(4), torch.ones(4), r"a has shape \(4,\); expected \(N, D\)"),
        (torch.empty(0, 3), torch.empty(0, 3), r"shape \(0, 3\)"),
        (np.eye(3), torch.eye(3), "a is a ndarray; expected a torch.Tensor"),
        (torch.eye(3, dtype=torch.long), torch.eye(3), "dtype torch.int64"),
    ],
)
def test_clip_loss_rejects_bad_shapes(a: object, b: object, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        clip_loss(a, b, 1.0)  # type: ignore[arg-type]


def test_clip_loss_names_the_unnormalised_row() -> None:
    a = torch.eye(4)
    b = torch.eye(4).clone()
    b[2] *= 3.0
    with pytest.raises(InvalidParameterError, match=r"clip_loss: row 2 of b has L2 norm 3"):
        clip_loss(a, b, 1.0)
    b[2] = float("nan")
    with pytest.raises(InvalidParameterError, match="row 2 of b has L2 norm nan"):
        clip_loss(a, b, 1.0, chunk_size=2)


@pytest.mark.parametrize("fn", [clip_loss, siglip_loss])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), torch.tensor(float("nan"))])
def test_losses_reject_non_finite_logit_scale(fn, bad: object) -> None:
    a = torch.eye(3)
    args = (bad, 0.0) if fn is siglip_loss else (bad,)
    with pytest.raises(InvalidParameterError, match=rf"{fn.__name__}: logit_scale is (nan|inf)"):
        fn(a, a, *args)


def test_clip_loss_rejects_bad_scalars_and_chunk() -> None:
    a = torch.eye(3)
    with pytest.raises(InvalidParameterError, match=r"logit_scale has shape \(2,\)"):
        clip_loss(a, a, torch.ones(2))
    with pytest.raises(InvalidParameterError, match="logit_scale is a str"):
        clip_loss(a, a, "1.0")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="logit_bias is nan"):
        clip_loss(a, a, 1.0, logit_bias=float("nan"))
    for chunk in (0, -3, 2.5, True):
        with pytest.raises(InvalidParameterError, match=r"chunk_size=.*positive integer"):
            clip_loss(a, a, 1.0, chunk_size=chunk)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="ClipLoss: init_log_scale=nan"):
        ClipLoss(float("nan"))
