"""Fixtures of the ECG tests: delineation validation files that pass the QT gate."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from medmodal.ecg.validation import FIDUCIALS


def figures(mean: float, sd: float) -> dict[str, float | None]:
    """One fiducial's error figures (Se 99 %, 1000 points)."""
    return {"se_pct": 99.0, "mean_ms": mean, "sd_ms": sd, "n": 1000}


@pytest.fixture
def passing_validation(tmp_path: Path) -> Callable[..., Path]:
    """Write a validation file whose QRS onset and T offset pass the QT gate under both
    conventions; keyword arguments replace fiducials (``t_offset=None``...), and
    ``conventions=`` names the conventions the file holds. Returns its path."""

    def write(
        conventions: tuple[str, ...] = ("lead0", "both_leads"),
        **overrides: dict[str, float | None] | None,
    ) -> Path:
        ours: dict[str, object] = dict.fromkeys(FIDUCIALS)
        ours |= {"qrs_onset": figures(1.0, 8.0), "t_offset": figures(-2.0, 20.0)}
        ours |= overrides
        peer: dict[str, object] = dict.fromkeys(FIDUCIALS)
        peer |= {"qrs_onset": figures(-7.2, 15.5), "t_offset": figures(5.4, 47.5)}
        peers = {"ecgpuwave": {"fiducials": peer}, "neurokit2_dwt": {"fiducials": peer}}
        content = {
            "source": "test",
            "generated": "2026-12-02",
            "database": "QT database (test)",
            "convention": "lead0",
            "method": "derivative",
            "fiducials": ours,
            "peers": peers,
            "conventions": {
                name: {"description": name, "fiducials": ours, "peers": peers}
                for name in conventions
            },
        }
        path = tmp_path / "validation.json"
        path.write_text(json.dumps(content))
        return path

    return write
