"""Named methods: one registry per family (R-peak detectors, cleaners, fusion strategies...).

A registry maps names (and aliases) to implementations. Its names feed docstrings, error
messages ("did you mean ...?") and ``available_methods()`` so they cannot drift apart.

Example:
    >>> from medmodal.registry import Registry
    >>> filters = Registry("filter")
    >>> @filters.register("mean", aliases=("average",), description="moving average")
    ... def _mean(x):
    ...     return sum(x) / len(x)
    >>> filters.get("average")([1, 2, 3])
    2.0
    >>> filters.names()
    ('mean',)
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from medmodal.errors import InvalidParameterError

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., object])


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered method."""

    name: str
    obj: T
    aliases: tuple[str, ...] = ()
    description: str = ""


class Registry(Generic[T]):
    """A family of named implementations with helpful lookup errors.

    Args:
        kind: what the registry holds, used in messages (e.g. ``"R-peak detector"``).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}
        self._aliases: dict[str, str] = {}

    def register(
        self, name: str, *, aliases: tuple[str, ...] = (), description: str = ""
    ) -> Callable[[T], T]:
        """Decorator that registers ``obj`` under ``name`` (and ``aliases``)."""

        def decorator(obj: T) -> T:
            self.add(name, obj, aliases=aliases, description=description)
            return obj

        return decorator

    def add(
        self, name: str, obj: T, *, aliases: tuple[str, ...] = (), description: str = ""
    ) -> None:
        """Register ``obj`` under ``name``; names and aliases must be unused."""
        key = name.lower()
        for k in (key, *(a.lower() for a in aliases)):
            if k in self._entries or k in self._aliases:
                raise InvalidParameterError(f"{self.kind} name {k!r} is already registered")
        self._entries[key] = Entry(key, obj, tuple(a.lower() for a in aliases), description)
        for alias in aliases:
            self._aliases[alias.lower()] = key

    def resolve(self, name: str) -> str:
        """Canonical name for ``name`` or an alias; raises with suggestions if unknown."""
        if not isinstance(name, str):
            raise InvalidParameterError(
                f"{self.kind} must be given by name (a str), got {type(name).__name__}; "
                f"available: {', '.join(self.names())}"
            )
        key = name.lower().strip()
        if key in self._entries:
            return key
        if key in self._aliases:
            return self._aliases[key]
        known = [*self._entries, *self._aliases]
        matches = difflib.get_close_matches(key, known, n=5, cutoff=0.5)
        close = list(dict.fromkeys(self._aliases.get(m, m) for m in matches))[:3]
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise InvalidParameterError(
            f"unknown {self.kind} {name!r}.{hint} Available: {', '.join(self.names())}"
        )

    def get(self, name: str) -> T:
        """The implementation registered as ``name`` (or one of its aliases)."""
        return self._entries[self.resolve(name)].obj

    def entry(self, name: str) -> Entry[T]:
        """The full registry entry (name, aliases, description) for ``name``."""
        return self._entries[self.resolve(name)]

    def names(self) -> tuple[str, ...]:
        """Canonical names in registration order."""
        return tuple(self._entries)

    def describe(self) -> str:
        """One line per method, for docstrings and ``--help``."""
        return "\n".join(f"- ``{e.name}``: {e.description}" for e in self._entries.values())

    def document(self, obj: F, placeholder: str = "{methods}", *, indent: int = 4) -> F:
        """Write :meth:`describe` into ``obj``'s docstring at ``placeholder``; returns ``obj``.

        The list of methods a function documents then comes from the registry itself, so
        it cannot drift from what the function accepts.

        Example:
            >>> reg = Registry("demo method")
            >>> reg.add("a", 1, description="the first")
            >>> def f():
            ...     pass
            >>> f.__doc__ = "Methods: {methods}"
            >>> reg.document(f).__doc__
            'Methods: - ``a``: the first'
        """
        if obj.__doc__:
            text = self.describe().replace("\n", "\n" + " " * indent)
            obj.__doc__ = obj.__doc__.replace(placeholder, text)
        return obj

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = name.lower().strip()
        return key in self._entries or key in self._aliases

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
