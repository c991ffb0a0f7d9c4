"""make_multimodal_classification: shapes, the notebook's rule, XOR, missingness, seeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from medmodal.data.synthetic import make_multimodal_classification
from medmodal.errors import InvalidParameterError


def test_default_is_the_notebook_rule() -> None:
    d = make_multimodal_classification(500, seed=3)
    c, i = d.X["clinical"], d.X["image"]
    expected = (c[:, 0] + 0.5 * c[:, 1] + i[:, 0] + 0.7 * i[:, 2] > 0).astype(int)
    np.testing.assert_array_equal(d.y, expected)
    assert d.modalities == ("clinical", "image")


def test_same_seed_same_data_other_seed_other_data() -> None:
    a, b = make_multimodal_classification(50, seed=1), make_multimodal_classification(50, seed=1)
    c = make_multimodal_classification(50, seed=2)
    np.testing.assert_array_equal(a.X["image"], b.X["image"])
    assert not np.array_equal(a.X["image"], c.X["image"])


def test_xor_setting_hides_the_label_from_each_modality() -> None:
    d = make_multimodal_classification(4000, signal=0.0, interaction=1.0, seed=0)
    for name in d.modalities:
        x = d.X[name]
        model = LogisticRegression().fit(x[:2000], d.y[:2000])
        auc = roc_auc_score(d.y[2000:], model.predict_proba(x[2000:])[:, 1])
        assert abs(auc - 0.5) < 0.05, name
    product = d.X["clinical"][:, -1] * d.X["image"][:, -1]
    np.testing.assert_array_equal(d.y, (product > 0).astype(int))


def test_many_modalities_signal_strength_and_classes() -> None:
    d = make_multimodal_classification(
        900, n_features={"a": 3, "b": 4, "c": 2}, signal={"a": 2.0, "b": 0.0, "c": 1.0},
        n_classes=3, seed=0,
    )  # fmt: skip
    assert {k: v.shape[1] for k, v in d.X.items()} == {"a": 3, "b": 4, "c": 2}
    assert np.bincount(d.y).tolist() == [300, 300, 300]
    corr = {k: abs(np.corrcoef(v[:, 0], d.score)[0, 1]) for k, v in d.X.items()}
    assert corr["a"] > corr["c"] > 0.2 and corr["b"] < 0.1


def test_missingness_marks_nan_rows_and_keeps_one_modality() -> None:
    d = make_multimodal_classification(3000, missing_rate={"clinical": 0.5, "image": 0.5}, seed=0)
    present = d.present_matrix()
    assert present.any(axis=1).all()
    assert 0.55 < present[:, 0].mean() < 0.7  # 0.5 plus the rows given back their one modality
    for name, mask in d.masks.items():
        assert np.isnan(d.X[name][~mask]).all() and not np.isnan(d.X[name][mask]).any()


def test_npz_round_trip(tmp_path: Path) -> None:
    d = make_multimodal_classification(20, missing_rate=0.2, seed=0)
    with np.load(d.save_npz(tmp_path / "d.npz")) as z:
        assert sorted(z.files) == ["X_clinical", "X_image", "mask_clinical", "mask_image", "y"]
        np.testing.assert_array_equal(z["y"], d.y)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_samples": 1}, "n_samples"),
        ({"n_classes": 1}, "n_classes"),
        ({"signal": {"x": 1.0}}, "unknown modalities"),
        ({"missing_rate": 1.0}, "missing_rate"),
        ({"interaction": 1.0, "n_features": {"a": 2}}, "two different modalities"),
        ({"weights": {"clinical": [1, 1, 1, 1, 1]}, "interaction": 1.0}, "beyond"),
        ({"noise": -1.0}, "noise"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        make_multimodal_classification(**kwargs)  # type: ignore[arg-type]
