"""ModalityFrame: rows index every modality and mask alike; scikit-learn counts rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.utils import _safe_indexing  # what model selection calls
from sklearn.utils.validation import _num_samples

from medmodal.data.modality_frame import SINGLE_MODALITY, ModalityFrame
from medmodal.errors import InvalidParameterError


def _frame(n: int) -> ModalityFrame:
    rng = np.random.default_rng(n)
    return ModalityFrame(
        {"sig": rng.normal(size=(n, 2, 7)), "tab": np.arange(n, dtype=float)[:, None]},
        {"sig": np.arange(n) % 3 != 0},
    )


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 30), st.data())
def test_rows_cut_every_modality_and_mask_alike(n: int, data: st.DataObject) -> None:
    frame = _frame(n)
    idx = np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=2 * n)), dtype=int)
    part = _safe_indexing(frame, idx)
    assert isinstance(part, ModalityFrame) and _num_samples(part) == len(idx)
    np.testing.assert_array_equal(part["tab"][:, 0], idx.astype(float))
    np.testing.assert_array_equal(part["sig"], frame["sig"][idx])
    np.testing.assert_array_equal(part.masks["sig"], idx % 3 != 0)
    bools = np.arange(n) % 2 == 0
    assert len(_safe_indexing(frame, bools)) == int(bools.sum())
    assert len(frame[1:]) == n - 1 and len(frame[0]) == 1


def test_coerce_and_errors() -> None:
    assert ModalityFrame.coerce(np.zeros((4, 3))).names == (SINGLE_MODALITY,)
    frame = ModalityFrame.coerce({"a": np.zeros((4, 1))}, {"a": [True, False, True, True]})
    assert frame.masks["a"].tolist() == [True, False, True, True]
    with pytest.raises(InvalidParameterError, match="differ in n_samples"):
        ModalityFrame({"a": np.zeros((3, 1)), "b": np.zeros((4, 1))})
    with pytest.raises(InvalidParameterError, match="unknown modalities"):
        ModalityFrame({"a": np.zeros((3, 1))}, {"b": np.ones(3, bool)})
    with pytest.raises(InvalidParameterError, match="Reshape your data"):
        ModalityFrame.coerce(np.zeros(3))
    with pytest.raises(InvalidParameterError, match="not in the frame"):
        ModalityFrame.from_frame(pd.DataFrame({"x": [1.0]}), {"m": ["y"]})
    with pytest.raises(TypeError, match="indexed by rows"):
        list(frame)


def test_fusion_sets_and_synthetic_data_expose_a_frame() -> None:
    from medmodal.data.fusion_sets import FusionSet
    from medmodal.data.synthetic import make_multimodal_classification

    X = {"ecg": np.zeros((5, 2, 8), np.float32), "age": np.ones((5, 1), np.float32)}
    fs = FusionSet(X, np.arange(5) % 2, np.arange(5), "toy")
    frame = fs.frame()
    assert frame.shape == (5,) and frame.names == ("age", "ecg")
    assert frame[[0, 1]]["ecg"].shape == (2, 2, 8)
    d = make_multimodal_classification(20, missing_rate=0.3, seed=0)
    np.testing.assert_array_equal(d.frame().masks["image"], d.masks["image"])
