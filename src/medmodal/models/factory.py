"""Named architectures: JSON configs under ``configs/`` behind one factory.

Example:
    >>> from medmodal.models.factory import get_config, list_models
    >>> list_models()
    ('ecg-text-clip', 'medpix-clip', 'notebook-vlm')
    >>> get_config("medpix-clip").modalities
    ('image', 'text')
    >>> get_config("medpix-clip", embed_dim=64, image={"widths": [8, 16]}).image.widths
    (8, 16)
"""

from __future__ import annotations

import difflib
import functools
import json
from pathlib import Path
from typing import Any

from medmodal.errors import DataFormatError, InvalidParameterError
from medmodal.models.clip import CLIPModel
from medmodal.models.config import ModelConfig

CONFIG_DIR = Path(__file__).resolve().parent / "configs"


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


def create_model(name: str, **overrides: Any) -> CLIPModel:
    """Build the model named ``name`` (see :func:`list_models`) with overrides."""
    return CLIPModel(get_config(name, **overrides))


def model_from_config(config: dict[str, Any] | ModelConfig) -> CLIPModel:
    """Rebuild a model from its config (a dict as saved in a checkpoint's config.json)."""
    if isinstance(config, ModelConfig):
        return CLIPModel(config)
    if not isinstance(config, dict):
        raise InvalidParameterError(
            f"model_from_config: expected a dict or ModelConfig, got {type(config).__name__}"
        )
    return CLIPModel(ModelConfig.from_dict(config))


__all__ = ["CONFIG_DIR", "create_model", "get_config", "list_models", "model_from_config"]
