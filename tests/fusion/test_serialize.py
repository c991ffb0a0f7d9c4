"""Saved fusion models: safetensors + JSON, identical predictions, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from medmodal.data.synthetic import MultimodalDataset
from medmodal.errors import DataFormatError, DataNotFoundError, NotFittedError
from medmodal.fusion import FusionClassifier, load_fusion_model

FAST = {"epochs": 2, "hidden": 8, "batch_size": 64, "verbose": False, "num_threads": 1}


@pytest.mark.parametrize("method", ["late", "attention"])
def test_round_trip_predicts_the_same(
    method: str, notebook: MultimodalDataset, tmp_path: Path
) -> None:
    labels = np.array(["healthy", "sick"])[notebook.y]
    clf = FusionClassifier(method, combiner="stacking", **FAST).fit(notebook.X, labels)
    folder = clf.save(tmp_path / method)
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    config = json.loads((folder / "config.json").read_text())
    assert config["kind"] == "fusion" and config["method"] == method
    again = FusionClassifier.load(folder)
    masks = {"image": np.arange(240) % 3 > 0}
    np.testing.assert_allclose(
        again.predict_proba(notebook.X, masks=masks), clf.predict_proba(notebook.X, masks=masks)
    )
    assert again.predict(notebook.X).tolist() == clf.predict(notebook.X).tolist()
    assert again.get_params() == clf.get_params()


def test_unfitted_missing_and_corrupt_models_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(NotFittedError):
        FusionClassifier().save(tmp_path / "x")
    with pytest.raises(DataNotFoundError, match="lacks"):
        load_fusion_model(tmp_path / "nothing")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text("{}")
    (bad / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(DataFormatError, match="not a saved fusion model"):
        load_fusion_model(bad)
