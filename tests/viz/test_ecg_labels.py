"""One colour per meaning: rhythm and quality palettes are disjoint and complete."""

from __future__ import annotations

import pytest
from matplotlib.colors import to_hex

from medmodal.ecg import quality, rhythm
from medmodal.errors import InvalidParameterError
from medmodal.viz.ecg_labels import (
    COLORS,
    QUALITY_COLORS,
    RHYTHM_COLORS,
    label_color,
    windows_from,
)


def test_every_label_has_a_colour() -> None:
    assert set(rhythm.LABELS) <= set(RHYTHM_COLORS)
    assert set(quality.LABELS) <= set(QUALITY_COLORS)


def test_no_colour_means_two_things() -> None:
    marks = {k: v for k, v in COLORS.items() if not k.startswith("grid")}
    every = [*RHYTHM_COLORS.values(), *QUALITY_COLORS.values(), *marks.values()]
    hexes = [to_hex(c) for c in every]
    assert len(set(hexes)) == len(hexes)
    assert not {to_hex(c) for c in RHYTHM_COLORS.values()} & {
        to_hex(c) for c in QUALITY_COLORS.values()
    }


def test_quality_is_a_light_to_dark_scale() -> None:
    def lightness(color: str) -> float:
        r, g, b = (int(to_hex(color)[i : i + 2], 16) for i in (1, 3, 5))
        return 0.299 * r + 0.587 * g + 0.114 * b

    ranked = [lightness(QUALITY_COLORS[label]) for label in quality.LABELS]
    assert ranked == sorted(ranked, reverse=True)  # excellent lightest, unacceptable darkest


def test_label_color_and_windows() -> None:
    assert label_color("rhythm", "sinus") == RHYTHM_COLORS["sinus"]
    assert label_color("quality", "sinus") != RHYTHM_COLORS["sinus"]  # unknown: white
    with pytest.raises(InvalidParameterError, match="kind must be"):
        label_color("beat", "N")  # type: ignore[arg-type]
    assert windows_from({"start": [0.0], "end": [10.0], "label": ["sinus"]}) == [
        (0.0, 10.0, "sinus")
    ]
    assert windows_from(None) is None


def test_shade_windows_draws_one_collection_per_label() -> None:
    from matplotlib.figure import Figure

    from medmodal.viz.ecg_labels import shade_windows

    ax = Figure().subplots()
    windows = [(10.0 * k, 10.0 * (k + 1), "sinus" if k % 2 else "irregular") for k in range(180)]
    shade_windows(ax, windows, "rhythm", alpha=0.3)
    gids = sorted(str(c.get_gid()) for c in ax.collections)
    assert gids == ["rhythm:irregular", "rhythm:sinus"]
    assert all(len(c.get_paths()) == 90 for c in ax.collections)
