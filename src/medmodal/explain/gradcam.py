"""Grad-CAM for 1-D (ECG) and 2-D (image) convolutional encoders, via a forward hook.

The activations ``A`` of a chosen convolutional layer (``(B, C, L)`` or ``(B, C, H, W)``)
are weighted by the spatial mean of the gradient of the explained output with respect to
them; the ReLU of the weighted channel sum is upsampled to the input's length or size
(linear / bilinear) and, by default, scaled to ``[0, 1]`` per sample.

Example:
    >>> import torch
    >>> from torch import nn
    >>> from medmodal.explain.gradcam import grad_cam
    >>> _ = torch.manual_seed(0)
    >>> conv = nn.Conv1d(1, 4, 5, stride=4, padding=2)
    >>> net = nn.Sequential(conv, nn.ReLU(), nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(4, 2))
    >>> cam = grad_cam(net, torch.randn(3, 1, 100), conv, target=1)
    >>> cam.shape, bool((cam >= 0).all() and (cam <= 1).all())
    ((3, 100), True)

References:
    Selvaraju RR, Cogswell M, Das A, Vedantam R, Parikh D, Batra D. Grad-CAM: visual
    explanations from deep networks via gradient-based localization. ICCV (2017).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor, nn

from medmodal._torch import num_threads
from medmodal.errors import InvalidParameterError
from medmodal.fusion import FusionClassifier
from medmodal.types import ArrayLike

__all__ = ["fusion_grad_cam", "grad_cam"]


def grad_cam(
    model: Callable[[Tensor], Tensor],
    x: Tensor,
    layer: nn.Module,
    *,
    target: int | Tensor | None = None,
    normalize: bool = True,
) -> np.ndarray:
    """Grad-CAM map of ``layer`` for ``model(x)``, upsampled to ``x``'s spatial shape.

    Args:
        model: ``x`` → ``(B, K)`` outputs (logits); should be in eval mode.
        x: ``(B, C, L)`` or ``(B, C, H, W)`` input.
        layer: a module inside ``model`` whose output is ``(B, C', L')`` / ``(B, C', H', W')``.
        target: output column to explain (an int or a ``(B,)`` tensor; default the
            arg-max per sample).
        normalize: divide each map by its maximum (maps that are all zero stay zero).

    Returns:
        ``(B, L)`` or ``(B, H, W)`` non-negative map.
    """
    if x.ndim not in (3, 4):
        raise InvalidParameterError(
            f"grad_cam: x must be (B, C, L) or (B, C, H, W), got shape {tuple(x.shape)}"
        )
    captured: list[Tensor] = []
    handle = layer.register_forward_hook(lambda _m, _i, out: captured.append(out))
    try:
        with torch.enable_grad():
            out = model(x.detach().requires_grad_(True))  # (B, K)
            if not captured:
                raise InvalidParameterError("grad_cam: layer was not called by the model")
            act = captured[-1]
            if act.ndim != x.ndim:
                raise InvalidParameterError(
                    f"grad_cam: layer output has shape {tuple(act.shape)}; choose a "
                    f"convolutional layer with {x.ndim - 2} spatial dimension(s)"
                )
            cols = _columns(out, target)
            score = out.gather(1, cols[:, None]).sum()
            (grad,) = torch.autograd.grad(score, act)
    finally:
        handle.remove()
    spatial = tuple(range(2, act.ndim))
    weights = grad.mean(dim=spatial, keepdim=True)  # (B, C', 1[, 1])
    cam = torch.relu((weights * act).sum(dim=1, keepdim=True)).detach()  # (B, 1, L'[, W'])
    mode = "linear" if x.ndim == 3 else "bilinear"
    cam = F.interpolate(cam, size=tuple(x.shape[2:]), mode=mode, align_corners=False)[:, 0]
    if normalize:
        peak = cam.flatten(1).amax(dim=1).clamp_min(1e-12)
        cam = cam / peak.view(-1, *([1] * (cam.ndim - 1)))
    return cam.double().numpy()


def fusion_grad_cam(
    clf: FusionClassifier,
    X: Mapping[str, ArrayLike],
    *,
    modality: str,
    layer: nn.Module | None = None,
    target: Any = None,
    masks: Mapping[str, ArrayLike] | None = None,
    normalize: bool = True,
) -> np.ndarray:
    """Grad-CAM over one signal modality of a fitted fusion model.

    Args:
        clf: a fitted :class:`~medmodal.fusion.FusionClassifier` (any method with
            per-modality encoders).
        X: modality → array.
        modality: the signal modality ``(n, C, T)`` to explain.
        layer: the layer to hook (default: the last residual block of its encoder).
        target: class label to explain (default: the predicted class per sample).
        masks: presence masks, as for ``predict``.
        normalize: scale each map to ``[0, 1]``.

    Returns:
        ``(n, T)`` relevance over the samples of ``modality``.
    """
    encoders = getattr(getattr(clf, "model_", None), "encoders", None)
    if encoders is None or modality not in encoders:
        raise InvalidParameterError(
            f"fusion_grad_cam: modality must be an encoded modality of a fitted model, "
            f"got {modality!r}"
        )
    if layer is None:
        blocks = getattr(getattr(encoders[modality], "net", None), "blocks", None)
        if blocks is None or len(blocks) == 0:
            raise InvalidParameterError(
                f"fusion_grad_cam: modality {modality!r} has no convolutional encoder; pass layer="
            )
        layer = blocks[-1]
    batch = clf.prepare(X, masks=masks)
    model = clf.model_.eval()
    inputs = dict(batch.inputs)

    def forward(x: Tensor) -> Tensor:
        return model({**inputs, modality: x}, batch.present).logits

    cols: Tensor | None = None
    if target is not None:
        classes = list(np.asarray(clf.classes_).tolist())
        if target not in classes:
            raise InvalidParameterError(
                f"fusion_grad_cam: target must be one of the classes {classes}, got {target!r}"
            )
        cols = torch.full((len(batch),), classes.index(target), dtype=torch.long)
    with num_threads(clf.num_threads):
        return grad_cam(forward, inputs[modality], layer, target=cols, normalize=normalize)


def _columns(out: Tensor, target: int | Tensor | None) -> Tensor:
    b, k = out.shape
    if target is None:
        return out.detach().argmax(dim=1)
    cols = torch.as_tensor(target, dtype=torch.long).expand(b).clone()
    if bool((cols < 0).any() or (cols >= k).any()):
        raise InvalidParameterError(f"grad_cam: target must be in [0, {k}), got {target!r}")
    return cols
