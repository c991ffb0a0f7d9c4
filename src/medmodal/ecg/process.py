"""The ECG pipeline: clean, detect R peaks, rate, HRV, rhythm, quality and delineation.

:func:`ecg_process` runs every step on one recording and returns one typed
:class:`ECGResult`; each step is also a public function of its own. Every clinical
number of the result comes from one place: heart rate and the RR-interval flags from
:mod:`medmodal.ecg.rr`, PR/QRS/QT from :mod:`medmodal.ecg.intervals`, the mains notch
from :mod:`medmodal.ecg.powerline`; :meth:`ECGResult.summary` gathers them for the
command line, the service and the report.

Example:
    >>> from medmodal.ecg.simulate import ecg_simulate
    >>> from medmodal.ecg.process import ecg_process
    >>> ecg = ecg_simulate(30, 250, heart_rate=80, seed=2)
    >>> result = ecg_process(ecg, 250)
    >>> round(result.summary()["heart_rate"]["mean_bpm"])
    80
    >>> result.to_frame().columns[:3].tolist()
    ['time_s', 'ecg_raw', 'ecg_clean']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from medmodal.ecg._validate import CheckedSignal, as_signal, check_sampling_rate
from medmodal.ecg.af import AFResult, _af_with_p_waves, ecg_af
from medmodal.ecg.clean import _clean_unchecked
from medmodal.ecg.delineate import Delineation, _delineate_unchecked
from medmodal.ecg.hrv import HRV, ecg_hrv
from medmodal.ecg.intervals import ClinicalIntervals, choose_interval_lead, ecg_intervals
from medmodal.ecg.peaks import _peaks_unchecked
from medmodal.ecg.powerline import Powerline, resolve_powerline
from medmodal.ecg.quality import Quality, _quality_unchecked
from medmodal.ecg.rate import ecg_rate
from medmodal.ecg.resample import AnalysisPlan, analysis_plan
from medmodal.ecg.rhythm import Rhythm, ecg_rhythm
from medmodal.ecg.rr import RRIntervals, ecg_rr
from medmodal.errors import InvalidParameterError
from medmodal.types import ArrayLike, FloatArray, IntArray

#: Fewest R peaks for HRV (three give two intervals and one successive difference).
MIN_BEATS_HRV = 3
#: Share of irregular-rhythm time from which HRV carries a "not interpretable" note.
HRV_IRREGULAR_SHARE = 0.5


@dataclass(frozen=True, eq=False)
class ECGResult:
    """Everything :func:`ecg_process` measured on one recording.

    Attributes:
        sampling_rate: Hz.
        raw: the validated input, ``(n_samples, n_leads)`` (short NaN gaps filled).
        cleaned: the cleaned signal, same shape.
        lead_names: one name per lead.
        peaks: R-peak sample indices, one fused set over the leads.
        rate_bpm: instantaneous heart rate interpolated to every sample, rates outside
            20-300 bpm bridged over (NaN with < 2 beats).
        hrv: heart-rate variability (None with fewer than 3 beats).
        rhythm: rhythm label per window with its evidence.
        quality: signal quality per window with its evidence.
        delineation: fiducial points per beat (None when not requested).
        peak_lead: index of the lead whose R extrema the peaks sit on (multi-lead input
            places the fused beats on its most informative lead); figures draw the
            peaks on this lead.
        rr: the RR intervals with their flags, and the heart rate (:mod:`.rr`).
        intervals: reportable PR/QRS/QT with their lead and gates (None when not
            delineated).
        powerline: the mains notch applied and how it was chosen.
        peak_lead_reason: how the R peaks were placed, in words.
        analysis_rate: Hz the analysis ran at: ``sampling_rate``, or
            :data:`~medmodal.ecg.resample.ANALYSIS_RATE` or just below for records
            sampled faster (:mod:`medmodal.ecg.resample`); every sample index of the
            result is at ``sampling_rate`` either way.
        notes: caveats of the analysis, in words (e.g. the resampling).
        af: atrial fibrillation per window, episodes and burden
            (:func:`medmodal.ecg.af.ecg_af`, P waves from :attr:`delineation`).
    """

    sampling_rate: float
    raw: FloatArray
    cleaned: FloatArray
    lead_names: tuple[str, ...]
    peaks: IntArray
    rate_bpm: FloatArray
    hrv: HRV | None
    rhythm: Rhythm
    quality: Quality
    delineation: Delineation | None
    peak_lead: int = 0
    rr: RRIntervals | None = None
    intervals: ClinicalIntervals | None = None
    powerline: Powerline | None = None
    peak_lead_reason: str = ""
    analysis_rate: float | None = None
    notes: tuple[str, ...] = ()
    af: AFResult | None = None

    def __post_init__(self) -> None:
        if self.analysis_rate is None:  # analysed at the caller's rate
            object.__setattr__(self, "analysis_rate", self.sampling_rate)
        if self.rr is None:  # built by hand: flag the intervals of the peaks given
            object.__setattr__(self, "rr", ecg_rr(self.peaks, self.sampling_rate))
        if self.af is None:  # built by hand: AF from the RR intervals
            af = ecg_af(self.peaks, self.sampling_rate, n_samples=self.n_samples)
            object.__setattr__(self, "af", af)

    @property
    def n_samples(self) -> int:
        """Samples per lead."""
        return int(self.raw.shape[0])

    @property
    def duration_s(self) -> float:
        """Recording length in seconds."""
        return self.n_samples / self.sampling_rate

    def to_frame(self) -> pd.DataFrame:
        """One row per sample: time, raw and cleaned leads, rate, R-peak flag, labels."""
        single = self.raw.shape[1] == 1
        columns: dict[str, Any] = {"time_s": np.arange(self.n_samples) / self.sampling_rate}
        for i, name in enumerate(self.lead_names):
            suffix = "" if single else f"_{name}"
            columns[f"ecg_raw{suffix}"] = self.raw[:, i]
            columns[f"ecg_clean{suffix}"] = self.cleaned[:, i]
        columns["heart_rate_bpm"] = self.rate_bpm
        r_flag = np.zeros(self.n_samples, dtype=bool)
        r_flag[self.peaks] = True
        columns["r_peak"] = r_flag
        columns["rhythm"] = _per_sample(self.rhythm.to_frame(), self.n_samples, self.sampling_rate)
        columns["quality"] = _per_sample(
            self.quality.to_frame(), self.n_samples, self.sampling_rate
        )
        return pd.DataFrame(columns)

    @property
    def rr_intervals(self) -> RRIntervals:
        """:attr:`rr`, never None (typed access for callers)."""
        return self.rr if self.rr is not None else ecg_rr(self.peaks, self.sampling_rate)

    def beats_frame(self) -> pd.DataFrame:
        """One row per beat: sample, time, RR, heart rate, RR flag, fiducials, intervals.

        ``heart_rate_bpm`` is NaN where the interval ending at the beat is too short or
        too long (``rr_flag`` says which); the interval columns are those that may be
        reported (:class:`~medmodal.ecg.intervals.ClinicalIntervals`): NaN for beats
        that do not count and for withheld measurements.
        """
        rr = self.rr_intervals
        frame = pd.DataFrame(
            {
                "r_peak": self.peaks,
                "time_s": self.peaks / self.sampling_rate,
                "rr_s": np.diff(self.peaks, prepend=np.nan) / self.sampling_rate,
                "heart_rate_bpm": rr.per_beat_rate_bpm(),
                "rr_flag": list(rr.per_beat_flag()),
            }
        )
        if self.delineation is not None:
            fiducials = self.delineation.to_frame().drop(columns="r_peak", errors="ignore")
            parts = [frame, fiducials.reset_index(drop=True)]
            if self.intervals is not None:
                parts.append(self.intervals.to_frame().drop(columns="rr_ms").reset_index(drop=True))
            frame = pd.concat(parts, axis=1)
        frame.index.name = "beat"
        return frame

    def summary(self) -> dict[str, Any]:
        """The headline numbers every output shows (see :mod:`medmodal.ecg.rr` and
        :mod:`medmodal.ecg.intervals` for how each is measured).

        Keys: ``duration_s``, ``sampling_rate_hz``, ``leads``, ``n_beats``,
        ``peak_lead`` and ``peak_lead_reason``, ``powerline`` (``hz``, ``source``,
        ``detail``, ``text``), ``heart_rate`` (:meth:`RRIntervals.summary`), ``rhythm``
        and ``rhythm_fractions`` (``rhythm_name``: the rhythm in words, "atrial
        fibrillation" where :func:`~medmodal.ecg.af.ecg_af` finds it in an irregular
        rhythm), ``atrial_fibrillation`` (:meth:`AFResult.summary`), ``quality`` and
        ``quality_fractions``, ``hrv``
        (:meth:`HRV.to_dict`, when there are 3 beats) and ``intervals``
        (:meth:`ClinicalIntervals.summary`, when delineated); ``analysis_rate_hz`` and
        ``notes`` when the record was analysed at a lower rate (:mod:`.resample`).
        """
        out: dict[str, Any] = {
            "duration_s": self.duration_s,
            "sampling_rate_hz": self.sampling_rate,
            "leads": list(self.lead_names),
            "n_beats": int(self.peaks.size),
            "peak_lead": self.lead_names[self.peak_lead],
            "peak_lead_reason": self.peak_lead_reason,
            "powerline": None if self.powerline is None else self.powerline.to_dict(),
            "heart_rate": self.rr_intervals.summary(),
            "rhythm": self.rhythm.overall,
            "rhythm_fractions": self.rhythm.fractions,
            "rhythm_name": _rhythm_name(self.rhythm.overall, self.af),
            "atrial_fibrillation": None if self.af is None else self.af.summary(),
            "quality": self.quality.overall,
            "quality_fractions": self.quality.fractions,
        }
        if self.hrv is not None:
            out["hrv"] = self.hrv.to_dict()
        if self.intervals is not None:
            out["intervals"] = self.intervals.summary()
        if self.analysis_rate != self.sampling_rate:
            out["analysis_rate_hz"] = self.analysis_rate
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def ecg_process(
    signal: ArrayLike,
    sampling_rate: float,
    *,
    method: str = "default",
    clean_method: str = "default",
    powerline: float | str | None = "auto",
    window: float = 10.0,
    delineate: bool = True,
    lead_names: Sequence[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> ECGResult:
    """Analyse one ECG recording end to end.

    Steps: :func:`~medmodal.ecg.clean.ecg_clean` per lead,
    :func:`~medmodal.ecg.peaks.ecg_peaks` (one fused set of beats over the leads),
    :func:`~medmodal.ecg.rr.ecg_rr` (flagged RR intervals, heart rate),
    :func:`~medmodal.ecg.rate.ecg_rate`, :func:`~medmodal.ecg.hrv.ecg_hrv`,
    :func:`~medmodal.ecg.rhythm.ecg_rhythm` and :func:`~medmodal.ecg.quality.ecg_quality`
    per ``window`` seconds, :func:`~medmodal.ecg.delineate.ecg_delineate` (on lead II
    when a 12-lead record has it, otherwise on all leads together, see
    :func:`~medmodal.ecg.intervals.choose_interval_lead`) and
    :func:`~medmodal.ecg.intervals.ecg_intervals`.

    Args:
        signal: ``(n_samples,)`` or ``(n_samples, n_leads)``, raw, in any unit (mV usual).
        sampling_rate: Hz.
        method: R-peak detector (see :func:`medmodal.ecg.peaks.available_methods`).
        clean_method: cleaning method (see :func:`medmodal.ecg.clean.available_methods`).
        powerline: mains frequency for the notch (50, 60, ``"auto"`` or None).
            ``"auto"`` (default) takes ``metadata["powerline_hz"]`` when the record
            names it, else the 50/60 Hz line found in the spectrum, else no notch
            (:func:`medmodal.ecg.powerline.resolve_powerline`);
            :attr:`ECGResult.powerline` says which and why.
        window: seconds per rhythm/quality window.
        delineate: also find QRS onset/offset, P and T waves.
        lead_names: one name per lead (default ``lead0``, ``lead1``, ...).
        metadata: the record's metadata (``Record.meta``); ``powerline_hz`` and
            ``powerline_source`` are read.

    A record sampled above :data:`~medmodal.ecg.resample.ANALYSIS_RATE` (1 kHz) is
    analysed on a polyphase-resampled copy, so the work grows with its duration, not
    with duration x rate^2; R peaks are mapped back and refined to the extremum at the
    caller's rate, every index of the result is in the caller's samples, and
    :attr:`ECGResult.analysis_rate` and :attr:`ECGResult.notes` say so.

    Returns:
        An :class:`ECGResult`.

    Raises:
        InvalidSignalError: the signal cannot be analysed (see
            :func:`medmodal.ecg._validate.as_signal`).
        InvalidParameterError: a bad parameter (unknown method, wrong lead names, ...).
    """
    func = "ecg_process"
    rate = check_sampling_rate(sampling_rate, func=func)
    checked = as_signal(signal, rate, func=func)
    names = _lead_names(lead_names, checked.n_leads)
    options = _Options(method, clean_method, powerline, window, delineate, dict(metadata or {}))
    plan = analysis_plan(rate)
    if not plan.resamples:
        return _analyse(checked, rate, names, options)
    # Work proportional to duration, not duration x rate^2: analyse a resampled copy.
    data = plan.to_analysis(checked.data)
    extremes = tuple((float(lead.min()), float(lead.max())) for lead in data.T)
    copy = CheckedSignal(data, was_1d=False, flat_leads=checked.flat_leads, extremes=extremes)
    return _to_original(_analyse(copy, plan.analysis_rate, names, options), checked, plan, options)


@dataclass(frozen=True)
class _Options:
    """The analysis options of :func:`ecg_process`, passed on as one value."""

    method: str
    clean_method: str
    powerline: float | str | None
    window: float
    delineate: bool
    metadata: dict[str, Any]


def _analyse(
    checked: CheckedSignal, rate: float, names: tuple[str, ...], options: _Options
) -> ECGResult:
    """Every step of :func:`ecg_process` on a validated signal at ``rate``."""
    data = checked.data
    mains = resolve_powerline(
        options.powerline,
        data,
        rate,
        metadata_hz=options.metadata.get("powerline_hz"),
        metadata_source=options.metadata.get("powerline_source"),
        func="ecg_process",
    )
    # The signal is validated once, above; every step below takes it as validated.
    cleaned = _clean_unchecked(checked, rate, method=options.clean_method, powerline=mains.hz)
    usable = [i for i in range(checked.n_leads) if i not in checked.flat_leads]
    band = CheckedSignal(cleaned, was_1d=False, flat_leads=checked.flat_leads)
    peaks = _peaks_unchecked(_leads(band, usable), rate, method=options.method)
    n = checked.n_samples
    rate_bpm = ecg_rate(peaks, rate, desired_length=n) if peaks.size >= 2 else np.full(n, np.nan)
    rr = ecg_rr(peaks, rate)
    rhythm = ecg_rhythm(peaks, rate, n_samples=n, window=options.window)
    hrv = _hrv(peaks, rate, rhythm) if peaks.size >= MIN_BEATS_HRV else None
    quality = _quality_unchecked(checked, rate, peaks=peaks, cleaned=cleaned, window=options.window)
    peak_lead = usable[_peak_lead(cleaned[:, usable], peaks, rate)] if usable else 0
    delineation, intervals, lead = None, None, ("", "")
    if options.delineate and peaks.size:
        delineation, lead = _delineate(band, rate, peaks, names, usable)
    af = _af(peaks, rate, n, options.window, delineation, band.data[:, usable])
    if delineation is not None:
        intervals = ecg_intervals(
            delineation, rr, rhythm, lead_name=lead[0], lead_reason=lead[1], af=af
        )
    return ECGResult(
        sampling_rate=rate,
        raw=data,
        cleaned=cleaned,
        lead_names=names,
        peaks=peaks,
        rate_bpm=np.asarray(rate_bpm, dtype=np.float64),
        hrv=hrv,
        rhythm=rhythm,
        quality=quality,
        delineation=delineation,
        peak_lead=peak_lead,
        rr=rr,
        intervals=intervals,
        powerline=mains,
        peak_lead_reason=_peak_lead_reason(names, usable, peak_lead),
        af=af,
    )


def _to_original(
    result: ECGResult, checked: CheckedSignal, plan: AnalysisPlan, options: _Options
) -> ECGResult:
    """An analysis-rate result in the caller's units: R peaks refined to the extremum at
    the caller's rate, fiducials mapped, and what depends on the peaks measured again."""
    rate, n = plan.sampling_rate, checked.n_samples
    cleaned = plan.to_original(result.cleaned, n)
    peaks = plan.refine_peaks(result.peaks, cleaned[:, result.peak_lead])
    rr = ecg_rr(peaks, rate)
    rhythm = ecg_rhythm(peaks, rate, n_samples=n, window=options.window)
    delineation, intervals = result.delineation, result.intervals
    usable = [i for i in range(checked.n_leads) if i not in checked.flat_leads]
    if delineation is not None:
        points: dict[str, Any] = {
            k: plan.index_to_original(v, n)
            for k, v in delineation.points().items()
            if k != "r_peak"
        }
        delineation = replace(delineation, **points, r_peak=peaks, sampling_rate=rate)
    af = _af(peaks, rate, n, options.window, delineation, cleaned[:, usable])
    if delineation is not None:
        old = result.intervals
        intervals = ecg_intervals(
            delineation,
            rr,
            rhythm,
            lead_name=None if old is None else old.lead,
            lead_reason="" if old is None else old.lead_reason,
            af=af,
        )
    return replace(
        result,
        sampling_rate=rate,
        raw=checked.data,
        cleaned=cleaned,
        peaks=peaks,
        rate_bpm=ecg_rate(peaks, rate, desired_length=n) if peaks.size >= 2 else np.full(n, np.nan),
        hrv=_hrv(peaks, rate, rhythm) if peaks.size >= MIN_BEATS_HRV else None,
        rhythm=rhythm,
        delineation=delineation,
        rr=rr,
        intervals=intervals,
        analysis_rate=plan.analysis_rate,
        notes=(plan.note(),),
        af=af,
    )


def _hrv(peaks: IntArray, rate: float, rhythm: Rhythm) -> HRV:
    """HRV of the NN intervals, with a caveat when the rhythm is mostly irregular.

    HRV measures assume a sinus rhythm; in atrial fibrillation or frequent ectopy the
    artefact/ectopy filter removes many intervals and what remains does not measure
    autonomic modulation, so the result says so (the numbers are kept).
    """
    hrv = ecg_hrv(peaks, rate)
    irregular = rhythm.fractions.get("irregular", 0.0)
    if irregular < HRV_IRREGULAR_SHARE:
        return hrv
    note = (
        f"the rhythm is irregular for {100 * irregular:.0f} % of the time (atrial "
        "fibrillation or frequent ectopy): HRV assumes a sinus rhythm and is not "
        "interpretable here"
    )
    return replace(hrv, notes=(note, *hrv.notes))


def _delineate(
    band: CheckedSignal,
    rate: float,
    peaks: IntArray,
    names: tuple[str, ...],
    usable: list[int],
) -> tuple[Delineation, tuple[str, str]]:
    """Delineate on the interval lead (or the delineator's choice); the delineation and
    the lead's name and reason."""
    lead, reason = choose_interval_lead(names, usable)
    if lead is None:
        delineation = _delineate_unchecked(band, rate, peaks=peaks, leads=usable)
        reason = (
            f"{' + '.join(names[k] for k in delineation.leads)}: the {len(usable)} leads "
            "delineated together (QRS bounds: median over the leads; T wave: the lead where "
            "it is largest over the record; P wave: where it is largest in each beat)"
        )
    else:
        single = _delineate_unchecked(_leads(band, [lead]), rate, peaks=peaks)
        delineation = replace(single, lead=lead, leads=(lead,))
    lead_name = "+".join(names[k] for k in delineation.leads)
    return delineation, (lead_name, reason)


def _af(
    peaks: IntArray,
    rate: float,
    n_samples: int,
    window: float,
    delineation: Delineation | None,
    cleaned: FloatArray,
) -> AFResult:
    """AF once per analysis: the P waves of ``delineation`` when there is one, else the
    cleaned usable leads are delineated by :func:`~medmodal.ecg.af.ecg_af`."""
    if delineation is not None:
        p_present = np.asarray(delineation.p_peak >= 0, dtype=bool)
        return _af_with_p_waves(
            peaks, rate, p_present=p_present, n_samples=n_samples, window=window
        )
    signal = cleaned if cleaned.shape[1] and peaks.size else None
    return ecg_af(peaks, rate, signal=signal, n_samples=n_samples, window=window)


def _rhythm_name(overall: str, af: AFResult | None) -> str:
    """The rhythm label in words: "atrial fibrillation" where an irregular rhythm is AF."""
    if overall == "irregular" and af is not None and af.overall == "af":
        return "atrial fibrillation"
    return overall


def _leads(checked: CheckedSignal, leads: list[int]) -> CheckedSignal:
    """The non-flat ``leads`` of a validated signal, as a validated signal."""
    return CheckedSignal(checked.data[:, leads], was_1d=False)


def _peak_lead_reason(names: tuple[str, ...], usable: list[int], peak_lead: int) -> str:
    if len(usable) <= 1:
        return f"{names[peak_lead]}: the only lead analysed"
    fused = ", ".join(names[k] for k in usable)
    return (
        f"R peaks fused over {fused}; placed on {names[peak_lead]}, the lead where most "
        "peaks sit on the largest deflection"
    )


def _peak_lead(cleaned: FloatArray, peaks: IntArray, sampling_rate: float) -> int:
    """The lead on which most peaks sit on the largest |deviation| within +-20 ms."""
    if cleaned.shape[1] == 1 or peaks.size == 0:
        return 0
    half = max(1, round(0.02 * sampling_rate))
    index = np.clip(peaks[:, None] + np.arange(-half, half + 1)[None, :], 0, len(cleaned) - 1)
    hits = [
        np.count_nonzero(np.argmax(np.abs(cleaned[index, lead]), axis=1) == half)
        for lead in range(cleaned.shape[1])
    ]
    return int(np.argmax(hits))


def _lead_names(names: Sequence[str] | None, n_leads: int) -> tuple[str, ...]:
    if names is None:
        return tuple(f"lead{i}" for i in range(n_leads))
    if isinstance(names, str) or len(names) != n_leads:
        raise InvalidParameterError(
            f"ecg_process: lead_names must name each of the {n_leads} lead(s), got {names!r}"
        )
    return tuple(str(name) for name in names)


def _per_sample(frame: pd.DataFrame, n_samples: int, sampling_rate: float) -> pd.Categorical:
    """Spread window labels (``start_s``/``end_s``/``label``) over the samples."""
    labels = np.full(n_samples, "", dtype=object)
    for start, end, label in zip(frame["start_s"], frame["end_s"], frame["label"], strict=True):
        labels[round(float(start) * sampling_rate) : round(float(end) * sampling_rate)] = label
    return pd.Categorical(labels)
