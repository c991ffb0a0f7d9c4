"""The README's Python examples run as written.

Every fenced ``python`` block is executed in a fresh namespace. A block can be skipped
only with a stated reason, written on the line just above it as
``<!-- readme-test: skip: <reason> -->``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(
    r"(?:<!-- readme-test: skip: (?P<reason>[^>]+?) -->\n)?```python\n(?P<code>.*?)```", re.S
)


def _blocks() -> list[tuple[str, str, str | None]]:
    text = README.read_text(encoding="utf-8")
    found = []
    for match in _BLOCK.finditer(text):
        line = text.count("\n", 0, match.start("code"))
        found.append((f"README.md:{line}", match.group("code"), match.group("reason")))
    return found


def test_readme_has_an_example_per_practice() -> None:
    code = "\n".join(block for _, block, _ in _blocks())
    for api in ("ecg_process", "clip_loss", "FusionClassifier", "encode_image", "need_weights"):
        assert api in code


@pytest.mark.parametrize(
    ("where", "code", "reason"), [pytest.param(*block, id=block[0]) for block in _blocks()]
)
def test_readme_block_runs(
    where: str, code: str, reason: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if reason:
        pytest.skip(reason)
    import torch

    monkeypatch.chdir(tmp_path)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small examples; the suite runs two workers on two cores
    try:
        exec(compile(code, where, "exec"), {"__name__": "__readme__"})
    finally:
        torch.set_num_threads(threads)


def test_readme_links_and_figures_exist() -> None:
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)\)", text)
    local = [t for t in targets if "://" not in t]
    assert "docs/figures/medmodal-demo.png" in local
    missing = [t for t in local if not (README.parent / t).exists()]
    assert not missing, f"README links to missing files: {missing}"
