"""Training-time estimate: one timed step on a copy, the model left as it was."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medmodal.align import ECGTextPairs, estimate_training_time, get_task
from medmodal.errors import InvalidParameterError
from medmodal.models import create_model


def test_estimate_leaves_the_model_untouched() -> None:
    torch.manual_seed(0)
    model = create_model("ecg-text-clip", ecg={"width": 8, "depth": 2}).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    pairs = ECGTextPairs(np.random.default_rng(0).normal(size=(10, 12, 250)).astype(np.float32),
                         ["normal ECG", "atrial fibrillation"] * 5)  # fmt: skip
    est = estimate_training_time(model, get_task("ptbxl"), pairs, batch_size=4, epochs=5)
    assert est.steps_per_epoch == 3 and est.step_s > 0
    assert est.epoch_s == pytest.approx(3 * est.step_s)
    assert est.total_s == pytest.approx(5 * est.epoch_s)
    assert "s per epoch" in est.describe() and "min in all" in est.describe()
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # BN statistics included
    assert not model.training and all(p.grad is None for p in model.parameters())
    with pytest.raises(InvalidParameterError, match="batch_size"):
        estimate_training_time(model, get_task("ptbxl"), pairs, batch_size=0, epochs=1)
