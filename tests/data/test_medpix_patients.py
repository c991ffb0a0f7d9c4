"""MedPix patients: same-patient cases across splits, the move-to-train rule, the val carve."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.data.test_medpix import write_medpix

from medmodal.data.medpix import load_medpix, medpix_patients
from medmodal.data.medpix_patients import (
    NEAR_DUPLICATE,
    image_fingerprint,
    near_duplicates,
)
from medmodal.errors import DataFormatError, InvalidParameterError


def _cases(folder: Path, split: str, cases: dict[str, tuple[str, str]]) -> None:
    """``splits/data_<split>.jsonl``: case -> (diagnosis, history)."""
    lines = [
        json.dumps({"U_id": c, "Case": {"Case Diagnosis": d, "History": h}})
        for c, (d, h) in cases.items()
    ]
    (folder / "splits" / f"data_{split}.jsonl").write_text("\n".join(lines) + "\n")


def _set_sex(folder: Path, split: str, case: str, sex: str) -> None:
    path = folder / "splits" / f"descriptions_{split}.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for row in rows:
        if row["U_id"] == case:
            row["Description"]["Sex"] = sex
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Train C1, C2, C3, C4; dev D1, D2 (random images, everybody 40 and male)."""
    return write_medpix(
        tmp_path / "mp",
        {
            "train": [("C1", "CT"), ("C2", "CT"), ("C3", "MR"), ("C4", "MR")],
            "dev": [("D1", "CT"), ("D2", "MR")],
        },
    )


def test_fingerprint_is_a_brightness_free_correlation(rng: np.random.Generator) -> None:
    img = rng.integers(0, 200, (50, 70), dtype=np.uint8)
    other = rng.integers(0, 200, (50, 70), dtype=np.uint8)
    a, b = image_fingerprint(img), image_fingerprint(img // 2 + 30)
    assert a.shape == (1024,) and np.isclose(np.linalg.norm(a), 1.0)
    assert a @ b > 0.99
    assert abs(a @ image_fingerprint(other)) < 0.2
    assert np.all(image_fingerprint(np.zeros((8, 8), np.uint8)) == 0)
    pairs = near_duplicates(np.stack([a, image_fingerprint(other)]), b[None])
    assert [(i, j) for i, j, _ in pairs] == [(0, 0)]


def test_a_near_duplicate_image_moves_the_dev_case_to_train(folder: Path) -> None:
    dev_image = folder / "images" / "D1_synpic4.png"
    pixels = np.asarray(Image.open(folder / "images" / "C2_synpic1.png"))
    Image.fromarray((pixels // 2 + 20).astype(np.uint8)).save(dev_image)
    with pytest.raises(DataFormatError, match=r"near-duplicate.*D1_synpic4 and C2_synpic1"):
        load_medpix("train", root=folder, clean=False)
    patients = medpix_patients(folder)
    assert [{m.case_a, m.case_b} for m in patients.matches] == [{"C2", "D1"}]
    assert "near-duplicate image" in patients.matches[0].reasons
    assert patients.moved() == {"D1": ("dev", "train")}
    assert list(load_medpix("dev", root=folder).frame["case_id"]) == ["D2"]
    assert "D1" in set(load_medpix("train", root=folder).frame["case_id"])


def test_two_signals_merge_one_does_not(folder: Path) -> None:
    history = "Forty year old man with flank pain for two weeks after a long flight home."
    _cases(folder, "train", {"C1": ("Renal cell carcinoma", history), "C2": ("Wilms tumor", "")})
    _cases(folder, "dev", {"D1": ("Renal cell carcinoma, clear cell", history + " Fever."),
                           "D2": ("Wilms tumor", "A different story.")})  # fmt: skip
    patients = medpix_patients(folder)
    (match,) = patients.matches  # D2 ~ C2 shares only the diagnosis: kept apart
    assert {match.case_a, match.case_b} == {"C1", "D1"}
    assert set(match.reasons) == {"diagnosis", "history"}
    assert patients.split["D1"] == "train" and patients.split["D2"] == "dev"
    assert patients.group["D1"] == patients.group["C1"] != patients.group["C2"]


def test_incompatible_demographics_keep_cases_apart(folder: Path) -> None:
    history = "Forty year old with flank pain for two weeks after a long flight home."
    _cases(folder, "train", {"C1": ("Renal cell carcinoma", history)})
    _cases(folder, "dev", {"D1": ("Renal cell carcinoma", history)})
    _set_sex(folder, "dev", "D1", "female")
    assert medpix_patients(folder).matches == ()
    _set_sex(folder, "dev", "D1", "N/A")  # unknown sex is compatible
    assert len(medpix_patients(folder).matches) == 1


def test_val_is_carved_from_train_by_patient(folder: Path) -> None:
    history = "Forty year old man with flank pain for two weeks after a long flight home."
    _cases(folder, "train", {"C1": ("Renal cyst", history), "C2": ("Renal cyst", history)})
    patients = medpix_patients(folder, val_fraction=0.5, seed=3)
    assert patients.group["C1"] == patients.group["C2"]  # one patient, two cases
    val = patients.cases("val")
    assert val and val < {"C1", "C2", "C3", "C4"}  # some, not all, of the train groups
    assert {"C1", "C2"} <= val or not {"C1", "C2"} & val
    assert patients.cases("dev") == {"D1", "D2"}
    assert medpix_patients(folder, val_fraction=0.5, seed=3).split == patients.split
    train = load_medpix("train", root=folder, val_fraction=0.5, seed=3)
    assert set(train.frame["case_id"]) == patients.cases("train")
    assert not set(train.frame["case_id"]) & val
    with pytest.raises(InvalidParameterError, match="val_fraction"):
        medpix_patients(folder, val_fraction=1.0)


def test_val_does_not_depend_on_the_other_splits(tmp_path: Path) -> None:
    items = [(f"C{i}", "CT") for i in range(30)]
    with_test = write_medpix(tmp_path / "a", {"train": items, "test": [("T1", "MR")]})
    without = write_medpix(tmp_path / "b", {"train": items, "dev": [("D1", "MR")]})
    val_a = medpix_patients(with_test, val_fraction=0.3).cases("val")
    val_b = medpix_patients(without, val_fraction=0.3).cases("val")
    assert val_a == val_b and 0 < len(val_a) < 30
    assert medpix_patients(without, val_fraction=0.3, seed=1).cases("val") != val_b


def test_a_folder_with_its_own_val_split_keeps_it(tmp_path: Path) -> None:
    folder = write_medpix(
        tmp_path / "mp",
        {
            "train": [(f"C{i}", "CT") for i in range(20)],
            "val": [("V1", "MR")],
            "dev": [("D1", "CT")],
        },
    )
    patients = medpix_patients(folder, val_fraction=0.5)
    assert patients.cases("val") == {"V1"} and len(patients.cases("train")) == 20


@pytest.mark.data
def test_shared_medpix_splits_are_patient_clean() -> None:
    from medmodal.data.paths import has_dataset

    if not has_dataset("medpix"):
        pytest.skip("shared MedPix not available")
    splits = {s: load_medpix(s) for s in ("train", "val", "dev")}
    cases = {s: set(d.frame["case_id"]) for s, d in splits.items()}
    prints = {
        s: np.stack([image_fingerprint(d.image(i)) for i in range(len(d))])
        for s, d in splits.items()
    }
    names = sorted(splits)
    for n, a in enumerate(names):
        for b in names[n + 1 :]:
            assert not cases[a] & cases[b]
            assert near_duplicates(prints[a], prints[b], NEAR_DUPLICATE) == []
    patients = medpix_patients()
    for x, y in [("MPX1135", "MPX1683"), ("MPX2046", "MPX2531")]:  # issue 15's two patients
        assert patients.group[x] == patients.group[y]
        assert patients.split[x] == patients.split[y] != "dev"
    for split, d in splits.items():  # each patient group in one split
        assert {patients.split[c] for c in d.frame["case_id"]} == {split}
    groups_train = {patients.group[c] for c in cases["train"] | cases["val"]}
    share = len({patients.group[c] for c in cases["val"]}) / len(groups_train)
    assert 0.07 < share < 0.13  # about val_fraction 0.1 of the patient groups
    assert sum(len(d) for d in splits.values()) == 1653 + 197
