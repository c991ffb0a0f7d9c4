"""The layer rules of DESIGN.md, checked on the source of src/medmodal and benchmarks/.

- Every package has a layer of its own (one rank each, lowest first); no module imports a
  package of a higher rank, lazy imports inside functions included.
- The package import graph has no cycle (a cycle is reported with its path, so the rule
  cannot be passed by giving two packages one rank).
- No module imports another package's ``_private`` module; the root-level helpers
  (``medmodal._optional``, ``medmodal._torch``, ...) are shared and allowed.
- Benchmarks import only public API and no other benchmark script (only the shared
  ``_``-prefixed benchmark helpers beside them).
- Importing the light packages does not pull in torch, and ``import medmodal`` stays light.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "medmodal"
BENCHMARKS = ROOT / "benchmarks"

# One rank per package, lowest first (DESIGN.md "Layers"). Root-level modules not listed
# here (errors, registry, types, _optional, _version, ...) sit below everything.
ORDER = (
    "io",
    "ecg",
    "metrics",
    "data",
    "_torch",
    "models",
    "align",
    "fusion",
    "train",
    "explain",
    "viz",
    "report",
    "serve",
    "cli",
    "__main__",
)
RANK = {name: rank for rank, name in enumerate(ORDER)}
BASE = -1


@dataclass(frozen=True)
class Import:
    """One ``medmodal`` import found in a source file."""

    source: str  # the importing module, e.g. "medmodal.ecg.batch"
    target: str  # the imported module or name, e.g. "medmodal.io.read_record"
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(path: Path, module: str) -> Iterator[Import]:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):  # every import, lazy ones inside functions included
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(node, module, path.name == "__init__.py")
            for alias in node.names:
                yield Import(module, f"{target}.{alias.name}", node.lineno)


def _package(name: str) -> str:
    """The top-level package (or root module) of a dotted ``medmodal`` name."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def _rank(name: str) -> int:
    return RANK.get(_package(name), BASE)


def _private_part(target: str) -> str | None:
    """The first ``_private`` component of ``target`` below its top-level package."""
    for part in target.split(".")[2:]:
        if part.startswith("_") and not part.startswith("__"):
            return part
    return None


def _src_imports() -> list[Import]:
    found: list[Import] = []
    for path in sorted(SRC.rglob("*.py")):
        module = _module_name(path)
        found += [i for i in _imports(path, module) if i.target.startswith("medmodal.")]
    return found


SRC_IMPORTS = _src_imports()


def test_every_package_has_a_rank() -> None:
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert packages <= set(RANK), f"add {sorted(packages - set(RANK))} to ORDER"


def test_no_upward_imports() -> None:
    upward = [
        f"{i.source}:{i.line} (rank {_rank(i.source)}) imports {i.target} (rank {_rank(i.target)})"
        for i in SRC_IMPORTS
        if _package(i.source) != _package(i.target) and _rank(i.target) > _rank(i.source)
    ]
    assert not upward, "\n".join(upward)


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path, or None (depth-first search with colours)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def _package_graph(imports: list[Import]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for i in imports:
        src, dst = _package(i.source), _package(i.target)
        if src and dst and src != dst:
            graph.setdefault(src, set()).add(dst)
    return graph


def test_no_package_cycle() -> None:
    cycle = _cycle(_package_graph(SRC_IMPORTS))
    assert cycle is None, "package cycle: " + " -> ".join(cycle or [])


def test_cycle_finder_finds_a_lazy_cycle() -> None:
    """The checker itself: a lazy import that closes a loop is a cycle."""
    imports = [Import("medmodal.ecg.batch", "medmodal.data.io.read", 3)]
    imports.append(Import("medmodal.data.beats", "medmodal.ecg.peaks", 40))
    assert _cycle(_package_graph(imports)) == ["data", "ecg", "data"]
    assert _cycle(_package_graph(imports[:1])) is None


def test_no_private_imports_across_packages() -> None:
    bad = [
        f"{i.source}:{i.line} imports {i.target}"
        for i in SRC_IMPORTS
        if _package(i.target) in RANK  # a package, not a root-level helper module
        and _package(i.source) != _package(i.target)
        and _private_part(i.target)
    ]
    assert not bad, "\n".join(bad)


def _benchmark_imports(path: Path) -> Iterator[Import]:
    yield from _imports(path, f"benchmarks.{path.stem}")


@pytest.mark.parametrize("path", sorted(BENCHMARKS.glob("*.py")), ids=lambda p: p.name)
def test_benchmarks_use_public_api(path: Path) -> None:
    siblings = {p.stem for p in BENCHMARKS.glob("*.py")}
    bad = []
    for i in _benchmark_imports(path):
        top = i.target.split(".")[0]
        if top == "medmodal" and _private_part(i.target) and _package(i.target) in RANK:
            bad.append(f"line {i.line}: private {i.target}")
        elif top == "benchmarks" or (top in siblings and not top.startswith("_")):
            bad.append(f"line {i.line}: imports the benchmark script {i.target}")
    assert not bad, "\n".join(bad)


_IMPORT_ALL = """
import importlib, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for info in pkgutil.walk_packages(getattr(package, "__path__", []), package.__name__ + "."):
    importlib.import_module(info.name)
print(",".join(x for x in ("torch", "fastapi", "typer", "transformers") if x in sys.modules))
"""


@pytest.mark.parametrize(
    "package", ["medmodal.io", "medmodal.ecg", "medmodal.data", "medmodal.metrics"]
)
def test_light_packages_do_not_import_torch(package: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL, package], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "", f"importing {package} pulled in {out.stdout.strip()}"


def test_signal_layer_does_not_load_the_data_sets() -> None:
    """``import medmodal.ecg`` loads file I/O at most, never the data-set package."""
    code = "import sys, medmodal.ecg; print('medmodal.data' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_top_level_import_is_light() -> None:
    heavy = "('torch', 'pandas', 'scipy', 'matplotlib')"
    code = f"import sys, medmodal; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
