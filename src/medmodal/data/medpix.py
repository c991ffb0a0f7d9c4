"""MedPix 2.0: CT and MR images with one caption each, in the data set's own splits.

Any folder with the MedPix 2.0 layout is accepted::

    <folder>/images/<image id>.png                one greyscale image per caption
    <folder>/splits/descriptions_<split>.jsonl    one JSON object per image (its caption,
                                                  modality, plane, body location...)
    <folder>/splits/data_<split>.jsonl            optional: one clinical case per line

``folder`` may also be a data root that holds ``medpix2-256/`` (the shared copy; default
through ``MEDMODAL_DATA``). Each description row pairs a caption with its own image. Cases
(``U_id``) never straddle splits: :func:`load_medpix` checks every split file present and
raises :class:`~medmodal.errors.DataFormatError` when a case appears in more than one.

Labels: ``modality`` is ``"CT"`` or ``"MR"`` (the row's ``Type``), ``plane`` as given
(``Axial``, ``Coronal``, ``Sagittal``...), ``location_category`` one of
:data:`LOCATION_CATEGORIES`.

Example:
    >>> from medmodal.data.medpix import LOCATION_CATEGORIES, caption_text
    >>> LOCATION_CATEGORIES[0]
    'Head'
    >>> caption_text({"modality": "CT", "plane": "Axial", "location_category": "Head",
    ...               "location": "Brain and Neuro", "caption": "Hypodense lesion."})
    'CT, axial, head (brain and neuro): Hypodense lesion.'

References:
    Siragusa I, Contino S, La Ciura M, Alicata R, Pirrone R. MedPix 2.0: a comprehensive
    multimodal biomedical data set for advanced AI applications with retrieval augmented
    generation and knowledge graphs. Data Science and Engineering (2025).
    doi:10.1007/s41019-025-00297-8. Research and teaching use.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from medmodal.data.paths import dataset_dir
from medmodal.errors import DataFormatError, DataNotFoundError, InvalidParameterError
from medmodal.types import PathLike

#: Imaging modalities (the ``Type`` field).
MODALITIES: tuple[str, ...] = ("CT", "MR")
#: The five body-location categories (the ``Location Category`` field).
LOCATION_CATEGORIES: tuple[str, ...] = (
    "Head",
    "Spine and Muscles",
    "Thorax",
    "Abdomen",
    "Reproductive and Urinary System",
)
#: Common imaging planes (others occur and are kept as given).
PLANES: tuple[str, ...] = ("Axial", "Coronal", "Sagittal")

_COLUMNS = (
    "image_id", "case_id", "caption", "modality", "modality_detail", "plane", "location",
    "location_category", "age", "sex", "acr_codes",
)  # fmt: skip

__all__ = [
    "LOCATION_CATEGORIES",
    "MODALITIES",
    "PLANES",
    "MedPixSplit",
    "available_splits",
    "caption_text",
    "caption_views",
    "load_medpix",
    "medpix_folder",
    "read_image",
]


def medpix_folder(root: PathLike | None = None) -> Path:
    """The MedPix folder: ``root`` itself when it has ``splits/``, else ``root/medpix2-256``."""
    if root is not None and (Path(root) / "splits").is_dir():
        return Path(root)
    return dataset_dir("medpix", root)


def available_splits(root: PathLike | None = None) -> tuple[str, ...]:
    """Split names with a ``splits/descriptions_<split>.jsonl`` file, sorted."""
    folder = medpix_folder(root) / "splits"
    return tuple(
        sorted(p.stem.removeprefix("descriptions_") for p in folder.glob("descriptions_*.jsonl"))
    )


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


def _rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for n, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DataFormatError(f"{path}:{n}: not a JSON object: {exc}") from exc
    return rows


def _age(value: object) -> float:
    try:
        return float(str(value))
    except ValueError:
        return float("nan")


def _record(raw: dict[str, Any], where: str) -> dict[str, Any]:
    try:
        desc = raw.get("Description") or {}
        modality = str(raw["Type"]).strip().upper()
        record = {
            "image_id": str(raw["image"]),
            "case_id": str(raw["U_id"]),
            "caption": str(desc.get("Caption") or ""),
            "modality": "MR" if modality in {"MR", "MRI"} else modality,
            "modality_detail": str(desc.get("Modality") or "").strip(),
            "plane": str(desc.get("Plane") or "").strip(),
            "location": str(raw.get("Location") or "").strip(),
            "location_category": str(raw.get("Location Category") or "").strip(),
            "age": _age(desc.get("Age")),
            "sex": str(desc.get("Sex") or ""),
            "acr_codes": str(desc.get("ACR Codes") or ""),
        }
    except (KeyError, TypeError, AttributeError) as exc:
        raise DataFormatError(f"{where}: a description row lacks {exc}") from exc
    return record


@dataclass(frozen=True)
class MedPixSplit:
    """One split of MedPix: image paths and their captions and labels.

    Attributes:
        name: the split name (``"train"``, ``"dev"``...).
        folder: the MedPix folder.
        frame: one row per image with the columns ``image_id, case_id, caption,
            modality, modality_detail, plane, location, location_category, age, sex,
            acr_codes`` (in file order).
    """

    name: str
    folder: Path
    frame: pd.DataFrame

    def __len__(self) -> int:
        return len(self.frame)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return ({str(k): v for k, v in r.items()} for r in self.frame.to_dict("records"))

    def image_path(self, i: int) -> Path:
        """Path of image ``i``."""
        return self.folder / "images" / f"{self.frame['image_id'].iloc[i]}.png"

    def image(self, i: int) -> np.ndarray:
        """Image ``i`` as a 2-D uint8 array (greyscale)."""
        return read_image(self.image_path(i))

    def texts(self, *, structured: bool = True) -> list[str]:
        """The text of every image (see :func:`caption_text`)."""
        return [caption_text(r, structured=structured) for r in self]

    def text_views(self) -> list[tuple[str, ...]]:
        """The texts of every image for text augmentation (see :func:`caption_views`)."""
        return [caption_views(r) for r in self]

    def header_groups(self) -> np.ndarray:
        """``(N,)`` int group of every image: images with the same modality, plane and
        body location share one (multi-positive targets, see
        :func:`medmodal.align.unicl.unicl_loss`)."""
        keys = self.frame[["modality", "plane", "location_category", "location"]].astype(str)
        return pd.factorize(keys.agg("|".join, axis=1))[0].astype(np.int64)

    def labels(self, field: str) -> np.ndarray:
        """Labels of one column (``modality``, ``plane``, ``location_category``...)."""
        if field not in self.frame.columns:
            raise InvalidParameterError(
                f"MedPixSplit.labels: unknown field {field!r}; allowed: {', '.join(_COLUMNS)}"
            )
        return self.frame[field].to_numpy()

    def to_frame(self) -> pd.DataFrame:
        """A copy of the per-image table."""
        return self.frame.copy()


def read_image(path: PathLike) -> np.ndarray:
    """A PNG/JPEG image as a 2-D uint8 greyscale array.

    Raises:
        DataNotFoundError: no file at ``path``.
        DataFormatError: the file cannot be decoded as an image.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"image not found: {path}")
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("L"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DataFormatError(f"cannot read the image {path}: {exc}") from exc


def _case_ids(path: Path) -> set[str]:
    return {str(r.get("U_id")) for r in _rows(path)}


def _check_disjoint(folder: Path, split: str, cases: set[str]) -> None:
    for other in sorted((folder / "splits").glob("descriptions_*.jsonl")):
        name = other.stem.removeprefix("descriptions_")
        if name == split:
            continue
        shared = cases & _case_ids(other)
        if shared:
            raise DataFormatError(
                f"MedPix: {len(shared)} case(s) appear in both the {split!r} and {name!r} "
                f"splits (e.g. {sorted(shared)[:3]}); cases must not straddle splits"
            )


def load_medpix(
    split: str = "train",
    *,
    root: PathLike | None = None,
    check_images: bool = True,
    check_cases: bool = True,
) -> MedPixSplit:
    """One split of MedPix 2.0 from any folder of its layout.

    Args:
        split: a split with ``splits/descriptions_<split>.jsonl`` (``train``, ``dev``; the
            shared copy has no ``test``).
        root: the MedPix folder, or a data root holding ``medpix2-256/``.
        check_images: verify that every image file exists.
        check_cases: verify that no case (``U_id``) of this split is in another split.

    Raises:
        DataNotFoundError: no such folder, split or image file.
        DataFormatError: malformed rows, duplicate images, or cases straddling splits.
    """
    folder = medpix_folder(root)
    path = folder / "splits" / f"descriptions_{split}.jsonl"
    if not isinstance(split, str) or not path.is_file():
        raise DataNotFoundError(
            f"MedPix split {split!r} not found: no {path}; available splits: "
            f"{', '.join(available_splits(folder)) or 'none'}"
        )
    records = [_record(r, f"{path}:{n}") for n, r in enumerate(_rows(path), 1)]
    frame = pd.DataFrame(records, columns=list(_COLUMNS))
    if frame.empty:
        raise DataFormatError(f"MedPix split {split!r} ({path}) has no rows")
    dup = frame["image_id"][frame["image_id"].duplicated()]
    if len(dup):
        raise DataFormatError(f"{path}: image {dup.iloc[0]!r} is listed more than once")
    if check_images:
        missing = [i for i in frame["image_id"] if not (folder / "images" / f"{i}.png").is_file()]
        if missing:
            raise DataNotFoundError(
                f"MedPix {split!r}: {len(missing)} image(s) missing under {folder / 'images'}, "
                f"e.g. {missing[0]}.png"
            )
    if check_cases:
        _check_disjoint(folder, split, set(frame["case_id"]))
    return MedPixSplit(split, folder, frame)
