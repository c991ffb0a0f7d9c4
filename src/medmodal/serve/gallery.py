"""The search gallery of an alignment model: precomputed, normalised embeddings.

``/v1/align/search`` ranks a gallery stored beside the model's checkpoint:

- ``gallery.safetensors``: ``image_embeddings`` ``(N, D)`` and/or ``text_embeddings``
  ``(M, D)``, float32, L2-normalised;
- ``gallery.json``: ``{"image_ids": [N names], "captions": [M texts]}``.

:func:`save_gallery` writes both from a model and its images and captions; the service
reads them with :func:`load_gallery` (safetensors and JSON: nothing is unpickled).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from medmodal.errors import DataFormatError, InvalidParameterError

GALLERY_TENSORS, GALLERY_JSON = "gallery.safetensors", "gallery.json"


@dataclass(frozen=True)
class Gallery:
    """Image and caption embeddings with their names (either side may be empty)."""

    image_ids: tuple[str, ...]
    image_embeddings: np.ndarray  # (N, D) float32, unit rows
    captions: tuple[str, ...]
    text_embeddings: np.ndarray  # (M, D) float32, unit rows


def save_gallery(
    folder: str | Path,
    model: Any,
    *,
    images: Any = None,
    image_ids: Sequence[str] = (),
    captions: Sequence[str] = (),
    batch_size: int = 64,
) -> Path:
    """Encode ``images`` (``(N, C, H, W)`` tensor) and ``captions`` with ``model`` and
    write the gallery into the checkpoint ``folder``.

    Returns:
        The folder.
    """
    import torch
    from safetensors.torch import save_file

    folder = Path(folder)
    tensors: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        if images is not None:
            if len(image_ids) != len(images):
                raise InvalidParameterError(
                    f"save_gallery: {len(images)} images but {len(image_ids)} image_ids"
                )
            parts = [
                model.encode_image(images[i : i + batch_size], normalize=True)
                for i in range(0, len(images), batch_size)
            ]
            tensors["image_embeddings"] = torch.cat(parts).float().contiguous()
        if captions:
            parts = [
                model.encode_text(list(captions[i : i + batch_size]), normalize=True)
                for i in range(0, len(captions), batch_size)
            ]
            tensors["text_embeddings"] = torch.cat(parts).float().contiguous()
    if not tensors:
        raise InvalidParameterError("save_gallery: give images (with image_ids) or captions")
    save_file(tensors, str(folder / GALLERY_TENSORS))
    names = {"image_ids": [str(i) for i in image_ids], "captions": [str(c) for c in captions]}
    (folder / GALLERY_JSON).write_text(json.dumps(names, indent=1), encoding="utf-8")
    return folder


def load_gallery(folder: Path) -> Gallery | None:
    """The gallery saved in ``folder``, or ``None`` when there is none.

    Raises:
        DataFormatError: the files disagree (counts, dimensions) or cannot be read.
    """
    tensors_path, names_path = folder / GALLERY_TENSORS, folder / GALLERY_JSON
    if not tensors_path.is_file() or not names_path.is_file():
        return None
    from safetensors.numpy import load_file

    try:
        arrays = load_file(str(tensors_path))
        names = json.loads(names_path.read_text(encoding="utf-8"))
    except Exception as exc:  # safetensors raises its own error types
        raise DataFormatError(f"cannot read the gallery of {folder.name}: {exc}") from exc
    dim = next(iter(arrays.values())).shape[1] if arrays else 0
    image = _side(arrays.get("image_embeddings"), names.get("image_ids", []), dim, "image")
    text = _side(arrays.get("text_embeddings"), names.get("captions", []), dim, "caption")
    return Gallery(image[0], image[1], text[0], text[1])


def _side(emb: np.ndarray | None, names: Any, dim: int, what: str) -> tuple[tuple[str, ...], Any]:
    if emb is None:
        return (), np.zeros((0, dim), dtype=np.float32)
    if emb.ndim != 2 or not isinstance(names, list) or len(names) != emb.shape[0]:
        raise DataFormatError(
            f"gallery: {what} embeddings {emb.shape} do not match {len(names)} {what} names"
        )
    return tuple(str(n) for n in names), emb.astype(np.float32)


def rank(query: np.ndarray, embeddings: np.ndarray, top_k: int) -> list[tuple[int, float]]:
    """``(index, cosine)`` of the ``top_k`` rows of ``embeddings`` nearest ``query``.

    Example:
        >>> rank(np.array([1.0, 0.0]), np.array([[0.0, 1.0], [1.0, 0.0]]), 1)
        [(1, 1.0)]
    """
    q = query / max(float(np.linalg.norm(query)), 1e-12)
    scores = embeddings @ q
    order = np.argsort(-scores, kind="stable")[:top_k]
    return [(int(i), float(scores[i])) for i in order]
