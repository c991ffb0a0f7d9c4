"""The texts paired with MedPix images: structured captions and their shorter views.

Example:
    >>> from medmodal.data.medpix_captions import caption_text
    >>> caption_text({"modality": "CT", "plane": "Axial", "location_category": "Head",
    ...               "caption": "Hypodense lesion."}, structured=False)
    'Hypodense lesion.'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["caption_text", "caption_views"]


def caption_text(row: Mapping[str, Any], *, structured: bool = True) -> str:
    """The text paired with an image: the caption, prefixed by its structured fields.

    With ``structured=True`` (default) the modality, plane and body region lead the
    caption (``"CT, axial, head (brain and neuro): <caption>"``), as a radiology report
    header would; the finer ``location`` follows the category when it differs. With
    ``False`` the free-text caption alone.
    """
    caption = " ".join(str(row.get("caption") or "").split())
    if not structured:
        return caption
    region = str(row.get("location_category") or "").strip().lower()
    location = str(row.get("location") or "").strip().lower()
    if location and location != region:
        region = f"{region} ({location})" if region else location
    parts = [str(row.get("modality") or "").strip(), str(row.get("plane") or "").strip().lower()]
    head = ", ".join(p for p in [*parts, region] if p)
    return f"{head}: {caption}" if caption else head


def caption_views(row: Mapping[str, Any]) -> tuple[str, ...]:
    """Shorter texts of one image for text augmentation: the header, header + one sentence.

    The first view is :func:`caption_text` (the whole structured caption); then the
    header alone (``"CT, axial, head (brain and neuro)"``), then the header followed by each
    sentence of a caption with more than one sentence. Sampling a view per step is the
    sentence sampling of ConVIRT: the model also learns to match short texts such as
    prompts, not only whole captions.

    Example:
        >>> caption_views({"modality": "MR", "plane": "Sagittal", "location_category":
        ...                "Head", "caption": "Mass in the pons. No hydrocephalus."})[1:]
        ('MR, sagittal, head', 'MR, sagittal, head: Mass in the pons.', \
'MR, sagittal, head: No hydrocephalus.')

    References:
        Zhang Y, Jiang H, Miura Y, Manning CD, Langlotz CP. Contrastive learning of medical
        visual representations from paired images and text. MLHC 2022 (ConVIRT).
    """
    full = caption_text(row)
    head = caption_text({k: v for k, v in row.items() if k != "caption"})
    caption = caption_text(row, structured=False)
    sentences = [s for s in _SENTENCE_END.split(caption) if len(s.strip()) > 3]
    views = [full, head] if head and head != full else [full]
    if len(sentences) > 1 and head:
        views += [f"{head}: {s.strip()}" for s in sentences]
    return tuple(dict.fromkeys(views))


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
