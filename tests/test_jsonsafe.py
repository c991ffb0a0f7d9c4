"""The one strict-JSON sanitiser used by the CLI, the report and the service."""

from __future__ import annotations

import json
import math
from enum import Enum
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from medmodal.jsonsafe import dumps, json_safe


class _Colour(Enum):
    RED = "red"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (math.nan, None),
        (-math.inf, None),
        (np.float32(np.nan), None),
        (np.float64(np.inf), None),
        (np.float64(0.25), 0.25),
        (np.int64(7), 7),
        (np.bool_(True), True),
        (np.arange(3), [0, 1, 2]),
        (np.array([[1.0, np.nan]]), [[1.0, None]]),
        (np.array(2.5), 2.5),
        ((1, "a", None), [1, "a", None]),
        ({1: {"b": (np.int32(2),)}}, {"1": {"b": [2]}}),
        (Path("a") / "b", str(Path("a") / "b")),
        (_Colour.RED, "_Colour.RED"),
    ],
)
def test_values_become_plain_json(value: object, expected: object) -> None:
    out = json_safe(value)
    assert out == expected
    assert type(out) is type(expected)


def test_numbers_come_back_as_python_types() -> None:
    out = json_safe({"x": np.float64(1.5), "n": np.int16(3), "ok": np.bool_(False)})
    assert [type(v) for v in out.values()] == [float, int, bool]  # type: ignore[union-attr]


def test_dumps_is_strict_json() -> None:
    text = dumps({"auc": np.float32(0.75), "ci": [np.nan, np.inf]})
    assert json.loads(text) == {"auc": 0.75, "ci": [None, None]}
    assert "NaN" not in text and "Infinity" not in text


nested = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(nested)
def test_anything_nested_dumps_without_nan(value: object) -> None:
    text = dumps(value)  # allow_nan=False: raises if a NaN/inf survived
    assert json.loads(text) == json_safe(value)


def test_the_entry_points_share_it() -> None:
    """The CLI, the report and the service write JSON through this one function."""
    import medmodal.cli._common as cli
    import medmodal.report.runner as runner
    import medmodal.serve.ecg as serve

    assert cli.dumps is dumps and runner.dumps is dumps
    assert serve.json_safe is json_safe
