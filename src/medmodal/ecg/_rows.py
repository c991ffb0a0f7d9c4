"""The fixed columns of the corpus tables: one row per record, optionally one per beat.

The columns never depend on what a record gave (a failed record has the same columns,
null where nothing was measured), so every part file of a dataset has one schema and
pandas, Polars and Dask read the folder as one table. Units are in the column names.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from medmodal.ecg.delineate import FIDUCIAL_NAMES

#: AAMI beat classes counted when ``summary()`` has a ``beat_classes`` block.
BEAT_CLASS_COUNTS = ("N", "S", "V", "F", "Q", "unknown")

#: (name, type) of every record column; types: string, float64, int64.
RECORD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("record", "string"),
    ("path", "string"),
    ("status", "string"),  # ok, error or timeout
    ("reason", "string"),  # why a record failed or timed out ("" when ok)
    ("processing_s", "float64"),
    ("sampling_rate_hz", "float64"),
    ("duration_s", "float64"),
    ("n_leads", "int64"),
    ("lead_used", "string"),  # the lead the R peaks were placed on
    ("n_beats", "int64"),
    ("heart_rate_bpm", "float64"),  # mean over the analysed time
    ("heart_rate_median_bpm", "float64"),
    ("heart_rate_min_bpm", "float64"),
    ("heart_rate_max_bpm", "float64"),
    ("hrv_sdnn_ms", "float64"),
    ("hrv_rmssd_ms", "float64"),
    ("hrv_pnn50_pct", "float64"),
    ("pr_ms", "float64"),
    ("qrs_ms", "float64"),
    ("qt_ms", "float64"),
    ("qtc_bazett_ms", "float64"),
    ("quality", "string"),
    ("rhythm", "string"),  # in words, "atrial fibrillation" where found
    ("af_label", "string"),
    ("af_burden_pct", "float64"),
    *((f"beats_{c}_n", "int64") for c in BEAT_CLASS_COUNTS),
    ("pvc_burden_pct", "float64"),
    ("warnings", "string"),  # automatic fixes made on the record
)

#: (name, type) of every beat column (fiducials and intervals null when not delineated).
BEAT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("record", "string"),
    ("beat", "int64"),
    ("r_peak", "int64"),
    ("time_s", "float64"),
    ("rr_s", "float64"),
    ("heart_rate_bpm", "float64"),
    ("rr_flag", "string"),
    *((name, "int64") for name in FIDUCIAL_NAMES if name != "r_peak"),
    *((name, "float64") for name in ("pr_ms", "qrs_ms", "qt_ms", "qtc_bazett_ms")),
    ("beat_class", "string"),
    ("beat_class_p", "float64"),
)


def failed_row(record: str, path: str, status: str, reason: str, seconds: float) -> dict[str, Any]:
    """The row of a record that could not be processed (``status``: error or timeout)."""
    row: dict[str, Any] = dict.fromkeys(name for name, _ in RECORD_COLUMNS)
    row.update(record=record, path=path, status=status, reason=reason, processing_s=seconds)
    return row


def record_row(
    record: str, path: str, summary: dict[str, Any], warnings: str, seconds: float
) -> dict[str, Any]:
    """The row of a processed record, from :meth:`ECGResult.summary`."""
    heart = summary.get("heart_rate") or {}
    hrv = summary.get("hrv") or {}
    intervals = summary.get("intervals") or {}
    af = summary.get("atrial_fibrillation") or {}
    row = failed_row(record, path, "ok", "", seconds)
    row.update(
        sampling_rate_hz=summary["sampling_rate_hz"],
        duration_s=summary["duration_s"],
        n_leads=len(summary["leads"]),
        lead_used=summary["peak_lead"],
        n_beats=summary["n_beats"],
        heart_rate_bpm=heart.get("mean_bpm"),
        heart_rate_median_bpm=heart.get("median_bpm"),
        heart_rate_min_bpm=heart.get("min_bpm"),
        heart_rate_max_bpm=heart.get("max_bpm"),
        hrv_sdnn_ms=hrv.get("sdnn_ms"),
        hrv_rmssd_ms=hrv.get("rmssd_ms"),
        hrv_pnn50_pct=hrv.get("pnn50_pct"),
        quality=summary["quality"],
        rhythm=summary.get("rhythm_name", summary["rhythm"]),
        af_label=af.get("label"),
        af_burden_pct=af.get("burden_pct"),
        warnings=warnings,
        **{k: intervals.get(k) for k in ("pr_ms", "qrs_ms", "qt_ms", "qtc_bazett_ms")},
    )
    classes = summary.get("beat_classes")
    if isinstance(classes, dict):
        counts = classes.get("counts") or {}
        row.update({f"beats_{c}_n": int(counts.get(c, 0)) for c in BEAT_CLASS_COUNTS})
        row["pvc_burden_pct"] = classes.get("pvc_burden_pct")
    return {k: _finite(v) for k, v in row.items()}


def beat_rows(record: str, beats: pd.DataFrame) -> pd.DataFrame:
    """The beat table of one record in :data:`BEAT_COLUMNS` (missing columns null)."""
    frame = beats.reset_index(drop=False).rename(columns={"index": "beat"})
    frame.insert(0, "record", record)
    names = [name for name, _ in BEAT_COLUMNS]
    return frame.reindex(columns=names)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
