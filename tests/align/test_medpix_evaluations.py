"""MedPix's two named evaluations: prompted classification and true zero-shot."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from tests.data.test_medpix import write_medpix

from medmodal.align import get_task, medpix_prompts, retrieval_metrics
from medmodal.align.evaluate import AlignEvaluation
from medmodal.align.tasks import MEDPIX_EVALUATIONS
from medmodal.data.medpix import caption_views
from medmodal.errors import DataFormatError, InvalidParameterError


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    items = [(f"C{i}", "CT" if i % 2 else "MR") for i in range(12)]
    return write_medpix(tmp_path / "mp", {"train": items, "dev": [("D1", "CT"), ("D2", "MR")]})


def test_the_two_evaluations_train_on_different_texts(folder: Path) -> None:
    prompted, zero_shot = get_task("medpix"), get_task("medpix", evaluation="zero-shot")
    assert (prompted.evaluation, prompted.default_text) == ("prompted", "structured")
    assert (zero_shot.evaluation, zero_shot.default_text) == ("zero-shot", "caption")
    assert prompted.val_split == zero_shot.val_split == "val" and prompted.test_split == "dev"
    train = zero_shot.load("train", root=folder, image_size=16, augment=True)
    # free-text captions only: no header, no shorter views, no label-defined positives
    assert train.groups is None and train.views is None
    assert all(t.startswith("caption ") for t in train.texts)
    assert {"group"} - set(train[0]) == {"group"}
    structured = prompted.load("train", root=folder, image_size=16, augment=True)
    assert structured.groups is not None and structured.texts[0].startswith(("CT, ", "MR, "))


def test_zero_shot_refuses_structured_text(folder: Path) -> None:
    task = get_task("medpix", evaluation="zero-shot")
    with pytest.raises(InvalidParameterError, match="labels in the training text"):
        task.load("train", root=folder, text="structured")
    with pytest.raises(InvalidParameterError, match="evaluation must be one of"):
        get_task("medpix", evaluation="zeroshot")
    with pytest.raises(InvalidParameterError, match="unknown option"):
        get_task("ptbxl", evaluation="zero-shot", colour="red")


def test_zero_shot_prompts_are_never_training_texts(folder: Path) -> None:
    plain, every = medpix_prompts("plain"), medpix_prompts()
    assert get_task("medpix", evaluation="zero-shot").prompts() == plain
    assert get_task("medpix").prompts() == every
    for label, prompt in plain.items():
        assert set(prompt.templates) < set(every[label].templates)
        assert all(t.startswith("a ") for t in prompt.templates)
    data = get_task("medpix", evaluation="zero-shot").load("train", root=folder, image_size=16)
    texts = set(data.texts)
    filled = {t.format(d) for p in plain.values() for t in p.templates
              for ds in p.classes.values() for d in ds}  # fmt: skip
    assert not filled & texts
    # the prompted evaluation's header prompts ARE training texts (views): not zero-shot
    row = dict(data.labels.iloc[0])
    header = caption_views({**row, "location": ""})[1]
    filled_all = {t.format(d) for p in every.values() for t in p.templates
                  for ds in p.classes.values() for d in ds}  # fmt: skip
    assert header.lower() in {f.lower() for f in filled_all}
    with pytest.raises(InvalidParameterError, match="style"):
        medpix_prompts("fancy")


def test_an_empty_caption_is_refused_naming_the_file(folder: Path) -> None:
    path = folder / "splits" / "descriptions_dev.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[1]["Description"]["Caption"] = "  "
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    with pytest.raises(DataFormatError, match=r"empty caption, e\.g\. .*D2_synpic13\.png"):
        get_task("medpix").load("dev", root=folder)


def test_an_unreadable_image_is_refused_naming_the_file(folder: Path) -> None:
    (folder / "images" / "D1_synpic12.png").write_bytes(b"not a png")
    with pytest.raises(DataFormatError, match=r"cannot read the image .*D1_synpic12\.png"):
        get_task("medpix").load("dev", root=folder)


def test_wilson_interval_of_each_accuracy() -> None:
    z = torch.eye(4)
    retrieval = retrieval_metrics(z, z)
    acc, majority, n = {"modality": 0.9}, {"modality": 0.5}, {"modality": 190}
    ev = AlignEvaluation("medpix", "dev", 4, retrieval, retrieval, acc, majority, n, "zero-shot")
    low, high = ev.zero_shot_interval("modality")
    assert (round(low, 3), round(high, 3)) == (0.849, 0.935)  # Wilson, 171 / 190
    assert ev.to_dict()["zs_modality_low"] == low
    assert math.isnan(ev.zero_shot_interval("plane")[0])
    assert set(MEDPIX_EVALUATIONS) == {"prompted", "zero-shot"}
