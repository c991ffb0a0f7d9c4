"""RR-interval context of every beat, in units of the record's own rhythm.

Every interval is divided by the record's median RR (the patient's own rhythm, no
labels), so the features mean the same at any heart rate and any sampling rate.
"""

from __future__ import annotations

import numpy as np

from medmodal.types import FloatArray

#: Offsets of the RR intervals kept around beat ``i``: interval ``k`` ends at beat
#: ``i + k`` (``0`` is the pre-RR, ``1`` the post-RR).
RR_OFFSETS: tuple[int, ...] = (-2, -1, 0, 1, 2)
#: Beats on each side averaged for the local rhythm.
LOCAL_BEATS = 10
#: Log-ratios are clipped to +-this (a factor of 20: missed beats, long pauses).
LOG_LIMIT = 3.0
#: Names of the columns of :func:`rr_context`.
RR_NAMES: tuple[str, ...] = (
    *(f"log_rr{k:+d}" for k in RR_OFFSETS),
    "log_local",  # mean RR of the beats around / record median
    "log_pre_local",  # pre-RR / local mean
    "log_post_pre",  # post-RR / pre-RR
    "log_record_rr",  # record median RR in seconds (the patient's rate)
    "log_pre_lmed",  # pre-RR / median of the local intervals
    "log_pre_lp75",  # pre-RR / 75th percentile of the local intervals
    "log_post_lmed",  # post-RR / median of the local intervals
    "log_spread",  # 75th / 25th percentile of the local intervals
    "irregularity",  # median |log(RR_j / RR_j-1)| of the local intervals
)


def _interval(rr: FloatArray, index: np.ndarray) -> FloatArray:
    """``rr[index]`` with indices outside clamped to the nearest interval."""
    return rr[np.clip(index, 0, rr.size - 1)]


def rr_context(times_s: FloatArray) -> tuple[FloatArray, float]:
    """RR features of every beat (``(n, len(RR_NAMES))``) and the record median RR (s).

    ``times_s`` are the beat times (sorted, at least 3). Intervals are logs of ratios to
    the record median, so a premature beat reads below 0 whatever the rate.
    """
    rr = np.diff(times_s)  # rr[j] ends at beat j + 1
    median = float(np.median(rr))
    i = np.arange(times_s.size)
    cols = [np.log(_interval(rr, i - 1 + k) / median) for k in RR_OFFSETS]
    csum = np.concatenate([[0.0], np.cumsum(rr)])
    lo = np.clip(i - LOCAL_BEATS, 0, rr.size - 1)
    hi = np.clip(i + LOCAL_BEATS, lo + 1, rr.size)
    local = (csum[hi] - csum[lo]) / (hi - lo)
    pre = _interval(rr, i - 1)
    post = _interval(rr, i)
    cols += [np.log(local / median), np.log(pre / local), np.log(post / pre)]
    cols.append(np.full(times_s.size, np.log(median)))
    cols += _local_distribution(rr, pre, post)
    return np.clip(np.stack(cols, axis=1), -LOG_LIMIT, LOG_LIMIT), median


def _local_distribution(rr: FloatArray, pre: FloatArray, post: FloatArray) -> list[FloatArray]:
    """Premature-ness against the local RR distribution and the local irregularity: an
    early beat stands out against the 75th percentile even where ectopics are the
    majority, and in atrial fibrillation every interval is irregular."""
    padded = np.pad(rr, LOCAL_BEATS, mode="edge")
    win = np.lib.stride_tricks.sliding_window_view(padded, 2 * LOCAL_BEATS + 1)  # (m, W)
    win = np.concatenate([win[:1], win])  # (n, W): beat i sees the intervals around i - 1
    q25, q50, q75 = np.percentile(win, [25, 50, 75], axis=1)
    steps = np.abs(np.diff(np.log(win), axis=1))
    return [
        np.log(pre / q50),
        np.log(pre / q75),
        np.log(post / q50),
        np.log(q75 / q25),
        np.median(steps, axis=1),
    ]
