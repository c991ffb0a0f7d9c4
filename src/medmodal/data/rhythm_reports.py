"""Simulated ECG-report pairs: seeded 10-second ECGs of five rhythms with template reports.

Each ECG (:func:`medmodal.ecg.ecg_simulate`, lead II, 100 Hz) is paired with a report of
its rhythm and rate drawn from three phrasings ("Sinus bradycardia, rate 48 bpm.");
:data:`RHYTHMS` also holds zero-shot class descriptions that are never training captions.
The report's alignment section trains on these pairs when no real data set is at hand.

Example:
    >>> from medmodal.data.rhythm_reports import paired_cohort
    >>> cohort = paired_cohort(5, seed=0)
    >>> cohort.signals.shape, cohort.rhythms
    ((5, 1, 1000), ['sinus', 'tachycardia', 'bradycardia', 'afib', 'pvc'])
    >>> cohort.texts[2]
    'Slow regular sinus rhythm at 48 beats per minute.'
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from medmodal.ecg.simulate import ecg_simulate
from medmodal.errors import InvalidParameterError, MedmodalWarning

__all__ = ["DURATION", "FS", "RHYTHMS", "PairedCohort", "paired_cohort", "zero_shot_classes"]

#: Sampling rate (Hz) and length (s) of the simulated ECGs.
FS, DURATION = 100.0, 10.0

#: rhythm -> (heart-rate range in bpm, caption templates, zero-shot class descriptions).
RHYTHMS: dict[str, tuple[tuple[int, int], tuple[str, ...], tuple[str, ...]]] = {
    "sinus": (
        (60, 95),
        (
            "Normal sinus rhythm, heart rate {} bpm.",
            "Sinus rhythm at {} beats per minute, regular.",
            "Regular sinus rhythm, rate {}. Normal ECG.",
        ),
        ("normal sinus rhythm", "a normal ECG"),
    ),
    "tachycardia": (
        (105, 150),
        (
            "Sinus tachycardia at {} bpm.",
            "Fast regular sinus rhythm, rate {} per minute.",
            "Sinus tachycardia, heart rate {}.",
        ),
        ("sinus tachycardia", "a fast heart rate"),
    ),
    "bradycardia": (
        (40, 55),
        (
            "Sinus bradycardia, rate {} bpm.",
            "Slow regular sinus rhythm at {} beats per minute.",
            "Sinus bradycardia with heart rate {}.",
        ),
        ("sinus bradycardia", "a slow heart rate"),
    ),
    "afib": (
        (70, 130),
        (
            "Atrial fibrillation, irregularly irregular ventricular rate {} bpm.",
            "Irregular rhythm without P waves: atrial fibrillation at {} per minute.",
            "AF with ventricular response {} bpm.",
        ),
        ("atrial fibrillation", "an irregularly irregular rhythm"),
    ),
    "pvc": (
        (60, 90),
        (
            "Sinus rhythm with frequent premature ventricular contractions, rate {} bpm.",
            "Ventricular ectopic beats on a sinus rhythm at {} per minute.",
            "Sinus rhythm, {} bpm, with PVCs.",
        ),
        ("premature ventricular contractions", "ventricular ectopic beats"),
    ),
}


@dataclass(frozen=True)
class PairedCohort:
    """Simulated ECGs and their reports.

    Attributes:
        signals: ``(n, 1, T)`` float32, lead II in mV.
        texts: one report per ECG.
        rhythms: the rhythm each ECG was simulated with.
        heart_rates: the heart rate it was simulated at (bpm).
    """

    signals: np.ndarray
    texts: list[str]
    rhythms: list[str]
    heart_rates: np.ndarray


def paired_cohort(n: int, *, seed: int = 0, progress: bool = False) -> PairedCohort:
    """``n`` seeded ECG-report pairs, rhythms in turn (see :data:`RHYTHMS`).

    Raises:
        InvalidParameterError: ``n`` is not a positive int.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidParameterError(f"paired_cohort: n={n!r}; expected a positive int")
    rng = np.random.default_rng(seed)
    names = list(RHYTHMS)
    signals, texts, rhythms, rates = [], [], [], []
    for i in tqdm(range(n), desc="simulating ECG-text pairs", disable=not progress, leave=False):
        rhythm = names[i % len(names)]
        (low, high), templates, _ = RHYTHMS[rhythm]
        rate = float(rng.integers(low, high + 1)) if i >= len(names) else (low + high) / 2
        rate = float(round(rate))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MedmodalWarning)
            signal = ecg_simulate(
                DURATION, FS, rhythm=rhythm, heart_rate=rate, noise=0.05, seed=seed * 7919 + i
            )
        signals.append(signal)
        texts.append(templates[int(rng.integers(len(templates)))].format(int(rate)))
        rhythms.append(rhythm)
        rates.append(rate)
    stacked = np.stack(signals)[:, None, :].astype(np.float32)  # (n, 1, T)
    return PairedCohort(stacked, texts, rhythms, np.asarray(rates))


def zero_shot_classes() -> dict[str, list[str]]:
    """Rhythm -> its zero-shot class descriptions (none of them is a training caption).

    Example:
        >>> zero_shot_classes()["afib"]
        ['atrial fibrillation', 'an irregularly irregular rhythm']
    """
    return {name: list(spec[2]) for name, spec in RHYTHMS.items()}
