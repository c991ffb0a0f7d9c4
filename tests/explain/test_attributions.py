"""Integrated Gradients through Captum for fitted fusion models."""

from __future__ import annotations

import numpy as np
import pytest

from medmodal.errors import InvalidParameterError, MedmodalWarning
from medmodal.explain import integrated_gradients

from .conftest import enrichment


def test_integrated_gradients_is_complete(tabular, tabular_clf):
    X, _ = tabular
    Xs = {k: v[:16] for k, v in X.items()}
    ig = integrated_gradients(tabular_clf, Xs, n_steps=128)
    assert ig.attributions["clinical"].shape == (16, 5)
    assert ig.totals().shape == (16, 3)
    np.testing.assert_allclose(
        ig.totals().sum(axis=1), ig.prediction - ig.baseline_prediction, atol=0.02
    )
    assert np.abs(ig.delta).max() < 0.02
    # default target: the predicted class, whose probability is the prediction
    proba = tabular_clf.predict_proba(Xs)
    np.testing.assert_allclose(ig.prediction, proba.max(axis=1), atol=1e-5)
    frame = ig.to_frame()
    assert list(frame.columns[-3:]) == ["total_clinical", "total_image", "total_labs"]


def test_uninformative_and_absent_modalities_get_little_or_no_attribution(tabular, tabular_clf):
    X, _ = tabular
    Xs = {k: v[:16] for k, v in X.items()}
    ig = integrated_gradients(tabular_clf, Xs, target=1, output="logit", n_steps=32)
    totals = np.abs(ig.totals()).mean(axis=0)  # clinical, image, labs
    assert totals[2] < min(totals[0], totals[1])
    absent = integrated_gradients(tabular_clf, Xs, masks={"labs": np.zeros(16, bool)}, n_steps=16)
    assert np.abs(absent.attributions["labs"]).max() == 0.0


@pytest.mark.filterwarnings("ignore::medmodal.errors.MedmodalWarning")  # few steps: coarse
def test_integrated_gradients_finds_the_pvcs(pvc_attention, pvc_test):
    idx = np.flatnonzero(pvc_test.y == 1)[:3]
    X = {k: v[idx] for k, v in pvc_test.X.items()}
    ig = integrated_gradients(pvc_attention, X, target=1, n_steps=16)
    ecg = ig.attributions["ecg"][:, 0]  # (n, T)
    scores = [enrichment(a, pvc_test.pvc_peaks[i]) for a, i in zip(ecg, idx, strict=True)]
    assert min(scores) > 2.0


def test_too_few_steps_warn_about_completeness(tabular, tabular_clf):
    X, _ = tabular
    Xs = {k: v[:16] for k, v in X.items()}
    with pytest.warns(MedmodalWarning, match="raise n_steps"):
        integrated_gradients(tabular_clf, Xs, n_steps=2)


def test_integrated_gradients_validates(tabular, tabular_clf):
    X, _ = tabular
    Xs = {k: v[:4] for k, v in X.items()}
    with pytest.raises(InvalidParameterError, match="output"):
        integrated_gradients(tabular_clf, Xs, output="odds")
    with pytest.raises(InvalidParameterError, match="n_steps"):
        integrated_gradients(tabular_clf, Xs, n_steps=1)
    with pytest.raises(InvalidParameterError, match="baseline"):
        integrated_gradients(tabular_clf, Xs, baselines={"clinical": np.zeros(3)})
    with pytest.raises(InvalidParameterError, match="target"):
        integrated_gradients(tabular_clf, Xs, target=5)
