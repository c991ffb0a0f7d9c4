"""Confidence intervals of a proportion (an accuracy: k correct of n).

Example:
    >>> from medmodal.metrics.proportion import wilson_interval
    >>> low, high = wilson_interval(90, 100)
    >>> round(low, 3), round(high, 3)
    (0.826, 0.945)
    >>> wilson_interval(0, 10)[0], round(wilson_interval(0, 10)[1], 3)
    (0.0, 0.278)

References:
    Wilson EB. Probable inference, the law of succession, and statistical inference.
    J Am Stat Assoc 22(158):209-212 (1927).
    Brown LD, Cai TT, DasGupta A. Interval estimation for a binomial proportion.
    Statistical Science 16(2):101-133 (2001).
"""

from __future__ import annotations

import math

from scipy.stats import norm

from medmodal.errors import InvalidParameterError

__all__ = ["wilson_interval"]


def wilson_interval(successes: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of ``successes / n``.

    Unlike the normal (Wald) interval it stays inside [0, 1] and keeps close to its
    nominal coverage for small ``n`` and proportions near 0 or 1 (Brown et al. 2001).

    Args:
        successes: correct calls, 0 <= successes <= n.
        n: trials (> 0).
        confidence: two-sided confidence level in (0, 1).

    Returns:
        ``(low, high)``.

    Raises:
        InvalidParameterError: counts that are not integers with 0 <= successes <= n,
            n > 0, or a confidence outside (0, 1).
    """
    if isinstance(successes, bool) or isinstance(n, bool):
        raise InvalidParameterError("wilson_interval: successes and n must be ints, not bool")
    if int(successes) != successes or int(n) != n or not 0 <= successes <= n or n < 1:
        raise InvalidParameterError(
            f"wilson_interval: need integers 0 <= successes <= n and n >= 1, "
            f"got successes={successes!r}, n={n!r}"
        )
    if not 0.0 < confidence < 1.0:
        raise InvalidParameterError(
            f"wilson_interval: confidence must be in (0, 1): {confidence!r}"
        )
    z = float(norm.ppf(0.5 + confidence / 2))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact ends: no rounding
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high
