"""Beat-synchronous median: each beat replaced by the median of its similar neighbours.

Clinical electrocardiographs measure intervals on a median beat, not on single beats:
the median of the beats aligned at their R peaks keeps what repeats (P, QRS and T
waves) and drops what does not (noise, baseline wander, a stray bump that would be
taken for a T wave in one beat and not the next). Here every beat gets its own running
median, over itself and up to ``neighbours`` beats on each side, so that slow changes of
the rhythm or the ST-T segment are followed.

Beats are aligned first: each R peak is moved by at most ``MAX_SHIFT`` to where its QRS
best matches the record's median QRS on this lead (R peaks found on another lead sit a
sample or two off, which would blur the median; Jané et al. 1991). Only *typical* beats
enter the medians and are replaced: a beat whose QRS correlates at least ``min_corr``
with the record's median QRS there. Ventricular and other atypical beats keep their own
waveform and stay out of their neighbours' medians; so do beats with fewer than
``min_members`` typical beats around them.

Each beat owns the samples from ``SPLIT`` of the way through the RR interval before it
(the T-P segment) to ``SPLIT`` of the way through the one after it, and these samples are
the ones replaced, so the result is one continuous signal that any single-lead
delineator reads as before.

References:
    Kligfield P, Gettes LS, Bailey JJ, et al. Recommendations for the standardization and
    interpretation of the electrocardiogram, part I. Circulation 115(10):1306-1324
    (2007) (intervals measured on a representative, median beat).
    Jané R, Rix H, Caminal P, Laguna P. Alignment methods for averaging of
    high-resolution cardiac signals: a comparative study of performance. IEEE Trans
    Biomed Eng 38(6):571-579 (1991).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from medmodal.types import BoolArray, FloatArray, IntArray

#: A beat owns its samples up to this share of the RR interval after it (the rest
#: belongs to the next beat): past the T wave and before the next P wave at normal rates.
SPLIT = 0.7
#: Longest span (s) a beat owns before / after its R peak (longer pauses keep the rest).
MAX_BEFORE, MAX_AFTER = 0.8, 1.0
#: Half-width (s) of the QRS stretch compared with the record's median QRS.
QRS_HALF = 0.06
#: Largest shift (s) of a beat to align its QRS with the record's median QRS.
MAX_SHIFT = 0.012
#: Beats on each side in a running median (11 beats: about 10 s at 60 bpm, the length
#: of a standard ECG that electrocardiographs form their median beat from).
NEIGHBOURS = 5
#: Fewest typical beats in a median; a typical beat's QRS correlates at least MIN_CORR
#: with the record's median QRS.
MIN_MEMBERS, MIN_CORR = 3, 0.9
#: Beats per block when forming the medians (bounds memory on long records).
CHUNK = 256


def _median_ignoring_nan(stack: FloatArray) -> FloatArray:
    """Median over the last axis, NaN ignored (NaN where all are); sort-based, fast."""
    ordered = np.sort(stack, axis=-1)  # NaN sort last
    count = np.isfinite(stack).sum(axis=-1)
    lo = np.take_along_axis(ordered, np.maximum(count - 1, 0)[..., None] // 2, axis=-1)
    hi = np.take_along_axis(ordered, (count // 2)[..., None], axis=-1)
    out = 0.5 * (lo[..., 0] + hi[..., 0])
    return np.where(count > 0, out, np.nan)


def _qrs_stretch(x: FloatArray, centre: IntArray, half: int) -> FloatArray:
    """(K, 2 half + 1) samples around each centre, NaN outside the record."""
    idx = centre[:, None] + np.arange(-half, half + 1)[None, :]
    inside = (idx >= 0) & (idx < x.size)
    return np.where(inside, x[np.clip(idx, 0, x.size - 1)], np.nan)


def _correlation(seg: FloatArray, ref: FloatArray) -> FloatArray:
    """Pearson correlation of each row of ``seg`` with ``ref`` (0 where undefined)."""
    a = seg - np.nanmean(seg, axis=1, keepdims=True)
    b = ref - np.nanmean(ref)
    num = np.nansum(a * b, axis=1)
    den = np.sqrt(np.nansum(a * a, axis=1) * np.nansum(b * b))
    out = np.divide(num, den, out=np.zeros(seg.shape[0]), where=den > 0)
    return np.where(np.isfinite(seg).all(axis=1), out, 0.0)


def align_beats(
    x: FloatArray, r: IntArray, rate: float, min_corr: float
) -> tuple[IntArray, BoolArray]:
    """Each beat's position on this lead and whether it is typical.

    The R peaks are shifted by up to ``MAX_SHIFT`` to where the beat's QRS best matches
    the record's median QRS (peaks found on another lead, or on a noisy sample, sit a
    sample or two off, which would blur the median); typical beats correlate at least
    ``min_corr`` with it there.
    """
    half, shift = max(1, round(QRS_HALF * rate)), round(MAX_SHIFT * rate)
    ref = np.nanmedian(_qrs_stretch(x, r, half), axis=0)
    lags = np.arange(-shift, shift + 1)
    # Every (beat, lag) stretch as one row: the same row-wise numbers as lag by lag.
    shifted = (r[:, None] + lags[None, :]).ravel()
    corr = _correlation(_qrs_stretch(x, shifted, half), ref).reshape(r.size, lags.size)
    best = np.argmax(corr, axis=1)
    return r + lags[best], np.asarray(corr[np.arange(r.size), best] >= min_corr, dtype=bool)


def median_beats(
    x: FloatArray,
    r: IntArray,
    rate: float,
    *,
    neighbours: int = NEIGHBOURS,
    min_members: int = MIN_MEMBERS,
    min_corr: float = MIN_CORR,
    span: tuple[float, float] = (MAX_BEFORE, MAX_AFTER),
) -> FloatArray:
    """``x`` with every typical beat replaced by its running median beat (see the module).

    Args:
        x: one lead.
        r: R peaks (samples, increasing).
        rate: Hz.
        neighbours: beats on each side in each median.
        min_members: fewest typical beats in a median.
        min_corr: least QRS correlation of a typical beat with the record's median QRS.
        span: at most this long (s) before / after each R peak is replaced (the rest of
            the beat's own samples keep their values): less work where only part of the
            beat is needed.
    """
    if r.size < min_members:
        return x.copy()
    r, typical = align_beats(x, r, rate, min_corr)
    rr = np.maximum(np.diff(r), 1)
    after = np.round(SPLIT * np.append(rr, rr[-1]))
    own_before = np.append(rr[0], rr) - np.append(after[0], after[:-1])
    after = np.minimum(after, span[1] * rate).astype(np.int64)
    before = np.minimum(own_before, span[0] * rate).astype(np.int64)
    offsets = np.arange(-int(before.max()), int(after.max()))
    idx = r[:, None] + offsets[None, :]  # (K, W)
    inside = (idx >= 0) & (idx < x.size)
    members = np.where(inside & typical[:, None], x[np.clip(idx, 0, x.size - 1)], np.nan)
    padded = np.pad(members, ((neighbours, neighbours), (0, 0)), constant_values=np.nan)
    window = sliding_window_view(padded, 2 * neighbours + 1, axis=0)  # (K, W, 2n+1)
    own = (offsets[None, :] >= -before[:, None]) & (offsets[None, :] < after[:, None])
    out = x.copy()
    for lo in range(0, r.size, CHUNK):  # bounded memory on long records
        rows = slice(lo, lo + CHUNK)
        template = _median_ignoring_nan(window[rows])
        count = np.isfinite(window[rows]).sum(axis=-1)
        replace = own[rows] & inside[rows] & typical[rows, None] & (count >= min_members)
        out[idx[rows][replace]] = template[replace]
    return out
