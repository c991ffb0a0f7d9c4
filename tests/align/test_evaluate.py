"""Evaluation of a cohort with one class per pair: retrieval, zero-shot calls, confusion."""

from __future__ import annotations

import numpy as np
from tests.align.toys import KeywordECGText

from medmodal.align import evaluate_by_class


def test_evaluate_by_class_on_a_hand_made_case() -> None:
    signals = np.zeros((4, 2, 10), dtype=np.float32)
    signals[[0, 1], 0] = 1.0  # normal ECGs point along x
    signals[2, 1] = 1.0  # abnormal along y
    signals[3, 0] = 1.0  # an abnormal ECG that looks normal: the zero-shot call is wrong
    texts = ["normal", "normal", "abnormal", "infarction"]
    labels = ["normal", "normal", "abnormal", "abnormal"]
    classes = {"normal": ["normal"], "abnormal": ["abnormal"]}
    model = KeywordECGText()
    model.train()
    ev = evaluate_by_class(model, signals, texts, labels, classes, templates=("{}",))
    assert not model.training
    assert ev.zero_shot_accuracy == 0.75
    assert ev.zero_shot_confusion.loc["abnormal", "normal"] == 1
    assert ev.zero_shot_confusion.to_numpy().sum() == 4
    assert list(ev.zero_shot_confusion.index) == ["normal", "abnormal"]
    assert ev.similarity.shape == (4, 4) and ev.a_embeddings.shape == (4, 2)
    np.testing.assert_allclose(ev.similarity[2], [0.0, 0.0, 1.0, 1.0])
    # ECG 2's best texts are both abnormal: class-level R@1 is a hit, the strict one ties
    assert ev.by_class.recall(1, "a_to_b") >= ev.pairs.recall(1, "a_to_b")
    assert ev.by_class.ranks("a_to_b")[2] == 1
