"""Tiny seeded models shared by the explain tests (trained once per session)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from medmodal.data.synthetic import make_multimodal_classification
from medmodal.data.synthetic_pvc import PVCCohort, make_pvc_cohort
from medmodal.fusion import FusionClassifier


def pvc_data(n: int, seed: int = 0) -> PVCCohort:
    """Alternating 10-s sinus / PVC ECGs at 100 Hz, with age and sex (no age signal)."""
    return make_pvc_cohort(
        n, seed=seed, ectopic_rate=0.2, heart_rate=(60.0, 80.0), noise=0.03, age_shift=0.0
    )


@pytest.fixture(scope="session")
def pvc() -> PVCCohort:
    return pvc_data(80, seed=1)


def fit_pvc(method: str, data: PVCCohort, **params: Any) -> FusionClassifier:
    """A small ``method`` model trained to say "PVCs present" (same settings for all)."""
    clf = FusionClassifier(
        method,
        hidden=16,
        signal_width=8,
        signal_depth=3,
        dropout=0.0,
        epochs=25,
        batch_size=16,
        lr=3e-3,
        validation_fraction=0.0,
        random_state=0,
        num_threads=1,
        verbose=False,
        **params,
    )
    return clf.fit(data.X, data.y)


@pytest.fixture(scope="session")
def pvc_attention(pvc: PVCCohort) -> FusionClassifier:
    """Cross-attention fusion trained to say "PVCs present"."""
    return fit_pvc("attention", pvc, num_heads=2)


@pytest.fixture(scope="session")
def tabular() -> tuple[dict[str, np.ndarray], np.ndarray]:
    data = make_multimodal_classification(
        240,
        n_features={"clinical": 5, "image": 6, "labs": 3},
        signal={"clinical": 3.0, "image": 3.0, "labs": 0.0},  # labs carry no information
        seed=0,
    )
    return data.X, data.y


@pytest.fixture(scope="session")
def tabular_clf(tabular: tuple[dict[str, np.ndarray], np.ndarray]) -> FusionClassifier:
    X, y = tabular
    clf = FusionClassifier(
        "intermediate",
        hidden=16,
        epochs=30,
        lr=3e-3,
        random_state=0,
        num_threads=1,
        verbose=False,
    )
    return clf.fit(X, y)


def enrichment(relevance: np.ndarray, peaks: np.ndarray, half: int = 15) -> float:
    """Share of |relevance| within ``half`` samples of the PVC R peaks over their time share."""
    r = np.abs(relevance)
    on = np.zeros(r.shape[0], dtype=bool)
    for p in peaks:
        on[max(int(p) - half, 0) : int(p) + half] = True
    return float((r[on].sum() / r.sum()) / on.mean())


@pytest.fixture(scope="session")
def pvc_test() -> PVCCohort:
    """Held-out records (other seeds)."""
    return pvc_data(12, seed=2)


@pytest.fixture(scope="session")
def pvc_intermediate(pvc: PVCCohort) -> FusionClassifier:
    """Intermediate fusion on the same task (its ECG encoder's blocks feed the head)."""
    return fit_pvc("intermediate", pvc)
