"""The teaching notebook's Gaussian-bump ECG, kept for comparison (bugs fixed).

Each beat is three Gaussians at fixed offsets from its R time: a P wave 150 ms before
(sigma 26.7 ms, 0.3 mV), the QRS (80 ms wide = 6 sigma, 1.5 mV) and a T wave 250 ms
after (sigma 50 ms, 0.5 mV). There are no Q or S waves. Fixed against the notebook:
the sample count is exactly ``round(duration * sampling_rate)`` (the notebook's
``np.linspace(0, duration, duration * sampling_rate)`` put samples 1/(n-1) s apart and
failed for fractional durations), waves of beats that straddle either end of the record
are drawn in part instead of silently dropped (the first beat's P wave was skipped),
Gaussians run to 4 sigma instead of being cut at 3 (a visible step), the beat times
follow the rhythm's RR series (so HRV, AF and ectopic beats work), premature
ventricular beats get a wide inverted QRS with no P wave, and the noise is the shared,
seeded noise model (the notebook always added unseeded noise and 0.2 Hz wander).
"""

from __future__ import annotations

import numpy as np

from medmodal.ecg._simulators import _leads
from medmodal.ecg._simulators._base import (
    METHODS,
    BeatSchedule,
    Grid,
    Rendered,
    add_events,
    fibrillatory_waves,
    rendered,
)
from medmodal.types import FloatArray

#: (offset from R in s, sigma in s, amplitude in mV) of P, QRS and T: the notebook's values.
P_WAVE = (-0.15, 0.08 / 3, 0.3)
QRS = (0.0, 0.08 / 6, 1.5)
T_WAVE = (0.25, 0.15 / 3, 0.5)
#: Ventricular beat: QRS twice as wide, inverted and taller; discordant T a bit later.
V_QRS = (0.0, 0.16 / 6, -2.0)
V_T_WAVE = (0.30, 0.18 / 3, 0.6)


def _lead_gains(n_leads: int, rng: np.random.Generator) -> FloatArray:
    """Per-lead scale: the lead's normal R amplitude relative to lead II (sign included)."""
    r = _leads.normal_amplitudes(n_leads, rng)[:, 2]
    return r / _leads.NORMAL["II"][2]


def _waves(schedule: BeatSchedule) -> list[tuple[FloatArray, FloatArray, FloatArray]]:
    """(centres, sigmas, amplitudes) of the P, QRS and T waves of every beat."""
    is_v = np.array([label == "V" for label in schedule.labels])
    r = schedule.r_times
    out = []
    for normal, ventricular in ((P_WAVE, (0.0, P_WAVE[1], 0.0)), (QRS, V_QRS), (T_WAVE, V_T_WAVE)):
        params = np.where(is_v[:, None], np.array(ventricular), np.array(normal))
        out.append((r + params[:, 0], params[:, 1], params[:, 2]))
    p_amp = out[0][2]
    out[0] = (out[0][0], out[0][1], np.where(schedule.has_p, p_amp, 0.0))
    return out


@METHODS.register(
    "gaussian",
    aliases=("notebook", "gaussian_bumps"),
    description="the teaching notebook's P/QRS/T Gaussian bumps at fixed offsets",
)
def gaussian(schedule: BeatSchedule, grid: Grid, rng: np.random.Generator) -> Rendered:
    """Render ``schedule`` as sums of Gaussian bumps (see the module docstring)."""
    n_samples, sampling_rate, n_leads = grid.n_samples, grid.sampling_rate, grid.n_leads
    gains = _lead_gains(n_leads, rng)
    unit = np.zeros(n_samples)  # every lead is this trace times its gain
    waves = _waves(schedule)
    for centres, sigmas, amps in waves:
        add_events(unit, centres, sigmas, amps, sampling_rate, 0.0)
    signal = unit[:, None] * gains[None, :]
    signal += fibrillatory_waves(
        n_samples, sampling_rate, schedule.f_wave_amplitude, _leads.f_wave_gains(n_leads), rng
    )
    (p_at, p_sd, _), (qrs_at, qrs_sd, _), (t_at, t_sd, _) = waves
    p_at = np.where(schedule.has_p, p_at, np.nan)
    nan = np.full(schedule.r_times.shape, np.nan)
    times = {  # wave edges at 3 sigma: the notebook's wave widths are 6 sigma
        "p_onset": p_at - 3 * p_sd,
        "p_peak": p_at,
        "qrs_onset": qrs_at - 3 * qrs_sd,
        "q": nan,
        "r": schedule.r_times,
        "s": nan,
        "qrs_offset": qrs_at + 3 * qrs_sd,
        "t_peak": t_at,
        "t_offset": t_at + 3 * t_sd,
    }
    return rendered(signal, times, grid)
