"""ECG signal quality per window: the evidence (SQIs) and a three-level label.

Each window (default 10 s) of each lead gets five signal-quality indices:

- ``bsqi``: agreement of two R-peak detectors, matched / (n1 + n2 - matched) within
  150 ms (Li et al. 2008): the given (or default-detected) peaks against a second
  detector run on the lead (Pan & Tompkins by default);
- ``tsqi``: median correlation of the beats with the window's median beat (after
  Orphanidou et al. 2015, who use means; medians ignore a minority of ectopic beats);
- ``ksqi``: Pearson kurtosis of the band-passed lead (a clean ECG is peaky: > 5);
- ``psqi``: power 5-15 Hz / 5-40 Hz (QRS energy against muscle noise);
- ``bassqi``: 1 - power 0-1 Hz / 0-40 Hz (baseline wander);
- ``snr_db``: the estimated signal-to-noise ratio in dB, as the MIT-BIH Noise Stress
  Test Database defines it (QRS peak-to-peak size against the per-second RMS of what is
  left once each beat's running template is subtracted; see
  :mod:`medmodal.ecg.snr`).

Grading (Zhao & Zhang 2018, plus the template index): each index is *optimal*,
*suspicious* or *unqualified*: bSQI >= 0.9 / >= 0.6; tSQI >= 0.9 / >= 0.66 (Orphanidou's
acceptance threshold); kSQI > 5 / - ; pSQI in (0.5, 0.8) / (0.4, 0.5] (at >= 130 bpm:
(0.4, 0.7) / (0.3, 0.4]; above the band is suspicious); basSQI >= 0.95 / >= 0.9.

A window is **unacceptable** when it fails a feasibility gate (a flat lead, fewer than 2
beats, a heart rate outside 24-300 bpm, or more than 3 s without a beat; after
Orphanidou et al.), when its estimated SNR is under 10 dB (noise that size makes
detectors miss and invent beats: see ``benchmarks/results/ecg_noise.md``), or when its
indices are doubtful - two unqualified, one unqualified and two suspicious, or three
suspicious (Zhao's three-index rule extended to five) - unless the beats are evidently
readable: two detectors agree on them (bSQI optimal) and they either have a consistent
shape (tSQI optimal) or stand at least 18 dB above the residual noise. Wide (paced,
bundle-branch) complexes, bigeminy or a smooth spectrum do not refute such evidence. A window is
**excellent** with no unqualified index and at least four optimal ones, otherwise
**acceptable**. With several leads, each window reports its best lead (the beats are
fused across leads, so one good lead suffices).

Example:
    >>> from medmodal.ecg.simulate import ecg_simulate
    >>> from medmodal.ecg.quality import ecg_quality
    >>> q = ecg_quality(ecg_simulate(30, 250, seed=1), 250)
    >>> q.label, q.overall
    (('excellent', 'excellent', 'excellent'), 'excellent')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from medmodal.ecg import _quality_sqi as sqi
from medmodal.ecg._validate import CheckedSignal, as_peaks, as_signal, check_sampling_rate
from medmodal.ecg._windows import WindowedLabels, check_window, window_bounds
from medmodal.errors import InvalidSignalError
from medmodal.types import ArrayLike, FloatArray, IntArray

#: Labels from best to worst.
LABELS = ("excellent", "acceptable", "unacceptable")
#: Feasibility gates: plausible heart rate (bpm) and the longest gap between beats (s).
HR_RANGE = (24.0, 300.0)
MAX_GAP_S = 3.0
#: Estimated SNR (dB) under which a window is unacceptable, and from which its beats count
#: as readable whatever the spectral and template indices say (when bSQI is optimal).
SNR_UNACCEPTABLE, SNR_READABLE = 10.0, 18.0
INDICES = ("bsqi", "tsqi", "ksqi", "psqi", "bassqi", "snr_db")


@dataclass(frozen=True, eq=False)
class Quality(WindowedLabels):
    """Signal quality per window (arrays have one entry per window).

    Attributes:
        start_s, end_s: window bounds in seconds.
        label: ``"excellent"``, ``"acceptable"`` or ``"unacceptable"``.
        reason: why the window is not excellent (empty string when it is).
        lead: index of the lead whose evidence is reported (the best one).
        n_beats: R peaks in the window; heart_rate_bpm: ``60 * n_beats / duration``.
        max_gap_s: longest beat-to-beat gap overlapping the window.
        bsqi, tsqi, ksqi, psqi, bassqi, snr_db: the indices (see the module docstring).
        window_s: requested window length.
    """

    LABELS: ClassVar[tuple[str, ...]] = LABELS

    lead: IntArray
    n_beats: IntArray
    heart_rate_bpm: FloatArray
    max_gap_s: FloatArray
    bsqi: FloatArray
    tsqi: FloatArray
    ksqi: FloatArray
    psqi: FloatArray
    bassqi: FloatArray
    snr_db: FloatArray

    @property
    def overall(self) -> str:
        """The best label that at least half of the recording's time reaches."""
        reached = 0.0
        for lab in LABELS:
            reached += self.fractions[lab]
            if reached >= 0.5:
                return lab
        return LABELS[-1]


def ecg_quality(
    signal: ArrayLike,
    sampling_rate: float,
    *,
    peaks: ArrayLike | None = None,
    window: float = 10.0,
    cleaned: ArrayLike | None = None,
    detector: str = "pantompkins1985",
) -> Quality:
    """Rate the quality of an ECG window by window.

    Args:
        signal: the ECG as recorded (not band-passed: baseline wander is part of the
            evidence), ``(n_samples,)`` or ``(n_samples, n_leads)``. Flat signals and
            flat stretches are allowed: they are rated unacceptable.
        sampling_rate: Hz.
        peaks: R peaks (fused over leads); detected with the default
            :func:`medmodal.ecg.peaks.ecg_peaks` when None.
        window: window length in seconds (>= 2; a remainder shorter than half a window
            joins the last window).
        cleaned: the band-passed signal if already computed (same shape as
            ``signal``; saves a :func:`medmodal.ecg.clean.ecg_clean` call).
        detector: the second R-peak detector for bSQI; it should differ from the one
            that produced ``peaks``.

    Returns:
        A :class:`Quality`.

    Raises:
        InvalidSignalError / InvalidParameterError: bad signal, peaks, window, cleaned
            signal or detector name.

    Example:
        >>> from medmodal.ecg.simulate import ecg_simulate
        >>> ecg = ecg_simulate(30, 250, seed=2)
        >>> ecg[2500:5000] = 0.0  # the electrode comes off for 10 s
        >>> q = ecg_quality(ecg, 250)
        >>> q.label[1], q.reason[1].split(";")[0], q.overall
        ('unacceptable', 'flat signal', 'excellent')

    References:
        Li Q, Mark RG, Clifford GD. Robust heart rate estimation from multiple
        asynchronous noisy sources using signal quality indices and a Kalman filter.
        Physiol Meas 29(1):15-32 (2008).
        Orphanidou C et al. Signal-quality indices for the electrocardiogram and
        photoplethysmogram: derivation and applications to wireless monitoring. IEEE J
        Biomed Health Inform 19(3):832-838 (2015).
        Zhao Z, Zhang Y. SQI quality evaluation mechanism of single-lead ECG signal
        based on simple heuristic fusion and fuzzy comprehensive evaluation. Front
        Physiol 9:727 (2018).
    """
    func = "ecg_quality"
    rate = check_sampling_rate(sampling_rate, func=func)
    window_s = check_window(window, func=func)
    checked = as_signal(signal, rate, func=func, allow_flat=True)
    usable = _usable(checked)
    band = _cleaned(checked.data, rate, usable, cleaned, func=func)
    beats = _peaks(checked.data, rate, usable, peaks, func=func)
    return _grade_windows(checked, rate, band, beats, window_s, detector)


def _quality_unchecked(
    checked: CheckedSignal,
    sampling_rate: float,
    *,
    peaks: IntArray,
    cleaned: FloatArray,
    window: float = 10.0,
    detector: str = "pantompkins1985",
) -> Quality:
    """:func:`ecg_quality` of a signal already validated (by the caller's ``as_signal``)
    with its R peaks and its band-passed ``(n_samples, n_leads)`` signal, both produced
    by medmodal on it. For pipelines that validate once."""
    window_s = check_window(window, func="ecg_quality")
    return _grade_windows(checked, sampling_rate, cleaned, peaks, window_s, detector)


def _usable(checked: CheckedSignal) -> list[int]:
    return [lead for lead in range(checked.n_leads) if lead not in checked.flat_leads]


def _grade_windows(
    checked: CheckedSignal,
    rate: float,
    band: FloatArray,
    beats: IntArray,
    window_s: float,
    detector: str,
) -> Quality:
    """Grade every window of a validated signal from its evidence (the best lead wins)."""
    usable = _usable(checked)
    starts, stops = window_bounds(checked.n_samples, rate, window_s, func="ecg_quality")
    gaps, counts = sqi.max_gaps(beats, starts, stops)
    duration = (stops - starts) / rate
    hr = 60.0 * counts / duration
    per_lead: list[dict[str, FloatArray] | None] = [None] * checked.n_leads
    graded = [_grade(None, hr, gaps / rate, counts) for _ in range(checked.n_leads)]
    top = np.full(starts.size, -np.inf)  # the best rank so far, per window
    # Ties go to the first lead, so a lead that cannot rank above the leads before it
    # in any window is not measured further: the same result, less work. A lead ranked
    # TOP_RANK everywhere ends the search; otherwise each lead's cheap indices bound its
    # rank before the beat agreement (a second detector) and the noise index are taken.
    for k in usable:
        if (top >= TOP_RANK).all():
            break
        raw_k, band_k = _column(checked.data, k), _column(band, k)
        cheap = _cheap_evidence(raw_k, band_k, beats, rate, starts, stops)
        if (_rank_bound(cheap, hr) <= top).all():
            continue  # keeps a flat lead's rank (-1): never the best
        ev = cheap | _costly_evidence(raw_k, band[:, [k]], beats, rate, starts, stops, detector)
        per_lead[k] = ev
        graded[k] = _grade(ev, hr, gaps / rate, counts)
        top = np.maximum(top, graded[k][0])
    best = np.argmax(np.stack([g[0] for g in graded]), axis=0)
    pick = np.arange(starts.size)
    evidence = {
        name: np.stack([_values(ev, name, starts.size) for ev in per_lead])[best, pick]
        for name in INDICES
    }
    return Quality(
        start_s=starts / rate,
        end_s=stops / rate,
        label=tuple(graded[b][1][i] for i, b in enumerate(best)),
        reason=tuple(graded[b][2][i] for i, b in enumerate(best)),
        lead=best.astype(np.int64),
        n_beats=counts.astype(np.int64),
        heart_rate_bpm=hr,
        max_gap_s=gaps / rate,
        window_s=window_s,
        **evidence,
    )


#: The highest rank :func:`_grade` gives: an excellent window (200) with all five
#: indices optimal (2 each).
TOP_RANK = 210.0


def _column(data: FloatArray, k: int) -> FloatArray:
    """Lead ``k`` as a contiguous 1-D array (strided columns slow every pass down)."""
    return np.ascontiguousarray(data[:, k])


def _cleaned(
    data: FloatArray, rate: float, usable: list[int], cleaned: ArrayLike | None, *, func: str
) -> FloatArray:
    if cleaned is not None:
        band = np.asarray(cleaned, dtype=np.float64)
        band = band[:, None] if band.ndim == 1 else band
        if band.shape != data.shape or not np.isfinite(band).all():
            raise InvalidSignalError(
                f"{func}: cleaned must be finite and shaped like the signal "
                f"{data.shape}, got {band.shape}"
            )
        return band
    from medmodal.ecg.clean import ecg_clean

    band = np.zeros_like(data)
    if usable:
        band[:, usable] = ecg_clean(data[:, usable], rate)
    return band


def _peaks(
    data: FloatArray, rate: float, usable: list[int], peaks: ArrayLike | None, *, func: str
) -> IntArray:
    if peaks is not None:
        return as_peaks(peaks, func=func, n_samples=data.shape[0])
    if not usable:
        return np.zeros(0, dtype=np.int64)
    from medmodal.ecg.peaks import ecg_peaks

    return ecg_peaks(data[:, usable], rate)


def _cheap_evidence(
    raw: FloatArray,
    band: FloatArray,
    beats: IntArray,
    rate: float,
    starts: IntArray,
    stops: IntArray,
) -> dict[str, FloatArray]:
    """The indices of one lead that cost little: pSQI, basSQI, kSQI, tSQI, flatness."""
    psqi, bassqi = sqi.spectral_sqi(raw, rate, starts, stops)
    ksqi = sqi.kurtosis(band, starts, stops)
    owner = np.searchsorted(stops, beats, side="right")
    tsqi = sqi.template_sqi(band, beats, rate, owner, starts.size)
    flat = sqi.flat_windows(raw, starts)
    return {"psqi": psqi, "bassqi": bassqi, "ksqi": ksqi, "tsqi": tsqi, "flat": flat}


def _costly_evidence(
    raw: FloatArray,
    band: FloatArray,
    beats: IntArray,
    rate: float,
    starts: IntArray,
    stops: IntArray,
    detector: str,
) -> dict[str, FloatArray]:
    """bSQI (agreement with a second detector) and the SNR of one lead (``band`` is
    ``(n_samples, 1)``)."""
    from medmodal.ecg.peaks import DETECTORS

    second = np.unique(DETECTORS.get(detector)(raw[:, None], rate))  # raw is validated
    bsqi = sqi.beat_agreement(beats, second, rate, stops)
    return {"bsqi": bsqi, "snr_db": sqi.snr_sqi_leads(band, beats, rate, starts, stops)[0]}


def _rank_bound(cheap: dict[str, FloatArray], hr: FloatArray) -> FloatArray:
    """The highest rank :func:`_grade` can give a lead whose cheap indices are known:
    excellent (200) only while none of them is unqualified, else acceptable (100),
    plus their classes and an optimal bSQI (2)."""
    known = _classes(cheap | {"bsqi": np.full(hr.size, np.nan)}, hr)
    del known["bSQI"]
    stacked = np.stack(list(known.values()))
    label = np.where((stacked == 0).any(axis=0), 100.0, 200.0)
    return label + stacked.sum(axis=0) + 2.0


def _values(evidence: dict[str, FloatArray] | None, name: str, n: int) -> FloatArray:
    return np.full(n, np.nan) if evidence is None else evidence[name]


def _classes(ev: dict[str, FloatArray], hr: FloatArray) -> dict[str, IntArray]:
    """Per index: 2 optimal, 1 suspicious, 0 unqualified (NaN is unqualified)."""
    fast = hr >= 130
    lo, hi, floor = np.where(fast, 0.4, 0.5), np.where(fast, 0.7, 0.8), np.where(fast, 0.3, 0.4)
    p = ev["psqi"]
    with np.errstate(invalid="ignore"):
        return {
            "bSQI": np.select([ev["bsqi"] >= 0.9, ev["bsqi"] >= 0.6], [2, 1], 0),
            "tSQI": np.select([ev["tsqi"] >= 0.9, ev["tsqi"] >= 0.66], [2, 1], 0),
            "kSQI": np.where(ev["ksqi"] > 5, 2, 0),
            # Above the band the spectrum is unusually smooth (wide QRS, low-pass
            # recorder), not noisy: suspicious, where Zhao & Zhang call it unqualified.
            "pSQI": np.select(
                [(p > lo) & (p < hi), (p > floor) & (p <= lo) | (p >= hi)], [2, 1], 0
            ),
            "basSQI": np.select([ev["bassqi"] >= 0.95, ev["bassqi"] >= 0.9], [2, 1], 0),
        }


def _grade(
    ev: dict[str, FloatArray] | None, hr: FloatArray, gaps_s: FloatArray, counts: IntArray
) -> tuple[FloatArray, list[str], list[str]]:
    """(rank for choosing the best lead, labels, reasons) per window of one lead."""
    n = hr.size
    if ev is None:
        return np.full(n, -1.0), [LABELS[2]] * n, ["flat lead"] * n
    classes = _classes(ev, hr)
    stacked = np.stack(list(classes.values()))
    n_opt, n_susp, n_unq = ((stacked == c).sum(axis=0) for c in (2, 1, 0))
    labels, reasons = [], []
    for i in range(n):
        snr = float(ev["snr_db"][i])
        gate = _gate(bool(ev["flat"][i]), int(counts[i]), float(hr[i]), float(gaps_s[i]), snr)
        bad = [k for k, v in classes.items() if v[i] == 0]
        doubtful = [k for k, v in classes.items() if v[i] == 1]
        beats_ok = classes["bSQI"][i] == 2 and (classes["tSQI"][i] == 2 or snr >= SNR_READABLE)
        doubtful_signal = n_unq[i] >= 2 or (n_unq[i] == 1 and n_susp[i] >= 2) or n_susp[i] >= 3
        if gate or (doubtful_signal and not beats_ok):
            labels.append(LABELS[2])
        elif n_unq[i] == 0 and n_opt[i] >= 4:
            labels.append(LABELS[0])
        else:
            labels.append(LABELS[1])
        parts = [gate] if gate else []
        parts += [f"unqualified {', '.join(bad)}"] if bad else []
        parts += [f"suspicious {', '.join(doubtful)}"] if doubtful else []
        reasons.append("; ".join(parts))
    rank = np.array([2 - LABELS.index(lab) for lab in labels]) * 100.0 + stacked.sum(axis=0)
    return rank, labels, reasons


def _gate(flat: bool, count: int, hr: float, gap_s: float, snr_db: float) -> str:
    if flat:
        return "flat signal"
    if count < 2:
        return f"{count} beat(s) in the window"
    if not HR_RANGE[0] <= hr <= HR_RANGE[1]:
        return f"heart rate {hr:.0f} bpm outside {HR_RANGE[0]:g}-{HR_RANGE[1]:g}"
    if gap_s > MAX_GAP_S:
        return f"no beat for {gap_s:.1f} s"
    if snr_db < SNR_UNACCEPTABLE:
        return f"estimated SNR {snr_db:.0f} dB"
    return ""
