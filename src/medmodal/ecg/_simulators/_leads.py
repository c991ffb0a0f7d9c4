"""Per-lead wave amplitudes: how the same beats look in different leads.

Each lead is a set of peak amplitudes (mV) for the P, Q, R, S and T events of a normal
beat. Leads I and II are given; III, aVR, aVL and aVF follow from Einthoven's and
Goldberger's relations (III = II - I, aVR = -(I + II)/2, aVL = I - II/2,
aVF = II - I/2), so the limb leads are mutually consistent. Precordial leads run from
V1 (rS: small r, deep S, negative QRS) to V6 (qR). Beyond 12 leads, further leads mix
two standard leads with seeded random weights.
"""

from __future__ import annotations

import numpy as np

from medmodal.types import FloatArray

#: Order in which leads are used: the two MIT-BIH-like leads first.
LEAD_ORDER = ("II", "V1", "V5", "I", "III", "aVR", "aVL", "aVF", "V2", "V3", "V4", "V6")

_I = np.array([0.08, -0.03, 0.65, -0.04, 0.26])
_II = np.array([0.15, -0.12, 1.20, -0.30, 0.35])
#: Peak amplitudes (mV) of P, Q, R, S, T per lead for a normal beat.
NORMAL: dict[str, FloatArray] = {
    "I": _I,
    "II": _II,
    "III": _II - _I,
    "aVR": -(_I + _II) / 2,
    "aVL": _I - _II / 2,
    "aVF": _II - _I / 2,
    "V1": np.array([0.06, 0.15, -0.90, 0.05, 0.10]),
    "V2": np.array([0.07, 0.20, -1.30, 0.10, 0.45]),
    "V3": np.array([0.08, -0.05, 0.80, -0.70, 0.45]),
    "V4": np.array([0.10, -0.10, 1.50, -0.45, 0.45]),
    "V5": np.array([0.10, -0.15, 1.50, -0.25, 0.40]),
    "V6": np.array([0.12, -0.10, 1.00, -0.06, 0.38]),
}
#: Relative size of atrial fibrillatory waves per lead (largest in V1 and the inferior
#: leads, as observed clinically).
F_WAVE_GAIN = {"V1": 1.0, "II": 0.6, "III": 0.6, "aVF": 0.6, "V2": 0.8}


def lead_names(n_leads: int) -> tuple[str, ...]:
    """Names of the first ``n_leads`` simulated leads."""
    extra = tuple(f"mix{i + 1}" for i in range(max(0, n_leads - len(LEAD_ORDER))))
    return (LEAD_ORDER + extra)[:n_leads]


def normal_amplitudes(n_leads: int, rng: np.random.Generator) -> FloatArray:
    """(n_leads, 5) P, Q, R, S, T amplitudes for the first ``n_leads`` leads."""
    rows = [NORMAL[name] for name in LEAD_ORDER[:n_leads]]
    for _ in range(n_leads - len(rows)):
        a, b = rng.choice(len(LEAD_ORDER), size=2, replace=False)
        w = rng.uniform(0.2, 0.8)
        rows.append(w * NORMAL[LEAD_ORDER[a]] + (1 - w) * NORMAL[LEAD_ORDER[b]])
    return np.vstack(rows)


def ventricular_amplitudes(normal: FloatArray) -> FloatArray:
    """(n_leads, 5) amplitudes of a premature ventricular beat for each lead.

    No P wave; a wide main deflection taller than and opposite to the lead's normal R
    (at least 0.6 mV), a small notch before it, a return wave after it, and a T wave
    discordant with the main deflection.
    """
    r = normal[:, 2]
    sign = np.where(r >= 0, 1.0, -1.0)
    main = -sign * np.maximum(1.4 * np.abs(r), 0.6)
    out = np.zeros_like(normal)
    out[:, 1] = -0.12 * main  # small initial notch
    out[:, 2] = main
    out[:, 3] = -0.30 * main  # return wave
    out[:, 4] = -0.45 * main  # discordant T
    return out


def f_wave_gains(n_leads: int) -> FloatArray:
    """Relative amplitude of fibrillatory waves per simulated lead."""
    return np.array([F_WAVE_GAIN.get(name, 0.4) for name in lead_names(n_leads)])
