"""Torch towers and models: encoders per modality, projection heads, the contrastive model.

Named architectures are JSON configs behind :func:`create_model` / :func:`list_models`;
:func:`model_from_config` rebuilds a model from the dict a checkpoint stores.

Example:
    >>> from medmodal.models import list_models
    >>> "medpix-clip" in list_models()
    True
"""

from __future__ import annotations

from medmodal.models.clip import CLIPModel, CLIPOutput
from medmodal.models.config import (
    ECGTowerConfig,
    HeadConfig,
    ImageTowerConfig,
    ModelConfig,
    TextTowerConfig,
)
from medmodal.models.factory import (
    create_model,
    create_model_and_transforms,
    get_config,
    has_pretrained,
    list_models,
    model_from_config,
)

__all__ = [
    "CLIPModel",
    "CLIPOutput",
    "ECGTowerConfig",
    "HeadConfig",
    "ImageTowerConfig",
    "ModelConfig",
    "TextTowerConfig",
    "create_model",
    "create_model_and_transforms",
    "get_config",
    "has_pretrained",
    "list_models",
    "model_from_config",
]
