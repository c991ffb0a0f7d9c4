"""The shipped beat networks, evaluated in numpy from safetensors weights + JSON config.

A network is a multilayer perceptron: the input is standardised with the stored
``mean``/``std``, then ``layers`` affine maps (``w{k}`` ``(out, in)``, ``b{k}``) with ReLU
between them, then per-class logit offsets from the config (class priors chosen on the
validation split), then softmax. ``benchmarks/train_beat_model.py`` trains the same
network in torch and writes these files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from medmodal.errors import DataFormatError
from medmodal.types import FloatArray

#: Folder of the shipped weights (``<name>.safetensors`` + ``<name>.json``).
MODEL_DIR = Path(__file__).resolve().parents[1] / "models"


@dataclass(frozen=True, eq=False)
class Network:
    """A loaded network: its config and its float32 tensors."""

    config: dict[str, Any]
    tensors: dict[str, np.ndarray]

    @property
    def n_layers(self) -> int:
        return int(self.config["layers"])

    def logits(self, x: FloatArray) -> FloatArray:
        """Raw class scores ``(n, n_classes)`` of the ``(n, n_features)`` input."""
        h = (np.asarray(x, np.float32) - self.tensors["mean"]) / self.tensors["std"]
        for k in range(self.n_layers):
            h = h @ self.tensors[f"w{k}"].T + self.tensors[f"b{k}"]
            if k < self.n_layers - 1:
                h = np.maximum(h, 0.0)
        return h.astype(np.float64)

    def probabilities(self, x: FloatArray) -> FloatArray:
        """Class probabilities ``(n, n_classes)`` (offsets from the config applied)."""
        z = self.logits(x) + np.asarray(self.config.get("logit_offset", 0.0))
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=1, keepdims=True))


def load_network(path_stem: Path) -> Network:
    """Read ``<stem>.json`` and ``<stem>.safetensors`` (no pickle anywhere)."""
    from safetensors.numpy import load_file

    try:
        config = json.loads(path_stem.with_suffix(".json").read_text())
        tensors = load_file(str(path_stem.with_suffix(".safetensors")))
    except (OSError, ValueError) as exc:
        raise DataFormatError(f"beat model {path_stem.name}: cannot be read: {exc}") from exc
    missing = [f"{p}{k}" for k in range(int(config["layers"])) for p in "wb"]
    missing = [m for m in ["mean", "std", *missing] if m not in tensors]
    if missing:
        raise DataFormatError(f"beat model {path_stem.name}: tensors {missing} are missing")
    return Network(config, {k: v.astype(np.float32) for k, v in tensors.items()})


@lru_cache(maxsize=8)
def shipped_network(stem: str) -> Network:
    """The shipped network ``stem`` from :data:`MODEL_DIR`, loaded once."""
    return load_network(MODEL_DIR / stem)
