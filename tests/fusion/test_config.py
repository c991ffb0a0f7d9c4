"""Fusion configs reject unknown keys and bad values, round-trip JSON and build estimators."""

from __future__ import annotations

import pytest

from medmodal.errors import InvalidParameterError
from medmodal.fusion import FusionClassifier, FusionConfig, FusionTrainConfig


def test_unknown_keys_are_rejected_with_a_suggestion() -> None:
    with pytest.raises(InvalidParameterError, match="did you mean 'epochs'"):
        FusionTrainConfig.from_dict({"epoch": 3})


@pytest.mark.parametrize(
    ("cls", "kwargs", "match"),
    [
        (FusionConfig, {"combiner": "max"}, "combiner"),
        (FusionConfig, {"dropout": 1.5}, "dropout"),
        (FusionConfig, {"kinds": {"a": "image"}}, "kind of modality 'a'"),
        (FusionTrainConfig, {"class_weight": "auto"}, "class_weight"),
        (FusionTrainConfig, {"epochs": 0}, "epochs"),
        (FusionTrainConfig, {"num_threads": 0}, "num_threads"),
    ],
)
def test_bad_values_name_the_field(cls: type, kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        cls(**kwargs)


def test_json_round_trip_and_estimator_from_config() -> None:
    fcfg = FusionConfig(method="late", combiner="weighted", hidden=16, kinds={"t": "embedding"})
    tcfg = FusionTrainConfig(epochs=7, class_weight="balanced")
    assert FusionConfig.from_json(fcfg.to_json()) == fcfg
    assert FusionTrainConfig.from_json(tcfg.to_json()) == tcfg
    clf = FusionClassifier.from_config(fcfg, tcfg, verbose=False)
    assert clf.fusion_config() == fcfg
    assert clf.train_config() == FusionTrainConfig(epochs=7, class_weight="balanced", verbose=False)


def test_invalid_json_is_an_invalid_parameter() -> None:
    with pytest.raises(InvalidParameterError, match="invalid JSON"):
        FusionConfig.from_json("{")
