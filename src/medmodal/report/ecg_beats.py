"""The beat-class table of the report's ECG section: the model's AAMI classes per record
beside the cardiologists' reference classes, with the PVC and SVE rates.

Every number of the model comes from the ``beat_classes`` block of
:meth:`medmodal.ecg.process.ECGResult.summary` (the same as ``medmodal ecg analyze``
and the service); the reference counts are the AAMI classes of the record's beat
annotations (:func:`medmodal.data.mitdb.aami_classes`). Records of MIT-BIH DS1 trained
the shipped model, so their agreement is in-sample: the table says which.

Example:
    >>> block = {"label": "classified", "reason": "", "lead": "MLII", "n_beats": 3,
    ...          "counts": {"N": 2, "S": 0, "V": 1, "F": 0, "Q": 0, "unknown": 0},
    ...          "pvc_per_hour": 360.0, "pvc_burden_pct": 33.3, "sve_per_hour": 0.0}
    >>> from types import SimpleNamespace
    >>> rep = SimpleNamespace(name="mitdb-119", summary={"beat_classes": block},
    ...                       reference_classes={"N": 2, "V": 1}, record_id="119")
    >>> row = beat_table([rep]).iloc[0]
    >>> row["V model (ref)"], row["model trained on it"]
    ('1 (1)', 'yes (DS1: in-sample)')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from medmodal.data.mitdb import DS1, DS2, aami_classes
from medmodal.io import Record

__all__ = ["AAMI", "NOTE", "RecordBeats", "beat_table", "reference_counts"]

#: The AAMI EC57 classes, in their standard order.
AAMI = ("N", "S", "V", "F", "Q")
#: What the table's columns mean (printed under it).
NOTE = (
    "Each R peak's AAMI class from the shipped beat model (ecg_beat_classes on the lead "
    "the R peaks sit on), counted per class; in brackets the count of the cardiologists' "
    "reference beats of that class (N normal and bundle-branch block, S supraventricular "
    "ectopic, V ventricular ectopic, F fusion, Q unclassifiable/paced). Counts compare "
    "totals, not beat by beat. PVC burden = V beats over classified beats. Records of "
    "MIT-BIH DS1 trained the model: their agreement is in-sample; DS2 records are held "
    "out (benchmarks/results/beat_model.md scores DS2)."
)


def reference_counts(record: Record) -> dict[str, int]:
    """The AAMI classes of the record's reference beats, counted (empty without
    annotations; beats without an AAMI class are not counted)."""
    if record.annotations is None:
        return {}
    classes = aami_classes(record.annotations)
    return {c: int(np.count_nonzero(classes == c)) for c in AAMI}


class RecordBeats(Protocol):
    """What the table reads of one analysed record
    (:class:`~medmodal.report.ecg_section.ExcerptReport`)."""

    @property
    def name(self) -> str: ...  # the record's label
    @property
    def summary(self) -> Mapping[str, Any]: ...  # ECGResult.summary()
    @property
    def reference_classes(self) -> Mapping[str, int]: ...  # reference_counts(record)
    @property
    def record_id(self) -> str | None: ...  # the MIT-BIH record id


def beat_table(reports: Sequence[RecordBeats]) -> pd.DataFrame:
    """One row per record: the model's count per class (reference in brackets), unknown
    beats, PVCs per hour, PVC burden, SVEs per hour, and whether the model trained on it."""
    out = []
    for rep in reports:
        block, reference = rep.summary.get("beat_classes"), rep.reference_classes
        row: dict[str, Any] = {"record": rep.name}
        if not block or block.get("label") == "unknown":
            why = (block or {}).get("reason") or "not computed"
            row |= {f"{c} model (ref)": "" for c in AAMI} | {"beat classes": f"unknown: {why}"}
        else:
            counts = block["counts"]
            for c in AAMI:
                ref = f" ({reference[c]})" if c in reference else ""
                row[f"{c} model (ref)"] = f"{counts[c]}{ref}"
            row |= {
                "unknown": counts.get("unknown", 0),
                "lead": block.get("lead") or "",
                "PVC / h": block["pvc_per_hour"],
                "PVC burden %": block["pvc_burden_pct"],
                "SVE / h": block["sve_per_hour"],
            }
        row["model trained on it"] = _in_training(rep.record_id)
        out.append(row)
    return pd.DataFrame(out)


def _in_training(rid: str | None) -> str:
    if rid in DS1:
        return "yes (DS1: in-sample)"
    if rid in DS2:
        return "no (DS2: held out)"
    return "no"
