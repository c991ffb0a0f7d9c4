"""ECGSYN: the dynamical ECG model of McSharry et al. (2003), solved without a loop.

In ECGSYN a point moves around the unit limit cycle of the (x, y) plane with angular
velocity omega = 2 pi / RR; its angle theta drives the z coordinate (the ECG) through

    dz/dt = -sum_i a_i * dtheta_i * exp(-dtheta_i**2 / (2 b_i**2)) - (z - z0),

with dtheta_i = (theta - theta_i) mod 2 pi and one event i per wave P, Q, R, S, T at
angle theta_i with amplitude a_i and width b_i. Widths scale with sqrt(hr / 60) and
angles with (hr / 60) ** (1/4) (P, T) or ** (1/2) (Q, S), as in McSharry's code, so
the waves keep their height and narrow at fast rates.

How it is solved here:
* The angle of beat k is linear in time around its own events,
  theta_k(t) = omega_k (t - r_k), with omega_k from the beat's cycle length (the
  preceding sinus RR). The z equation is linear, so the beats' forcings superpose and
  each event's forcing is a time-derivative of a Gaussian of height
  A_i = a_i b_i**2 / omega (the wave's peak in mV): the amplitude table is given in mV.
* dz/dt = u(t) - z is solved exactly for u linear between samples (first-order hold)
  as an IIR filter (``scipy.signal.lfilter``) on a grid oversampled to >= 500 Hz,
  which is then sampled at the requested rate: no per-sample Python loop.
* z0 (respiratory baseline) is 0 here: baseline wander is part of the noise model.
The -(z - z0) term acts like a 0.16 Hz high-pass, so the T-P segment sits slightly
below 0 mV, as on AC-coupled recorders.

Known fiducials are the times at which each beat's angle crosses its event angles:
P, Q, R, S and T peaks at theta_i; wave edges k = 2 widths out: P onset at
theta_P - 2 b_P, QRS onset at theta_Q - 2 b_Q, QRS offset at theta_S + 2 b_S and
T offset at theta_T + 2 b_T (where those waves reach exp(-2) = 13.5 % of their peak).

References:
    McSharry PE, Clifford GD, Tarassenko L, Smith LA. A dynamical model for generating
    synthetic electrocardiogram signals. IEEE Trans Biomed Eng 50(3):289-294 (2003).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

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

#: Event angles (degrees) and widths (rad) of P, Q, R, S, T at 60 bpm. ECGSYN's defaults
#: are (-70, -15, 0, 15, 100) and (0.25, 0.1, 0.1, 0.1, 0.4); these are narrowed so that
#: QRS lasts ~90 ms and PR ~180 ms at 60-70 bpm.
NORMAL_ANGLES = np.array([-60.0, -10.0, 0.0, 10.0, 95.0])
NORMAL_WIDTHS = np.array([0.20, 0.06, 0.08, 0.06, 0.35])
#: Premature ventricular beat: no P, one wide main deflection, a late return wave.
VENTRICULAR_ANGLES = np.array([-60.0, -16.0, 0.0, 20.0, 100.0])
VENTRICULAR_WIDTHS = np.array([0.20, 0.08, 0.16, 0.10, 0.40])
#: Exponent of (hr / 60) that scales each event angle (ECGSYN: hrfact2, hrfact, 1, ...).
ANGLE_EXPONENTS = np.array([0.25, 0.5, 0.0, 0.5, 0.25])
#: Wave edges (P onset, QRS onset / offset, T offset) lie this many widths from the
#: first / last event of the wave.
EDGE_WIDTHS = 2.0
#: Beat-to-beat amplitude jitter (relative standard deviation).
AMPLITUDE_JITTER = 0.03
#: Internal integration rate (Hz) at least this.
MIN_INTERNAL_RATE = 500.0
#: Seconds simulated before t = 0 so the z equation has settled.
PREROLL = 3.0


def event_timing(schedule: BeatSchedule) -> tuple[FloatArray, FloatArray]:
    """Centre times and widths (s) of the 5 events of every beat, each (K, 5)."""
    ventricular = np.array([label == "V" for label in schedule.labels])
    angles = np.where(ventricular[:, None], VENTRICULAR_ANGLES, NORMAL_ANGLES)
    widths = np.where(ventricular[:, None], VENTRICULAR_WIDTHS, NORMAL_WIDTHS)
    factor = (60.0 / schedule.cycle)[:, None] / 60.0  # hr / 60 per beat
    omega = 2 * np.pi * factor  # rad/s
    theta = np.deg2rad(angles) * factor**ANGLE_EXPONENTS
    centres = schedule.r_times[:, None] + theta / omega
    sigmas = widths * np.sqrt(factor) / omega
    return centres, sigmas


def _lead_amplitudes(n_leads: int, rng: np.random.Generator) -> dict[str, FloatArray]:
    """(n_leads, 5) P, Q, R, S, T peak amplitudes (mV) per lead, per beat label."""
    normal = _leads.normal_amplitudes(n_leads, rng)
    return {"N": normal, "V": _leads.ventricular_amplitudes(normal)}


def _solve_z(forcing: FloatArray, rate: float) -> FloatArray:
    """Exact solution of dz/dt = u - z for u linear between samples (first-order hold)."""
    h = 1.0 / rate
    decay = np.exp(-h)
    c = 1.0 - decay
    b0 = (h - c) / h
    b = np.array([b0, c - b0])
    a = np.array([1.0, -decay])
    return lfilter(b, a, forcing)


def fiducial_times(schedule: BeatSchedule) -> dict[str, FloatArray]:
    """Model fiducial times (s) per beat; NaN where the wave is absent."""
    centres, sigmas = event_timing(schedule)
    p = np.where(schedule.has_p, centres[:, 0], np.nan)
    return {
        "p_onset": p - EDGE_WIDTHS * sigmas[:, 0],
        "p_peak": p,
        "qrs_onset": centres[:, 1] - EDGE_WIDTHS * sigmas[:, 1],
        "q": centres[:, 1],
        "r": centres[:, 2],
        "s": centres[:, 3],
        "qrs_offset": centres[:, 3] + EDGE_WIDTHS * sigmas[:, 3],
        "t_peak": centres[:, 4],
        "t_offset": centres[:, 4] + EDGE_WIDTHS * sigmas[:, 4],
    }


@METHODS.register(
    "ecgsyn",
    aliases=("mcsharry", "mcsharry2003"),
    description="McSharry et al. (2003) dynamical model (default)",
)
def ecgsyn(schedule: BeatSchedule, grid: Grid, rng: np.random.Generator) -> Rendered:
    """Render ``schedule`` with the ECGSYN model (see the module docstring)."""
    n_samples, sampling_rate, n_leads = grid.n_samples, grid.sampling_rate, grid.n_leads
    factor = max(1, int(np.ceil(MIN_INTERNAL_RATE / sampling_rate)))
    rate = sampling_rate * factor
    pre = int(np.ceil(PREROLL * sampling_rate)) * factor
    n_int = pre + (n_samples - 1) * factor + 1
    t0 = -pre / rate
    centres, sigmas = event_timing(schedule)
    jitter = 1.0 + AMPLITUDE_JITTER * rng.standard_normal(centres.shape)  # (K, 5)
    jitter[~schedule.has_p, 0] = 0.0
    leads = _lead_amplitudes(n_leads, rng)
    labels = np.asarray(schedule.labels)
    # z is linear in the forcing: solve it once per (beat label, wave) with unit lead
    # gain, then add the solution to every lead with that lead's amplitude.
    z = np.zeros((n_samples, n_leads))
    for label, amps in leads.items():
        mine = labels == label
        for i in range(5):
            if not mine.any() or not amps[:, i].any():
                continue
            unit = np.zeros(n_int)
            add_events(
                unit, centres[mine, i], sigmas[mine, i], jitter[mine, i], rate, t0, derivative=True
            )
            z += _solve_z(unit, rate)[pre::factor, None] * amps[None, :, i]
    gains = _leads.f_wave_gains(n_leads)
    z += fibrillatory_waves(n_samples, sampling_rate, schedule.f_wave_amplitude, gains, rng)
    times = fiducial_times(schedule)
    return rendered(z, times, grid)
