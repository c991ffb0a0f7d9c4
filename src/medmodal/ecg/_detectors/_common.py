"""Building blocks shared by the R-peak detectors.

Everything here takes durations in seconds and converts them to samples with
:func:`samples`, so every detector works at any sampling rate. Filters are zero-phase
(forward-backward, second-order sections) with about one second of padding, so beats in
the first and last second of a record are not lost to filter warm-up.

Features are computed at 100-200 Hz after :func:`decimate`; peaks are then placed on
the full-rate input by :func:`refine_peaks`. Multi-lead input is handled by
:func:`fuse_features`: each lead's detection feature is scaled to its local QRS level
and weighted, block by block, by how peaky (beat-like) it is there, so a noisy stretch
of one lead gives way to the others; :func:`best_lead` picks the lead on which peaks are
placed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import rank_filter, uniform_filter1d
from scipy.signal import find_peaks

from medmodal.ecg._filters import butter_sos, zero_phase
from medmodal.types import FloatArray, IntArray

try:  # scipy's compiled 1-D rank filter and its code for mode="nearest"
    from scipy.ndimage._ni_support import _extend_mode_to_code
    from scipy.ndimage._rank_filter_1d import rank_filter as _RANK_FILTER_1D  # noqa: N812

    _NEAREST = _extend_mode_to_code("nearest", is_filter=True)
except (ImportError, TypeError):  # pragma: no cover - depends on the scipy version
    _RANK_FILTER_1D = None  # type: ignore[assignment]
    _NEAREST = 0

try:  # the compiled step behind find_peaks(distance=...): keeps the larger of close peaks
    from scipy.signal._peak_finding_utils import (  # noqa: N812
        _select_by_peak_distance as _SELECT_BY_DISTANCE,
    )
except ImportError:  # pragma: no cover - depends on the scipy version
    _SELECT_BY_DISTANCE = None  # type: ignore[assignment]

#: A per-lead feature function: (signal, sampling_rate) -> (feature, band-passed signal).
FeatureFn = Callable[[FloatArray, float], tuple[FloatArray, FloatArray]]


def samples(seconds: float, sampling_rate: float) -> int:
    """``seconds`` as a whole number of samples (at least 1)."""
    return max(1, round(seconds * sampling_rate))


def bandpass(
    x: FloatArray, sampling_rate: float, low: float, high: float, *, order: int = 2
) -> FloatArray:
    """Zero-phase Butterworth band-pass of a 1-D signal (``high`` capped below Nyquist).

    Forward-backward filtering with about one second of odd-extension padding, so the
    filter has settled before the first sample (see :func:`medmodal.ecg._filters.zero_phase`).
    At very low sampling rates, where ``high`` falls below ``low``, it is a high-pass.
    """
    sos = butter_sos(low, high, sampling_rate, order)
    return zero_phase(sos, x, pad=samples(1.0, sampling_rate))


def moving_average(x: FloatArray, width: int, *, in_place: bool = False) -> FloatArray:
    """Centred moving average over ``width`` samples (edges use the nearest value).

    With ``in_place`` the result overwrites ``x`` (scipy filters each line from a copy,
    so the numbers are the same) and ``x`` is returned.
    """
    return uniform_filter1d(
        x, size=max(1, width), axis=0, mode="nearest", output=x if in_place else None
    )


def _five_point(x: FloatArray, h: int) -> FloatArray:
    """Five-point derivative at the interior samples ``2h .. len(x) - 2h - 1`` of ``x``."""
    n = x.shape[0]
    out = np.subtract(x[3 * h : n - h], x[h : n - 3 * h])
    out *= 2.0
    out += x[4 * h :]
    out -= x[: n - 4 * h]
    out *= 1.0 / 8.0  # a power of two: the same as dividing
    return out


#: Spacing (s) of the taps of the five-point derivative.
DERIVATIVE_STEP = 0.005


def derivative(x: FloatArray, sampling_rate: float, *, step: float = DERIVATIVE_STEP) -> FloatArray:
    """Five-point central derivative along axis 0, taps ``step`` s apart (Pan-Tompkins).

    ``y[n] = (-x[n-2h] - 2 x[n-h] + 2 x[n+h] + x[n+2h]) / 8`` with ``h = step * fs``
    samples, so the slope estimate spans the same time at every sampling rate; the
    signal is extended by its edge values.
    """
    h = samples(step, sampling_rate)
    n = x.shape[0]
    first, last = np.repeat(x[:1], 2 * h, axis=0), np.repeat(x[-1:], 2 * h, axis=0)
    if n <= 4 * h:  # too short for an interior
        return _five_point(np.concatenate([first, x, last]), h)
    out = np.empty_like(x)
    mid = out[2 * h : n - 2 * h]  # computed in place: no full-length temporaries
    np.subtract(x[3 * h : n - h], x[h : n - 3 * h], out=mid)
    mid *= 2.0
    mid += x[4 * h :]
    mid -= x[: n - 4 * h]
    mid *= 1.0 / 8.0
    out[: 2 * h] = _five_point(np.concatenate([first, x[: 4 * h]]), h)
    out[n - 2 * h :] = _five_point(np.concatenate([x[n - 4 * h :], last]), h)
    return out


#: Detection features need no more than this rate (Hz); faster input is block-averaged.
DETECTION_RATE = 100.0


def decimate(x: FloatArray, sampling_rate: float) -> tuple[FloatArray, float, int]:
    """Scale each lead to a peak of 1 and block-average by ``q = floor(rate / 100)``.

    QRS detection features live below about 25 Hz, so computing them at 100-200 Hz
    loses nothing and makes every later step ``q`` times cheaper. The mean over each
    block is the anti-alias filter (first null at the reduced rate). Sample ``k`` of
    the result stands for input sample ``k * q + q // 2``. Scaling first keeps huge
    inputs finite and makes the features independent of units.

    Args:
        x: ``(n_samples, n_leads)`` finite samples.
        sampling_rate: Hz.

    Returns:
        ``(decimated, reduced_rate, q)``.
    """
    scale = np.maximum(x.max(axis=0), -x.min(axis=0))
    scale[~(scale > 0)] = 1.0
    if scale.max() > 1e300:  # sums of q samples could overflow
        x = x / scale
        scale = np.ones_like(scale)
    q = max(1, int(sampling_rate // DETECTION_RATE))
    full, rest = divmod(x.shape[0], q)
    total = np.empty((full + (rest > 0), *x.shape[1:]))
    if q == 1:
        total[:full] = x[:full]
    else:  # strided sums: much faster than a reshape-mean over q
        np.add(x[0 : full * q : q], x[1 : full * q : q], out=total[:full])
    for k in range(2, q):
        np.add(total[:full], x[k : full * q : q], out=total[:full])
    if rest:  # the last, partial block is padded with its last value
        total[full] = x[full * q :].sum(axis=0) + (q - rest) * x[-1]
    total *= 1.0 / (q * scale)
    return total, sampling_rate / q, q


def quantile(x: FloatArray, q: float) -> float:
    """The ``q`` quantile of ``x`` (nearest rank; a partial sort, no interpolation)."""
    flat = x.ravel()
    k = min(flat.size - 1, max(0, round(q * (flat.size - 1))))
    return float(np.partition(flat, k)[k])


#: Length (s) of the blocks over which lead quality and level are measured.
FUSION_BLOCK = 1.0


def _block_profile(values: FloatArray, block: int, stat: str) -> FloatArray:
    """Per-sample ``max`` or ``median`` of ``values`` (n, L) over 3 blocks around it.

    Statistics are taken per block of ``block`` samples, pooled with both neighbour
    blocks, and linearly interpolated between block centres (no steps at block edges).
    """
    n, n_leads = values.shape
    n_blocks = -(-n // block)
    padded = np.concatenate([values, np.repeat(values[-1:], n_blocks * block - n, axis=0)])
    blocks = padded.reshape(n_blocks, block, n_leads)
    per_block = blocks.max(axis=1) if stat == "max" else np.median(blocks, axis=1)
    edge = np.concatenate([per_block[:1], per_block, per_block[-1:]])
    trio = np.stack([edge[:-2], edge[1:-1], edge[2:]])
    pooled = trio.max(axis=0) if stat == "max" else trio.mean(axis=0)
    centres = (np.arange(n_blocks) + 0.5) * block
    t = np.arange(n)
    return np.stack([np.interp(t, centres, pooled[:, k]) for k in range(n_leads)], axis=1)


@dataclass(frozen=True)
class LeadFusion:
    """How much each lead counts, sample by sample (rows of ``weights`` sum to 1).

    A lead's weight follows the square of its local peakiness (block maximum over
    block median of its detection feature), so a lead drowned in noise, or flat, over
    a stretch of the record gives way to the others there and only there.
    """

    weights: FloatArray  # (n, n_leads); (1, 1) for a single lead
    block: int

    def candidate_slopes(
        self, band: FloatArray, cands: IntArray, sampling_rate: float, half: float
    ) -> FloatArray:
        """Largest fused ``|d band / dt|`` within ``half`` seconds of each candidate.

        One lead: computed on short windows around the candidates only.
        """
        width = samples(half, sampling_rate)
        if band.shape[1] > 1:
            slope = self.combine(np.abs(derivative(band, sampling_rate)))
            return slope[windows(cands, width, band.shape[0])].max(axis=1)
        h = samples(DERIVATIVE_STEP, sampling_rate)
        seg = band[:, 0][windows(cands, width + 2 * h, band.shape[0], across=True)]
        slope = _five_point(seg, h)
        np.abs(slope, out=slope)
        return slope.max(axis=0)

    def combine(self, per_lead: FloatArray) -> FloatArray:
        """Fuse non-negative per-lead signals, each scaled to its local maximum.

        A single lead is returned as it is: detectors only use ratios of it.
        """
        if per_lead.shape[1] == 1:
            return per_lead[:, 0]
        level = _block_profile(per_lead, self.block, "max")
        scaled = per_lead / np.maximum(level, 1e-300)
        return np.sum(self.weights * scaled, axis=1)


def lead_fusion(features: FloatArray, sampling_rate: float) -> LeadFusion:
    """Per-sample lead weights from the ``(n, n_leads)`` non-negative detection features."""
    n_leads = features.shape[1]
    block = samples(FUSION_BLOCK, sampling_rate)
    if n_leads == 1:
        return LeadFusion(np.ones((1, 1)), block)  # broadcasts; never read per sample
    hi = _block_profile(features, block, "max")
    med = _block_profile(features, block, "median")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(med > 0, hi / med, np.where(hi > 0, 1e6, 0.0))
    quality = np.minimum(ratio, 1e6) ** 2
    total = quality.sum(axis=1, keepdims=True)
    weights = np.where(total > 0, quality / np.where(total > 0, total, 1.0), 1.0 / n_leads)
    return LeadFusion(weights, block)


def fuse_features(
    data: FloatArray, sampling_rate: float, feature_fn: FeatureFn
) -> tuple[FloatArray, FloatArray, LeadFusion]:
    """Per-lead detection features combined into one.

    Args:
        data: ``(n_samples, n_leads)`` signal with no flat lead.
        sampling_rate: Hz.
        feature_fn: computes one lead's (feature, band-passed signal).

    Returns:
        ``(fused_feature, bandpassed, fusion)``: the per-sample weighted mean of the
        per-lead features, each scaled to its local maximum (one lead: unscaled); the
        ``(n_samples, n_leads)`` band-passed signals; the :class:`LeadFusion` used, to
        fuse other per-lead signals the same way.
    """
    pairs = [feature_fn(data[:, lead], sampling_rate) for lead in range(data.shape[1])]
    if len(pairs) == 1:  # one lead: no copies
        feature, band = pairs[0]
        return feature, band[:, None], lead_fusion(feature[:, None], sampling_rate)
    features = np.stack([f for f, _ in pairs], axis=1)
    bands = np.stack([b for _, b in pairs], axis=1)
    fusion = lead_fusion(features, sampling_rate)
    return fusion.combine(features), bands, fusion


def feature_peaks(feature: FloatArray, distance: int) -> IntArray:
    """Local maxima of ``feature`` at least ``distance`` samples apart (larger ones win).

    As ``scipy.signal.find_peaks(feature, distance=distance)`` on the feature with a
    lower value added at both ends, so a maximum on the very first or last sample (a
    beat cut by the record's edge) counts: a flat top counts once, at its middle.
    """
    found = local_maxima(feature)
    if _SELECT_BY_DISTANCE is None or found.size < 2:  # pragma: no cover - scipy version
        floor = float(feature.min()) - 1.0
        padded = np.pad(feature, 1, mode="constant", constant_values=floor)
        found = find_peaks(padded, distance=max(1, distance))[0] - 1
        return found.astype(np.int64)
    keep = _SELECT_BY_DISTANCE(found, feature[found], np.float64(max(1, distance)))
    return found[keep]


def local_maxima(x: FloatArray) -> IntArray:
    """Indices of the local maxima of the 1-D ``x``, as if both ends were lower.

    A flat top (equal samples between lower ones) counts once, at its middle (rounded
    down), as in ``scipy.signal.find_peaks``.
    """
    n = x.shape[0]
    if n < 2:
        return np.arange(n, dtype=np.int64)
    rises = np.empty(n, dtype=bool)  # x[i] > x[i - 1]
    rises[0] = True
    np.greater(x[1:], x[:-1], out=rises[1:])
    falls = np.empty(n, dtype=bool)  # x[i] > x[i + 1]
    falls[-1] = True
    np.greater(x[:-1], x[1:], out=falls[:-1])
    peaks = np.flatnonzero(rises & falls)
    same = x[:-1] == x[1:]  # x[i] == x[i + 1]
    starts = np.flatnonzero(rises[:-1] & same)  # rises onto a flat top
    if starts.size == 0:
        return peaks
    # The top ends where the value next changes; it is a peak if it then falls.
    stops = np.append(np.flatnonzero(same[:-1] & ~same[1:]) + 1, n - 1)
    ends = stops[np.searchsorted(stops, starts, side="right")]
    is_peak = falls[ends]
    return sorted_union(peaks, (starts[is_peak] + ends[is_peak]) // 2)


def sorted_union(a: IntArray, b: IntArray) -> IntArray:
    """``np.union1d`` of two integer arrays (numpy 2's hashing version is slow here)."""
    merged = np.sort(np.concatenate([a, b]))
    if merged.size > 1:
        merged = merged[np.concatenate([[True], merged[1:] != merged[:-1]])]
    return merged


def windows(
    centres: IntArray, half: int, n: int, *, step: int = 1, across: bool = False
) -> IntArray:
    """``(len(centres), 2*half+1)`` sample indices around each centre, clipped to [0, n).

    ``step`` keeps every ``step``-th column (from the first). With ``across``, the
    transpose (C-contiguous): faster when the windows are then combined sample by
    sample across all centres.
    """
    offsets = np.arange(-half, half + 1, step)
    index = offsets[:, None] + centres[None, :] if across else centres[:, None] + offsets[None, :]
    if centres.size and (centres.min() < half or centres.max() >= n - half):
        np.clip(index, 0, n - 1, out=index)
    return index


def refine_peaks(
    signal: FloatArray,
    bandpassed: FloatArray,
    peaks: IntArray,
    sampling_rate: float,
    *,
    q: int = 1,
    band_window: float = 0.075,
    raw_window: float = 0.04,
    min_distance: float = 0.1,
) -> IntArray:
    """Move detections onto the R extremum: first on the band-passed, then on the input.

    Args:
        signal: one lead of the input at the full rate ``q * sampling_rate``.
        bandpassed: the same lead band-passed, at ``sampling_rate`` (after
            :func:`decimate` by ``q``).
        peaks: detections, in samples of ``bandpassed``.
        sampling_rate: rate of ``bandpassed`` and ``peaks`` (Hz).
        q: decimation factor between ``signal`` and ``bandpassed``.
        band_window: each peak first moves to the largest ``|bandpassed|`` within this
            many seconds ...
        raw_window: ... then to the dominant extremum of the input (largest deviation,
            up or down, from the local baseline: the median of the surrounding 0.3 s,
            sampled every 20 ms)
            within this many seconds. Inverted or mostly negative QRS complexes
            therefore land on their negative peak.
        min_distance: of two refined peaks closer than this (s), the lower goes.

    Returns:
        Sorted unique peak indices in samples of ``signal``.
    """
    if peaks.size == 0:
        return peaks.astype(np.int64)
    win = windows(peaks, samples(band_window, sampling_rate), bandpassed.shape[0])
    rows = np.arange(len(peaks))
    coarse = win[rows, np.argmax(np.abs(bandpassed[win]), axis=1)] * q + q // 2
    full_rate = sampling_rate * q
    n = signal.shape[0]
    coarse = np.minimum(coarse, n - 1)
    base_win = windows(coarse, samples(0.15, full_rate), n, step=samples(0.02, full_rate))
    win = windows(coarse, samples(raw_window, full_rate), n)
    around, seg = signal[base_win], signal[win]
    scale = max(float(np.abs(around).max()), float(np.abs(seg).max()), 1e-300)
    seg /= scale
    seg -= _row_medians(around / scale)[:, None]  # no overflow
    up = np.argmax(seg, axis=1)
    down = np.argmin(seg, axis=1)
    pick = np.where(seg[rows, up] >= -seg[rows, down], up, down)
    refined = win[rows, pick].astype(np.int64)
    height = np.abs(seg[rows, pick])
    return _keep_apart(refined, height, samples(min_distance, full_rate))


def _row_medians(values: FloatArray) -> FloatArray:
    """``np.median(values, axis=1)`` (the same numbers), faster for short rows."""
    ordered = np.sort(values, axis=1)
    mid = values.shape[1] // 2
    if values.shape[1] % 2:
        return ordered[:, mid]
    return (ordered[:, mid - 1] + ordered[:, mid]) / 2.0


def _keep_apart(peaks: IntArray, height: FloatArray, distance: int) -> IntArray:
    """Sorted unique ``peaks`` with the lower of any two closer than ``distance`` dropped."""
    order = np.argsort(peaks, kind="stable")
    peaks, height = peaks[order], height[order]
    while peaks.size > 1:
        close = np.flatnonzero(np.diff(peaks) < distance)
        if close.size == 0:
            break
        k = close[0]
        drop = k if height[k] < height[k + 1] else k + 1
        peaks, height = np.delete(peaks, drop), np.delete(height, drop)
    return peaks


def best_lead(bandpassed: FloatArray, peaks: IntArray, sampling_rate: float) -> int:
    """The lead whose band-passed QRS complexes stand highest above its background."""
    if bandpassed.shape[1] == 1 or peaks.size == 0:
        return 0
    n = bandpassed.shape[0]
    win = windows(peaks, samples(0.05, sampling_rate), n)
    qrs = np.median(np.max(np.abs(bandpassed[win]), axis=1), axis=0)
    background = np.array(
        [quantile(np.abs(bandpassed[:, lead]), 0.5) for lead in range(bandpassed.shape[1])]
    )
    snr = qrs / np.maximum(background, 1e-12 * np.maximum(qrs, 1e-300))
    return int(np.argmax(snr))


def nearest_median(
    positions: IntArray,
    values: FloatArray,
    at: IntArray | None,
    k: int,
    *,
    before: IntArray | None = None,
) -> FloatArray:
    """Median of ``values`` at the ``k`` ``positions`` (sorted) around each of ``at``.

    A running median over ``values`` (two rank filters: the mean of the middle pair
    for even ``k``), read at the centre of each point's window. ``at=None`` means at
    the positions themselves; ``before`` may give ``np.searchsorted(positions, at)``
    when the caller has it for less (e.g. from a mask: ``np.cumsum(mask) - mask``).
    """
    if before is not None:
        start = before.astype(np.intp, copy=True)
    elif at is None:
        start = np.arange(len(positions))
    else:
        start = np.searchsorted(positions, at)
    k = min(k, len(positions))
    if k == 0:
        return np.zeros(len(start))
    start -= k // 2
    np.clip(start, 0, len(positions) - k, out=start)
    start += k // 2
    upper = running_rank(values, k // 2, k)
    if k % 2 == 0:
        upper = 0.5 * (upper + running_rank(values, k // 2 - 1, k))
    return upper[start]


def running_rank(values: np.ndarray, rank: int, size: int) -> np.ndarray:
    """``scipy.ndimage.rank_filter(values, rank=rank, size=size, mode="nearest")``.

    For 1-D int64 or float64 arrays scipy's compiled 1-D kernel is called directly:
    the public wrapper's checks cost half as much again as the filtering here.
    """
    fast = (
        _RANK_FILTER_1D is not None
        and values.ndim == 1
        and values.dtype in (np.int64, np.float64)
        and values.flags.c_contiguous
        and 0 < rank < size - 1  # scipy uses minimum/maximum filters at the ends
        and size <= values.size
    )
    if not fast:
        return rank_filter(values, rank=rank, size=size, mode="nearest")
    out = np.empty_like(values)
    _RANK_FILTER_1D(values, rank, size, out, _NEAREST, values.dtype.type(0), 0)
    return out
