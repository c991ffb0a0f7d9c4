"""Does an attention map point at the events it should? Enrichment over known positions.

Given attention over the time tokens of a signal (tokens split the signal evenly) and the
sample positions of annotated events (e.g. the R peaks of premature ventricular beats),
the *enrichment* is the attention mass on the tokens within ``half_width`` seconds of an
event divided by the share of tokens they are: 1 when attention ignores the events,
larger when it prefers them. Pure numpy: the attention may come from any model
(:meth:`medmodal.fusion.FusionClassifier.forward` with ``need_weights=True``).

Example:
    >>> import numpy as np
    >>> weights = np.zeros(10)
    >>> weights[3] = 1.0  # all attention on token 3 (samples 300-399)
    >>> attention_enrichment(weights, np.array([350]), 1000, sampling_rate=100)
    10.0
    >>> attention_enrichment(np.full(10, 0.1), np.array([350]), 1000, sampling_rate=100)
    1.0
"""

from __future__ import annotations

import numpy as np

from medmodal.errors import InvalidParameterError
from medmodal.types import ArrayLike

__all__ = ["DEFAULT_HALF_WIDTH", "attention_enrichment"]

#: Half-width (s) of the stretch around an event that counts as "the event" (a QRS
#: complex and its neighbourhood: ±150 ms).
DEFAULT_HALF_WIDTH = 0.15


def attention_enrichment(
    weights: ArrayLike,
    events: ArrayLike,
    n_samples: int,
    *,
    sampling_rate: float,
    half_width: float = DEFAULT_HALF_WIDTH,
) -> float:
    """Attention mass on the events divided by the share of tokens they cover.

    Args:
        weights: ``(T',)`` attention over the signal's time tokens (sums to 1).
        events: sample positions of the events (e.g. PVC R peaks).
        n_samples: length of the signal in samples (the tokens split it evenly).
        sampling_rate: Hz of the signal.
        half_width: seconds on each side of an event that belong to it.

    Returns:
        1.0 when attention ignores the events, larger when it prefers them, 0.0 when none
        falls on them; NaN without events.

    Raises:
        InvalidParameterError: ``weights`` not 1-D and non-empty, or a non-positive
            ``n_samples``, ``sampling_rate`` or negative ``half_width``.
    """
    w = np.asarray(weights)  # summed in its own dtype (float32 weights stay float32)
    if w.ndim != 1 or w.size == 0 or not np.issubdtype(w.dtype, np.number):
        raise InvalidParameterError(
            "attention_enrichment: weights must be a non-empty numeric 1-D array, got "
            f"{w.dtype} {w.shape}"
        )
    if n_samples <= 0 or sampling_rate <= 0 or half_width < 0:
        raise InvalidParameterError(
            "attention_enrichment: need n_samples > 0, sampling_rate > 0 and half_width >= 0, "
            f"got {n_samples}, {sampling_rate}, {half_width}"
        )
    tokens = w.shape[0]
    per_token = n_samples / tokens
    on_event = np.zeros(tokens, dtype=bool)
    half = half_width * sampling_rate
    for r in np.asarray(events).ravel():
        first, last = int((r - half) // per_token), int((r + half) // per_token)
        on_event[max(first, 0) : min(last, tokens - 1) + 1] = True
    if not on_event.any():
        return float("nan")
    return float(w[on_event].sum() / on_event.mean())
