"""From per-interval AF flags to AF episodes and per-window labels with their reasons.

AF-like intervals are joined into episodes (gaps under :data:`MERGE_GAP_S` closed, or
the method's own gap,
episodes under :data:`MIN_EPISODE_S` dropped: the clinical 30 s definition); a window
is ``"af"`` when episodes cover at least half of it, ``"not_af"`` otherwise, or
``"unknown"`` with the reason when the window (or the whole recording) has too few
beats or, for the default method, too few usable intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medmodal.ecg._af import irregularity
from medmodal.types import BoolArray, FloatArray, IntArray

#: Fewest RR intervals in a recording for any AF decision (one 12-beat COSEn segment).
MIN_INTERVALS = 12
#: A window with fewer RR intervals ending in it is ``"unknown"``.
MIN_WINDOW_INTERVALS = 4
#: Shortest AF episode kept (s): the clinical definition of an AF episode.
MIN_EPISODE_S = 30.0
#: AF-like runs closer than this (s) are one episode (methods without their own gap:
#: the peer; ours uses :data:`medmodal.ecg._af.irregularity.MERGE_GAP_S`).
MERGE_GAP_S = 10.0


@dataclass(frozen=True)
class WindowVerdicts:
    """Per-window AF share, interval count, label and reason."""

    fraction: FloatArray
    counts: IntArray
    labels: tuple[str, ...]
    reasons: tuple[str, ...]


def episodes(
    beats: IntArray, flags: BoolArray, rate: float, *, merge_gap_s: float = MERGE_GAP_S
) -> FloatArray:
    """``(n, 2)`` AF episodes in seconds from the per-interval flags (runs closer than
    ``merge_gap_s`` joined, episodes under :data:`MIN_EPISODE_S` dropped).

    Example:
        >>> beats = np.arange(0, 100 * 250, 250)  # one beat a second
        >>> flags = np.zeros(99, dtype=bool)
        >>> flags[10:45] = True
        >>> episodes(beats, flags, 250.0).tolist()
        [[10.0, 45.0]]
    """
    if not flags.any():
        return np.empty((0, 2))
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    starts = beats[np.flatnonzero(edges == 1)] / rate
    stops = beats[np.flatnonzero(edges == -1)] / rate  # the end beat of the last interval
    keep_start, keep_stop = [starts[0]], [stops[0]]
    for s, e in zip(starts[1:], stops[1:], strict=True):
        if s - keep_stop[-1] < merge_gap_s:
            keep_stop[-1] = e
        else:
            keep_start.append(s)
            keep_stop.append(e)
    spans = np.column_stack([keep_start, keep_stop])
    return spans[spans[:, 1] - spans[:, 0] >= MIN_EPISODE_S]


def window_verdicts(
    beats: IntArray,
    starts: IntArray,
    stops: IntArray,
    rate: float,
    spans: FloatArray,
    usable: BoolArray | None,
) -> WindowVerdicts:
    """Label the windows ``[starts, stops)`` (samples) given the AF episodes ``spans``
    and (default method) the judgeable intervals ``usable``."""
    start_s, end_s = starts / rate, stops / rate
    owner = np.searchsorted(stops, beats[1:], side="right")
    counts = np.bincount(owner, minlength=starts.size)[: starts.size].astype(np.int64)
    good = counts
    if usable is not None:
        good = np.bincount(owner, weights=usable, minlength=starts.size)[: starts.size]
    covered = np.zeros(starts.size)
    for e_start, e_stop in spans:
        covered += np.clip(np.minimum(end_s, e_stop) - np.maximum(start_s, e_start), 0, None)
    fraction = covered / (end_s - start_s)
    labelled = [
        _label(int(c), float(f), total=beats.size - 1, usable=int(g))
        for c, f, g in zip(counts, fraction, good, strict=True)
    ]
    return WindowVerdicts(
        fraction=fraction,
        counts=counts,
        labels=tuple(lab for lab, _ in labelled),
        reasons=tuple(why for _, why in labelled),
    )


def _label(count: int, fraction: float, *, total: int, usable: int) -> tuple[str, str]:
    if total < MIN_INTERVALS:
        return "unknown", (
            f"too few beats: the recording has {max(total, 0)} RR interval(s); AF "
            f"detection needs at least {MIN_INTERVALS}"
        )
    if count < MIN_WINDOW_INTERVALS and fraction < 0.5:
        return "unknown", (
            f"too few beats: {count} RR interval(s) in the window; {MIN_WINDOW_INTERVALS} "
            "are needed"
        )
    if 2 * usable < count and fraction < 0.5:
        return "unknown", (
            "too noisy or too many ectopic beats to judge: "
            f"{count - usable} of the {count} RR intervals in the window lie "
            f"where fewer than {100 * irregularity.LOW_USABLE:.0f} % of the "
            f"{irregularity.WIDTH} intervals around are usable (the others are pauses, "
            "premature beats with their compensatory pause or beats unlike the dominant QRS "
            "shape: ectopic, aberrant or noisy)"
        )
    if fraction >= 0.5:
        return "af", f"{100 * fraction:.0f} % of the window lies in an AF episode"
    return "not_af", f"{100 * fraction:.0f} % of the window lies in an AF episode"
