"""Integrated Gradients are complete for every fusion method, late fusion included."""

from __future__ import annotations

import numpy as np
import pytest

from medmodal.data.synthetic import make_multimodal_classification
from medmodal.explain import integrated_gradients
from medmodal.fusion import FusionClassifier

DATA = make_multimodal_classification(120, seed=3, missing_rate=0.2)
CASES = [
    ("late", {"combiner": "mean"}),
    ("late", {"combiner": "weighted"}),
    ("late", {"combiner": "stacking"}),
    ("early", {}),
    ("gated", {}),
    ("attention", {"hidden": 16}),
]


@pytest.mark.parametrize(("method", "params"), CASES)
def test_ig_is_complete_for_every_method(method, params):
    clf = FusionClassifier(
        method, epochs=3, random_state=0, num_threads=1, verbose=False, **params
    ).fit(DATA.X, DATA.y)
    X = {k: v[:12] for k, v in DATA.X.items()}
    ig = integrated_gradients(clf, X, n_steps=64)
    assert np.abs(ig.totals()).sum() > 0  # gradients reach the inputs
    np.testing.assert_allclose(
        ig.totals().sum(axis=1), ig.prediction - ig.baseline_prediction, atol=0.03
    )
