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
    """Beat-to-beat heart rate over the record (bpm)."""

    mean_bpm: float | None
    min_bpm: float | None
    max_bpm: float | None


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


class ECGAnalysis(_Model):
    """``POST /v1/ecg/analyze``: what :func:`medmodal.ecg.ecg_process` measured."""

    record: RecordInfo
    n_beats: int
    heart_rate: HeartRate
    hrv: dict[str, float | int | str | None] | None = Field(
        description="heart-rate variability (null with fewer than 3 beats)"
    )
    rhythm: WindowedLabels
    quality: WindowedLabels
    r_peaks: list[int] = Field(description="R-peak sample indices")
    peak_lead: str = Field(description="the lead the R peaks sit on")
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
    """One gallery item and its cosine similarity to the query."""

    rank: int
    id: str
    score: float


class AlignResult(_Model):
    """The nearest gallery items (images for a text query, captions for an image)."""

    model: str
    query: str = Field(description="'text' or 'image'")
    hits: list[AlignHit]
