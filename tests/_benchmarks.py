"""Import the scripts under ``benchmarks/`` in tests (they import ``_machine`` and each
other from their own folder, so that folder is on ``sys.path`` while they load)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

#: The benchmark scripts' folder (their results are in ``results/`` below it).
BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def import_benchmarks(*names: str) -> tuple[ModuleType, ...]:
    """The named benchmark modules, imported with ``benchmarks/`` on ``sys.path``."""
    sys.path.insert(0, str(BENCH))
    try:
        return tuple(importlib.import_module(name) for name in names)
    finally:
        sys.path.remove(str(BENCH))
