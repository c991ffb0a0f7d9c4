"""Pydantic models of every response (and of the JSON bodies the service accepts).

They are the OpenAPI schema at ``/openapi.json``: what a clinic's tools can rely on.
Numbers that cannot be computed (HRV of a 5-beat strip) are ``null``, never NaN.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(_Model):
    """What went wrong."""

    code: str = Field(description="machine-readable kind, e.g. 'invalid_parameter'")
    message: str = Field(description="one readable sentence")
    field: str | None = Field(None, description="the request field at fault, if one is")


class ErrorResponse(_Model):
    """Every error the service returns (4xx and 5xx) has this shape."""

    error: ErrorDetail


class Health(_Model):
    """``GET /health``."""

    status: str = "ok"
    version: str
    auth_required: bool
    models_dir_configured: bool


class RecordInfo(_Model):
    """The record as read from the upload (no names, no patient fields)."""

    format: str
    n_samples: int
    sampling_rate_hz: float
    duration_s: float
    leads: list[str]


class HeartRate(_Model):
    """The heart rate (bpm) and the RR intervals kept out of it (:mod:`medmodal.ecg.rr`)."""

    mean_bpm: float | None = Field(
        description="beats per minute over the analysed time (60 x RR intervals / time "
        "from the first to the last beat; extra detections < 200 ms not counted)"
    )
    median_bpm: float | None = Field(description="median beat-to-beat rate (20-300 bpm)")
    min_bpm: float | None = Field(
        description="lowest beat-to-beat rate over NN intervals (and AF ones: min_max_over)"
    )
    max_bpm: float | None = Field(
        description="highest beat-to-beat rate over NN intervals (and AF ones: min_max_over)"
    )
    analysed_s: float = Field(description="time from the first to the last beat (s)")
    n_intervals: int
    n_counted: int = Field(description="intervals counted for the mean")
    n_flagged: int = Field(description="intervals kept out of min/max and HRV")
    n_af: int = Field(
        description="intervals inside atrial-fibrillation episodes (flag af: irregular "
        "because of AF, not flagged; kept in min/max)"
    )
    flagged: dict[str, int] = Field(
        description="flagged intervals per reason: too_short (> 300 bpm), too_long "
        "(< 20 bpm), ectopic_or_artefact"
    )
    note: str = Field(description="the flags in one sentence")
    mean_method: str
    min_max_over: str


class Intervals(_Model):
    """PR, QRS and QT (ms, medians of dominant beats), each reported or withheld with why."""

    lead: str = Field(description="the lead delineated")
    lead_reason: str = Field(description="why that lead")
    method: str
    beats_used: str
    n_dominant: int
    pr_ms: float | None
    pr_n_beats: int
    pr_withheld: str = Field(description="why PR is not reported ('' when it is)")
    pr_note: str
    qrs_ms: float | None
    qrs_n_beats: int
    qrs_withheld: str
    qt_ms: float | None
    qtc_bazett_ms: float | None
    qtc_fridericia_ms: float | None
    qt_n_beats: int
    qt_withheld: str = Field(description="why QT/QTc are not reported ('' when they are)")
    qtc_formulas: dict[str, str]


class Powerline(_Model):
    """The mains notch applied and how it was chosen."""

    hz: float | None = Field(description="notch frequency, null for none")
    source: str = Field(description="'requested', 'metadata', 'detected' or 'none'")
    detail: str
    text: str


class BeatSeries(_Model):
    """One entry per R peak: the rate of the interval ending at it, and its flag."""

    heart_rate_bpm: list[float | None] = Field(
        description="60 / RR in bpm; null for the first beat and where the interval is "
        "too short or too long (never outside 20-300 bpm)"
    )
    rr_flag: list[str] = Field(description="nn, af, too_short, too_long, ectopic_or_artefact")
    beat_class: list[str | None] = Field(
        description="AAMI class of the beat: N, S, V, F, Q, or 'unknown' (see "
        "beat_classes.reason); null when beat classes were not computed"
    )
    beat_class_p: list[float | None] = Field(
        description="the model's probability of that class (null where unknown)"
    )


class Window(_Model):
    """One rhythm or quality window."""

    start_s: float
    end_s: float
    label: str
    reason: str
    heart_rate_bpm: float | None = None


class WindowedLabels(_Model):
    """Labels per window, the overall label and the share of time under each."""

    overall: str
    fractions: dict[str, float]
    windows: list[Window]


class AFEpisode(_Model):
    """One atrial fibrillation episode."""

    start_s: float
    end_s: float


class AtrialFibrillation(_Model):
    """Atrial fibrillation over the record (:func:`medmodal.ecg.ecg_af`)."""

    label: str = Field(description="'atrial fibrillation', 'none' or 'unknown'")
    overall: str = Field(description="'af', 'not_af' or 'unknown'")
    burden_pct: float = Field(description="time in AF episodes, % of the recording")
    n_episodes: int
    episodes: list[AFEpisode]
    method: str
    used_p_waves: bool = Field(description="whether the absence of P waves was examined")
    reason: str = Field(description="why the record could not be judged ('' otherwise)")


class BeatClassCounts(_Model):
    """Beats per AAMI class, and beats that could not be classified."""

    N: int = Field(description="normal or bundle-branch block (and escape) beats")
    S: int = Field(description="supraventricular ectopic beats")
    V: int = Field(description="ventricular ectopic beats (PVCs)")
    F: int = Field(description="fusion of ventricular and normal beats")
    Q: int = Field(description="unclassifiable (paced, ...)")
    unknown: int = Field(description="beats the model could not classify (see reason)")


class BeatClassSummary(_Model):
    """The AAMI class of every beat, totalled (:func:`medmodal.ecg.ecg_beat_classes`)."""

    label: str = Field(description="'classified' or 'unknown' (no beat could be classified)")
    reason: str = Field(description="why the beats could not be classified ('' otherwise)")
    n_beats: int
    n_classified: int
    counts: BeatClassCounts
    pvc_per_hour: float | None = Field(description="V beats per hour of recording")
    pvc_burden_pct: float | None = Field(description="V beats, % of the classified beats")
    sve_count: int = Field(description="supraventricular ectopic (S) beats")
    sve_per_hour: float | None
    model: str = Field(description="the beat model, name and version")
    lead: str | None = Field(description="the lead classified: the one the R peaks sit on")


class ECGAnalysis(_Model):
    """``POST /v1/ecg/analyze``: what :func:`medmodal.ecg.ecg_process` measured."""

    record: RecordInfo
    n_beats: int
    heart_rate: HeartRate
    hrv: dict[str, float | int | str | None] | None = Field(
        description="heart-rate variability of the NN intervals (null with fewer than 3 beats)"
    )
    intervals: Intervals | None = Field(description="PR, QRS, QT/QTc (null: no beats)")
    powerline: Powerline
    rhythm: WindowedLabels
    rhythm_name: str = Field(
        description="the overall rhythm in words ('atrial fibrillation' where an irregular "
        "rhythm is AF)"
    )
    atrial_fibrillation: AtrialFibrillation | None = Field(description="AF episodes and burden")
    beat_classes: BeatClassSummary | None = Field(
        description="beats per AAMI class, PVCs per hour and burden, supraventricular "
        "ectopics (per beat: beats.beat_class)"
    )
    quality: WindowedLabels
    r_peaks: list[int] = Field(description="R-peak sample indices")
    beats: BeatSeries
    peak_lead: str = Field(description="the lead the R peaks sit on")
    peak_lead_reason: str = Field(description="how the R peaks were placed")
    notes: list[str] = Field(description="automatic fixes and caveats")
    plot_png: str | None = Field(
        None, description="the annotated overview figure, base64 PNG (with plot=true)"
    )


class ModelEntry(_Model):
    """One saved model in the models folder."""

    name: str
    kind: str = Field(description="'fusion', 'align' or 'unknown'")
    loaded: bool
    config: dict[str, Any] = Field(description="the model's config.json")


class ModelList(_Model):
    """``GET /v1/models``."""

    models_dir_configured: bool
    models: list[ModelEntry]


class FusionRequest(_Model):
    """``POST /v1/fusion/predict``: one or more samples, each modality as arrays."""

    model: str = Field(description="name of a fusion model in the models folder")
    inputs: dict[str, list[Any]] = Field(
        description="modality name -> per-sample arrays (nested lists); null for a "
        "missing modality of a sample",
        min_length=1,
    )


class FusionPrediction(_Model):
    """Class probabilities per sample."""

    model: str
    classes: list[str]
    probabilities: list[list[float]]
    predictions: list[str]


class AlignHit(_Model):
    """One gallery item and its cosine similarity to the query: an image (for a text
    query) or a caption (for an image query), each with what the gallery knows of the
    other side."""

    rank: int = Field(description="1 for the nearest item")
    score: float = Field(description="cosine similarity of the item to the query")
    image_id: str | None = Field(
        description="the image found (text query) or the first image of the caption "
        "found (image query); null when the gallery does not say"
    )
    image_url: str | None = Field(
        description="GET this path for the image's PNG; null when the gallery keeps no images"
    )
    caption: str | None = Field(
        description="the caption found (image query) or the image's caption (text query)"
    )
    case_id: str | None = Field(description="the case the item comes from, when known")


class AlignResult(_Model):
    """The nearest gallery items (images for a text query, captions for an image)."""

    model: str
    query: str = Field(description="'text' or 'image'")
    hits: list[AlignHit]
