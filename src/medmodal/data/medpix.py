"""MedPix 2.0: CT and MR images with one caption each, in the data set's own splits.

Any folder with the MedPix 2.0 layout is accepted::

    <folder>/images/<image id>.png                one greyscale image per caption
    <folder>/splits/descriptions_<split>.jsonl    one JSON object per image (its caption,
                                                  modality, plane, body location...)
    <folder>/splits/data_<split>.jsonl            optional: one clinical case per line

``folder`` may also be a data root that holds ``medpix2-256/`` (the shared copy; default
through ``MEDMODAL_DATA``). Each description row pairs a caption with its own image. Cases
(``U_id``) and patients never straddle splits: by default :func:`load_medpix` returns the
patient-clean splits (:mod:`medmodal.data.medpix_patients`: cases of one patient move to
``train`` together, and ``val`` is carved out of ``train`` by patient), and checks that no
case id and no near-duplicate image is in two splits.

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

import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from medmodal.data.medpix_captions import caption_text, caption_views
from medmodal.data.medpix_patients import (
    NEAR_DUPLICATE,
    PatientSplits,
    image_fingerprint,
    near_duplicates,
    patient_splits,
)
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
    "medpix_patients",
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


def _signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """What the cached splits depend on: the split files and the image folder."""
    paths = [*sorted((folder / "splits").glob("*.jsonl")), folder / "images"]
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in paths if p.exists())


def _file_frame(folder: Path, split: str, check_images: bool) -> pd.DataFrame:
    """The rows of ``splits/descriptions_<split>.jsonl``, validated."""
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
    return frame


_Frames = dict[str, pd.DataFrame]


@functools.lru_cache(maxsize=4)
def _all_files(folder: Path, signature: object) -> tuple[_Frames, dict[str, np.ndarray]]:
    """Every file split's rows and image fingerprints (cached per folder and file state)."""
    frames = {s: _file_frame(folder, s, True) for s in available_splits(folder)}
    images = folder / "images"
    prints = {
        s: np.stack([image_fingerprint(read_image(images / f"{i}.png")) for i in f["image_id"]])
        for s, f in frames.items()
    }
    return frames, prints


@functools.lru_cache(maxsize=8)
def _patients(folder: Path, signature: object, val_fraction: float, seed: int) -> PatientSplits:
    frames, prints = _all_files(folder, signature)
    return patient_splits(frames, prints, folder, val_fraction=val_fraction, seed=seed)


def medpix_patients(
    root: PathLike | None = None, *, val_fraction: float = 0.1, seed: int = 0
) -> PatientSplits:
    """The patient groups of a MedPix folder and each case's clean split.

    See :mod:`medmodal.data.medpix_patients` for the rule; computed once per folder.
    """
    folder = medpix_folder(root)
    return _patients(folder, _signature(folder), float(val_fraction), int(seed))


def _check_disjoint(
    folder: Path, frames: Mapping[str, pd.DataFrame], prints: Mapping[str, np.ndarray]
) -> None:
    """No case id and no near-duplicate image in two splits."""
    names = sorted(frames)
    for n, a in enumerate(names):
        for b in names[n + 1 :]:
            shared = set(frames[a]["case_id"]) & set(frames[b]["case_id"])
            if shared:
                raise DataFormatError(
                    f"MedPix: {len(shared)} case(s) appear in both the {a!r} and {b!r} "
                    f"splits (e.g. {sorted(shared)[:3]}); cases must not straddle splits"
                )
            dups = near_duplicates(prints[a], prints[b])
            if dups:
                i, j, corr = dups[0]
                raise DataFormatError(
                    f"MedPix: {len(dups)} near-duplicate image pair(s) (correlation >= "
                    f"{NEAR_DUPLICATE}) straddle the {a!r} and {b!r} splits in {folder}, e.g. "
                    f"{frames[a]['image_id'].iloc[i]} and {frames[b]['image_id'].iloc[j]} "
                    f"({corr:.3f}); one patient must stay in one split (use clean=True)"
                )


def _clean_frames(
    folder: Path, val_fraction: float, seed: int
) -> tuple[dict[str, pd.DataFrame], dict[str, np.ndarray]]:
    """Every split after the patient rule, with its images' fingerprints."""
    signature = _signature(folder)
    frames, prints = _all_files(folder, signature)
    split = _patients(folder, signature, float(val_fraction), int(seed)).split
    table = pd.concat(frames.values(), ignore_index=True)
    fps = np.concatenate(list(prints.values()))
    where = table["case_id"].map(split).to_numpy()
    names = sorted(set(where))
    out = {s: table[where == s].reset_index(drop=True) for s in names}
    return out, {s: fps[where == s] for s in names}


def load_medpix(
    split: str = "train",
    *,
    root: PathLike | None = None,
    check_images: bool = True,
    check_cases: bool = True,
    clean: bool = True,
    val_fraction: float = 0.1,
    seed: int = 0,
) -> MedPixSplit:
    """One split of MedPix 2.0 from any folder of its layout.

    With ``clean=True`` (default) each patient is in one split
    (:mod:`medmodal.data.medpix_patients`): cases of one patient found in several splits
    move to ``train`` together, and ``val`` is a seeded ``val_fraction`` of the train
    patient groups, carved out of ``train``; choose everything on ``val`` and score
    ``dev`` (or ``test``) once. With ``clean=False`` the data set's own split files.

    Args:
        split: ``train``, ``val`` (``clean=True`` only), ``dev``, or another split with
            ``splits/descriptions_<split>.jsonl`` (the shared copy has no ``test``).
        root: the MedPix folder, or a data root holding ``medpix2-256/``.
        check_images: verify that every image file exists (``clean=True`` reads them all).
        check_cases: verify that no case (``U_id``) and no near-duplicate image
            (:data:`~medmodal.data.medpix_patients.NEAR_DUPLICATE`) is in two splits.
        clean: one patient, one split (see above).
        val_fraction, seed: the share of train patient groups in ``val`` and its draw.

    Raises:
        DataNotFoundError: no such folder, split or image file.
        DataFormatError: malformed rows, duplicate images, an unreadable image, a split
            with no images, or cases or near-duplicate images straddling splits.
    """
    folder = medpix_folder(root)
    if not clean:
        frame = _file_frame(folder, split, check_images)
        if check_cases:
            frames, prints = _all_files(folder, _signature(folder))
            _check_disjoint(folder, frames, prints)
        return MedPixSplit(split, folder, frame)
    available = (*available_splits(folder), "val")
    if split not in available:
        raise DataNotFoundError(
            f"MedPix split {split!r} not found in {folder}; available splits: "
            f"{', '.join(sorted(available))}"
        )
    frames, prints = _clean_frames(folder, val_fraction, seed)
    if check_cases:
        _check_disjoint(folder, frames, prints)
    if split not in frames:
        raise DataFormatError(
            f"MedPix split {split!r} has no images after the patient rule in {folder} "
            f"(val_fraction={val_fraction}); use another split or a larger val_fraction"
        )
    return MedPixSplit(split, folder, frames[split])
