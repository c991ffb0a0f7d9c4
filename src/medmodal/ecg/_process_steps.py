"""The steps of :func:`~medmodal.ecg.process.ecg_process` beyond the public functions:
HRV with its irregular-rhythm caveat, delineation on the interval lead, AF reusing the
P waves, beat classes on the R-peak lead, the lead the R peaks sit on, and the lead
names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from medmodal.ecg._validate import CheckedSignal
from medmodal.ecg.af import AFResult, _af_with_p_waves, ecg_af
from medmodal.ecg.beat_classes import BeatClasses, ecg_beat_classes
from medmodal.ecg.delineate import Delineation, _delineate_unchecked
from medmodal.ecg.hrv import HRV, ecg_hrv
from medmodal.ecg.intervals import choose_interval_lead
from medmodal.ecg.rhythm import Rhythm
from medmodal.errors import InvalidParameterError
from medmodal.types import FloatArray, IntArray

#: Fewest R peaks for HRV (three give two intervals and one successive difference).
MIN_BEATS_HRV = 3
#: Share of irregular-rhythm time from which HRV carries a "not interpretable" note.
HRV_IRREGULAR_SHARE = 0.5


def _hrv(peaks: IntArray, rate: float, rhythm: Rhythm, af: AFResult | None = None) -> HRV:
    """HRV of the NN intervals, with a caveat when the rhythm is mostly irregular or in
    atrial fibrillation (AF episodes: ``af``).

    HRV measures assume a sinus rhythm; in atrial fibrillation or frequent ectopy the
    artefact/ectopy filter removes many intervals and what remains does not measure
    autonomic modulation, so the result says so (the numbers are kept).
    """
    hrv = ecg_hrv(peaks, rate)
    irregular = rhythm.fractions.get("irregular", 0.0)
    in_af = 0.0 if af is None else af.burden_pct / 100.0
    if in_af >= HRV_IRREGULAR_SHARE:
        what = f"the rhythm is atrial fibrillation for {100 * in_af:.0f} % of the time"
    elif irregular >= HRV_IRREGULAR_SHARE:
        what = (
            f"the rhythm is irregular for {100 * irregular:.0f} % of the time (atrial "
            "fibrillation or frequent ectopy)"
        )
    else:
        return hrv
    note = f"{what}: HRV assumes a sinus rhythm and is not interpretable here"
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
            peaks,
            rate,
            p_present=p_present,
            n_samples=n_samples,
            window=window,
            signal=cleaned if cleaned.shape[1] else None,
        )
    signal = cleaned if cleaned.shape[1] and peaks.size else None
    return ecg_af(peaks, rate, signal=signal, n_samples=n_samples, window=window)


#: Lead names the beat model prefers, in order (lead II is the standard rhythm lead and
#: the model's main training lead); matched case-insensitively.
BEAT_LEADS = ("ii", "mlii")


def _beat_classes(
    cleaned: FloatArray,
    rate: float,
    peaks: IntArray,
    peak_lead: int,
    names: tuple[str, ...],
    model: str,
) -> BeatClasses:
    """The AAMI class of every R peak (cleaned once, by the pipeline: not again), on
    lead II when the record has a non-flat one, else on the lead the peaks sit on."""
    lead = beat_lead(cleaned, peak_lead, names)
    return ecg_beat_classes(
        cleaned[:, lead],
        rate,
        peaks,
        lead_names=[names[lead]],
        model=model,
        clean=False,
    )


def beat_lead(cleaned: FloatArray, peak_lead: int, names: tuple[str, ...]) -> int:
    """Index of the lead the beats are classified on: the first non-flat lead named in
    :data:`BEAT_LEADS`, else ``peak_lead``."""
    lowered = [name.strip().lower() for name in names]
    for wanted in BEAT_LEADS:
        if wanted in lowered:
            index = lowered.index(wanted)
            if np.ptp(np.nan_to_num(cleaned[:, index])) > 0:
                return index
    return peak_lead


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
