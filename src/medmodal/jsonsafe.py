"""Strict JSON: NaN and infinity become ``null``; numpy values, arrays and paths plain values.

Python's :mod:`json` writes ``NaN`` and ``Infinity``, which are not JSON (browsers and
most parsers reject them), and cannot write numpy scalars or arrays at all. Every
output of medmodal (``--json`` and ``--out`` of the CLI, the report's ``summary.json``,
the service's responses) goes through :func:`json_safe` first. The module imports
nothing beyond the standard library: numpy values are recognised by their ``tolist``.

Example:
    >>> import math
    >>> import numpy as np
    >>> from medmodal.jsonsafe import dumps, json_safe
    >>> json_safe({"auc": np.float32(0.5), "ci": (math.nan, 0.9), 1: np.arange(2)})
    {'auc': 0.5, 'ci': [None, 0.9], '1': [0, 1]}
    >>> dumps({"x": float("inf")}, indent=None)
    '{"x": null}'
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, TypeAlias

__all__ = ["JsonValue", "dumps", "json_safe"]

#: What :func:`json_safe` returns: JSON's own types, nested.
JsonValue: TypeAlias = dict[str, "JsonValue"] | list["JsonValue"] | str | int | float | bool | None


def json_safe(value: Any) -> JsonValue:
    """``value`` as plain JSON types that :func:`json.dumps` writes as strict JSON.

    Mappings become dicts with string keys; lists, tuples, numpy arrays (and other
    objects with ``tolist``, such as tensors) become lists; numpy scalars become Python
    numbers; NaN and +-inf become None; anything else that JSON has no type for
    (paths, enums, dates) becomes its ``str``.

    Example:
        >>> from pathlib import Path
        >>> json_safe([Path("a/b"), True, None, float("-inf")])
        ['a/b', True, None, None]
    """
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, bool | str | int) or value is None:
        return value
    if isinstance(value, float):  # numpy's float64 too
        return float(value) if math.isfinite(value) else None
    tolist = getattr(value, "tolist", None)
    if callable(tolist):  # numpy arrays and scalars, tensors
        return json_safe(tolist())
    return str(value)


def dumps(value: Any, *, indent: int | None = 2) -> str:
    """Strict JSON text of ``value`` (see :func:`json_safe`); never writes NaN.

    Example:
        >>> dumps([1.5, float("nan")], indent=None)
        '[1.5, null]'
    """
    return json.dumps(json_safe(value), indent=indent, allow_nan=False)
