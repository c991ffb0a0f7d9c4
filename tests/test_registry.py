from __future__ import annotations

import pytest

from medmodal.errors import InvalidParameterError, MedmodalError
from medmodal.registry import Registry


@pytest.fixture
def registry() -> Registry[int]:
    reg: Registry[int] = Registry("detector")
    reg.add("pantompkins1985", 1, aliases=("pan-tompkins",), description="classic")
    reg.add("medmodal", 2, description="ours")
    return reg


def test_lookup_by_name_alias_and_case(registry: Registry[int]) -> None:
    assert registry.get("pantompkins1985") == 1
    assert registry.get("Pan-Tompkins") == 1
    assert registry.get(" MEDMODAL ") == 2
    assert registry.names() == ("pantompkins1985", "medmodal")
    assert "pan-tompkins" in registry
    assert 3 not in registry
    assert len(registry) == 2


def test_unknown_name_suggests_close_matches(registry: Registry[int]) -> None:
    with pytest.raises(InvalidParameterError, match=r"Did you mean 'pantompkins1985'") as info:
        registry.get("pantompkin")
    assert "Available: pantompkins1985, medmodal" in str(info.value)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, MedmodalError)


def test_unknown_name_without_close_match_lists_available(registry: Registry[int]) -> None:
    with pytest.raises(InvalidParameterError) as info:
        registry.get("zzzzzz")
    assert "Did you mean" not in str(info.value)
    assert "Available" in str(info.value)


def test_non_string_name_is_rejected(registry: Registry[int]) -> None:
    with pytest.raises(InvalidParameterError, match="must be given by name"):
        registry.get(3)  # type: ignore[arg-type]


def test_duplicate_names_and_aliases_are_rejected(registry: Registry[int]) -> None:
    with pytest.raises(InvalidParameterError, match="already registered"):
        registry.add("medmodal", 3)
    with pytest.raises(InvalidParameterError, match="already registered"):
        registry.add("other", 3, aliases=("pan-tompkins",))


def test_decorator_registers_and_returns_object() -> None:
    reg: Registry[object] = Registry("thing")

    @reg.register("f", description="a function")
    def f() -> int:
        return 1

    assert reg.get("f") is f
    assert reg.describe() == "- ``f``: a function"
