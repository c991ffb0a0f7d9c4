"""Paired data sets: images or ECGs with texts, views, groups and batching."""

from __future__ import annotations

import numpy as np
import pytest

from medmodal.align import ECGTextPairs, ImageTextPairs, collate_pairs
from medmodal.data.image_transforms import ImageTransform
from medmodal.errors import InvalidParameterError


def test_collate_keeps_texts_as_strings() -> None:
    images = np.zeros((3, 8, 8), dtype=np.uint8)
    pairs = ImageTextPairs(images, ["a", "b", "c"], ImageTransform(8))
    batch = collate_pairs([pairs[i] for i in range(3)])
    assert batch["image"].shape == (3, 1, 8, 8)
    assert batch["text"] == ["a", "b", "c"]
    assert batch["index"].tolist() == [0, 1, 2]
    with pytest.raises(InvalidParameterError, match="3 images for 2 texts"):
        ImageTextPairs(images, ["a", "b"], ImageTransform(8))


def test_views_are_sampled_at_the_rate_and_groups_ride_along() -> None:
    images = np.zeros((2, 8, 8), dtype=np.uint8)
    views = [("full 0", "head 0", "head 0: s1"), ("full 1",)]
    pairs = ImageTextPairs(
        images, ["full 0", "full 1"], ImageTransform(8), views=views, view_rate=0.5,
        groups=[7, 7], seed=3,
    )  # fmt: skip
    drawn = [pairs[0]["text"] for _ in range(2000)]
    counts = {t: drawn.count(t) / len(drawn) for t in set(drawn)}
    assert set(counts) == {"full 0", "head 0", "head 0: s1"}
    assert counts["full 0"] == pytest.approx(0.5, abs=0.04)
    assert counts["head 0"] == pytest.approx(0.25, abs=0.04)
    assert {pairs[1]["text"] for _ in range(50)} == {"full 1"}  # no shorter view
    assert pairs[1]["group"] == 7
    again = ImageTextPairs(images, ["full 0", "full 1"], ImageTransform(8), views=views, seed=3)
    assert [again[0]["text"] for _ in range(2000)] == drawn  # seeded stream
    with pytest.raises(InvalidParameterError, match="1 views for 2 texts"):
        ImageTextPairs(images, ["a", "b"], ImageTransform(8), views=[("a",)])
    with pytest.raises(InvalidParameterError, match="view_rate"):
        ImageTextPairs(images, ["a", "b"], ImageTransform(8), view_rate=1.5)


def test_plain_drops_augmentation_views_and_groups() -> None:
    images = np.arange(2 * 8 * 8, dtype=np.uint8).reshape(2, 8, 8)
    pairs = ImageTextPairs(
        images, ["a", "b"], ImageTransform(8, augment=True, seed=1), views=[("a", "x"), ("b",)],
        view_rate=1.0, groups=[1, 2],
    )  # fmt: skip
    plain = pairs.plain()
    assert plain[0]["text"] == "a" and "group" not in plain[0]
    np.testing.assert_array_equal(plain[1]["image"].numpy(), ImageTransform(8)(images[1]))


def test_ecg_pairs_clip_to_5_mv_and_reject_a_mismatch() -> None:
    pairs = ECGTextPairs(np.full((2, 1, 4), 9.0), ["a", "b"])
    assert float(pairs[0]["ecg"].max()) == 5.0 and pairs[1]["index"] == 1
    with pytest.raises(InvalidParameterError, match="ECGTextPairs: 2 ECGs for 3 texts"):
        ECGTextPairs(np.zeros((2, 1, 4)), ["a", "b", "c"])


def test_sample_spreads_over_the_set_and_keeps_pairs_together() -> None:
    import pandas as pd

    n = 10
    images = np.arange(n, dtype=np.uint8)[:, None, None].repeat(8, 1).repeat(8, 2)
    labels = pd.DataFrame({"modality": ["CT"] * 5 + ["MR"] * 5})
    texts = [f"text {i}" for i in range(n)]
    pairs = ImageTextPairs(images, texts, ImageTransform(8), labels,
                           views=[(t, t[:4]) for t in texts], groups=np.arange(n) % 3)  # fmt: skip
    sub = pairs.sample(4)
    assert sub.texts == ["text 0", "text 3", "text 6", "text 9"]
    assert [int(im[0, 0]) for im in sub.images] == [0, 3, 6, 9]
    assert set(sub.labels["modality"]) == {"CT", "MR"}  # both classes, unlike the first 4
    assert sub.groups is not None and sub.groups.tolist() == [0, 0, 0, 0]
    assert sub.views is not None and sub.views[1] == ("text 3", "text")
    assert len(pairs.sample(50)) == n and len(pairs.sample(0)) == 1
    ecg = ECGTextPairs(np.zeros((n, 12, 5), np.float32), texts, labels).sample(2)
    assert ecg.texts == ["text 0", "text 9"] and list(ecg.labels["modality"]) == ["CT", "MR"]
