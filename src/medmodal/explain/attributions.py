"""Integrated Gradients for any fitted fusion model, one attribution array per modality.

The model sees standardised inputs (``FusionClassifier.prepare``); the default baseline
is zero there, i.e. the training mean of every feature / lead: the attributions say how
each input value moved the prediction away from that of an "average patient". Every
modality is attributed at once (Captum's multi-input IG), so per-modality totals are
comparable and, with the default straight-line path, all attributions of a sample add
up to ``F(x) - F(baseline)`` (completeness; ``delta`` reports the numerical error).

Example:
    >>> from medmodal.data.synthetic import make_multimodal_classification
    >>> from medmodal.explain.attributions import integrated_gradients
    >>> from medmodal.fusion import FusionClassifier
    >>> data = make_multimodal_classification(120, seed=0)
    >>> clf = FusionClassifier("early", epochs=5, verbose=False).fit(data.X, data.y)
    >>> ig = integrated_gradients(clf, {k: v[:4] for k, v in data.X.items()}, n_steps=16)
    >>> ig.attributions["clinical"].shape, ig.totals().shape
    ((4, 5), (4, 2))

References:
    Sundararajan M, Taly A, Yan Q. Axiomatic attribution for deep networks. ICML (2017).
    Kokhlikyan N et al. Captum: a unified and generic model interpretability library for
    PyTorch. arXiv:2009.07896 (2020).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from medmodal._optional import require
from medmodal._torch import num_threads
from medmodal.errors import InvalidParameterError, MedmodalWarning
from medmodal.fusion import FusionClassifier
from medmodal.types import ArrayLike

__all__ = ["Attributions", "integrated_gradients"]

OUTPUTS = ("probability", "logit")


@dataclass(frozen=True)
class Attributions:
    """Integrated-Gradients attributions of one output per sample.

    Attributes:
        attributions: modality → array of the input's shape ``(n, ...)`` (in units of the
            attributed output).
        target: ``(n,)`` output column explained for each sample.
        output: ``"probability"`` or ``"logit"``.
        delta: ``(n,)`` completeness error: sum of attributions minus
            ``F(x) - F(baseline)``.
        prediction: ``(n,)`` ``F(x)``, the attributed output at the input.
        baseline_prediction: ``(n,)`` ``F(baseline)``.
    """

    attributions: dict[str, np.ndarray]
    target: np.ndarray
    output: str
    delta: np.ndarray
    prediction: np.ndarray
    baseline_prediction: np.ndarray

    def totals(self) -> np.ndarray:
        """``(n, M)`` summed attribution of each modality (columns in model order)."""
        return np.stack(
            [a.reshape(len(a), -1).sum(axis=1) for a in self.attributions.values()], axis=1
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per sample: the target, F(x), F(baseline), delta and each modality's total."""
        frame = pd.DataFrame(
            {
                "target": self.target,
                "prediction": self.prediction,
                "baseline_prediction": self.baseline_prediction,
                "delta": self.delta,
            }
        )
        for name, total in zip(self.attributions, self.totals().T, strict=True):
            frame[f"total_{name}"] = total
        return frame


def integrated_gradients(
    clf: FusionClassifier,
    X: Mapping[str, ArrayLike],
    *,
    target: Any = None,
    masks: Mapping[str, ArrayLike] | None = None,
    baselines: Mapping[str, ArrayLike] | None = None,
    output: str = "probability",
    n_steps: int = 50,
    internal_batch_size: int | None = None,
) -> Attributions:
    """Integrated Gradients of a fitted fusion model, all modalities at once.

    Args:
        clf: a fitted :class:`~medmodal.fusion.FusionClassifier` (any method).
        X: modality → array ``(n, ...)``.
        target: class label (or label index, multi-label) to explain; default the
            predicted class of each sample.
        masks: presence masks (absent modalities get zero attribution).
        baselines: modality → baseline in the model's standardised space, broadcastable
            to ``(n, ...)`` (default zeros = the training mean).
        output: attribute the ``"probability"`` (softmax/sigmoid) or the raw ``"logit"``.
        n_steps: points on the integration path (Gauss-Legendre). Models with a sharp
            decision (a confident PVC detector) need more (128-512): a MedmodalWarning
            says so when ``delta`` exceeds 5 % of the largest ``F(x) - F(baseline)``.
        internal_batch_size: passed to Captum to bound memory.

    Returns:
        :class:`Attributions`.
    """
    captum_attr = require("captum.attr", extra="explain", feature="integrated_gradients")
    if output not in OUTPUTS:
        raise InvalidParameterError(
            f"integrated_gradients: output must be one of {OUTPUTS}, got {output!r}"
        )
    if not isinstance(n_steps, int) or n_steps < 2:
        raise InvalidParameterError(
            f"integrated_gradients: n_steps must be an int >= 2, got {n_steps!r}"
        )
    batch = clf.prepare(X, masks=masks)
    names = tuple(clf.modalities_)
    model = clf.model_.eval()
    inputs = tuple(batch.inputs[n].detach().clone() for n in names)
    base = tuple(_baseline(baselines, n, x) for n, x in zip(names, inputs, strict=True))

    def forward(*args: Tensor) -> Tensor:
        *xs, present = args  # Captum repeats the presence mask along with the path points
        logits = model(dict(zip(names, xs, strict=True)), present).logits
        if output == "logit":
            return logits
        return torch.sigmoid(logits) if clf.multilabel_ else logits.softmax(dim=1)

    with num_threads(clf.num_threads), torch.no_grad():
        at_x = forward(*inputs, batch.present).double()
        at_base = forward(*base, batch.present).double()
    columns = _targets(clf, at_x.numpy(), target)
    ig = captum_attr.IntegratedGradients(forward)
    with num_threads(clf.num_threads), torch.enable_grad():
        attrs, delta = ig.attribute(
            inputs,
            baselines=base,
            target=torch.from_numpy(columns),
            additional_forward_args=(batch.present,),
            n_steps=n_steps,
            internal_batch_size=internal_batch_size,
            return_convergence_delta=True,
        )
    rows = np.arange(len(columns))
    result = Attributions(
        {n: a.detach().double().numpy() for n, a in zip(names, attrs, strict=True)},
        columns,
        output,
        delta.detach().double().numpy(),
        at_x.numpy()[rows, columns],
        at_base.numpy()[rows, columns],
    )
    _check_completeness(result, n_steps)
    return result


def _check_completeness(result: Attributions, n_steps: int) -> None:
    """Warn when the path integral is too coarse (a sharp model needs more steps)."""
    if result.delta.size == 0:
        return
    scale = max(float(np.abs(result.prediction - result.baseline_prediction).max()), 1e-2)
    worst = float(np.abs(result.delta).max())
    if worst > 0.05 * scale:
        warnings.warn(
            f"integrated_gradients: attributions miss F(x) - F(baseline) by up to {worst:.3g} "
            f"(completeness, {100 * worst / scale:.0f} % of the largest change); raise n_steps "
            f"(now {n_steps}) until delta is small",
            MedmodalWarning,
            stacklevel=3,
        )


def _baseline(baselines: Mapping[str, ArrayLike] | None, name: str, x: Tensor) -> Tensor:
    if baselines is None or name not in baselines:
        return torch.zeros_like(x)
    b = torch.as_tensor(np.asarray(baselines[name], dtype=np.float32))
    try:
        return b.expand_as(x).clone()
    except RuntimeError as exc:
        raise InvalidParameterError(
            f"integrated_gradients: baseline of {name!r} has shape {tuple(b.shape)}, not "
            f"broadcastable to {tuple(x.shape)}"
        ) from exc


def _targets(clf: FusionClassifier, at_x: np.ndarray, target: Any) -> np.ndarray:
    if target is None:
        return at_x.argmax(axis=1).astype(np.int64)
    classes = list(np.asarray(clf.classes_).tolist())
    if target not in classes:
        raise InvalidParameterError(
            f"integrated_gradients: target must be one of the classes {classes}, got {target!r}"
        )
    return np.full(len(at_x), classes.index(target), dtype=np.int64)
