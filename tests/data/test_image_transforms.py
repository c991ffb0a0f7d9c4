"""Image transforms: squaring, intensity normalisation, seeded augmentation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medmodal.data.image_transforms import (
    ImageTransform,
    normalize_intensity,
    random_affine,
    to_square,
)
from medmodal.errors import InvalidParameterError


@settings(max_examples=30, deadline=None)
@given(h=st.integers(1, 80), w=st.integers(1, 80), size=st.integers(4, 48))
def test_to_square_keeps_aspect_and_centres(h: int, w: int, size: int) -> None:
    img = np.full((h, w), 200, dtype=np.uint8)
    out = to_square(img, size)
    assert out.shape == (size, size) and out.dtype == np.uint8
    rows, cols = np.nonzero(out)
    long_side = max(np.ptp(rows) + 1, np.ptp(cols) + 1)
    assert long_side == size  # the long side fills the square
    # centred: equal margins up to one pixel
    assert abs(rows.min() - (size - 1 - rows.max())) <= 1
    assert abs(cols.min() - (size - 1 - cols.max())) <= 1


def test_normalize_intensity() -> None:
    ramp = np.tile(np.arange(256, dtype=np.uint8), (4, 1))
    out = normalize_intensity(ramp, low=0, high=100)
    assert out.min() == pytest.approx(-2.0) and out.max() == pytest.approx(2.0)
    assert np.all(normalize_intensity(np.zeros((3, 3))) == -2.0)
    with pytest.raises(InvalidParameterError):
        normalize_intensity(ramp, low=50, high=10)
    with pytest.raises(InvalidParameterError, match="2-D greyscale"):
        normalize_intensity(np.zeros((2, 2, 2, 2)))


def test_random_affine_identity_when_ranges_are_zero(rng: np.random.Generator) -> None:
    img = rng.integers(0, 255, (16, 16), dtype=np.uint8)
    same = random_affine(img, rng, degrees=0.0, scale=(1.0, 1.0), shift=0.0)
    assert np.array_equal(same, img)
    moved = random_affine(img, np.random.default_rng(1))
    assert moved.shape == img.shape and not np.array_equal(moved, img)


def test_transform_is_seeded_and_augmentation_optional(rng: np.random.Generator) -> None:
    img = rng.integers(0, 255, (40, 24), dtype=np.uint8)
    sq = to_square(img, 32)
    a, b = ImageTransform(32, augment=True, seed=3), ImageTransform(32, augment=True, seed=3)
    first = [a(sq) for _ in range(3)]
    assert all(np.array_equal(x, b(sq)) for x in first)
    assert not np.array_equal(first[0], first[1])  # a stream, not one fixed draw
    plain = ImageTransform(32)
    assert np.array_equal(plain(sq), plain(sq))
    assert plain(img).shape == (1, 32, 32)  # unsquared input is squared first
    a.reseed(3)
    assert np.array_equal(a(sq), first[0])
