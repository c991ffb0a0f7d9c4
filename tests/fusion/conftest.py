"""Small, fast settings and data for the fusion tests."""

from __future__ import annotations

import pytest
import torch

from medmodal.data.synthetic import MultimodalDataset, make_multimodal_classification


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def notebook() -> MultimodalDataset:
    """The notebook's setting (clinical 5 + image 10 features), 240 samples."""
    return make_multimodal_classification(240, seed=0)
