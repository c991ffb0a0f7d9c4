"""The layer rule of DESIGN.md: lower layers never import higher ones.

Checked statically (every ``import medmodal.X`` in src/) and dynamically (importing the
signal layer must not pull in torch).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "medmodal"

# Layer of each top-level sub-package/module (DESIGN.md); unlisted private helpers are 0.
LAYERS = {
    "io": 0,
    "ecg": 0,
    "data": 0,
    "models": 1,
    "align": 2,
    "fusion": 2,
    "train": 3,
    "metrics": 0,  # pure numpy/scikit-learn functions over arrays; fusion and align use them
    "explain": 4,
    "viz": 4,
    "report": 5,
    "serve": 5,
    "cli": 5,
    "__main__": 5,
}


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.get(parts[1], 0) if len(parts) > 1 else 0


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return [name for name in found if name == "medmodal" or name.startswith("medmodal.")]


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _sources() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_every_module_has_a_known_layer() -> None:
    subpackages = {p.name for p in SRC.iterdir() if p.is_dir() and not p.name.startswith("_")}
    subpackages.discard("__pycache__")
    assert subpackages <= set(LAYERS), f"add {subpackages - set(LAYERS)} to LAYERS"


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_upward_imports(path: Path) -> None:
    module = _module_name(path)
    own = _layer(module)
    upward = [name for name in _imports(path) if _layer(name) > own]
    assert not upward, f"{module} (layer {own}) imports higher layers: {upward}"


_IMPORT_ALL = """
import importlib, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for info in pkgutil.walk_packages(getattr(package, "__path__", []), package.__name__ + "."):
    importlib.import_module(info.name)
print(",".join(x for x in ("torch", "fastapi", "typer", "transformers") if x in sys.modules))
"""


@pytest.mark.parametrize("package", ["medmodal.ecg", "medmodal.data", "medmodal.metrics"])
def test_light_packages_do_not_import_torch(package: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL, package], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "", f"importing {package} pulled in {out.stdout.strip()}"


def test_top_level_import_is_light() -> None:
    heavy = "('torch', 'pandas', 'scipy', 'matplotlib')"
    code = f"import sys, medmodal; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
