"""A tiny image-ECG contrastive model with a search gallery of three images (one caption
each, with case ids and PNGs), for the ``/v1/align`` tests and the web page's search box."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from medmodal.serve.gallery import GALLERY_IMAGES, GALLERY_JSON, GALLERY_TENSORS

SIZE = 32
#: The gallery of the ``tiny-image`` model: three images, one caption each.
IMAGE_IDS = ["img/0", "img 1", "img-2"]  # a slash and a space: the URLs quote them
CAPTIONS = ["caption zero", "caption one", "caption two"]
CASES = ["case-a", "case-a", "case-b"]


def png_query(seed: int) -> tuple[bytes, np.ndarray]:
    """A random greyscale PNG and what the model should see: (1, 1, S, S), prepared by
    the library's evaluation transform (as in training, without augmentation)."""
    from PIL import Image

    from medmodal.data.image_transforms import ImageTransform

    pixels = np.random.default_rng(seed).integers(0, 256, (SIZE + 8, SIZE), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
    return buffer.getvalue(), ImageTransform(SIZE)(pixels)[None]


def save_image_model(folder: Path) -> tuple[list[bytes], torch.nn.Module]:
    """A tiny image+ECG contrastive model; its gallery captions embed three known images."""
    from medmodal.models import model_from_config
    from medmodal.train.checkpoint import save_checkpoint

    torch.manual_seed(0)
    config = {
        "name": "tiny-image",
        "embed_dim": 16,
        "image": {"widths": [8, 16], "image_size": SIZE},
        "ecg": {"width": 8, "depth": 2, "out_dim": 16},
    }
    model = model_from_config(config).eval()
    save_checkpoint(folder, model)
    images = [png_query(seed) for seed in range(3)]
    with torch.no_grad():
        emb = model.encode_image(torch.from_numpy(np.concatenate([p for _, p in images])), True)
    emb = emb.contiguous()
    save_file(
        {"text_embeddings": emb, "image_embeddings": emb.clone()}, str(folder / GALLERY_TENSORS)
    )
    names = {
        "image_ids": IMAGE_IDS,
        "captions": CAPTIONS,
        "image_captions": [0, 1, 2],
        "image_cases": CASES,
        "caption_cases": CASES,
    }
    (folder / GALLERY_JSON).write_text(json.dumps(names))
    (folder / GALLERY_IMAGES).mkdir()
    for i, (data, _) in enumerate(images):  # what save_gallery(..., pngs=...) writes
        (folder / GALLERY_IMAGES / f"{i:05d}.png").write_bytes(data)
    return [data for data, _ in images], model
