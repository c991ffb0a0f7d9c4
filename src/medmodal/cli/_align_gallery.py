"""``medmodal align gallery``: the search gallery the service's ``/v1/align/search`` ranks.

Every image and every distinct caption of a data set's split is encoded by the trained
model and saved with :func:`medmodal.serve.gallery.save_gallery` beside the model's
``config.json`` and ``model.safetensors``; ``medmodal serve --models-dir`` then finds the
folder as one model (named after it) with its gallery.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from medmodal.align import ImageTextPairs
from medmodal.cli._common import check_out_dir, check_out_files
from medmodal.errors import InvalidParameterError
from medmodal.types import PathLike

if TYPE_CHECKING:
    from medmodal.align import Task
    from medmodal.models import CLIPModel

__all__ = ["build_gallery", "check_gallery_target"]


def check_gallery_target(checkpoint: PathLike, out: PathLike | None, *, overwrite: bool) -> Path:
    """The model folder ``align gallery`` would write, refused before any work when it may
    not be written: a non-empty ``out`` (another model's files, say), or a gallery already
    in the checkpoint folder, without ``overwrite``. Reads only.

    Returns:
        The folder the gallery goes to.

    Raises:
        InvalidParameterError: as above; nothing on disk has changed.
        DataNotFoundError: no checkpoint at ``checkpoint``.
    """
    from medmodal.serve.gallery import GALLERY_JSON, GALLERY_TENSORS
    from medmodal.train import find_checkpoint

    source = find_checkpoint(Path(checkpoint))
    if out is not None and Path(out).resolve() != source.resolve():
        return check_out_dir(Path(out), overwrite=overwrite, caller="align gallery")
    files = [source / GALLERY_TENSORS, source / GALLERY_JSON]
    check_out_files(files, overwrite=overwrite, caller="align gallery")
    return source


def build_gallery(
    model: CLIPModel,
    task: Task,
    checkpoint: PathLike,
    out: PathLike | None = None,
    *,
    split: str = "dev",
    root: PathLike | None = None,
    text: str = "structured",
) -> dict[str, Any]:
    """Encode ``task``'s ``split`` with ``model``; write the gallery into a model folder.

    Args:
        model: the trained image-text :class:`~medmodal.models.CLIPModel`.
        task: the alignment task (see :func:`medmodal.align.get_task`).
        checkpoint: the run or checkpoint folder the model came from.
        out: the model folder to write (the checkpoint's files are copied there);
            default: the checkpoint folder itself.
        split: the split whose images and captions fill the gallery.
        root: the data root.
        text: caption kind (``structured`` or ``caption`` for MedPix).

    Returns:
        ``{"folder", "data", "split", "images", "captions"}``.

    Raises:
        InvalidParameterError: the data or the model are not image-text.
    """
    import torch

    from medmodal.serve.gallery import save_gallery
    from medmodal.train import find_checkpoint

    if tuple(task.modalities) != ("image", "text"):
        raise InvalidParameterError(
            f"align gallery: the service searches images and captions; the {task.name!r} "
            f"data hold {', '.join(task.modalities)} (use --data medpix)"
        )
    if "image" not in model.modalities or "text" not in model.modalities:
        raise InvalidParameterError(
            f"align gallery: the service searches images and captions, but model "
            f"{model.config.name!r} encodes {', '.join(model.modalities)}"
        )
    source = find_checkpoint(Path(checkpoint))
    folder = _model_folder(source, None if out is None else Path(out))
    image_config = model.config.image
    if image_config is None:  # a model with an "image" modality always has its config
        raise InvalidParameterError(
            f"align gallery: model {model.config.name!r} has no image tower"
        )
    size = int(image_config.image_size)
    normalize = (image_config.mean, image_config.std)
    dataset = task.load(
        split, root=root, image_size=size, augment=False, seed=0, text=text, normalize=normalize
    )
    if not isinstance(dataset, ImageTextPairs):
        raise InvalidParameterError(
            f"align gallery: the {task.name!r} data are not image-caption pairs"
        )
    channels = int(getattr(image_config, "in_channels", 1))
    pixels = np.stack([dataset.transform(image) for image in dataset.images])  # (N, 1, S, S)
    images = torch.from_numpy(np.repeat(pixels, channels, axis=1))  # (N, C, S, S)
    ids = _image_ids(dataset)
    captions = list(dict.fromkeys(dataset.texts))  # several images of a case share one
    index = {caption: j for j, caption in enumerate(captions)}
    cases = _image_cases(dataset)
    model.eval()
    save_gallery(
        folder,
        model,
        images=images,
        image_ids=ids,
        captions=captions,
        image_captions=[index[t] for t in dataset.texts],
        image_cases=cases,
        caption_cases=_caption_cases(cases, dataset.texts, captions),
        pngs=list(dataset.images),  # (S, S) uint8 each, shown by the service
    )
    return {
        "folder": str(folder),
        "data": task.name,
        "split": split,
        "images": len(ids),
        "captions": len(captions),
    }


def _model_folder(source: Path, out: Path | None) -> Path:
    """``out`` holding a copy of the checkpoint's files, or ``source`` itself."""
    if out is None or out.resolve() == source.resolve():
        return source
    out.mkdir(parents=True, exist_ok=True)
    for file in source.iterdir():
        if file.is_file() and not file.is_symlink():
            shutil.copy2(file, out / file.name)
    return out


def _image_ids(dataset: ImageTextPairs) -> list[str]:
    labels = dataset.labels
    if "image_id" in labels.columns:
        return [str(i) for i in labels["image_id"]]
    return [f"image-{i}" for i in range(len(dataset))]


def _image_cases(dataset: ImageTextPairs) -> list[str]:
    """Each image's case id, or ``[]`` when the data do not say."""
    labels = dataset.labels
    if "case_id" not in labels.columns:
        return []
    return [str(c) for c in labels["case_id"]]


def _caption_cases(cases: list[str], texts: list[str], captions: list[str]) -> list[str]:
    """The case id of each distinct caption (that of its first image), or ``[]``."""
    if not cases:
        return []
    first = dict(zip(reversed(texts), reversed(cases), strict=True))
    return [first[c] for c in captions]
