"""Rhythm generators: heart rate in, beat schedule (R times, labels, P waves) out.

Sinus rhythms draw their RR tachogram from the bimodal power spectrum of McSharry et al.
(2003): Mayer waves (low frequency, ~0.1 Hz) and respiratory sinus arrhythmia (high
frequency, ~0.25 Hz) with a given LF/HF power ratio.

References:
    McSharry PE, Clifford GD, Tarassenko L, Smith LA. A dynamical model for generating
    synthetic electrocardiogram signals. IEEE Trans Biomed Eng 50(3):289-294 (2003).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from medmodal.ecg._simulators._base import RHYTHMS, BeatSchedule, RhythmFn, RhythmRequest
from medmodal.types import FloatArray

#: Standard deviation of the sinus heart rate (bpm), as in ECGSYN's ``hrstd`` (scaled up).
SINUS_HR_STD = 2.0
#: Tachogram spectrum: LF and HF centre frequencies (Hz), widths (Hz), LF/HF power ratio.
LF_HZ, HF_HZ, LF_WIDTH, HF_WIDTH, LF_HF_RATIO = 0.1, 0.25, 0.01, 0.01, 0.5
#: Heart rate (bpm) used by the tachycardia / bradycardia rhythms when ``heart_rate``
#: does not already lie in their range.
TACHY_DEFAULT, BRADY_DEFAULT = 120.0, 45.0
TACHY_MIN, BRADY_MAX = 100.0, 60.0
#: Atrial fibrillation: coefficient of variation of the RR intervals, shortest RR (s).
AF_RR_CV, AF_MIN_RR = 0.22, 0.27
#: Premature ventricular beats come at this fraction of the sinus RR (uniform range).
PVC_COUPLING = (0.55, 0.70)


def tachogram(
    t_start: float, t_stop: float, mean_rr: float, std_rr: float, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """RR(t) on a 4 Hz grid with McSharry's bimodal (LF + HF) spectrum.

    Returns:
        ``(grid_times, rr)`` in seconds.
    """
    rate = 4.0
    n = int(2 ** np.ceil(np.log2((t_stop - t_start) * rate + 64)))
    freqs = np.fft.rfftfreq(n, d=1 / rate)
    lf = np.exp(-0.5 * ((freqs - LF_HZ) / LF_WIDTH) ** 2) * LF_HF_RATIO / LF_WIDTH
    hf = np.exp(-0.5 * ((freqs - HF_HZ) / HF_WIDTH) ** 2) / HF_WIDTH
    magnitude = np.sqrt(lf + hf)
    phases = rng.uniform(0, 2 * np.pi, size=freqs.size)
    series = np.fft.irfft(magnitude * np.exp(1j * phases), n=n)
    series = (series - series.mean()) / max(float(series.std()), 1e-12)
    times = t_start + np.arange(n) / rate
    return times, mean_rr + std_rr * series


def _beats_from_tachogram(
    t_start: float, t_stop: float, times: FloatArray, rr: FloatArray, rng: np.random.Generator
) -> FloatArray:
    """Beat times r_{k+1} = r_k + RR(r_k), starting at a random point of the first cycle."""
    beats = [t_start + rng.uniform(0.0, 1.0) * float(np.interp(t_start, times, rr))]
    while beats[-1] < t_stop:
        beats.append(beats[-1] + float(np.interp(beats[-1], times, rr)))
    return np.asarray(beats)


def _schedule(
    r_times: FloatArray, heart_rate: float, *, has_p: bool = True, f_waves: float = 0.0
) -> BeatSchedule:
    rr = np.diff(r_times)
    cycle = np.concatenate(([rr[0]], rr)) if rr.size else np.array([60.0 / heart_rate])
    n = r_times.size
    return BeatSchedule(
        r_times=r_times,
        labels=("N",) * n,
        has_p=np.full(n, has_p),
        cycle=cycle,
        heart_rate=heart_rate,
        f_wave_amplitude=f_waves,
    )


@RHYTHMS.register("sinus", aliases=("normal", "nsr"), description="sinus rhythm with HRV")
def sinus(request: RhythmRequest, rng: np.random.Generator) -> BeatSchedule:
    """Sinus rhythm at ``heart_rate`` with McSharry's LF/HF heart-rate variability."""
    t_start, t_stop, heart_rate = request.t_start, request.t_stop, request.heart_rate
    mean_rr = 60.0 / heart_rate
    std_rr = mean_rr * SINUS_HR_STD / heart_rate
    times, rr = tachogram(t_start, t_stop, mean_rr, std_rr, rng)
    return _schedule(_beats_from_tachogram(t_start, t_stop, times, rr, rng), heart_rate)


def _sinus_in_range(in_range: Callable[[float], bool], default: float) -> RhythmFn:
    """Sinus rhythm at ``heart_rate`` where ``in_range(heart_rate)``, else at ``default``."""

    def rhythm(request: RhythmRequest, rng: np.random.Generator) -> BeatSchedule:
        if not in_range(request.heart_rate):
            request = replace(request, heart_rate=default)
        return sinus(request, rng)

    return rhythm


RHYTHMS.add(
    "tachycardia",
    _sinus_in_range(lambda hr: hr > TACHY_MIN, TACHY_DEFAULT),
    aliases=("sinus_tachycardia", "tachy"),
    description=f"sinus tachycardia: heart_rate if above {TACHY_MIN:g} bpm, "
    f"else {TACHY_DEFAULT:g} bpm",
)
RHYTHMS.add(
    "bradycardia",
    _sinus_in_range(lambda hr: hr < BRADY_MAX, BRADY_DEFAULT),
    aliases=("sinus_bradycardia", "brady"),
    description=f"sinus bradycardia: heart_rate if below {BRADY_MAX:g} bpm, "
    f"else {BRADY_DEFAULT:g} bpm",
)


@RHYTHMS.register(
    "afib",
    aliases=("af", "atrial_fibrillation"),
    description="atrial fibrillation: independent lognormal RR intervals (CV "
    f"{AF_RR_CV:g}) at mean heart_rate, no P waves, fibrillatory f-waves",
)
def afib(request: RhythmRequest, rng: np.random.Generator) -> BeatSchedule:
    """Irregularly irregular ventricular response: RR drawn independently per beat."""
    t_start, t_stop, heart_rate = request.t_start, request.t_stop, request.heart_rate
    mean_rr = 60.0 / heart_rate
    sigma = np.sqrt(np.log1p(AF_RR_CV**2))
    n_max = int(np.ceil((t_stop - t_start) / min(AF_MIN_RR, mean_rr))) + 4
    rr = mean_rr * np.exp(rng.normal(-0.5 * sigma**2, sigma, size=n_max))
    rr = np.maximum(rr, min(AF_MIN_RR, 0.6 * mean_rr))
    r_times = t_start + rng.uniform(0.0, 1.0) * rr[0] + np.concatenate(([0.0], np.cumsum(rr)))
    r_times = r_times[: int(np.searchsorted(r_times, t_stop)) + 1]
    schedule = _schedule(r_times, heart_rate, has_p=False, f_waves=request.options.f_wave_amplitude)
    # Ventricular repolarisation follows the recent rate, not each erratic interval.
    smooth = 0.5 * schedule.cycle + 0.5 * mean_rr
    return BeatSchedule(
        r_times=schedule.r_times,
        labels=schedule.labels,
        has_p=schedule.has_p,
        cycle=smooth,
        heart_rate=heart_rate,
        f_wave_amplitude=schedule.f_wave_amplitude,
    )


@RHYTHMS.register(
    "pvc",
    aliases=("ectopic", "pvcs", "ventricular_ectopy"),
    description="sinus rhythm with premature ventricular beats (fraction ectopic_rate, "
    "never two in a row) and full compensatory pauses",
)
def pvc(request: RhythmRequest, rng: np.random.Generator) -> BeatSchedule:
    """Sinus rhythm in which some beats are replaced by earlier ventricular beats.

    A premature beat replaces sinus beat k and comes at a coupling of 55-70 % of the
    sinus RR; sinus beat k is concealed, so beat k+1 keeps its time (full compensatory
    pause: the two intervals around the ectopic beat add up to two sinus cycles).
    """
    base = sinus(request, rng)
    r_times = base.r_times.copy()
    n = r_times.size
    draws = rng.uniform(size=n)
    coupling = rng.uniform(*PVC_COUPLING, size=n)
    ectopic = np.zeros(n, dtype=bool)
    for k in range(1, n - 1):
        if draws[k] < request.options.ectopic_rate and not ectopic[k - 1]:
            ectopic[k] = True
    prev = np.concatenate(([r_times[0] - base.cycle[0]], r_times[:-1]))
    r_times[ectopic] = prev[ectopic] + coupling[ectopic] * (r_times - prev)[ectopic]
    return BeatSchedule(
        r_times=r_times,
        labels=tuple("V" if e else "N" for e in ectopic),
        has_p=~ectopic,
        cycle=base.cycle,  # each beat keeps the underlying sinus cycle
        heart_rate=request.heart_rate,
    )
