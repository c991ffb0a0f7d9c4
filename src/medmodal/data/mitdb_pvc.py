"""10-second MIT-BIH windows with and without PVCs, with the PVC positions: the real-data
twin of :func:`medmodal.data.synthetic_pvc.make_pvc_cohort` (attention maps, attributions).

Each record's MLII lead is cleaned (:func:`medmodal.ecg.ecg_clean`, 60 Hz mains: the
recordings are American), resampled from 360 to 100 Hz and cut into 10-second windows; a
window is labelled "PVCs present" when the cardiologists' reference annotations hold a
ventricular (AAMI class V) beat in it, and those beats' positions are what the attention
map is checked against. Clinical features are the header's age and sex. Training and test
windows come from different patients (:data:`TRAIN_RECORDS`, :data:`TEST_RECORDS`).

Example:
    >>> from medmodal.data.mitdb_pvc import TEST_RECORDS, TRAIN_RECORDS
    >>> set(TRAIN_RECORDS) & set(TEST_RECORDS)
    set()
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from medmodal.data.subsample import cap_per_group
from medmodal.data.synthetic_pvc import DURATION, FS, PVCCohort
from medmodal.errors import MedmodalWarning

__all__ = ["PER_CLASS", "TEST_RECORDS", "TRAIN_RECORDS", "mitdb_pvc_cohort"]

#: Patients the model is trained on: PVC-rich records and records without PVCs.
TRAIN_RECORDS = ("106", "119", "200", "208", "221", "101", "103", "112")
#: Held-out patients: two with frequent PVCs, two (almost) without.
TEST_RECORDS = ("223", "233", "100", "113")
#: Windows per class (with / without PVCs) drawn from each record in a full run.
PER_CLASS = 12
_MITDB_FS = 360


def mitdb_pvc_cohort(
    records: Sequence[str],
    *,
    root: Path | None,
    per_class: int = PER_CLASS,
    seed: int = 0,
    progress: bool = False,
) -> tuple[PVCCohort, np.ndarray]:
    """Up to ``per_class`` seeded windows with PVCs and as many without, per record.

    Returns:
        The cohort (``X["ecg"]`` ``(n, 1, 1000)`` float32 mV at 100 Hz, ``X["clinical"]``
        ``(n, 2)`` age and sex, PVC positions in window samples) and each window's record.

    Raises:
        DataNotFoundError: MIT-BIH is not under ``root``.
    """
    parts = [_record_windows(rid, root) for rid in
             tqdm(records, desc="MIT-BIH windows", disable=not progress, leave=False)]  # fmt: skip
    owner = np.concatenate([np.full(len(p[0]), rid) for rid, p in zip(records, parts, strict=True)])
    windows = np.concatenate([p[0] for p in parts])  # (W, T)
    v_peaks = [peaks for p in parts for peaks in p[1]]
    has_v = np.array([p.size > 0 for p in v_peaks], dtype=bool)
    rows = cap_per_group(owner, has_v, per_class, seed=seed, order=records)
    by_record = {rid: (p[2], p[3]) for rid, p in zip(records, parts, strict=True)}
    clinical = [by_record[rid] for rid in owner[rows]]
    X = {
        "ecg": windows[rows][:, None, :].astype(np.float32),  # (n, 1, T)
        "clinical": np.asarray(clinical, dtype=np.float32).reshape(-1, 2),  # (n, 2)
    }
    labels = has_v[rows].astype(np.int64)
    return PVCCohort(X, labels, [v_peaks[i] for i in rows]), owner[rows]


def _record_windows(
    rid: str, root: Path | None
) -> tuple[np.ndarray, list[np.ndarray], float, float]:
    """Cleaned 100 Hz MLII windows ``(W, T)``, V-beat samples per window, age, sex (M=1)."""
    from scipy.signal import resample_poly

    from medmodal.data import mitdb
    from medmodal.ecg.clean import ecg_clean

    record = mitdb.load_record(rid, root=root, leads="MLII")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MedmodalWarning)
        clean = ecg_clean(record.signal[:, 0], _MITDB_FS, powerline=60.0)
    signal = resample_poly(clean, int(FS), _MITDB_FS)  # 360 -> 100 Hz
    length = int(FS * DURATION)
    n_windows = len(signal) // length
    windows = signal[: n_windows * length].reshape(n_windows, length)
    annotations = record.annotations
    if annotations is None:  # load_record attaches them; guard for type checkers
        return windows, [np.zeros(0, dtype=np.int64)] * n_windows, 60.0, 0.0
    beats = annotations.beats()
    v = np.round(beats.sample[mitdb.aami_classes(annotations) == "V"] * FS / _MITDB_FS)
    v = v.astype(np.int64)
    window_of = v // length
    per_window = [v[window_of == w] - w * length for w in range(n_windows)]
    age = float(record.meta.get("age") or 60.0)
    sex = 1.0 if record.meta.get("sex") == "M" else 0.0
    return windows, per_window, age, sex
