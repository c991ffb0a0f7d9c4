"""MedPix loader: any folder of the layout, captions paired with images, split checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from medmodal.data.medpix import (
    LOCATION_CATEGORIES,
    available_splits,
    caption_text,
    caption_views,
    load_medpix,
    read_image,
)
from medmodal.errors import DataFormatError, DataNotFoundError


def _row(case: str, image: str, modality: str, caption: str, region: str) -> dict:
    return {
        "Type": modality,
        "U_id": case,
        "image": image,
        "Description": {"Caption": caption, "Modality": f"{modality} - x", "Plane": "Axial",
                        "Age": "40", "Sex": "male", "ACR Codes": "1.1"},
        "Location": "Somewhere",
        "Location Category": region,
    }  # fmt: skip


def write_medpix(folder: Path, splits: dict[str, list[tuple[str, str]]]) -> Path:
    """A tiny MedPix folder: splits map to (case, modality) per image."""
    (folder / "images").mkdir(parents=True)
    (folder / "splits").mkdir()
    rng = np.random.default_rng(0)
    n = 0
    for split, items in splits.items():
        lines = []
        for case, modality in items:
            image = f"{case}_synpic{n}"
            region = LOCATION_CATEGORIES[n % 5]
            pixels = rng.integers(0, 255, (20 + n % 7, 30), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / "images" / f"{image}.png")
            lines.append(json.dumps(_row(case, image, modality, f"caption {n}", region)))
            n += 1
        (folder / "splits" / f"descriptions_{split}.jsonl").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_medpix(
        tmp_path / "mp",
        {"train": [("C1", "CT"), ("C1", "MR"), ("C2", "CT")], "dev": [("C3", "MR")]},
    )


def test_any_folder_of_the_layout(tiny: Path) -> None:
    train = load_medpix("train", root=tiny)
    assert len(train) == 3
    assert available_splits(tiny) == ("dev", "train")
    frame = train.to_frame()
    assert list(frame["case_id"]) == ["C1", "C1", "C2"]
    assert list(frame["modality"]) == ["CT", "MR", "CT"]
    assert list(frame["caption"]) == ["caption 0", "caption 1", "caption 2"]
    assert train.labels("location_category").tolist() == list(LOCATION_CATEGORIES[:3])


def test_caption_pairs_with_its_own_image(tiny: Path) -> None:
    train = load_medpix("train", root=tiny)
    for i, row in enumerate(train):
        assert train.image_path(i).stem == row["image_id"]
        stored = np.asarray(Image.open(train.image_path(i)))
        assert np.array_equal(train.image(i), stored)
    assert train.image(0).shape == (20, 30)


def test_structured_text() -> None:
    row = {"modality": "MR", "plane": "Sagittal", "location_category": "Spine and Muscles",
           "location": "Spine", "caption": "  Disc   herniation. "}  # fmt: skip
    assert caption_text(row) == "MR, sagittal, spine and muscles (spine): Disc herniation."
    assert caption_text(row, structured=False) == "Disc herniation."


def test_caption_views_are_the_header_and_single_sentences() -> None:
    row = {"modality": "CT", "plane": "Axial", "location_category": "Thorax",
           "location": "Chest", "caption": "Mass in the LUL. Collapse!  Effusion?"}  # fmt: skip
    views = caption_views(row)
    head = "CT, axial, thorax (chest)"
    assert views == (
        caption_text(row),
        head,
        f"{head}: Mass in the LUL.",
        f"{head}: Collapse!",
        f"{head}: Effusion?",
    )
    one = caption_views({**row, "caption": "Mass in the LUL."})
    assert one == (caption_text({**row, "caption": "Mass in the LUL."}), head)
    assert caption_views({**row, "caption": ""}) == (head,)


def test_text_views_and_header_groups(tiny: Path) -> None:
    train = load_medpix("train", root=tiny)
    views = train.text_views()
    assert [v[0] for v in views] == train.texts()
    assert all(len(v) == 2 and ": " not in v[1] for v in views)
    # three images, three different (modality, region) headers; identical rows share one
    groups = train.header_groups()
    assert groups.dtype == np.int64 and len(set(groups.tolist())) == 3
    frame = pd.concat([train.frame, train.frame.iloc[[0]]], ignore_index=True)
    doubled = type(train)(train.name, train.folder, frame).header_groups()
    assert doubled[3] == doubled[0] and len(set(doubled.tolist())) == 3


def test_cases_never_straddle_splits(tmp_path: Path) -> None:
    folder = write_medpix(tmp_path / "mp", {"train": [("C1", "CT")], "dev": [("C1", "MR")]})
    with pytest.raises(DataFormatError, match="straddle"):
        load_medpix("dev", root=folder, clean=False)
    assert len(load_medpix("dev", root=folder, clean=False, check_cases=False)) == 1
    # the patient rule moves the straddling case to train
    assert len(load_medpix("train", root=folder)) == 2
    with pytest.raises(DataFormatError, match="'dev' has no images"):
        load_medpix("dev", root=folder)


def test_missing_split_image_and_bad_image(tiny: Path) -> None:
    with pytest.raises(DataNotFoundError, match="available splits: dev, train, val"):
        load_medpix("test", root=tiny)
    with pytest.raises(DataNotFoundError, match=r"available splits: dev, train$"):
        load_medpix("test", root=tiny, clean=False)
    train = load_medpix("train", root=tiny)
    train.image_path(0).write_bytes(b"not a png")
    with pytest.raises(DataFormatError, match="cannot read the image"):
        train.image(0)
    train.image_path(1).unlink()
    with pytest.raises(DataNotFoundError, match="missing"):
        load_medpix("train", root=tiny)
    with pytest.raises(DataNotFoundError):
        read_image(tiny / "nope.png")


def test_malformed_rows(tiny: Path) -> None:
    path = tiny / "splits" / "descriptions_dev.jsonl"
    path.write_text('{"Type": "CT"}\n')
    with pytest.raises(DataFormatError, match="lacks"):
        load_medpix("dev", root=tiny)
    path.write_text("{not json\n")
    with pytest.raises(DataFormatError, match="not a JSON object"):
        load_medpix("dev", root=tiny)
    path.write_text("\n")
    with pytest.raises(DataFormatError, match=r"descriptions_dev\.jsonl.*has no rows"):
        load_medpix("train", root=tiny)


@pytest.mark.data
def test_shared_medpix_splits() -> None:
    from medmodal.data.paths import has_dataset

    if not has_dataset("medpix"):
        pytest.skip("shared MedPix not available")
    raw = {"clean": False, "check_cases": False}
    train, dev = load_medpix("train", **raw), load_medpix("dev", **raw)
    assert (len(train), len(dev)) == (1653, 197)
    assert not set(train.frame["case_id"]) & set(dev.frame["case_id"])
    assert set(dev.labels("modality")) == {"CT", "MR"}
    assert set(dev.labels("location_category")) == set(LOCATION_CATEGORIES)
    assert dev.image(0).ndim == 2
