"""What the configuration dataclasses share: a dict is read only if its keys are fields.

The configs of :mod:`medmodal.fusion.config`, :mod:`medmodal.train.config` and
:mod:`medmodal.models.config` build themselves from (JSON) dicts through
:func:`check_fields`, so a misspelt key fails the same way everywhere, with the closest
field name as a hint.

Example:
    >>> from dataclasses import dataclass
    >>> from medmodal._config import check_fields
    >>> @dataclass(frozen=True)
    ... class Cfg:
    ...     hidden: int = 8
    ...     dropout: float = 0.1
    >>> check_fields(Cfg, {"hidden": 4})
    {'hidden': 4}
    >>> check_fields(Cfg, {"hiden": 4})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    medmodal.errors.InvalidParameterError: Cfg: unknown key 'hiden' (did you mean 'hidden'?)...
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any

from medmodal.errors import InvalidParameterError


def check_fields(cls: type, data: object, *, where: str | None = None) -> dict[str, Any]:
    """``data`` itself, once it is known to be a dict whose keys all name fields of ``cls``.

    Args:
        cls: a dataclass type.
        data: what should be a dict of some of its fields.
        where: the name in error messages (default ``cls.__name__``).

    Raises:
        InvalidParameterError: ``data`` is not a dict, or has a key that is not a field of
            ``cls`` (the message names the closest field, if any, and all of them).
    """
    where = where or cls.__name__
    if not isinstance(data, dict):
        raise InvalidParameterError(f"{where}: expected a dict, got {type(data).__name__}")
    allowed = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InvalidParameterError(
                f"{where}: unknown key {key!r}{hint}; allowed: {', '.join(allowed)}"
            )
    return data
