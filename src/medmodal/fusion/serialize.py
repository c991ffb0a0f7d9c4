"""Save and load a fitted :class:`~medmodal.fusion.estimator.FusionClassifier`.

A saved model is a folder with ``config.json`` (``"kind": "fusion"``, the estimator's
parameters, modalities, classes, input specs) and ``model.safetensors`` (network weights
and the input scalers). Nothing is pickled, so loading an untrusted folder runs no code.

Example:
    >>> import tempfile
    >>> import numpy as np
    >>> from medmodal.data.synthetic import make_multimodal_classification
    >>> from medmodal.fusion import FusionClassifier, load_fusion_model
    >>> d = make_multimodal_classification(100, seed=0)
    >>> clf = FusionClassifier("gated", epochs=2, hidden=8, verbose=False).fit(d.X, d.y)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     again = load_fusion_model(clf.save(tmp + "/gated"))
    >>> bool(np.allclose(again.predict_proba(d.X), clf.predict_proba(d.X)))
    True
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from medmodal.errors import DataFormatError, DataNotFoundError, NotFittedError
from medmodal.fusion._base import FUSION_METHODS, ModalitySpec
from medmodal.fusion._data import Scaler
from medmodal.types import PathLike

if TYPE_CHECKING:
    from medmodal.fusion.estimator import FusionClassifier

CONFIG, WEIGHTS = "config.json", "model.safetensors"
FORMAT_VERSION = 1


def save_fusion_model(clf: FusionClassifier, path: PathLike) -> Path:
    """Write ``clf`` (fitted) to the folder ``path`` (created); returns the folder."""
    import torch
    from safetensors.torch import save_file

    if not hasattr(clf, "model_"):
        raise NotFittedError("save_fusion_model: the FusionClassifier is not fitted")
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    params = clf.get_params()
    params["modalities"] = list(params["modalities"]) if params["modalities"] else None
    params["kinds"] = dict(params["kinds"]) if params["kinds"] else None
    classes = np.asarray(clf.classes_)
    config = {
        "kind": "fusion",
        "format_version": FORMAT_VERSION,
        "model_class": "medmodal.fusion.FusionClassifier",
        "method": clf.method,
        "params": params,
        "modalities": list(clf.modalities_),
        "specs": [{"name": s.name, "kind": s.kind, "shape": list(s.shape)} for s in clf.specs_],
        "classes": classes.tolist(),
        "classes_dtype": classes.dtype.str,
        "multilabel": bool(clf.multilabel_),
        "history": clf.history_,
    }
    (out / CONFIG).write_text(json.dumps(config, indent=1) + "\n")
    tensors = {f"model.{k}": v.detach().contiguous() for k, v in clf.model_.state_dict().items()}
    for name, sc in clf.scalers_.items():
        tensors[f"scaler.{name}.mean"] = torch.from_numpy(np.ascontiguousarray(sc.mean))
        tensors[f"scaler.{name}.std"] = torch.from_numpy(np.ascontiguousarray(sc.std))
    save_file(tensors, str(out / WEIGHTS))
    return out


def load_fusion_model(path: PathLike) -> FusionClassifier:
    """Read a folder written by :func:`save_fusion_model` (safetensors, no unpickling)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from medmodal.fusion.estimator import FusionClassifier

    folder = Path(path)
    if not (folder / CONFIG).is_file() or not (folder / WEIGHTS).is_file():
        raise DataNotFoundError(f"load_fusion_model: {folder} lacks {CONFIG} or {WEIGHTS}")
    try:
        config: dict[str, Any] = json.loads((folder / CONFIG).read_text())
        tensors = load_file(str(folder / WEIGHTS))
        if config.get("kind") != "fusion":
            raise KeyError("kind")
        clf = FusionClassifier(**config["params"])
        clf.specs_ = tuple(
            ModalitySpec(s["name"], s["kind"], tuple(s["shape"])) for s in config["specs"]
        )
        clf.modalities_ = tuple(config["modalities"])
        clf.classes_ = np.asarray(config["classes"], dtype=np.dtype(config["classes_dtype"]))
        clf.multilabel_ = bool(config["multilabel"])
        clf.history_ = list(config.get("history", []))
        clf.scalers_ = {
            s.name: Scaler(
                tensors[f"scaler.{s.name}.mean"].numpy(),
                tensors[f"scaler.{s.name}.std"].numpy(),
                s.kind == "signal",
            )
            for s in clf.specs_
        }
        fcfg = clf.fusion_config()
        model = FUSION_METHODS.get(fcfg.method)(
            clf.specs_, len(clf.classes_), fcfg, multilabel=clf.multilabel_
        )
        state = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
        model.load_state_dict(state, strict=True)
    except (KeyError, TypeError, ValueError, RuntimeError, SafetensorError) as exc:
        raise DataFormatError(
            f"load_fusion_model: {folder} is not a saved fusion model ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''})"
        ) from None
    clf.model_ = model.eval()
    return clf
