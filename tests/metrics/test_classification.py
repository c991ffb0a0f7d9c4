"""Classification metrics agree with scikit-learn on binary, multi-class and multi-label data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from medmodal.errors import InvalidParameterError
from medmodal.metrics.classification import (
    METRICS,
    average_precision,
    binary_auroc,
    classification_metrics,
    per_class_report,
)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("k", [2, 4])
def test_single_label_metrics_match_sklearn(k: int, rng: np.random.Generator) -> None:
    y = rng.integers(0, k, 300)
    p = _softmax(rng.normal(size=(300, k)) + 1.5 * np.eye(k)[y])
    m = classification_metrics(y, p)
    pred = p.argmax(axis=1)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert m["macro_f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    if k == 2:
        assert m["auroc"] == pytest.approx(skm.roc_auc_score(y, p[:, 1]))
        assert m["auprc"] == pytest.approx(skm.average_precision_score(y, p[:, 1]))
        assert m["brier"] == pytest.approx(skm.brier_score_loss(y, p[:, 1]))
    else:
        assert m["auroc"] == pytest.approx(skm.roc_auc_score(y, p, multi_class="ovr"))
        onehot = np.eye(k)[y]
        assert m["auprc"] == pytest.approx(skm.average_precision_score(onehot, p))
        assert m["brier"] == pytest.approx(np.mean(np.sum((p - onehot) ** 2, axis=1)))
    assert 0 <= m["ece"] <= 1
    assert tuple(m) == METRICS


def test_multilabel_metrics_match_sklearn(rng: np.random.Generator) -> None:
    Y = rng.integers(0, 2, (200, 3))
    P = np.clip(0.3 * Y + rng.uniform(0, 0.7, (200, 3)), 0, 1)
    m = classification_metrics(Y, P, multilabel=True)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(Y, (P >= 0.5).astype(int)))
    assert m["macro_f1"] == pytest.approx(skm.f1_score(Y, P >= 0.5, average="macro"))
    assert m["auroc"] == pytest.approx(skm.roc_auc_score(Y, P, average="macro"))
    assert m["auprc"] == pytest.approx(skm.average_precision_score(Y, P, average="macro"))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.integers(0, 5)), min_size=2, max_size=60).filter(
        lambda xs: 0 < sum(b for b, _ in xs) < len(xs)
    )
)
def test_rank_auroc_and_ap_equal_sklearn_with_ties(pairs: list[tuple[bool, int]]) -> None:
    y = np.array([int(b) for b, _ in pairs])
    s = np.array([float(v) for _, v in pairs])
    assert binary_auroc(y, s) == pytest.approx(skm.roc_auc_score(y, s))
    assert average_precision(y, s) == pytest.approx(skm.average_precision_score(y, s))


def test_single_class_has_no_auroc_and_bad_shapes_fail() -> None:
    m = classification_metrics(np.zeros(5, int), np.tile([0.7, 0.3], (5, 1)))
    assert np.isnan(m["auroc"]) and m["accuracy"] == 1.0
    with pytest.raises(InvalidParameterError, match="class codes"):
        classification_metrics(np.array([0, 3]), np.ones((2, 2)) / 2)
    with pytest.raises(InvalidParameterError, match=r"\(n, K\)"):
        classification_metrics(np.array([0, 1]), np.ones(2))


def test_per_class_report_matches_sklearn(rng: np.random.Generator) -> None:
    classes = ("N", "S", "V", "F")
    y = rng.choice(classes, 400, p=[0.7, 0.1, 0.15, 0.05])
    pred = np.where(rng.random(400) < 0.8, y, rng.choice(classes, 400))
    r = per_class_report(y, pred, classes, scored=("N", "S", "V"))
    se = skm.recall_score(y, pred, labels=list(classes), average=None)
    ppv = skm.precision_score(y, pred, labels=list(classes), average=None, zero_division=0)
    f1 = skm.f1_score(y, pred, labels=list(classes), average=None, zero_division=0)
    for i, c in enumerate(classes):
        assert r.scores[c].se == pytest.approx(se[i])
        assert r.scores[c].ppv == pytest.approx(ppv[i])
        assert r.scores[c].f1 == pytest.approx(f1[i])
        assert r.scores[c].n_true == int((y == c).sum())
    assert r.macro_f1 == pytest.approx(f1[:3].mean())
    assert r.accuracy == pytest.approx(skm.accuracy_score(y, pred))
    np.testing.assert_array_equal(r.confusion, skm.confusion_matrix(y, pred, labels=list(classes)))
    assert r.n == 400 and r.scored == ("N", "S", "V")


def test_per_class_report_absent_classes_and_errors() -> None:
    y, pred = np.array(["N", "N", "V"]), np.array(["N", "S", "N"])
    r = per_class_report(y, pred, ("N", "S", "V", "F"))
    assert np.isnan(r.scores["F"].se) and r.scores["F"].f1 == 0.0  # never occurs
    assert r.scores["S"].ppv == 0.0 and r.scores["V"].ppv == 0.0  # never right / predicted
    assert r.macro_f1 == pytest.approx(np.mean([r.scores[c].f1 for c in "NSVF"]))
    with pytest.raises(InvalidParameterError, match="scored classes"):
        per_class_report(y, pred, ("N", "S"), scored=("V",))
    with pytest.raises(InvalidParameterError, match="equal 1-D shapes"):
        per_class_report(y, pred[:2], ("N",))


def test_confusion_scores_equal_the_per_class_report() -> None:
    """From the confusion matrix alone (batched), the same numbers as from the labels."""
    from medmodal.metrics.classification import confusion_scores

    rng = np.random.default_rng(3)
    classes = ("N", "S", "V", "F")
    for _ in range(20):
        y = rng.choice(list("NSVF"), 200, p=[0.7, 0.1, 0.15, 0.05])
        pred = np.where(rng.random(200) < 0.6, y, rng.choice(list("NSVQ"), 200))
        r = per_class_report(y, pred, classes, scored=("N", "S", "V"))
        codes = {c: k for k, c in enumerate(classes)}
        cm = np.zeros((4, 5))
        np.add.at(cm, ([codes[c] for c in y], [codes.get(c, 4) for c in pred]), 1)
        s = confusion_scores(np.stack([cm, cm]), classes, scored=("N", "S", "V"))
        assert s["macro_f1"].shape == (2,)
        assert s["macro_f1"][0] == pytest.approx(r.macro_f1)
        assert s["accuracy"][1] == pytest.approx(r.accuracy)
        for c in classes:
            got = (s[f"{c}_se"][0], s[f"{c}_ppv"][0], s[f"{c}_f1"][0])
            want = (r.scores[c].se, r.scores[c].ppv, r.scores[c].f1)
            assert got == pytest.approx(want, nan_ok=True)
