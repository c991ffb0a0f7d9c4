"""The models the service can run: a folder of saved models, loaded on first use.

Each sub-folder of the models folder (``--models-dir`` / ``MEDMODAL_MODELS_DIR``) that
holds ``config.json`` and ``model.safetensors`` (the checkpoint layout of
:mod:`medmodal.train`) is one model, named after the folder. Its kind, ``fusion`` or
``align``, comes from the config (see :func:`model_kind`). A loader per kind (a
:class:`~medmodal.registry.Registry`) turns the folder into an object the routes call;
loaders read weights with safetensors only, never unpickling anything.

Errors the routes turn into responses: an unknown model or no models folder (404), a
model of the other kind (422, field ``model``), a kind whose library part is not
installed or not built yet (503).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medmodal.registry import Registry
from medmodal.serve._errors import ServiceError

#: The files that make a folder a saved model.
MODEL_FILES = ("config.json", "model.safetensors")
_MAX_CONFIG_BYTES = 1 << 20

#: Loader per model kind: ``loader(model) -> object the routes call``.
LOADERS: Registry[Callable[[StoredModel], Any]] = Registry("model kind")


@dataclass(frozen=True)
class StoredModel:
    """One saved model: its name (the folder's), kind, folder and parsed config."""

    name: str
    kind: str
    path: Path
    config: dict[str, Any] = field(repr=False)


def model_kind(config: dict[str, Any]) -> str:
    """``"fusion"``, ``"align"`` or ``"unknown"`` for a model's ``config.json``.

    An explicit ``"kind"``/``"task"`` entry wins; otherwise a config with
    ``embed_dim`` and towers is an alignment model and one with a fusion ``method``
    (and modalities) a fusion model.

    Example:
        >>> model_kind({"name": "x", "embed_dim": 8, "image": {}})
        'align'
        >>> model_kind({"method": "intermediate", "modalities": {"ecg": {}}})
        'fusion'
        >>> model_kind({"model_class": "medmodal.models.clip.CLIPModel"})
        'align'
    """
    model_class = str(config.get("model_class", ""))
    if ".fusion." in model_class or "Fusion" in model_class:
        return "fusion"
    if ".align." in model_class or "CLIP" in model_class:
        return "align"
    for key in ("kind", "task", "model_kind"):
        value = str(config.get(key, "")).lower()
        if "fusion" in value:
            return "fusion"
        if "align" in value or "clip" in value:
            return "align"
    for key in ("model_config", "model"):  # the checkpoint's record nests the model's config
        inner = config.get(key)
        if isinstance(inner, dict):
            return model_kind(inner)
    if "embed_dim" in config and any(k in config for k in ("image", "text", "ecg")):
        return "align"
    if "method" in config and any(k in config for k in ("modalities", "classes", "fusion")):
        return "fusion"
    return "unknown"


class ModelStore:
    """The saved models under ``root`` (``None``: no models folder configured)."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._loaded: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def configured(self) -> bool:
        """Whether a models folder was given and exists."""
        return self.root is not None and self.root.is_dir()

    def scan(self) -> dict[str, StoredModel]:
        """Every saved model in the folder, by name (folders that are not models skipped)."""
        root = self.root
        if root is None or not root.is_dir():
            return {}
        found: dict[str, StoredModel] = {}
        for entry in sorted(root.iterdir()):
            if not entry.is_dir() or entry.is_symlink() or entry.name.startswith("."):
                continue
            folder = _checkpoint_folder(entry)
            config = None if folder is None else _read_config(folder / "config.json")
            if folder is not None and config is not None:
                found[entry.name] = StoredModel(entry.name, model_kind(config), folder, config)
        return found

    def is_loaded(self, name: str) -> bool:
        """Whether ``name`` has been loaded (it stays in memory)."""
        return name in self._loaded

    def get(self, name: str, kind: str) -> Any:
        """The loaded model ``name``, which must be of ``kind``."""
        models = self.scan()
        if name not in models:
            if not self.configured:
                raise ServiceError(
                    404,
                    "no models are loaded: start the service with --models-dir "
                    "(or MEDMODAL_MODELS_DIR) pointing at a folder of saved models",
                    field="model",
                    code="model_not_found",
                )
            known = ", ".join(n for n, m in models.items() if m.kind == kind) or "none"
            raise ServiceError(
                404,
                f"no {kind} model named {name!r}; {kind} models available: {known}",
                field="model",
                code="model_not_found",
            )
        model = models[name]
        if model.kind != kind:
            raise ServiceError(
                422, f"model {name!r} is a {model.kind} model, not a {kind} model", field="model"
            )
        with self._lock:  # one load per model even when requests race
            if name not in self._loaded:
                self._loaded[name] = LOADERS.get(kind)(model)
            return self._loaded[name]


def _checkpoint_folder(folder: Path) -> Path | None:
    """``folder`` if it is a saved model, else a run folder's ``best``/``last``, else None."""
    for candidate in (folder, folder / "best", folder / "last"):
        if all((candidate / name).is_file() for name in MODEL_FILES):
            return candidate
    return None


def _read_config(path: Path) -> dict[str, Any] | None:
    try:
        if path.stat().st_size > _MAX_CONFIG_BYTES:
            return None
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return config if isinstance(config, dict) else None
