"""Grad-CAM for 1-D and 2-D convolutional encoders."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from medmodal.errors import InvalidParameterError
from medmodal.explain import fusion_grad_cam, grad_cam
from medmodal.models.config import ImageTowerConfig
from medmodal.models.image_encoder import build_image_encoder

from .conftest import enrichment, fit_pvc, pvc_data


def _detector() -> tuple[nn.Module, nn.Conv1d]:
    """Output 1 = total positive signal: Grad-CAM must equal the rectified input."""
    conv = nn.Conv1d(1, 1, 1, bias=False)
    with torch.no_grad():
        conv.weight.fill_(1.0)
    net = nn.Sequential(conv, nn.ReLU(), nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(1, 2))
    with torch.no_grad():
        net[-1].weight.copy_(torch.tensor([[-1.0], [1.0]]))
        net[-1].bias.zero_()
    return net.eval(), conv


def test_grad_cam_1d_localises_the_bump():
    net, conv = _detector()
    x = torch.zeros(2, 1, 100)
    x[0, 0, 30:40] = 1.0
    x[1, 0, 70:75] = 2.0
    cam = grad_cam(net, x, conv, target=1)
    assert cam.shape == (2, 100)
    assert (cam >= 0).all() and np.allclose(cam.max(axis=1), 1.0)
    assert cam[0, 30:40].min() == 1.0 and cam[0, :30].max() == 0.0 and cam[0, 40:].max() == 0.0
    assert cam[1].argmax() in range(70, 75)


def test_grad_cam_2d_on_the_image_encoder_is_upsampled_and_non_negative():
    torch.manual_seed(0)
    enc = build_image_encoder(ImageTowerConfig(widths=(4, 8), image_size=32))
    model = nn.Sequential(enc, nn.Linear(enc.out_dim, 3)).eval()
    conv_layers = [m for m in enc.modules() if isinstance(m, nn.Conv2d)]
    cam = grad_cam(model, torch.randn(2, 1, 32, 32), conv_layers[-1], normalize=False)
    assert cam.shape == (2, 32, 32)
    assert (cam >= 0).all() and np.isfinite(cam).all()


def test_grad_cam_rejects_bad_inputs():
    net, conv = _detector()
    with pytest.raises(InvalidParameterError, match="target"):
        grad_cam(net, torch.zeros(1, 1, 10), conv, target=2)
    with pytest.raises(InvalidParameterError, match="x must be"):
        grad_cam(net, torch.zeros(1, 10), conv)
    with pytest.raises(InvalidParameterError, match="not called"):
        grad_cam(net, torch.zeros(1, 1, 10), nn.Conv1d(1, 1, 1))


def _median_enrichment(model, cohort) -> float:
    cam = fusion_grad_cam(model, cohort.X, modality="ecg", target=1)
    assert cam.shape == (len(cohort.y), cohort.X["ecg"].shape[-1])
    assert (cam >= 0).all() and cam.max() <= 1.0
    pairs = zip(cam, cohort.pvc_peaks, cohort.y, strict=True)
    return float(np.median([enrichment(c, p) for c, p, y in pairs if y]))


def test_fusion_grad_cam_concentrates_on_the_pvcs_in_most_models(pvc_intermediate, pvc_test):
    """Grad-CAM of an intermediate-fusion model usually concentrates on the PVC beats, not
    always: over three seeded training cohorts (each scored on its own held-out records)
    the medians were 0.8, 3.9 and 3.4 when this test was written. A model can detect PVCs
    from what surrounds them (the compensatory pause), and Grad-CAM then points there."""
    medians = [_median_enrichment(pvc_intermediate, pvc_test)]
    for seed in (3, 5):
        medians.append(_median_enrichment(fit_pvc("intermediate", pvc_data(80, seed=seed)),
                                          pvc_data(12, seed=seed + 1)))  # fmt: skip
    assert sum(m > 1.5 for m in medians) >= 2
    assert np.median(medians) > 1.5


def test_fusion_grad_cam_validates(pvc_intermediate, pvc_test):
    with pytest.raises(InvalidParameterError, match="no convolutional encoder"):
        fusion_grad_cam(pvc_intermediate, pvc_test.X, modality="clinical")
    with pytest.raises(InvalidParameterError, match="modality"):
        fusion_grad_cam(pvc_intermediate, pvc_test.X, modality="mri")
    with pytest.raises(InvalidParameterError, match="target"):
        fusion_grad_cam(pvc_intermediate, pvc_test.X, modality="ecg", target=7)
