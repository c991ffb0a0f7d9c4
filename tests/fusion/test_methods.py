"""``method=`` strings: resolved once per fit through the registry, baselines included."""

from __future__ import annotations

import pytest
import torch

import medmodal.fusion._base as base
import medmodal.fusion.estimator as estimator
from medmodal.data.synthetic import MultimodalDataset
from medmodal.errors import InvalidParameterError
from medmodal.fusion import (
    FUSION_METHODS,
    FusionClassifier,
    FusionMethod,
    available_methods,
    resolve_method,
)
from medmodal.fusion._base import ModalitySpec
from medmodal.fusion.config import FusionConfig
from medmodal.fusion.intermediate import IntermediateFusion
from medmodal.fusion.unimodal import UnimodalBaseline

FAST = {"epochs": 2, "hidden": 8, "batch_size": 64, "verbose": False, "num_threads": 1}


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("early", FusionMethod("early")),
        ("Joint", FusionMethod("intermediate")),
        ("unimodal:ecg", FusionMethod("unimodal", ("ecg",))),
        ("UNIMODAL:Image", FusionMethod("unimodal", ("Image",))),  # modality names keep case
    ],
)
def test_names_resolve_through_the_registry(method: str, expected: FusionMethod) -> None:
    assert resolve_method(method) == expected


@pytest.mark.parametrize(
    ("method", "match"),
    [
        ("unimodal", "'unimodal:<modality>'"),
        ("unimodal: ", "'unimodal:<modality>'"),
        ("early:ecg", "takes no modality"),
        ("unimodl:ecg", "Did you mean 'unimodal'"),
        (3, "must be given by name"),
    ],
)
def test_bad_method_names_say_what_is_allowed(method: object, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        resolve_method(method)  # type: ignore[arg-type]


def test_the_baseline_is_a_registry_entry_not_a_strategy() -> None:
    assert "unimodal" in FUSION_METHODS and FUSION_METHODS.get("unimodal") is UnimodalBaseline
    assert "unimodal" not in available_methods()
    assert [n for n in FUSION_METHODS if FUSION_METHODS.get(n).takes_modality] == ["unimodal"]


def test_the_baseline_is_the_intermediate_network_on_one_modality() -> None:
    specs = (ModalitySpec("clinical", "tabular", (5,)),)
    cfg = FusionConfig(hidden=8)
    nets = []
    for cls in (IntermediateFusion, UnimodalBaseline):
        torch.manual_seed(0)
        nets.append(cls(specs, 2, cfg))
    a, b = (net.state_dict() for net in nets)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_the_method_is_resolved_once_per_fit(
    notebook: MultimodalDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def counting(method: str) -> FusionMethod:
        calls.append(method)
        return base.resolve_method(method)

    monkeypatch.setattr(estimator, "resolve_method", counting)
    clf = FusionClassifier("unimodal:image", **FAST).fit(notebook.X, notebook.y)
    assert calls == ["unimodal:image"]
    assert clf.modalities_ == ("image",) and isinstance(clf.model_, UnimodalBaseline)
    clf.predict_proba(notebook.X)
    assert calls == ["unimodal:image"]  # predicting uses the fitted modalities


def test_saved_baselines_load_back(notebook: MultimodalDataset, tmp_path: object) -> None:
    clf = FusionClassifier("unimodal:clinical", **FAST).fit(notebook.X, notebook.y)
    loaded = FusionClassifier.load(clf.save(tmp_path))  # type: ignore[arg-type]
    assert isinstance(loaded.model_, UnimodalBaseline)
    assert (loaded.predict_proba(notebook.X) == clf.predict_proba(notebook.X)).all()
