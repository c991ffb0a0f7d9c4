"""The attention section: trained, scored and drawn on the simulated PVC cohort."""

from __future__ import annotations

from pathlib import Path

import pytest

from medmodal.report.attention_section import build
from medmodal.report.section import SectionContext


@pytest.mark.slow
def test_quick_section_learns_and_draws(tmp_path: Path) -> None:
    content = build(SectionContext(tmp_path, quick=True, progress=False))
    assert content.metrics["accuracy"] > 0.8
    assert content.metrics["enrichment_mean"] > 1.0
    assert [f.path.name for f in content.figures] == [
        "attention_overlay.png",
        "attention_heads.png",
    ]
    assert all(f.path.stat().st_size > 20_000 for f in content.figures)
