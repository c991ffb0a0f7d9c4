"""medmodal._config.check_fields: the one unknown-key check of the config dataclasses."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from medmodal._config import check_fields
from medmodal.errors import InvalidParameterError
from medmodal.fusion import FusionConfig
from medmodal.models.config import ModelConfig
from medmodal.train import TrainConfig


@dataclass(frozen=True)
class _Cfg:
    hidden: int = 8
    dropout: float = 0.1


def test_known_keys_pass_through_unchanged() -> None:
    data = {"dropout": 0.3}
    assert check_fields(_Cfg, data) is data
    assert check_fields(_Cfg, {}) == {}


def test_unknown_key_names_the_closest_field_and_all_fields() -> None:
    with pytest.raises(InvalidParameterError) as err:
        check_fields(_Cfg, {"hidden": 4, "dropot": 0.2})
    assert str(err.value) == (
        "_Cfg: unknown key 'dropot' (did you mean 'dropout'?); allowed: hidden, dropout"
    )


def test_no_hint_without_a_close_field_and_custom_where() -> None:
    with pytest.raises(InvalidParameterError) as err:
        check_fields(_Cfg, {"zzz": 1}, where="Thing.from_dict")
    assert str(err.value) == "Thing.from_dict: unknown key 'zzz'; allowed: hidden, dropout"


@pytest.mark.parametrize("data", [[("hidden", 4)], "hidden=4", None])
def test_not_a_dict(data: object) -> None:
    with pytest.raises(InvalidParameterError, match="_Cfg: expected a dict, got"):
        check_fields(_Cfg, data)


@pytest.mark.parametrize(
    ("cls", "key", "close"),
    [(FusionConfig, "hiden", "hidden"), (TrainConfig, "epoch", "epochs"),
     (ModelConfig, "embedim", "embed_dim")],
)  # fmt: skip
def test_every_config_fails_the_same_way(cls: type, key: str, close: str) -> None:
    with pytest.raises(InvalidParameterError) as err:
        cls.from_dict({key: 1})
    assert str(err.value).startswith(
        f"{cls.__name__}: unknown key {key!r} (did you mean {close!r}?); allowed: "
    )
