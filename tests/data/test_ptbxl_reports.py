"""PTB-XL ECG ↔ text pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medmodal.data.ptbxl_reports import SPLITS, load_ecg_reports, statements_text
from medmodal.errors import InvalidParameterError


def test_statements_text_orders_by_likelihood_and_deduplicates() -> None:
    names = {"IMI": "inferior myocardial infarction", "SR": "sinus rhythm", "ABQRS": "abnormal QRS"}
    text = statements_text({"SR": 0.0, "IMI": 35.0, "ABQRS": 0.0, "XYZ": 50.0}, names)
    assert text == "XYZ; inferior myocardial infarction; sinus rhythm; abnormal QRS"
    assert statements_text({}, names) == ""


def test_bad_arguments() -> None:
    with pytest.raises(InvalidParameterError, match="unknown split 'dev2'"):
        load_ecg_reports("dev2")
    with pytest.raises(InvalidParameterError, match="unknown text 'german'"):
        load_ecg_reports("train", text="german")


@pytest.mark.data
def test_pairs_from_the_shared_subset(ptbxl_dir: Path) -> None:
    val = load_ecg_reports("val", root=ptbxl_dir)
    test = load_ecg_reports("test", root=ptbxl_dir, text="statements")
    assert (len(val), len(test)) == (81, 66)
    assert val.signals.shape == (81, 12, 1000) and val.signals.dtype == np.float32
    assert np.isfinite(val.signals).all()
    assert not set(val.ecg_ids) & set(test.ecg_ids)
    assert len(load_ecg_reports("heldout", root=ptbxl_dir)) == 147
    assert SPLITS["dev"] == SPLITS["val"]
    # reports are as recorded (mostly German); statements are English descriptions
    assert any("sinusrhythmus" in t for t in val.texts)
    assert all(t and "sinusrhythmus" not in t for t in test.texts)
    labels = val.normal_labels()
    assert set(labels) <= {"normal", "abnormal", ""}
    assert (labels == "normal").sum() == int(
        (val.superclasses["NORM"] & ~val.superclasses.drop(columns="NORM").any(axis=1)).sum()
    )
    assert list(val.to_frame().columns[:2]) == ["text", "NORM"]
