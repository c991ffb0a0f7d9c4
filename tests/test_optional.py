from __future__ import annotations

import pytest

from medmodal._optional import is_available, require
from medmodal.errors import MissingDependencyError


def test_require_returns_module() -> None:
    assert require("json", extra="core").dumps([1]) == "[1]"


def test_require_names_the_extra() -> None:
    with pytest.raises(MissingDependencyError, match=r"pip install 'medmodal\[explain\]'"):
        require("surely_not_installed_pkg", extra="explain", feature="attributions")
    with pytest.raises(ImportError):
        require("surely_not_installed_pkg", extra="explain")


def test_is_available() -> None:
    assert is_available("json")
    assert not is_available("surely_not_installed_pkg")
