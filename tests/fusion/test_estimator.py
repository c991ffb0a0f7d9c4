"""FusionClassifier: the scikit-learn contract for every method, masks, targets, options."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from sklearn.base import clone

from medmodal.data.synthetic import MultimodalDataset, make_multimodal_classification
from medmodal.errors import InvalidParameterError, NotFittedError
from medmodal.fusion import FusionClassifier, available_methods

METHODS = [*available_methods(), "unimodal:image"]

#: Tiny networks and few epochs: quick tests assert behaviour, not accuracy records.
FAST: dict[str, Any] = {
    "epochs": 4,
    "hidden": 8,
    "batch_size": 64,
    "verbose": False,
    "num_threads": 1,
}


@pytest.mark.parametrize("method", METHODS)
def test_sklearn_contract(method: str, notebook: MultimodalDataset) -> None:
    clf = FusionClassifier(method, **FAST)
    assert clf.get_params()["method"] == method
    assert not hasattr(clf, "model_")
    with pytest.raises(NotFittedError):
        clf.predict(notebook.X)
    assert clf.fit(notebook.X, notebook.y) is clf
    proba = clf.predict_proba(notebook.X)
    assert proba.shape == (240, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert set(clf.predict(notebook.X)) <= {0, 1}
    assert 0.0 <= clf.score(notebook.X, notebook.y) <= 1.0
    assert clf.classes_.tolist() == [0, 1]
    assert len(clf.history_) >= 1
    twin = clone(clf)
    assert twin.get_params() == clf.get_params() and not hasattr(twin, "model_")


@pytest.mark.parametrize("method", ["intermediate", "late", "attention"])
def test_fit_is_deterministic_for_a_seed(method: str, notebook: MultimodalDataset) -> None:
    a = FusionClassifier(method, random_state=3, dropout=0.2, **FAST).fit(notebook.X, notebook.y)
    b = FusionClassifier(method, random_state=3, dropout=0.2, **FAST).fit(notebook.X, notebook.y)
    c = FusionClassifier(method, random_state=4, dropout=0.2, **FAST).fit(notebook.X, notebook.y)
    np.testing.assert_array_equal(a.predict_proba(notebook.X), b.predict_proba(notebook.X))
    assert not np.array_equal(a.predict_proba(notebook.X), c.predict_proba(notebook.X))


def test_learns_the_notebook_task() -> None:
    d = make_multimodal_classification(600, seed=1)
    clf = FusionClassifier("early", epochs=30, batch_size=32, verbose=False).fit(d.X, d.y)
    test = make_multimodal_classification(400, seed=2)
    assert clf.score(test.X, test.y) > 0.9


@pytest.mark.parametrize("method", ["early", "late", "intermediate", "attention", "gated"])
def test_masks_and_nan_rows_are_the_same_missing_modality(
    method: str, notebook: MultimodalDataset
) -> None:
    rng = np.random.default_rng(0)
    present = rng.random(240) > 0.3
    masked = {"clinical": present, "image": np.ones(240, bool)}
    nan_x = {k: v.copy() for k, v in notebook.X.items()}
    nan_x["clinical"][~present] = np.nan
    a = FusionClassifier(method, **FAST).fit(notebook.X, notebook.y, masks=masked)
    b = FusionClassifier(method, **FAST).fit(nan_x, notebook.y)
    np.testing.assert_allclose(
        a.predict_proba(notebook.X, masks=masked), b.predict_proba(nan_x), atol=1e-6
    )
    # what a missing row holds does not matter
    garbage = {k: v.copy() for k, v in notebook.X.items()}
    garbage["clinical"][~present] = 1e3
    np.testing.assert_allclose(
        a.predict_proba(garbage, masks=masked), b.predict_proba(nan_x), atol=1e-6
    )


def test_predicts_when_a_modality_is_missing_for_every_sample(notebook: MultimodalDataset) -> None:
    clf = FusionClassifier("attention", modality_dropout=0.3, **FAST).fit(notebook.X, notebook.y)
    no_image = {"image": np.zeros(240, bool)}
    proba = clf.predict_proba(notebook.X, masks=no_image)
    assert np.isfinite(proba).all() and proba.shape == (240, 2)


def test_multiclass_and_string_labels() -> None:
    d = make_multimodal_classification(300, n_classes=3, seed=0)
    labels = np.array(["low", "mid", "high"])[d.y]
    clf = FusionClassifier("gated", **FAST).fit(d.X, labels)
    assert clf.classes_.tolist() == ["high", "low", "mid"]
    assert clf.predict_proba(d.X).shape == (300, 3)
    assert set(clf.predict(d.X)) <= {"low", "mid", "high"}


@pytest.mark.parametrize("method", ["intermediate", "late"])
def test_multilabel_targets(method: str, notebook: MultimodalDataset) -> None:
    Y = np.c_[notebook.y, 1 - notebook.y, notebook.X["image"][:, 0] > 1].astype(int)
    clf = FusionClassifier(method, **FAST).fit(notebook.X, Y)
    assert clf.multilabel_ and clf.classes_.tolist() == [0, 1, 2]
    proba = clf.predict_proba(notebook.X)
    assert proba.shape == (240, 3) and ((proba >= 0) & (proba <= 1)).all()
    assert clf.predict(notebook.X).shape == (240, 3)
    assert 0 <= clf.score(notebook.X, Y) <= 1


def test_balanced_class_weight_raises_minority_recall() -> None:
    d = make_multimodal_classification(800, noise=1.0, seed=5)
    y = (d.score > 1.2).astype(int)  # about 12 % positives
    kw = {**FAST, "epochs": 15, "validation_fraction": 0.0}
    plain = FusionClassifier("early", **kw).fit(d.X, y)
    weighted = FusionClassifier("early", class_weight="balanced", **kw).fit(d.X, y)
    recall = [float(np.mean(m.predict(d.X)[y == 1] == 1)) for m in (plain, weighted)]
    assert recall[1] > recall[0] + 0.1


def _signal_data() -> tuple[dict[str, np.ndarray], np.ndarray]:
    rng = np.random.default_rng(0)
    n, t = 160, 128
    y = rng.integers(0, 2, n)
    freq = np.where(y == 1, 8.0, 3.0)[:, None, None]
    time = np.arange(t)[None, None] / t
    ecg = np.sin(2 * np.pi * freq * time) + 0.3 * rng.standard_normal((n, 2, t))
    text = rng.standard_normal((n, 4, 6))  # (n, L, E): precomputed token embeddings
    return {"ecg": ecg, "text": text}, y


def _fit_signal(method: str) -> tuple[FusionClassifier, float]:
    X, y = _signal_data()
    clf = FusionClassifier(
        method, kinds={"text": "embedding"}, signal_width=4, signal_depth=2,
        **{**FAST, "epochs": 12, "batch_size": 32},
    ).fit(X, y)  # fmt: skip
    return clf, clf.score(X, y)


def test_signal_and_embedding_modalities_end_to_end() -> None:
    clf, score = _fit_signal("attention")
    assert {s.name: s.kind for s in clf.specs_} == {"ecg": "signal", "text": "embedding"}
    assert score > 0.8
    X, _ = _signal_data()
    out = clf.forward(X, need_weights=True)
    assert out.logits.shape == (160, 2)
    assert out.attention is not None
    # 4 heads; 128 samples -> 16 ECG tokens (stem + 2 blocks halve it); 4 text tokens
    assert out.attention["ecg"].shape == (160, 4, 16, 4)
    assert out.attention["text"].shape == (160, 4, 4, 16)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["intermediate", "early", "gated", "late"])
def test_signal_modalities_with_every_method(method: str) -> None:
    _, score = _fit_signal(method)
    assert score > 0.8


def test_attention_weights_are_exposed(notebook: MultimodalDataset) -> None:
    clf = FusionClassifier("attention", num_heads=2, **FAST).fit(notebook.X, notebook.y)
    out = clf.forward(notebook.X, need_weights=True)
    assert out.attention is not None
    assert out.attention["clinical"].shape == (240, 2, 5, 10)  # clinical tokens -> image
    assert out.attention["image"].shape == (240, 2, 10, 5)


def test_gates_are_exposed_and_missing_modalities_get_none(notebook: MultimodalDataset) -> None:
    clf = FusionClassifier("gated", **FAST).fit(notebook.X, notebook.y)
    gates = clf.forward(notebook.X, masks={"image": np.arange(240) < 100}).gates
    assert gates is not None
    np.testing.assert_allclose(gates.sum(1).numpy(), 1.0, atol=1e-5)
    assert float(gates[100:, 1].max()) == 0.0


def test_num_threads_is_applied_and_restored(
    notebook: MultimodalDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: (calls.append(n), real(n))[1])
    before = torch.get_num_threads()
    FusionClassifier("early", **{**FAST, "num_threads": 3, "epochs": 1}).fit(notebook.X, notebook.y)
    assert calls == [3, before]
    assert torch.get_num_threads() == before


def test_progress_bar_can_be_turned_off(
    notebook: MultimodalDataset, capsys: pytest.CaptureFixture[str]
) -> None:
    FusionClassifier("early", **{**FAST, "verbose": True, "epochs": 2}).fit(notebook.X, notebook.y)
    assert "epoch" in capsys.readouterr().err
    FusionClassifier("early", **FAST).fit(notebook.X, notebook.y)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("kwargs", "X_change", "match"),
    [
        ({"method": "fusionx"}, None, "unknown fusion method"),
        ({"method": "unimodal"}, None, "unimodal:<modality>"),
        ({"method": "unimodal:ct"}, None, r"modalities \['ct'\] are not in X"),
        ({"combiner": "max"}, None, "combiner"),
        ({}, "one_dim", ">= 2 dims"),
        ({}, "rows", "differ in n_samples"),
    ],
)
def test_bad_inputs_raise_informative_errors(
    kwargs: dict[str, object], X_change: str | None, match: str, notebook: MultimodalDataset
) -> None:
    X = dict(notebook.X)
    if X_change == "one_dim":
        X["clinical"] = X["clinical"][:, 0]
    elif X_change == "rows":
        X["clinical"] = X["clinical"][:10]
    with pytest.raises(InvalidParameterError, match=match):
        FusionClassifier(**{**FAST, **kwargs}).fit(X, notebook.y)


def test_predict_checks_the_fitted_shapes(notebook: MultimodalDataset) -> None:
    clf = FusionClassifier("early", **FAST).fit(notebook.X, notebook.y)
    with pytest.raises(InvalidParameterError, match="fitted on samples of shape"):
        clf.predict({"clinical": notebook.X["clinical"][:, :3], "image": notebook.X["image"]})
    with pytest.raises(InvalidParameterError, match="not in X"):
        clf.predict({"clinical": notebook.X["clinical"]})
    with pytest.raises(InvalidParameterError, match="one class only"):
        FusionClassifier(**FAST).fit(notebook.X, np.zeros(240))
