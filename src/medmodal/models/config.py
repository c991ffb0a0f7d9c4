"""Model configurations: small dataclasses that reject unknown keys and round-trip JSON.

A :class:`ModelConfig` names the towers of a dual/multi-tower alignment model (image,
text, ECG), their projection heads and the learnable temperature. Named architectures are
JSON files under ``medmodal/models/configs/`` (see :mod:`medmodal.models.factory`).

Example:
    >>> from medmodal.models.config import ModelConfig
    >>> cfg = ModelConfig.from_dict({"name": "tiny", "embed_dim": 32, "image": {"widths": [8, 16]}})
    >>> cfg.image.widths
    (8, 16)
    >>> ModelConfig.from_json(cfg.to_json()) == cfg
    True
    >>> ModelConfig.from_dict({"name": "x", "embedim": 3})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    medmodal.errors.InvalidParameterError: ModelConfig: unknown key 'embedim' (did you mean ...
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any, TypeVar

from medmodal._config import check_fields
from medmodal.errors import InvalidParameterError

C = TypeVar("C")


@dataclass(frozen=True)
class ImageTowerConfig:
    """Image tower (greyscale 2-D images)."""

    kind: str = "resnet"  # registered image backbone: resnet, monai-resnet, pixel-mlp,
    # efficientnet-lite0
    in_channels: int = 1  # greyscale input
    image_size: int = 96  # side of the square images the transforms produce
    mean: float = 0.5  # intensity normalisation of the transforms: (x01 - mean) / std,
    std: float = 0.25  # x01 the image scaled to [0, 1] between its 0.5/99.5 percentiles
    lock: int = 0  # efficientnet-lite0: leading layers kept frozen (LiT); -1 all, 0 none
    widths: tuple[int, ...] = (16, 32, 64, 128)  # channels of each stage (resnet)
    blocks: int = 1  # residual blocks per stage (resnet, monai-resnet)
    pool: int = 32  # pixel-mlp: images are average-pooled to pool x pool and flattened
    hidden: int = 512  # pixel-mlp: hidden width
    out_dim: int = 256  # pixel-mlp: feature width before the head
    dropout: float = 0.0  # dropout inside the backbone


@dataclass(frozen=True)
class TextTowerConfig:
    """Text tower: the pretrained all-MiniLM-L6-v2 sentence encoder (mean pooling)."""

    kind: str = "minilm"  # registered text backbone
    max_length: int = 128  # tokens per text (longer texts are truncated)
    trainable_layers: int = 0  # last N transformer layers fine-tuned; 0 = frozen (cached)
    cache_size: int = 50_000  # frozen encoder: texts whose features are kept in memory


@dataclass(frozen=True)
class ECGTowerConfig:
    """ECG tower: the 1-D ResNet :class:`~medmodal.models.ecg_encoder.ECGEncoder1d`."""

    kind: str = "resnet1d"  # registered ECG backbone
    in_channels: int = 12  # leads
    width: int = 32  # channels of the first blocks
    depth: int = 4  # residual blocks (each halves the length)
    out_dim: int = 128  # feature width before the head
    dropout: float = 0.1


@dataclass(frozen=True)
class HeadConfig:
    """Projection head from a tower's features to the shared embedding space."""

    kind: str = "mlp"  # linear or mlp
    hidden: int = 256  # mlp: hidden width
    depth: int = 1  # mlp: hidden layers
    dropout: float = 0.0


@dataclass(frozen=True)
class ModelConfig:
    """A multi-tower contrastive model; towers left ``None`` are absent."""

    name: str = "custom"  # the config's name (also the factory key of built-in configs)
    embed_dim: int = 128  # shared embedding dimension
    image: ImageTowerConfig | None = None
    text: TextTowerConfig | None = None
    ecg: ECGTowerConfig | None = None
    image_head: HeadConfig = field(default_factory=HeadConfig)
    text_head: HeadConfig = field(default_factory=HeadConfig)
    ecg_head: HeadConfig = field(default_factory=HeadConfig)
    logit_scale_init: float = math.log(1 / 0.07)  # CLIP's initial temperature 0.07
    logit_scale_max: float = math.log(100.0)  # the log-scale is clamped to this
    learn_logit_scale: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.embed_dim, int) or self.embed_dim < 1:
            raise InvalidParameterError(
                f"ModelConfig: embed_dim must be a positive int, got {self.embed_dim!r}"
            )
        if self.image is None and self.text is None and self.ecg is None:
            raise InvalidParameterError(
                f"ModelConfig {self.name!r}: at least one of image, text, ecg must be set"
            )
        if not math.isfinite(self.logit_scale_init) or self.logit_scale_init > self.logit_scale_max:
            raise InvalidParameterError(
                f"ModelConfig: logit_scale_init must be finite and <= logit_scale_max "
                f"({self.logit_scale_max}), got {self.logit_scale_init!r}"
            )

    @property
    def modalities(self) -> tuple[str, ...]:
        """The modalities this model encodes, e.g. ``("image", "text")``."""
        return tuple(m for m in ("image", "text", "ecg") if getattr(self, m) is not None)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Build from a (JSON) dict; unknown keys raise :class:`InvalidParameterError`."""
        return _build(cls, data)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (tuples as lists) that :meth:`from_dict` reads back."""
        return _plain(dataclasses.asdict(self))

    def to_json(self) -> str:
        """JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        """Parse JSON text written by :meth:`to_json`."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidParameterError(f"ModelConfig.from_json: not valid JSON: {exc}") from exc
        return cls.from_dict(data)

    def replace(self, **overrides: Any) -> ModelConfig:
        """A copy with top-level fields (dicts for towers/heads) replaced and validated."""
        data = self.to_dict()
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key] = {**data[key], **value}
            else:
                data[key] = _plain(value) if not dataclasses.is_dataclass(value) else value
        return ModelConfig.from_dict(data)


_NESTED: dict[str, type] = {
    "image": ImageTowerConfig,
    "text": TextTowerConfig,
    "ecg": ECGTowerConfig,
    "image_head": HeadConfig,
    "text_head": HeadConfig,
    "ecg_head": HeadConfig,
}


def _build(cls: type[C], data: Any) -> C:
    if dataclasses.is_dataclass(data) and isinstance(data, cls):
        return data
    kwargs: dict[str, Any] = {}
    for key, value in check_fields(cls, data).items():
        nested = _NESTED.get(key) if cls is ModelConfig else None
        if nested is not None and value is not None:
            value = _build(nested, value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[key] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise InvalidParameterError(f"{cls.__name__}: {exc}") from exc


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


__all__ = ["ECGTowerConfig", "HeadConfig", "ImageTowerConfig", "ModelConfig", "TextTowerConfig"]
