"""The ECG pipeline: clean, detect R peaks, rate, HRV, rhythm, quality and delineation.

:func:`ecg_process` runs every step on one recording and returns one typed
:class:`ECGResult`; each step is also a public function of its own. Every clinical
number of the result comes from one place: heart rate and the RR-interval flags from
:mod:`medmodal.ecg.rr`, PR/QRS/QT from :mod:`medmodal.ecg.intervals`, the mains notch
from :mod:`medmodal.ecg.powerline`; :meth:`ECGResult.summary` gathers them for the
command line, the service and the report. The result type lives in
:mod:`medmodal.ecg.result` (re-exported here); the helper steps in a private module.

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

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from medmodal.ecg._process_steps import (
    HRV_IRREGULAR_SHARE,
    MIN_BEATS_HRV,
    _af,
    _beat_classes,
    _delineate,
    _hrv,
    _lead_names,
    _leads,
    _peak_lead,
    _peak_lead_reason,
)
from medmodal.ecg._validate import CheckedSignal, as_signal, check_sampling_rate
from medmodal.ecg.af import ecg_af
from medmodal.ecg.beat_classes import BEAT_CLASSES, BEAT_MODELS, BeatClasses, load_beat_model
from medmodal.ecg.clean import _clean_unchecked
from medmodal.ecg.intervals import ecg_intervals
from medmodal.ecg.peaks import DETECTORS, _peaks_unchecked
from medmodal.ecg.powerline import resolve_powerline
from medmodal.ecg.quality import _quality_unchecked
from medmodal.ecg.rate import ecg_rate
from medmodal.ecg.resample import AnalysisPlan, analysis_plan
from medmodal.ecg.result import ECGResult
from medmodal.ecg.rhythm import ecg_rhythm
from medmodal.ecg.rr import ecg_rr
from medmodal.errors import MedmodalWarning
from medmodal.types import ArrayLike

__all__ = ["FLAT_SIGNAL", "HRV_IRREGULAR_SHARE", "MIN_BEATS_HRV", "ECGResult", "ecg_process"]


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
    beat_model: str | None = "default",
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
    :func:`~medmodal.ecg.intervals.ecg_intervals`, :func:`~medmodal.ecg.af.ecg_af` and
    :func:`~medmodal.ecg.beat_classes.ecg_beat_classes` (every R peak's AAMI class, on
    the cleaned lead the peaks were placed on, :attr:`ECGResult.peak_lead`).

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
        beat_model: the beat classifier (see
            :func:`medmodal.ecg.beat_classes.available_models`), or None for no beat
            classes. A record too short or too odd to classify gets "unknown" beats with
            the reason, never an error.

    A record sampled above :data:`~medmodal.ecg.resample.ANALYSIS_RATE` (1 kHz) is
    analysed on a polyphase-resampled copy, so the work grows with its duration, not
    with duration x rate^2; R peaks are mapped back and refined to the extremum at the
    caller's rate, every index of the result is in the caller's samples, and
    :attr:`ECGResult.analysis_rate` and :attr:`ECGResult.notes` say so.

    A flat signal (every lead constant: electrodes off, a blank export) is no error: the
    result has no R peaks, heart rate n/a, rhythm "undetermined", AF and beat classes
    "unknown", each with the reason :data:`FLAT_SIGNAL`, quality "unacceptable", and a
    :class:`~medmodal.errors.MedmodalWarning` (also in :attr:`ECGResult.notes`) says so.

    Returns:
        An :class:`ECGResult`.

    Raises:
        InvalidSignalError: the signal cannot be read as a recording: not real numbers,
            empty, not 1-D/2-D, shorter than 2 s, or a lead without finite samples or
            with a NaN/inf gap over 1 s (see :func:`medmodal.ecg._validate.as_signal`).
        InvalidParameterError: a bad parameter (unknown method, wrong lead names, ...).
    """
    func = "ecg_process"
    rate = check_sampling_rate(sampling_rate, func=func)
    checked = as_signal(signal, rate, func=func, allow_flat=True)
    names = _lead_names(lead_names, checked.n_leads)
    if beat_model is not None:
        BEAT_MODELS.resolve(beat_model)  # an unknown model fails before the work
    options = _Options(method, clean_method, powerline, window, delineate, dict(metadata or {}))
    if len(checked.flat_leads) == checked.n_leads:
        return _flat_result(checked, rate, names, options, beat_model)
    plan = analysis_plan(rate)
    if not plan.resamples:
        result = _analyse(checked, rate, names, options)
    else:
        # Work proportional to duration, not duration x rate^2: analyse a resampled copy.
        data = plan.to_analysis(checked.data)
        extremes = tuple((float(lead.min()), float(lead.max())) for lead in data.T)
        copy = CheckedSignal(data, was_1d=False, flat_leads=checked.flat_leads, extremes=extremes)
        result = _to_original(
            _analyse(copy, plan.analysis_rate, names, options), checked, plan, options
        )
    if beat_model is None:
        return result
    # Once per call, at the caller's rate, on the final peaks and the R-peak lead.
    classes = _beat_classes(
        result.cleaned, result.sampling_rate, result.peaks, result.peak_lead, names, beat_model
    )
    return replace(result, beat_classes=classes)


#: Why nothing could be measured on a signal whose every lead is constant.
FLAT_SIGNAL = "the signal is flat (every sample of every lead has the same value)"


def _flat_result(
    checked: CheckedSignal,
    rate: float,
    names: tuple[str, ...],
    options: _Options,
    beat_model: str | None,
) -> ECGResult:
    """The result of a flat signal (electrodes off, a blank export): no R peaks; heart
    rate n/a, rhythm undetermined, AF and beat classes unknown, each with the reason
    :data:`FLAT_SIGNAL`, quality unacceptable; a :class:`MedmodalWarning` says so. The
    options are checked as for any signal (a bad one still raises)."""
    note = (
        f"{FLAT_SIGNAL}: there is no ECG to analyse; no R peaks, and heart rate, rhythm, "
        "atrial fibrillation and beat classes are unknown"
    )
    warnings.warn(f"ecg_process: {note}", MedmodalWarning, stacklevel=3)
    DETECTORS.get(options.method)  # an unknown detector fails here too
    mains = resolve_powerline(
        options.powerline, checked.data, rate, metadata_hz=options.metadata.get("powerline_hz"),
        metadata_source=options.metadata.get("powerline_source"), func="ecg_process",
    )  # fmt: skip
    cleaned = _clean_unchecked(checked, rate, method=options.clean_method, powerline=mains.hz)
    peaks, n = np.zeros(0, dtype=np.int64), checked.n_samples
    rhythm = ecg_rhythm(peaks, rate, n_samples=n, window=options.window)
    af = ecg_af(peaks, rate, n_samples=n, window=options.window)
    classes = None
    if beat_model is not None:
        model = str(load_beat_model(beat_model).config.get("name", beat_model))
        classes = BeatClasses(peaks, (), np.zeros((0, len(BEAT_CLASSES))), (), rate, n / rate,
                              names[0], model, record_reason=FLAT_SIGNAL)  # fmt: skip
    return ECGResult(
        sampling_rate=rate,
        raw=checked.data,
        cleaned=cleaned,
        lead_names=names,
        peaks=peaks,
        rate_bpm=np.full(n, np.nan),
        hrv=None,
        rr=replace(ecg_rr(peaks, rate), reason=FLAT_SIGNAL),
        rhythm=replace(rhythm, reason=(FLAT_SIGNAL,) * len(rhythm.label)),
        quality=_quality_unchecked(
            checked, rate, peaks=peaks, cleaned=cleaned, window=options.window
        ),
        delineation=None,
        powerline=mains,
        peak_lead_reason=f"no R peaks: {FLAT_SIGNAL}",
        af=replace(af, reason=(FLAT_SIGNAL,) * len(af.label)),
        notes=(note,),
        beat_classes=classes,
    )


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
    hrv = _hrv(peaks, rate, rhythm, af) if peaks.size >= MIN_BEATS_HRV else None
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
        rr=rr.with_af(af.episode_start_s, af.episode_end_s),  # after the intervals' NN
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
        hrv=_hrv(peaks, rate, rhythm, af) if peaks.size >= MIN_BEATS_HRV else None,
        rhythm=rhythm,
        delineation=delineation,
        rr=rr.with_af(af.episode_start_s, af.episode_end_s),  # after the intervals' NN
        intervals=intervals,
        analysis_rate=plan.analysis_rate,
        notes=(plan.note(),),
        af=af,
    )
