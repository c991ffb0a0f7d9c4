"""The alignment tasks: registry, recipe, prompts and evaluation on hand-made cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from tests.align.toys import KeywordECGText, TinyClip

from medmodal.align import (
    TASKS,
    ECGTextPairs,
    TrainRecipe,
    check_model_fits,
    collate_pairs,
    get_task,
    medpix_prompts,
)
from medmodal.data.medpix import LOCATION_CATEGORIES
from medmodal.errors import InvalidParameterError


def test_registry_and_task_defaults() -> None:
    assert TASKS.names() == ("medpix", "ptbxl")
    assert get_task("ptb-xl").default_model == "ecg-text-clip"
    assert (get_task("medpix").default_text, get_task("ptbxl").default_text) == (
        "structured",
        "report",
    )
    assert get_task("medpix").modalities == ("image", "text")


@pytest.mark.parametrize("name", TASKS.names())
def test_every_task_shares_one_recipe_with_overrides(name: str) -> None:
    task = get_task(name)
    assert task.train_config() == TrainRecipe()
    recipe = task.train_config(epochs=3, patience=2, progress=False, out_dir="run")
    assert (recipe.epochs, recipe.patience, recipe.lr, recipe.weight_decay) == (3, 2, 2e-3, 0.05)
    assert recipe.to_dict()["progress"] is False and recipe.to_dict()["out_dir"] == "run"
    assert recipe.to_dict()["monitor"] == "mean_R@10"
    with pytest.raises(InvalidParameterError, match=r"unknown setting.*'epoch'"):
        task.train_config(epoch=3)


def test_check_model_fits_names_the_missing_tower() -> None:
    check_model_fits(KeywordECGText(), get_task("ptbxl"))
    with pytest.raises(InvalidParameterError, match="'medpix' data need image, text"):
        check_model_fits(KeywordECGText(), get_task("medpix"))
    with pytest.raises(InvalidParameterError, match="'medpix' data need"):
        check_model_fits(TinyClip(), get_task("medpix"))  # no modalities attribute


def test_medpix_rejects_an_unknown_text_kind() -> None:
    with pytest.raises(InvalidParameterError, match="text must be 'structured' or 'caption'"):
        get_task("medpix").load("dev", text="report")


def test_prompts_cover_every_class() -> None:
    prompts = medpix_prompts()
    assert set(prompts["location_category"].classes) == set(LOCATION_CATEGORIES)
    assert set(prompts["modality"].classes) == {"CT", "MR"}
    for prompt in prompts.values():
        assert all(t.count("{}") == 1 for t in prompt.templates)


def test_each_task_evaluates_with_its_own_prompts() -> None:
    assert get_task("medpix").prompts().keys() == medpix_prompts().keys()
    assert list(get_task("ptbxl").prompts()) == ["normal"]


def test_ecg_evaluation_and_loss_on_a_hand_made_case() -> None:
    signals = np.zeros((4, 12, 50), dtype=np.float32)
    signals[[0, 1], 0] = 1.0  # "normal" ECGs point along x
    signals[[2, 3], 1] = 1.0  # "abnormal" ones along y
    texts = ["normal ECG", "normal ECG", "abnormal ECG", "myocardial infarction"]
    labels = pd.DataFrame({"normal": ["normal", "normal", "abnormal", "abnormal"]})
    data = ECGTextPairs(signals, texts, labels)
    result = get_task("ptbxl").evaluate(KeywordECGText(), data, split="toy")
    assert result.zero_shot["normal"] == 1.0
    assert result.zero_shot_chance["normal"] == 0.5
    assert result.zero_shot_n == {"normal": 4} and result.evaluation == "prompted"
    d = result.to_dict()
    # Wilson 95 % interval of 4/4: [0.510, 1]
    assert (round(d["zs_normal_low"], 3), d["zs_normal_high"], d["zs_normal_n"]) == (0.510, 1.0, 4)
    # ECG 0's text ties with ECG 1's (same direction): strict R@1 counts the tie against
    assert d["a_to_b_R@1"] == 0.0 and d["a_to_b_R@5"] == 1.0
    assert d["same_text_a_to_b_R@1"] == 0.5  # the two "normal ECG" texts are one text
    assert result.task == "ptbxl" and result.split == "toy"
    assert list(result.to_frame().index)[:2] == ["ECG→text", "text→ECG"]  # side_names
    loss = get_task("ptbxl").loss_fn()(KeywordECGText(), collate_pairs([data[i] for i in range(4)]))
    assert loss.ndim == 0 and torch.isfinite(loss)


def test_medpix_default_model_follows_the_evaluation_and_brings_its_recipe() -> None:
    """The defaults chosen on val: pretrained tower for prompted, scratch for zero-shot."""
    from medmodal.align import MEDPIX_DEFAULT_MODELS, MODEL_RECIPES
    from medmodal.models import get_config, has_pretrained, list_models

    prompted, zero_shot = get_task("medpix"), get_task("medpix", evaluation="zero-shot")
    assert (prompted.default_model, zero_shot.default_model) == (
        "medpix-clip-effnet",
        "medpix-clip",
    )
    assert set(MEDPIX_DEFAULT_MODELS.values()) <= set(list_models())
    assert has_pretrained("medpix-clip-effnet") and not has_pretrained("medpix-clip")
    assert not has_pretrained("no-such-model")
    image = get_config("medpix-clip-effnet").image
    assert image is not None and (image.image_size, image.lock) == (96, 12)
    recipe = prompted.train_config("medpix-clip-effnet")
    assert (
        (recipe.epochs, recipe.lr)
        == (15, 5e-4)
        == tuple(MODEL_RECIPES["medpix-clip-effnet"].values())
    )
    assert recipe.batch_size == TrainRecipe().batch_size  # the rest: the shared recipe
    assert prompted.train_config("medpix-clip-effnet", epochs=2, lr=1e-3).to_dict()["epochs"] == 2
    assert prompted.train_config("medpix-clip") == TrainRecipe()
    assert prompted.train_config("my-config") == TrainRecipe()  # unknown names: the shared one
