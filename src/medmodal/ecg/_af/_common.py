"""Beat windows shared by the AF detectors."""

from __future__ import annotations

import numpy as np

from medmodal.types import IntArray


def centred_windows(n: int, width: int) -> IntArray:
    """``(n, min(width, n))`` indices: row ``i`` is the window of ``width`` consecutive
    items around item ``i`` (shifted inwards at the edges).

    Example:
        >>> centred_windows(5, 3).tolist()
        [[0, 1, 2], [0, 1, 2], [1, 2, 3], [2, 3, 4], [2, 3, 4]]
    """
    width = min(width, n)
    first = np.clip(np.arange(n) - width // 2, 0, n - width)
    return first[:, None] + np.arange(width)[None, :]
