"""A served image model sees its images normalised as in its training (the config's mean
and std: a pretrained EfficientNet-Lite tower uses 0.5 / 0.5, the from-scratch tower
0.5 / 0.25)."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from medmodal.data.image_transforms import ImageTransform
from medmodal.serve._loaders import _decode_image


def _png(rng: np.random.Generator) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (40, 40), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(("mean", "std", "channels"), [(0.5, 0.25, 1), (0.5, 0.5, 3)])
def test_uploaded_image_uses_the_model_normalisation(
    rng: np.random.Generator, mean: float, std: float, channels: int
) -> None:
    image = SimpleNamespace(image_size=32, mean=mean, std=std, in_channels=channels)
    model = SimpleNamespace(config=SimpleNamespace(image=image))
    data = _png(rng)
    pixels = _decode_image(data, model)
    grey = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
    expected = ImageTransform(32, augment=False, mean=mean, std=std)(grey)
    assert pixels.shape == (1, channels, 32, 32)
    for channel in range(channels):
        np.testing.assert_allclose(pixels[0, channel], expected[0], rtol=1e-6)
