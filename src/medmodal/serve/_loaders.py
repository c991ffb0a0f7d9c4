"""Loaders of saved models, one per kind (registered in ``model_store.LOADERS``).

- ``align``: a :mod:`medmodal.train` checkpoint of a contrastive model
  (:func:`medmodal.train.checkpoint.load_checkpoint`), with its search gallery.
- ``fusion``: a saved fusion classifier (needs ``medmodal.fusion``'s loader).

Weights load through safetensors only; a kind whose library part is missing answers 503.
"""

from __future__ import annotations

import importlib
import io
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from medmodal.errors import MedmodalError
from medmodal.serve._errors import ServiceError
from medmodal.serve.gallery import Gallery, image_path, load_gallery, rank
from medmodal.serve.model_store import LOADERS, StoredModel

#: Largest pixel count accepted for a query image.
MAX_PIXELS = 40_000_000
#: The only image formats decoded (Pillow's other decoders are never tried).
IMAGE_FORMATS = ("PNG", "JPEG")


def _unavailable(kind: str, what: str) -> ServiceError:
    return ServiceError(503, f"{kind} models cannot be served by this build: {what}")


def _scrub(exc: Exception, stored: StoredModel) -> str:
    """The error's text without the server's folders (the model's files keep their names)."""
    message = str(exc)
    folders = [stored.path, stored.path.parent]
    if stored.path.name in ("best", "last"):  # a run folder: its parent is the model's
        folders.append(stored.path.parent.parent)
    for folder in folders:
        message = message.replace(f"{folder}/", "").replace(str(folder), stored.name)
    return message


class AlignSearcher:
    """Text -> nearest gallery images, image -> nearest gallery captions."""

    def __init__(
        self, name: str, model: Any, gallery: Gallery | None, folder: Path | None = None
    ) -> None:
        self.name = name
        self.model = model
        self.gallery = gallery
        self.folder = folder

    def _gallery(self, side: str) -> Gallery:
        g = self.gallery
        if g is None or (len(g.image_ids) if side == "image" else len(g.captions)) == 0:
            what = "images" if side == "image" else "captions"
            raise ServiceError(
                422,
                f"model {self.name!r} has no gallery of {what} to search (save one with "
                "medmodal.serve.gallery.save_gallery)",
                field="model",
            )
        return g

    def search_text(self, text: str, top_k: int) -> dict[str, Any]:
        gallery = self._gallery("image")
        query = self._encode(lambda torch: self.model.encode_text([text], normalize=True))
        hits = rank(query, gallery.image_embeddings, top_k)
        rows = [
            self._hit(gallery, s, image=i, caption=None, case=gallery.image_case(i))
            for i, s in hits
        ]
        return self._result("text", rows)

    def search_image(self, data: bytes, top_k: int) -> dict[str, Any]:
        gallery = self._gallery("text")
        pixels = _decode_image(data, self.model)
        query = self._encode(
            lambda torch: self.model.encode_image(torch.from_numpy(pixels), normalize=True)
        )
        hits = rank(query, gallery.text_embeddings, top_k)
        rows = [
            self._hit(gallery, s, image=gallery.caption_image(j), caption=j,
                      case=gallery.caption_case(j))
            for j, s in hits
        ]  # fmt: skip
        return self._result("image", rows)

    def image_file(self, image_id: str) -> Path:
        """The PNG file of gallery image ``image_id``.

        Raises:
            ServiceError: 404 when the gallery has no such image or keeps no images.
        """
        g = self.gallery
        ids = () if g is None else g.image_ids
        path = None
        if image_id in ids and self.folder is not None:
            path = image_path(self.folder, ids.index(image_id))
        if path is None:
            raise ServiceError(
                404,
                f"model {self.name!r} has no gallery image {image_id[:80]!r}",
                field="image_id",
                code="image_not_found",
            )
        return path

    def _hit(
        self, g: Gallery, score: float, *, image: int | None, caption: int | None,
        case: str | None,
    ) -> dict[str, Any]:  # fmt: skip
        """One hit: the image (with a URL when its PNG is kept), its caption and case."""
        image_id = None if image is None else g.image_ids[image]
        url = None
        if image is not None and self.folder is not None and image_path(self.folder, image):
            url = f"/v1/align/images/{quote(self.name, safe='')}/{quote(str(image_id), safe='')}"
        text = g.captions[caption] if caption is not None else g.image_caption(image or 0)
        if case is None and image is not None:
            case = g.image_case(image)
        return {"score": score, "image_id": image_id, "image_url": url,
                "caption": text, "case_id": case}  # fmt: skip

    def _encode(self, encode: Any) -> np.ndarray:
        import torch

        try:
            with torch.no_grad():
                return encode(torch)[0].float().numpy()
        except MedmodalError as exc:
            raise ServiceError(422, f"model {self.name!r}: {exc}", field="model") from None

    def _result(self, query: str, hits: list[dict[str, Any]]) -> dict[str, Any]:
        rows = [{"rank": r + 1, **hit} for r, hit in enumerate(hits)]
        return {"model": self.name, "query": query, "hits": rows}


def _decode_image(data: bytes, model: Any) -> np.ndarray:
    """PNG/JPEG bytes -> ``(1, C, S, S)`` float32, prepared as in training: greyscale,
    squared and normalised by :class:`medmodal.data.image_transforms.ImageTransform`
    (no augmentation) at the model's image size, mean and std."""
    from PIL import Image, UnidentifiedImageError

    from medmodal.data.image_transforms import ImageTransform

    try:
        with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ServiceError(422, "image has too many pixels", field="image")
            grey = np.asarray(img.convert("L"))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        message = "the image cannot be decoded (PNG or JPEG)"
        raise ServiceError(422, message, field="image") from None
    image = model.config.image
    transform = ImageTransform(
        int(image.image_size), augment=False, mean=float(image.mean), std=float(image.std)
    )
    pixels = transform(grey)  # (1, S, S)
    channels = int(getattr(model.config.image, "in_channels", 1))
    return np.ascontiguousarray(np.repeat(pixels, channels, axis=0)[None])  # (1, C, S, S)


@LOADERS.register("align", description="contrastive model checkpoint + gallery")
def _load_align(stored: StoredModel) -> AlignSearcher:
    try:
        checkpoint = importlib.import_module("medmodal.train.checkpoint")
    except ImportError as exc:
        raise _unavailable("align", f"medmodal.train is missing ({exc.name})") from None
    try:
        loaded = checkpoint.load_checkpoint(stored.path)
        gallery = load_gallery(stored.path)
    except MedmodalError as exc:
        raise ServiceError(
            422, f"model {stored.name!r} cannot be loaded: {_scrub(exc, stored)}", field="model"
        ) from None
    return AlignSearcher(stored.name, loaded.model, gallery, stored.path)


@LOADERS.register("fusion", description="saved fusion classifier")
def _load_fusion(stored: StoredModel) -> Any:
    from medmodal.fusion import load_fusion_model

    try:
        return FusionPredictor(stored.name, load_fusion_model(stored.path))
    except MedmodalError as exc:
        raise ServiceError(
            422, f"model {stored.name!r} cannot be loaded: {_scrub(exc, stored)}", field="model"
        ) from None


class FusionPredictor:
    """Probabilities of a fitted fusion classifier for per-modality nested lists."""

    def __init__(self, name: str, estimator: Any) -> None:
        self.name = name
        self.estimator = estimator

    def predict(self, inputs: dict[str, list[Any]]) -> dict[str, Any]:
        shapes = self._shapes(inputs)
        counts = {name: len(rows) for name, rows in inputs.items()}
        if len(set(counts.values())) != 1:
            raise ServiceError(
                422,
                f"every modality needs the same number of samples, got {counts}",
                field="inputs",
            )
        X = {name: _modality_array(name, rows, shapes[name]) for name, rows in inputs.items()}
        try:
            proba = np.asarray(self.estimator.predict_proba(X), dtype=np.float64)
        except MedmodalError as exc:
            raise ServiceError(422, f"model {self.name!r}: {exc}", field="inputs") from None
        classes = [str(c) for c in getattr(self.estimator, "classes_", range(proba.shape[1]))]
        return {
            "model": self.name,
            "classes": classes,
            "probabilities": proba.tolist(),
            "predictions": [classes[i] for i in np.argmax(proba, axis=1)],
        }

    def _shapes(self, inputs: dict[str, list[Any]]) -> dict[str, tuple[int, ...] | None]:
        """The per-sample shape of each modality the model was fitted on (``specs_``);
        unknown or missing modalities are refused. Without specs, the first sample's."""
        specs = getattr(self.estimator, "specs_", None)
        if specs is None:
            return dict.fromkeys(inputs)
        shapes = {str(s.name): tuple(int(n) for n in s.shape) for s in specs}
        unknown, missing = sorted(set(inputs) - set(shapes)), sorted(set(shapes) - set(inputs))
        if unknown or missing:
            problem = f"unknown modalities {unknown}" if unknown else f"missing {missing}"
            raise ServiceError(
                422,
                f"model {self.name!r} takes the modalities {sorted(shapes)} ({problem}; "
                "send null for a sample without one)",
                field="inputs",
            )
        return {name: shapes[name] for name in inputs}


def _modality_array(name: str, rows: list[Any], shape: tuple[int, ...] | None) -> np.ndarray:
    """Nested lists of numbers -> float array of ``(len(rows), *shape)``; a ``null``
    sample becomes an all-NaN row (missing). Strict: every sample has exactly ``shape``
    (nothing is broadcast) and holds only numbers (no strings, booleans or nulls)."""
    present = [r for r in rows if r is not None]
    if shape is None:
        if not present:
            raise ServiceError(422, f"modality {name!r} has no sample", field=f"inputs.{name}")
        shape = _shape_of(present[0])
    out = np.full((len(rows), *shape), np.nan)
    for i, row in enumerate(rows):
        if row is None:
            continue
        if not _matches(row, shape):
            raise ServiceError(
                422,
                f"modality {name!r}, sample {i}: expected numbers in nested lists of shape "
                f"{list(shape)}",
                field=f"inputs.{name}",
            )
        out[i] = np.asarray(row, dtype=np.float64)
    return out


def _shape_of(value: Any) -> tuple[int, ...]:
    shape: list[int] = []
    while isinstance(value, list):
        shape.append(len(value))
        value = value[0] if value else None
    return tuple(shape)


def _matches(value: Any, shape: tuple[int, ...]) -> bool:
    """Whether ``value`` is nested lists of exactly ``shape`` holding finite numbers.

    Example:
        >>> _matches([[1, 2.5]], (1, 2)), _matches([7], (3,)), _matches([True], (1,))
        (True, False, False)
    """
    if not shape:
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        return is_number and bool(np.isfinite(value))
    if not isinstance(value, list) or len(value) != shape[0]:
        return False
    return all(_matches(v, shape[1:]) for v in value)
