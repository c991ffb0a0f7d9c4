"""The search gallery of an alignment model: precomputed, normalised embeddings.

``/v1/align/search`` ranks a gallery stored beside the model's checkpoint:

- ``gallery.safetensors``: ``image_embeddings`` ``(N, D)`` and/or ``text_embeddings``
  ``(M, D)``, float32, L2-normalised;
- ``gallery.json``: ``{"image_ids": [N names], "captions": [M texts]}``, optionally with
  ``"image_captions"`` (N indices into ``captions``, -1 for none), ``"image_cases"`` (N
  case ids) and ``"caption_cases"`` (M case ids);
- ``gallery_images/<index>.png``: optionally, the N images, served by
  ``GET /v1/align/images/{model}/{image_id}``.

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
#: The folder of the gallery's PNG images (``00000.png``... in ``image_ids`` order).
GALLERY_IMAGES = "gallery_images"


@dataclass(frozen=True)
class Gallery:
    """Image and caption embeddings with their names (either side may be empty)."""

    image_ids: tuple[str, ...]
    image_embeddings: np.ndarray  # (N, D) float32, unit rows
    captions: tuple[str, ...]
    text_embeddings: np.ndarray  # (M, D) float32, unit rows
    image_captions: tuple[int, ...] = ()  # per image: index into captions, -1 for none
    image_cases: tuple[str | None, ...] = ()  # per image: its case id
    caption_cases: tuple[str | None, ...] = ()  # per caption: its case id

    def image_caption(self, i: int) -> str | None:
        """The caption of image ``i`` (``None`` when the gallery does not say)."""
        j = self.image_captions[i] if i < len(self.image_captions) else -1
        return self.captions[j] if 0 <= j < len(self.captions) else None

    def image_case(self, i: int) -> str | None:
        """The case id of image ``i`` (``None`` when the gallery does not say)."""
        return self.image_cases[i] if i < len(self.image_cases) else None

    def caption_image(self, j: int) -> int | None:
        """The first image captioned by caption ``j`` (``None`` when there is none)."""
        return next((i for i, c in enumerate(self.image_captions) if c == j), None)

    def caption_case(self, j: int) -> str | None:
        """The case id of caption ``j`` (``None`` when the gallery does not say)."""
        return self.caption_cases[j] if j < len(self.caption_cases) else None


def save_gallery(
    folder: str | Path,
    model: Any,
    *,
    images: Any = None,
    image_ids: Sequence[str] = (),
    captions: Sequence[str] = (),
    batch_size: int = 64,
    image_captions: Sequence[int] = (),
    image_cases: Sequence[str] = (),
    caption_cases: Sequence[str] = (),
    pngs: Sequence[np.ndarray] = (),
) -> Path:
    """Encode ``images`` (``(N, C, H, W)`` tensor) and ``captions`` with ``model`` and
    write the gallery into the checkpoint ``folder``.

    ``image_captions`` (each image's index into ``captions``), ``image_cases`` and
    ``caption_cases`` (case ids) and ``pngs`` (the N images as ``(H, W)`` uint8 arrays,
    saved as PNG files the service can show) are optional.

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
    names: dict[str, Any] = {
        "image_ids": [str(i) for i in image_ids],
        "captions": [str(c) for c in captions],
    }
    extra: dict[str, tuple[Sequence[Any], int]] = {
        "image_captions": (image_captions, len(image_ids)),
        "image_cases": (image_cases, len(image_ids)),
        "caption_cases": (caption_cases, len(captions)),
        "pngs": (pngs, len(image_ids)),
    }
    for key, (values, expected) in extra.items():
        if len(values) not in (0, expected):
            raise InvalidParameterError(
                f"save_gallery: {len(values)} {key} for {expected} "
                f"{'captions' if key == 'caption_cases' else 'images'}"
            )
        if len(values) and key != "pngs":
            names[key] = [int(v) if key == "image_captions" else str(v) for v in values]
    save_file(tensors, str(folder / GALLERY_TENSORS))
    _save_pngs(folder, pngs)
    (folder / GALLERY_JSON).write_text(json.dumps(names, indent=1), encoding="utf-8")
    return folder


def _save_pngs(folder: Path, pngs: Sequence[np.ndarray]) -> None:
    if not len(pngs):
        return
    from PIL import Image

    out = folder / GALLERY_IMAGES
    out.mkdir(exist_ok=True)
    for i, pixels in enumerate(pngs):
        Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(out / f"{i:05d}.png")


def image_path(folder: Path, index: int) -> Path | None:
    """The PNG file of gallery image ``index`` in model ``folder``, or ``None``.

    Example:
        >>> import tempfile
        >>> image_path(Path(tempfile.mkdtemp()), 0) is None
        True
    """
    path = folder / GALLERY_IMAGES / f"{index:05d}.png"
    return path if path.is_file() else None


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
    return Gallery(
        image[0],
        image[1],
        text[0],
        text[1],
        image_captions=tuple(int(c) for c in _list(names, "image_captions", len(image[0]))),
        image_cases=tuple(_opt(c) for c in _list(names, "image_cases", len(image[0]))),
        caption_cases=tuple(_opt(c) for c in _list(names, "caption_cases", len(text[0]))),
    )


def _list(names: dict[str, Any], key: str, n: int) -> list[Any]:
    values = names.get(key, [])
    ints_ok = key != "image_captions" or all(type(v) is int for v in values or [])
    if not isinstance(values, list) or (values and len(values) != n) or not ints_ok:
        raise DataFormatError(f"gallery: {key} must be a list of {n} entries")
    return values


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


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
