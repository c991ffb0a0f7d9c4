"""Image transforms for training on greyscale medical images (numpy + Pillow, no torch).

A transform is split in two so that the expensive, deterministic part can be cached once
per image: :func:`to_square` (resize the long side and pad to a square, uint8) and an
:class:`ImageTransform` that takes the square image to a normalised float32
``(1, size, size)`` array, with light, seeded augmentation when ``augment=True``
(small rotation, scaling and shift, brightness/contrast jitter; no flips, which would
swap left and right).

Example:
    >>> import numpy as np
    >>> from medmodal.data.image_transforms import ImageTransform, to_square
    >>> img = np.random.default_rng(0).integers(0, 255, (60, 40), dtype=np.uint8)
    >>> sq = to_square(img, 32)
    >>> sq.shape, sq.dtype.name
    ((32, 32), 'uint8')
    >>> out = ImageTransform(32, augment=True, seed=1)(sq)
    >>> out.shape, out.dtype.name
    ((1, 32, 32), 'float32')
    >>> bool(np.allclose(out, ImageTransform(32, augment=True, seed=1)(sq)))
    True
"""

from __future__ import annotations

import math

import numpy as np

from medmodal.errors import InvalidParameterError

__all__ = ["ImageTransform", "normalize_intensity", "random_affine", "to_square"]


def _check_image(image: object, where: str) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[-1] in (1, 3, 4):
        arr = arr[..., :3].mean(axis=-1) if arr.shape[-1] > 1 else arr[..., 0]
    if arr.ndim != 2 or min(arr.shape) < 1:
        raise InvalidParameterError(
            f"{where}: expected a 2-D greyscale image (H, W), got shape {np.asarray(image).shape}"
        )
    if not np.issubdtype(arr.dtype, np.number):
        raise InvalidParameterError(f"{where}: expected a numeric image, got {arr.dtype}")
    return arr


def to_square(image: np.ndarray, size: int) -> np.ndarray:
    """Resize so the long side is ``size`` (aspect kept) and zero-pad to ``size x size``.

    Args:
        image: 2-D greyscale image (any numeric dtype; values are clipped to 0-255).
        size: output side in pixels.

    Returns:
        uint8 array ``(size, size)``, the image centred.
    """
    from PIL import Image

    if not isinstance(size, int) or size < 4:
        raise InvalidParameterError(f"to_square: size must be an int >= 4, got {size!r}")
    arr = _check_image(image, "to_square")
    arr = np.clip(arr, 0, 255).astype(np.uint8) if arr.dtype != np.uint8 else arr
    h, w = arr.shape
    scale = size / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    resized = np.asarray(Image.fromarray(arr).resize((nw, nh), Image.Resampling.BILINEAR))
    out = np.zeros((size, size), dtype=np.uint8)
    top, left = (size - nh) // 2, (size - nw) // 2
    out[top : top + nh, left : left + nw] = resized
    return out


def normalize_intensity(
    image: np.ndarray, *, low: float = 0.5, high: float = 99.5, mean: float = 0.5, std: float = 0.25
) -> np.ndarray:
    """Clip to the ``low``/``high`` percentiles, scale to [0, 1], then standardise.

    Returns:
        float32 array, ``(x01 - mean) / std``. A constant image maps to ``-mean / std``.
    """
    arr = _check_image(image, "normalize_intensity").astype(np.float32)
    if not 0 <= low < high <= 100 or std <= 0:
        raise InvalidParameterError(
            f"normalize_intensity: need 0 <= low < high <= 100 and std > 0, got "
            f"low={low}, high={high}, std={std}"
        )
    lo, hi = np.percentile(arr, [low, high])
    scaled = np.clip((arr - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.zeros_like(arr)
    return ((scaled - mean) / std).astype(np.float32)


def random_affine(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    degrees: float = 10.0,
    scale: tuple[float, float] = (0.9, 1.1),
    shift: float = 0.06,
) -> np.ndarray:
    """Rotate, scale and shift a uint8 square image about its centre (bilinear, zero fill)."""
    from PIL import Image

    h, w = image.shape
    angle = math.radians(rng.uniform(-degrees, degrees))
    factor = rng.uniform(*scale)
    tx, ty = rng.uniform(-shift, shift, size=2) * (w, h)
    cos, sin = math.cos(angle) / factor, math.sin(angle) / factor
    cx, cy = w / 2, h / 2
    # PIL maps each output pixel (x, y) to the input pixel (a x + b y + c, d x + e y + f).
    a, b, d, e = cos, sin, -sin, cos
    c = cx - a * (cx + tx) - b * (cy + ty)
    f = cy - d * (cx + tx) - e * (cy + ty)
    img = Image.fromarray(image)
    return np.asarray(
        img.transform((w, h), Image.Transform.AFFINE, (a, b, c, d, e, f), Image.Resampling.BILINEAR)
    )


class ImageTransform:
    """Square uint8 image → normalised float32 ``(1, size, size)``; seeded augmentation.

    Args:
        size: expected side of the input (from :func:`to_square`); other sizes are
            squared first.
        augment: apply :func:`random_affine` and brightness/contrast jitter.
        seed: seed of the augmentation stream (the n-th call is reproducible).
        jitter: brightness/contrast jitter amplitude (fraction).
        mean, std: the image scaled to [0, 1] (:func:`normalize_intensity`) becomes
            ``(x - mean) / std``; a pretrained tower wants its own (EfficientNet-Lite:
            0.5, 0.5).

    Raises:
        InvalidParameterError: ``std`` is not positive.
    """

    def __init__(
        self, size: int = 128, *, augment: bool = False, seed: int = 0, jitter: float = 0.1,
        mean: float = 0.5, std: float = 0.25,
    ) -> None:  # fmt: skip
        if not std > 0:
            raise InvalidParameterError(f"ImageTransform: std must be > 0, got {std!r}")
        self.size = size
        self.augment = augment
        self.seed = seed
        self.jitter = jitter
        self.mean = float(mean)
        self.std = float(std)
        self._rng = np.random.default_rng(seed)

    def __repr__(self) -> str:
        return (
            f"ImageTransform(size={self.size}, augment={self.augment}, seed={self.seed}, "
            f"mean={self.mean}, std={self.std})"
        )

    def reseed(self, seed: int) -> None:
        """Restart the augmentation stream from ``seed``."""
        self._rng = np.random.default_rng(seed)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        arr = _check_image(image, "ImageTransform")
        if arr.shape != (self.size, self.size) or arr.dtype != np.uint8:
            arr = to_square(arr, self.size)
        if self.augment:
            arr = random_affine(arr, self._rng)
        out = normalize_intensity(arr, mean=self.mean, std=self.std)
        if self.augment and self.jitter > 0:
            gain, bias = (
                self._rng.uniform(1 - self.jitter, 1 + self.jitter),
                self._rng.uniform(-self.jitter, self.jitter),
            )
            out = (out * gain + bias / self.std).astype(np.float32)
        return out[None]  # (1, size, size)
