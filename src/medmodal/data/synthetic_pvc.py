"""A seeded cohort of simulated 10-second ECGs, half with premature ventricular
contractions (PVCs), whose PVC positions are known: ground truth for attention maps and
attributions ("did the model look at the PVC beats?").

Each record is :func:`medmodal.ecg.ecg_simulate_annotated` output at 100 Hz: even
indices sinus rhythm, odd indices sinus rhythm with PVCs (at least one per record), paired
with a two-column clinical table (age, sex).

Example:
    >>> from medmodal.data.synthetic_pvc import make_pvc_cohort
    >>> cohort = make_pvc_cohort(4, seed=0)
    >>> cohort.X["ecg"].shape, cohort.y.tolist()
    ((4, 1, 1000), [0, 1, 0, 1])
    >>> all(p.size > 0 for p in cohort.pvc_peaks[1::2])
    True
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from medmodal.errors import InvalidParameterError, MedmodalWarning

__all__ = ["DURATION", "FS", "PVCCohort", "make_pvc_cohort"]

#: Sampling rate (Hz) and length (s) of the simulated ECGs.
FS, DURATION = 100.0, 10.0


@dataclass(frozen=True)
class PVCCohort:
    """ECGs with a clinical table and the position of every PVC.

    Attributes:
        X: ``{"ecg": (n, 1, T) float32 mV, "clinical": (n, 2) age (years), sex (0/1)}``.
        y: 1 when the record contains PVCs.
        pvc_peaks: per record, the R-peak samples of its PVC beats.
    """

    X: dict[str, np.ndarray]
    y: np.ndarray
    pvc_peaks: list[np.ndarray]


def make_pvc_cohort(
    n: int, *, seed: int = 0, ectopic_rate: float = 0.25,
    heart_rate: tuple[float, float] = (60.0, 90.0), noise: float = 0.05,
    age_shift: float = 4.0, progress: bool = False,
) -> PVCCohort:  # fmt: skip
    """``n`` seeded ECGs alternating sinus rhythm and sinus rhythm with PVCs.

    Args:
        n: number of records.
        seed: seeds the heart rates, the simulator and the clinical table.
        ectopic_rate: fraction of PVC beats in a PVC record.
        heart_rate: range (bpm) each record's rate is drawn from, uniformly.
        noise: simulator noise amplitude (mV).
        age_shift: years added to the age of PVC records (0: the table is pure noise).
        progress: show a progress bar.
    """
    from tqdm.auto import tqdm

    from medmodal.ecg.simulate import ecg_simulate_annotated

    if not isinstance(n, int) or n < 1:
        raise InvalidParameterError(f"make_pvc_cohort: n must be a positive int, got {n!r}")
    if not 0 < ectopic_rate < 1 or not 0 < heart_rate[0] <= heart_rate[1]:
        raise InvalidParameterError(
            "make_pvc_cohort: need 0 < ectopic_rate < 1 and 0 < low <= high heart rate, got "
            f"ectopic_rate={ectopic_rate}, heart_rate={heart_rate}"
        )
    rng = np.random.default_rng(seed)
    signals, labels, pvcs = [], [], []
    for i in tqdm(range(n), desc="simulating ECGs", disable=not progress, leave=False):
        label = i % 2
        rate = float(rng.uniform(*heart_rate))
        for attempt in range(10):  # a PVC record must hold at least one PVC
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MedmodalWarning)
                sim = ecg_simulate_annotated(
                    DURATION,
                    FS,
                    rhythm="pvc" if label else "sinus",
                    ectopic_rate=ectopic_rate if label else None,
                    heart_rate=rate,
                    noise=noise,
                    seed=seed * 100_003 + i + 1_000_000 * attempt,
                )
            pvc = sim.r_peaks[np.asarray(sim.beat_labels) == "V"]
            if pvc.size or not label:
                break
        signals.append(sim.signal)
        labels.append(int(pvc.size > 0))
        pvcs.append(pvc)
    y = np.asarray(labels, dtype=np.int64)
    clinical = np.c_[rng.normal(60, 10, n) + age_shift * y, rng.integers(0, 2, n)]
    X = {
        "ecg": np.stack(signals)[:, None, :].astype(np.float32),  # (n, 1, T)
        "clinical": clinical.astype(np.float32),  # (n, 2)
    }
    return PVCCohort(X, y, pvcs)
