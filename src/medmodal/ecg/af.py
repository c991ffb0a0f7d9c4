"""Atrial fibrillation from R peaks (and P waves): episodes, burden, per-window labels.

``ecg_af`` marks every RR interval AF-like or not with the chosen method (registry
below), joins AF-like intervals into episodes (gaps under :data:`MERGE_GAP_S` closed,
20 s for the default method; episodes under :data:`MIN_EPISODE_S` dropped: the clinical
30 s definition) and labels
each window ``"af"`` when episodes cover at least half of it, ``"not_af"`` otherwise, or
``"unknown"`` with the reason when the window (or the whole recording) has too few
beats to judge, or (default method) too few usable intervals: pauses, premature beats
with their compensatory pause and, with a signal, beats unlike the dominant QRS shape
(ectopic, paced-fusion or noisy beats) are no AF evidence, and AF-like stretches whose
atrial activity (after QRS-T cancellation) is organised, as in atrial flutter with
variable conduction, are not AF (:mod:`medmodal.ecg._af.atrial`). Short, noisy or odd
input never raises.

Validation on the MIT-BIH rhythm annotations (EC57 AF statistics, development and check
halves stated): ``benchmarks/ecg_af.py`` -> ``benchmarks/results/ecg_af.md``.

Example:
    >>> from medmodal.ecg.simulate import ecg_simulate_annotated
    >>> from medmodal.ecg.af import ecg_af
    >>> sim = ecg_simulate_annotated(120, 250, rhythm="afib", seed=0)
    >>> res = ecg_af(sim.r_peaks, 250, signal=sim.signal)
    >>> res.overall, res.burden_pct > 90
    ('af', True)
    >>> ecg_af([100, 300, 500], 250).label
    ('unknown',)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from medmodal.ecg._af import atrial, cosen, episodes, irregularity, morphology
from medmodal.ecg._validate import as_peaks, as_signal, check_sampling_rate
from medmodal.ecg._windows import WindowedLabels, check_window, window_bounds
from medmodal.ecg.delineate import ecg_delineate
from medmodal.errors import InvalidParameterError
from medmodal.registry import Registry
from medmodal.types import ArrayLike, BoolArray, FloatArray, IntArray

__all__ = ["AF_METHODS", "LABELS", "AFResult", "available_methods", "ecg_af"]

LABELS = ("af", "not_af", "unknown")
#: The overall label in words, as :meth:`AFResult.summary` gives it.
OVERALL_NAMES = {"af": "atrial fibrillation", "not_af": "none", "unknown": "unknown"}
#: Fewest RR intervals in a recording for any AF decision (one 12-beat COSEn segment).
MIN_INTERVALS = episodes.MIN_INTERVALS
#: Windows, episodes: see :mod:`medmodal.ecg._af.episodes`.
MIN_WINDOW_INTERVALS = episodes.MIN_WINDOW_INTERVALS
MIN_EPISODE_S = episodes.MIN_EPISODE_S
MERGE_GAP_S = episodes.MERGE_GAP_S
#: RR intervals outside this range (s) are gaps in detection (missed or extra beats),
#: never AF.
RR_RANGE_S = (0.2, 3.0)

#: An AF method: ``(RR intervals (s), P wave before each interval's end beat or None,
#: QRS unlike the dominant shape per beat or None) -> AF-like flag per interval``.
AFMethod = Callable[[FloatArray, BoolArray | None, BoolArray | None], BoolArray]

#: The AF detectors that ``ecg_af(..., method=...)`` accepts.
AF_METHODS: Registry[AFMethod] = Registry("AF detection method")
AF_METHODS.add(
    "irregularity",
    irregularity.detect,
    aliases=("default",),
    description="ours: median |ΔRR| and (RR, ΔRR) dispersion of 64-interval windows "
    "normalised by their median RR, without pauses, premature-beat/compensatory-pause "
    "pairs and (when ``signal`` is given) beats unlike the dominant QRS shape, plus, when "
    "``signal`` is given, the absence of P waves and of organised atrial activity "
    "(flutter) (thresholds chosen on a MIT-BIH development half, "
    "benchmarks/results/ecg_af.md)",
)
AF_METHODS.add(
    "cosen",
    cosen.detect,
    aliases=("lake2011", "coefficient-of-sample-entropy"),
    description="the coefficient of sample entropy of Lake & Moorman (2011) on 12-beat "
    "segments, threshold -1.4 (RR only)",
)


def available_methods() -> tuple[str, ...]:
    """Canonical names of the registered AF methods (``"default"`` is an alias)."""
    return AF_METHODS.names()


@dataclass(frozen=True, eq=False)
class AFResult(WindowedLabels):
    """AF per window, the AF episodes and the burden.

    Attributes:
        start_s, end_s, label, reason: the windows (``label`` one of ``LABELS``).
        af_fraction: share of each window inside AF episodes.
        n_intervals: RR intervals ending in each window.
        window_s: requested window length.
        episode_start_s, episode_end_s: AF episodes in seconds (keyword-only).
        burden_pct: time in AF episodes, % of the recording.
        method: canonical method name.
        used_p_waves: whether P waves were examined (a signal was given to a method that
            uses them).
    """

    LABELS: ClassVar[tuple[str, ...]] = LABELS

    af_fraction: FloatArray
    n_intervals: IntArray
    episode_start_s: FloatArray = field(kw_only=True)
    episode_end_s: FloatArray = field(kw_only=True)
    burden_pct: float = field(kw_only=True)
    method: str = field(kw_only=True)
    used_p_waves: bool = field(kw_only=True)

    _EPISODE_FIELDS: ClassVar[tuple[str, ...]] = (
        "window_s",
        "episode_start_s",
        "episode_end_s",
        "burden_pct",
        "method",
        "used_p_waves",
    )

    @property
    def overall(self) -> str:
        """``"af"`` when any AF episode was found, ``"unknown"`` when no window could be
        judged, else ``"not_af"``."""
        if self.episode_start_s.size:
            return "af"
        return "unknown" if all(lab == "unknown" for lab in self.label) else "not_af"

    @property
    def n_episodes(self) -> int:
        """Number of AF episodes."""
        return int(self.episode_start_s.size)

    def summary(self) -> dict[str, Any]:
        """The ``atrial_fibrillation`` block of :meth:`ECGResult.summary
        <medmodal.ecg.process.ECGResult.summary>`.

        Keys: ``label`` (``"atrial fibrillation"``, ``"none"`` or ``"unknown"``),
        ``overall`` (``"af"``/``"not_af"``/``"unknown"``), ``burden_pct``,
        ``n_episodes``, ``episodes`` (``start_s``/``end_s``), ``method``,
        ``used_p_waves`` and ``reason`` (why the record could not be judged; ``""``
        otherwise).

        Example:
            >>> sinus = np.cumsum(np.full(150, 200)).astype(int)
            >>> block = ecg_af(sinus, 250).summary()
            >>> block["label"], block["burden_pct"], block["n_episodes"]
            ('none', 0.0, 0)
        """
        overall = self.overall
        return {
            "label": OVERALL_NAMES[overall],
            "overall": overall,
            "burden_pct": float(self.burden_pct),
            "n_episodes": self.n_episodes,
            "episodes": [
                {"start_s": float(a), "end_s": float(b)}
                for a, b in zip(self.episode_start_s, self.episode_end_s, strict=True)
            ],
            "method": self.method,
            "used_p_waves": bool(self.used_p_waves),
            "reason": str(self.reason[0]) if overall == "unknown" and len(self.reason) else "",
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per window with its label, reason and evidence."""
        names = [f.name for f in fields(self) if f.name not in self._EPISODE_FIELDS]
        return pd.DataFrame({name: getattr(self, name) for name in names})

    def episodes_frame(self) -> pd.DataFrame:
        """One row per AF episode: ``start_s``, ``end_s``, ``duration_s``."""
        return pd.DataFrame(
            {
                "start_s": self.episode_start_s,
                "end_s": self.episode_end_s,
                "duration_s": self.episode_end_s - self.episode_start_s,
            }
        )


def ecg_af(
    peaks: ArrayLike,
    sampling_rate: float,
    *,
    signal: ArrayLike | None = None,
    method: str = "default",
    n_samples: int | None = None,
    window: float = 10.0,
) -> AFResult:
    """Detect atrial fibrillation: episodes, burden and a label per window.

    Methods:
    {methods}

    Args:
        peaks: sorted, unique, non-negative R-peak samples (any number, none included:
            too few give ``"unknown"`` windows with the reason).
        sampling_rate: Hz (any rate: every statistic is relative to the local RR).
        signal: the ECG the peaks come from, ``(n_samples,)`` or ``(n_samples,
            n_leads)``; when given, methods that use P waves delineate it
            (:func:`medmodal.ecg.delineate.ecg_delineate`) and AF needs them absent;
            the default method also sets aside beats whose QRS differs from the
            dominant shape (ectopic, aberrant, fusion or noisy beats) and calls no AF
            where the atrial activity left after QRS-T cancellation is organised
            (atrial flutter: a sharp spectral peak, not a broad fibrillatory hump).
        method: AF method name or alias (see above and :func:`available_methods`).
        n_samples: recording length; defaults to the signal's, else just past the last
            peak.
        window: window length in seconds (>= 2) of the per-window labels.

    Returns:
        An :class:`AFResult`.

    Raises:
        InvalidParameterError: bad peaks, sampling rate, method, ``n_samples`` or
            window, or peaks beyond the signal.
        InvalidSignalError: a signal given but unreadable (not 1-D/2-D numeric, flat).

    Example:
        >>> import numpy as np
        >>> sinus = np.cumsum(np.full(150, 0.8 * 250)).astype(int)
        >>> res = ecg_af(sinus, 250, method="cosen")
        >>> res.overall, res.burden_pct
        ('not_af', 0.0)

    References:
        Lake DE, Moorman JR. Accurate estimation of entropy in very short physiological
        time series: the problem of atrial fibrillation detection in implanted
        ventricular devices. Am J Physiol Heart Circ Physiol 300(1):H319-H325 (2011).
        Lian J, Wang L, Muessig D. A simple method to detect atrial fibrillation using RR
        intervals. Am J Cardiol 107(10):1494-1497 (2011).
        Petrenas A, Marozas V, Sörnmo L. Low-complexity detection of atrial fibrillation
        in continuous long-term monitoring. Comput Biol Med 65:184-191 (2015) (ectopic
        beats set aside before the irregularity measure).
        Everett TH 4th, Kok LC, Vaughn RH, Moorman JR, Haines DE. Frequency domain
        algorithm for quantifying atrial fibrillation organization to increase
        defibrillation efficacy. IEEE Trans Biomed Eng 48(9):969-978 (2001) (the
        organisation index of the flutter veto).
    """
    func = "ecg_af"
    rate = check_sampling_rate(sampling_rate, func=func)
    window_s = check_window(window, func=func)
    name = AF_METHODS.resolve(method)
    detector = AF_METHODS.get(name)
    length = _check_n_samples(n_samples, func=func)
    checked = None if signal is None else as_signal(signal, rate, func=func)
    if length is None and checked is not None:
        length = checked.n_samples
    beats = as_peaks(peaks, func=func, n_samples=length)
    if length is None:
        length = int(beats[-1]) + 1 if beats.size else 1
    uses_p = checked is not None and name == "irregularity" and beats.size > MIN_INTERVALS
    p_present = _p_present(checked.data, rate, beats) if uses_p and checked else None
    data = checked.data if uses_p and checked else None
    return _detect(beats, rate, length, window_s, name, detector, p_present, data)


AF_METHODS.document(ecg_af)


def _af_with_p_waves(
    peaks: IntArray,
    sampling_rate: float,
    *,
    p_present: BoolArray | None,
    n_samples: int,
    window: float,
    signal: FloatArray | None = None,
) -> AFResult:
    """:func:`ecg_af` (default method) on validated peaks, with the P-wave presence per
    beat already known (``p_present[i]``: a P wave before beat ``i``; None: RR only), so
    :func:`~medmodal.ecg.process.ecg_process` reuses its delineation. ``signal``: the
    validated ``(n_samples, n_leads)`` ECG the peaks come from, for the QRS-shape check
    (None: RR and P waves only, as before that check existed)."""
    name = AF_METHODS.resolve("default")
    uses_p = p_present is not None and name == "irregularity"
    before_end = None if p_present is None or not uses_p else np.asarray(p_present[1:], dtype=bool)
    window_s = check_window(window, func="ecg_af")
    data = None
    if signal is not None and name == "irregularity" and peaks.size > MIN_INTERVALS:
        data = np.asarray(signal, dtype=float).reshape(signal.shape[0], -1)
    return _detect(
        peaks, sampling_rate, n_samples, window_s, name, AF_METHODS.get(name), before_end, data
    )


def _detect(
    beats: IntArray,
    rate: float,
    length: int,
    window_s: float,
    name: str,
    detector: AFMethod,
    p_present: BoolArray | None,
    data: FloatArray | None = None,
) -> AFResult:
    """Flag the intervals, group them into episodes and label the windows. ``data``
    (default method only): the ``(n_samples, n_leads)`` ECG for the QRS-shape check and
    the organised-atrial-activity (flutter) veto."""
    rr = np.diff(beats) / rate
    uses_p = p_present is not None and rr.size >= MIN_INTERVALS
    flags = np.zeros(rr.size, dtype=bool)
    usable = None
    if rr.size >= MIN_INTERVALS:
        ours = name == "irregularity" and data is not None
        odd = morphology.odd_beats(data, rate, beats) if ours and data is not None else None
        ok = (rr >= RR_RANGE_S[0]) & (rr <= RR_RANGE_S[1])
        flags = np.asarray(detector(rr, p_present if uses_p else None, odd), dtype=bool) & ok
        if ours and data is not None:
            flags &= ~atrial.organised(data, rate, beats, flags)
        if name == "irregularity":
            usable = irregularity.judgeable(irregularity.usable(rr, odd) & ok)
    gap = irregularity.MERGE_GAP_S if name == "irregularity" else episodes.MERGE_GAP_S
    spans = episodes.episodes(beats, flags, rate, merge_gap_s=gap)
    return _result(beats, rate, length, window_s, spans, name=name, used_p=uses_p, usable=usable)


def _p_present(data: FloatArray, rate: float, beats: IntArray) -> BoolArray:
    """Whether the delineator found a P wave before the beat ending each interval."""
    marks = ecg_delineate(data, rate, peaks=beats)
    return np.asarray(marks.p_peak[1:] >= 0, dtype=bool)


def _result(
    beats: IntArray,
    rate: float,
    length: int,
    window_s: float,
    spans: FloatArray,
    *,
    name: str,
    used_p: bool,
    usable: BoolArray | None = None,
) -> AFResult:
    starts, stops = window_bounds(length, rate, window_s, func="ecg_af")
    verdicts = episodes.window_verdicts(beats, starts, stops, rate, spans, usable)
    return AFResult(
        start_s=starts / rate,
        end_s=stops / rate,
        label=verdicts.labels,
        reason=verdicts.reasons,
        af_fraction=verdicts.fraction,
        n_intervals=verdicts.counts,
        window_s=window_s,
        episode_start_s=spans[:, 0].copy(),
        episode_end_s=spans[:, 1].copy(),
        burden_pct=float(100.0 * (spans[:, 1] - spans[:, 0]).sum() / (length / rate)),
        method=name,
        used_p_waves=used_p,
    )


def _check_n_samples(n_samples: object, *, func: str) -> int | None:
    if n_samples is None:
        return None
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise InvalidParameterError(
            f"{func}: n_samples must be a positive integer or None, got {n_samples!r}"
        )
    return int(n_samples)
