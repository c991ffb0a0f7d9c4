"""Optional dependencies: imported when a feature needs them, with a helpful error.

Example:
    >>> from medmodal._optional import require
    >>> np = require("numpy", extra="core")
    >>> np.__name__
    'numpy'
"""

from __future__ import annotations

import importlib
from types import ModuleType

from medmodal.errors import MissingDependencyError


def require(module: str, *, extra: str, feature: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the extra.

    Args:
        module: importable module name, e.g. ``"captum"``.
        extra: the medmodal extra that installs it, e.g. ``"explain"``.
        feature: what needs it, for the message (defaults to the module name).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        what = feature or module
        raise MissingDependencyError(
            f"{what} needs the optional package {module.split('.')[0]!r}; "
            f"install it with: pip install 'medmodal[{extra}]'"
        ) from exc


def is_available(module: str) -> bool:
    """Whether ``module`` can be imported (without raising)."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True
