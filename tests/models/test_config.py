"""Model configs: strict keys, JSON round trip, named configs, overrides."""

from __future__ import annotations

import json

import pytest

from medmodal.errors import InvalidParameterError
from medmodal.models import ModelConfig, get_config, list_models
from medmodal.models.factory import CONFIG_DIR


def test_named_configs_exist() -> None:
    assert {"medpix-clip", "ecg-text-clip", "notebook-vlm"} <= set(list_models())
    assert get_config("medpix-clip").modalities == ("image", "text")
    assert get_config("ecg-text-clip").modalities == ("text", "ecg")
    assert get_config("notebook-vlm").image.kind == "pixel-mlp"


@pytest.mark.parametrize("name", list_models())
def test_json_round_trip(name: str) -> None:
    config = get_config(name)
    assert ModelConfig.from_json(config.to_json()) == config
    assert ModelConfig.from_dict(json.loads((CONFIG_DIR / f"{name}.json").read_text())) == config
    assert config.name == name


def test_unknown_keys_rejected_at_every_level() -> None:
    with pytest.raises(InvalidParameterError, match=r"unknown key 'embedim'.*embed_dim"):
        ModelConfig.from_dict({"embedim": 3, "image": {}})
    with pytest.raises(InvalidParameterError, match="ImageTowerConfig: unknown key 'width'"):
        ModelConfig.from_dict({"image": {"width": 3}})
    with pytest.raises(InvalidParameterError, match="HeadConfig"):
        get_config("medpix-clip", text_head={"hiden": 3})


def test_validation() -> None:
    with pytest.raises(InvalidParameterError, match="at least one of image, text, ecg"):
        ModelConfig()
    with pytest.raises(InvalidParameterError, match="embed_dim"):
        ModelConfig(embed_dim=0, text=get_config("medpix-clip").text)
    with pytest.raises(InvalidParameterError, match="logit_scale_init"):
        get_config("medpix-clip", logit_scale_init=float("nan"))
    with pytest.raises(InvalidParameterError, match="not valid JSON"):
        ModelConfig.from_json("{")
    with pytest.raises(InvalidParameterError, match="Did you mean 'medpix-clip'"):
        get_config("medpix-clp")


def test_overrides_merge_into_towers() -> None:
    config = get_config("medpix-clip", embed_dim=32, image={"widths": [4, 8]})
    assert config.embed_dim == 32
    assert config.image.widths == (4, 8)
    assert config.image.kind == "resnet"  # the rest of the tower is kept
    assert get_config("medpix-clip").embed_dim == 128  # the named config is unchanged
