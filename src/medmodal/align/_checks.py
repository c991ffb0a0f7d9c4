"""Input checks shared by the alignment losses and metrics (public-boundary validation)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from medmodal.errors import InvalidParameterError

#: Largest logit scale the CLIP loss uses: ``exp(MAX_LOG_SCALE) = 100`` (Radford et al.).
MAX_LOG_SCALE = math.log(100.0)


def norm_tolerance(dtype: torch.dtype) -> float:
    """How far a row norm may be from 1 and still count as L2-normalised."""
    return max(1e-2, 4 * torch.finfo(dtype).eps)  # accepts bfloat16 round trips


def check_embeddings(x: object, name: str, where: str) -> Tensor:
    """``x`` must be a floating ``(N, D)`` tensor with ``N, D >= 1``."""
    if not isinstance(x, Tensor):
        raise InvalidParameterError(
            f"{where}: {name} is a {type(x).__name__}; expected a torch.Tensor of shape (N, D)"
        )
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise InvalidParameterError(
            f"{where}: {name} has shape {tuple(x.shape)}; expected (N, D) with N, D >= 1"
        )
    if not x.is_floating_point():
        raise InvalidParameterError(f"{where}: {name} has dtype {x.dtype}; expected a float dtype")
    return x


def check_pair(a: object, b: object, where: str) -> tuple[Tensor, Tensor]:
    """Two paired ``(N, D)`` float tensors of one shape, promoted to a common dtype."""
    ta, tb = check_embeddings(a, "a", where), check_embeddings(b, "b", where)
    if ta.shape != tb.shape:
        raise InvalidParameterError(
            f"{where}: a has shape {tuple(ta.shape)} but b has {tuple(tb.shape)}; "
            "they must be paired (N, D) embeddings (same batch size and dimension)"
        )
    if ta.device != tb.device:
        raise InvalidParameterError(f"{where}: a is on {ta.device} but b is on {tb.device}")
    common = torch.promote_types(ta.dtype, tb.dtype)
    return ta.to(common), tb.to(common)


def check_normalized(x: Tensor, name: str, where: str) -> None:
    """Every row of ``x`` must have L2 norm 1 (within :func:`norm_tolerance`)."""
    with torch.no_grad():
        norms = torch.linalg.vector_norm(x.detach().float(), dim=1)  # (N,)
        bad = ~((norms - 1).abs() <= norm_tolerance(x.dtype))  # NaN counts as bad
        if bool(bad.any()):
            row = int(torch.nonzero(bad)[0, 0])
            raise InvalidParameterError(
                f"{where}: row {row} of {name} has L2 norm {float(norms[row]):.6g}; "
                f"expected L2-normalised rows (|norm - 1| <= {norm_tolerance(x.dtype):.3g}); "
                f"normalise with torch.nn.functional.normalize({name}, dim=-1)"
            )


def check_scalar(value: object, name: str, where: str, like: Tensor) -> Tensor:
    """A finite scalar (Python number or one-element tensor) as a 0-d tensor like ``like``."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise InvalidParameterError(
                f"{where}: {name} has shape {tuple(value.shape)}; expected a scalar"
            )
        t = value.reshape(()).to(device=like.device, dtype=like.dtype)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        t = torch.tensor(float(value), device=like.device, dtype=like.dtype)
    else:
        raise InvalidParameterError(
            f"{where}: {name} is a {type(value).__name__}; expected a float or a scalar tensor"
        )
    if not math.isfinite(float(t.detach())):
        raise InvalidParameterError(
            f"{where}: {name} is {float(t.detach())}; it must be a finite number"
        )
    return t


def check_chunk_size(chunk_size: object, where: str) -> int | None:
    """``None`` or a positive integer."""
    if chunk_size is None:
        return None
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise InvalidParameterError(
            f"{where}: chunk_size={chunk_size!r}; expected None or a positive integer"
        )
    return chunk_size
