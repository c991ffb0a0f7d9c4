"""The coefficient of sample entropy (COSEn) of Lake & Moorman (2011), our peer.

RR intervals are cut into consecutive segments of :data:`SEGMENT` (12) beats. In each,
the sample entropy with template length ``m = 1`` is computed with a tolerance ``r``
that starts at 30 ms and grows in 10 ms steps until at least :data:`MIN_MATCHES` (5)
matches of length ``m + 1`` are found; it is turned into a density (quadratic sample
entropy ``QSE = SampEn + ln(2r)``) and corrected for the mean interval:
``COSEn = QSE - ln(mean RR)`` (seconds). A segment is AF when COSEn > -1.4, the
published threshold. P waves are not used. A remainder shorter than a segment joins
the previous segment.

References:
    Lake DE, Moorman JR. Accurate estimation of entropy in very short physiological time
    series: the problem of atrial fibrillation detection in implanted ventricular
    devices. Am J Physiol Heart Circ Physiol 300(1):H319-H325 (2011).
    doi:10.1152/ajpheart.00561.2010
"""

from __future__ import annotations

import itertools

import numpy as np

from medmodal.types import BoolArray, FloatArray

SEGMENT = 12
THRESHOLD = -1.4
R_START = 0.030
R_STEP = 0.010
MIN_MATCHES = 5


def cosen(rr: FloatArray) -> float:
    """COSEn of one segment of RR intervals (s); NaN when it has fewer than 3.

    Example:
        >>> import numpy as np
        >>> regular = np.full(12, 0.8) + np.tile([0.0, 0.004], 6)
        >>> irregular = np.random.default_rng(0).uniform(0.4, 1.0, 12)
        >>> bool(cosen(regular) < -1.4 < cosen(irregular))
        True
    """
    if rr.size < 3:
        return float("nan")
    gaps1 = np.abs(rr[:-1, None] - rr[None, :-1])  # templates of length 1 (n - 1 of them)
    gaps2 = np.maximum(gaps1[:-1, :-1], np.abs(rr[1:, None] - rr[None, 1:])[:-1, :-1])
    upper1 = np.triu(np.ones_like(gaps1, dtype=bool), 1)
    upper2 = np.triu(np.ones_like(gaps2, dtype=bool), 1)
    r = R_START
    limit = max(float(rr.max() - rr.min()), R_START) + R_STEP
    while True:
        a = int((gaps2[upper2] <= r).sum())
        if a >= MIN_MATCHES or r > limit:
            break
        r += R_STEP
    b = int((gaps1[upper1] <= r).sum())
    if a == 0 or b == 0:
        return float("nan")
    return float(-np.log(a / b) + np.log(2 * r) - np.log(rr.mean()))


def detect(rr: FloatArray, p_present: BoolArray | None, odd: BoolArray | None) -> BoolArray:
    """AF flag of each RR interval: that of its 12-beat segment (RR only, as published:
    ``p_present`` and ``odd`` are unused)."""
    del p_present, odd
    flags = np.zeros(rr.size, dtype=bool)
    n_segments = max(1, rr.size // SEGMENT)
    bounds = [i * SEGMENT for i in range(n_segments)] + [rr.size]
    for start, stop in itertools.pairwise(bounds):
        flags[start:stop] = cosen(rr[start:stop]) > THRESHOLD
    return flags
