"""Ready-made multimodal sets for fusion comparisons on the real data sets.

Each builder returns a :class:`FusionSet`: modalities ``X`` (name → array with samples
first), targets ``y`` and patient ``groups`` for grouped cross-validation, the layout
:func:`medmodal.fusion.compare_fusion` takes. Preprocessing uses no labels and no
statistics across samples beyond one record (standardisation is left to the fusion
library, which fits it on each training fold).

``data.frame()`` is the same ``X`` as a row-indexable
:class:`~medmodal.data.modality_frame.ModalityFrame` for scikit-learn's model selection.

- :func:`mitdb_beats`: MIT-BIH beats (:mod:`medmodal.data.beats`) as four modalities:
  MLII morphology and the other lead's morphology (``(n, 2, 128)``: the window scaled by
  the record's median beat amplitude, and the same minus the record's median beat),
  log RR features ``(n, 10)`` and the header's age and sex ``(n, 2)``; AAMI labels
  N/S/V/F; groups are subjects (records 201 and 202 come from one patient).
- :func:`ptbxl_superclass`: PTB-XL 12-lead ECG ``(n, 12, 10·rate)`` cleaned with
  :func:`medmodal.ecg.ecg_clean` and decimated, plus age, sex, height and weight with
  their real missing values and two 0/1 "missing" indicators; the five diagnostic
  superclasses as a multi-label 0/1 matrix; groups are patient ids. The report text is
  never an input (it states the diagnosis).

Both raise :class:`~medmodal.errors.DataNotFoundError` naming the folder where the data
belong when it is not under the data root (see :mod:`medmodal.data.paths`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from medmodal.data import mitdb
from medmodal.data.modality_frame import ModalityFrame
from medmodal.errors import InvalidParameterError
from medmodal.types import PathLike

__all__ = ["MITDB_ORDER", "FusionSet", "mitdb_beats", "ptbxl_superclass"]

#: MIT-BIH records (paced ones excluded) in the order :func:`mitdb_beats` takes them
#: with ``max_records``: eight class-diverse records first (N, S, V and F beats in few
#: records), then the rest of DS1 and DS2.
MITDB_ORDER: tuple[str, ...] = tuple(
    dict.fromkeys(("106", "119", "208", "209", "100", "200", "232", "233", *mitdb.DS1, *mitdb.DS2))
)
_SAME_SUBJECT = {"202": "201"}  # MIT-BIH records 201 and 202 are one patient


@dataclass(frozen=True, eq=False)  # arrays inside: equality is identity
class FusionSet:
    """Modalities, targets and patient groups for :func:`medmodal.fusion.compare_fusion`.

    Attributes:
        X: modality name → array ``(n, ...)``.
        y: ``(n,)`` class labels or ``(n, L)`` 0/1 label matrix.
        groups: ``(n,)`` patient ids (keep a patient's samples in one fold).
        name: the data set (``"mitdb"``, ``"ptbxl"``).
        info: counts and settings worth reporting.
    """

    X: dict[str, np.ndarray]
    y: np.ndarray
    groups: np.ndarray
    name: str
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.groups)

    def frame(self) -> ModalityFrame:
        """``X`` as one row-indexable :class:`~medmodal.data.modality_frame.ModalityFrame`
        (for ``cross_val_score(clf, data.frame(), data.y, groups=data.groups, ...)``)."""
        return ModalityFrame(self.X)


def _max_records(value: int | None, func: str) -> None:
    if value is not None and value < 2:
        raise InvalidParameterError(
            f"{func}: max_records must be at least 2 (grouped folds need patients), got {value}"
        )


def mitdb_beats(
    *,
    root: PathLike | None = None,
    records: tuple[str, ...] | None = None,
    max_records: int | None = None,
    n_fraction: float = 0.1,
    seed: int = 0,
    cache_dir: PathLike | None = None,
    progress: bool = False,
) -> FusionSet:
    """MIT-BIH beats as four modalities (reference R peaks), grouped by subject.

    Args:
        root: the data root (default ``$MEDMODAL_DATA``).
        records: record ids (default :data:`MITDB_ORDER`: DS1 and DS2, no paced records).
        max_records: keep only the first this many of ``records``.
        n_fraction: keep all S, V and F beats and this seeded fraction of N beats (the
            N class is ~90 % of beats; 1.0 keeps every beat).
        seed: seeds the N subsampling.
        cache_dir: reuse per-record beat files there (see :func:`build_beats`).
        progress: tqdm bar over records.

    Raises:
        DataNotFoundError: MIT-BIH is not under the data root.
        InvalidParameterError: bad ``max_records`` or ``n_fraction``.
    """
    from medmodal.data.beats import build_beats, normalize_morphology
    from medmodal.data.subsample import keep_minority

    _max_records(max_records, "mitdb_beats")
    if not 0 < n_fraction <= 1:
        raise InvalidParameterError(f"mitdb_beats: n_fraction must be in (0, 1], got {n_fraction}")
    mitdb._folder(root)  # one clear error (where the data belong) before any work
    ids = tuple(records or MITDB_ORDER)[:max_records]
    beats = build_beats(ids, root=root, cache_dir=cache_dir, progress=progress)
    beats = beats.subset(keep_minority(beats.label, fraction=n_fraction, majority="N", seed=seed))
    scaled = normalize_morphology(beats)
    centred = normalize_morphology(beats, subtract_median=True)
    X = {
        "mlii": np.stack([scaled.mlii, centred.mlii], axis=1).astype(np.float32),  # (n, 2, T)
        "other": np.stack([scaled.other, centred.other], axis=1).astype(np.float32),
        "rhythm": np.log(np.maximum(beats.rhythm, 1e-3)).astype(np.float32),  # (n, 10)
        "demographics": beats.demographics.astype(np.float32),  # (n, 2), NaN age kept
    }
    groups = np.array([_SAME_SUBJECT.get(r, r) for r in beats.record.astype(str)])
    labels, counts = np.unique(beats.label, return_counts=True)
    info = {
        "records": list(ids),
        "beats": len(beats),
        "class_counts": {str(k): int(v) for k, v in zip(labels, counts, strict=True)},
        "n_fraction": n_fraction,
    }
    return FusionSet(X, np.asarray(beats.label).astype(str), groups, "mitdb", info)


def ptbxl_superclass(
    *,
    root: PathLike | None = None,
    max_records: int | None = None,
    rate: int = 50,
) -> FusionSet:
    """PTB-XL ECG + metadata → the five diagnostic superclasses (multi-label).

    Args:
        root: the data root (default ``$MEDMODAL_DATA``).
        max_records: keep only the first this many records (by ``ecg_id``) with a
            diagnostic label.
        rate: Hz fed to the models: 100 (as stored) or a divisor of it (decimated with
            an anti-aliasing filter, zero phase).

    Raises:
        DataNotFoundError: PTB-XL is not under the data root.
        InvalidParameterError: bad ``rate`` or ``max_records``.
    """
    from scipy.signal import decimate

    from medmodal.data import ptbxl
    from medmodal.ecg.clean import ecg_clean

    _max_records(max_records, "ptbxl_superclass")
    if rate < 1 or int(ptbxl.SAMPLING_RATE) % rate:
        raise InvalidParameterError(
            f"ptbxl_superclass: rate must divide {ptbxl.SAMPLING_RATE:g} Hz, got {rate}"
        )
    meta = ptbxl.load_metadata(root=root)
    labels = ptbxl.superclasses(meta, root=root)
    keep = labels.sum(axis=1) > 0
    n_dropped = int((~keep).sum())
    meta, labels = meta[keep].iloc[:max_records], labels[keep].iloc[:max_records]
    signals = ptbxl.load_signals(meta.index, root=root)  # (n, 1000, 12)
    with warnings.catch_warnings():  # a few leads look clipped: kept as recorded
        warnings.simplefilter("ignore")
        ecg = np.stack([ecg_clean(s, ptbxl.SAMPLING_RATE) for s in signals])
    factor = round(ptbxl.SAMPLING_RATE / rate)
    if factor > 1:
        ecg = decimate(ecg, factor, axis=1, zero_phase=True)
    columns = ["age", "sex", "height", "weight"]
    table = meta[columns].to_numpy(dtype=np.float64)
    missing = np.isnan(table[:, 2:4]).astype(np.float64)  # height, weight
    X = {
        "ecg": np.ascontiguousarray(ecg.transpose(0, 2, 1)).astype(np.float32),  # (n, 12, T)
        "metadata": np.hstack([table, missing]).astype(np.float32),  # (n, 6)
    }
    info = {
        "records": len(meta),
        "dropped_without_diagnostic_label": n_dropped,
        "classes": list(ptbxl.SUPERCLASSES),
        "prevalence": {c: int(labels[c].sum()) for c in ptbxl.SUPERCLASSES},
        "rate_hz": rate,
    }
    y = labels.to_numpy(dtype=np.int64)
    return FusionSet(X, y, meta["patient_id"].to_numpy(dtype=np.int64), "ptbxl", info)
