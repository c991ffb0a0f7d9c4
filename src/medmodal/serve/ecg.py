"""``POST /v1/ecg/analyze`` behind the route: read the upload, run the pipeline, answer.

Everything here is synchronous; the route runs it in the thread pool so the event loop
keeps serving. The upload is saved in that thread, then read and analysed in a worker
process with a deadline (:mod:`medmodal.serve.worker`), within the readers' budgets
(:func:`read_limits`: a record too large for them is a 413 before it is loaded). The
upload's temporary folder lives until the worker is done. Library errors become 422s
naming the field at fault (``file``, ``sampling_rate`` or ``lead``), with the temporary
path cut out of their text.
"""

from __future__ import annotations

import base64
import contextlib
import io
import threading
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medmodal.ecg.process import ECGResult, ecg_process
from medmodal.ecg.quality import Quality
from medmodal.ecg.rhythm import Rhythm
from medmodal.errors import MedmodalError, MedmodalWarning, RecordTooLargeError
from medmodal.io import Limits, Record, read_record
from medmodal.jsonsafe import json_safe
from medmodal.serve._errors import ServiceError
from medmodal.serve.schemas import BeatClassCounts, BeatClassSummary, ECGAnalysis
from medmodal.serve.settings import Settings
from medmodal.serve.uploads import Upload, save_upload, upload_folder
from medmodal.serve.worker import run_with_deadline

#: Seconds of trace at the top of the figure (drawn on ECG paper; the grid is two line
#: collections, so its cost does not grow with the length shown).
PLOT_SECONDS = 15.0


@dataclass(frozen=True)
class AnalyzeParams:
    """The request's options (already range-checked by the route)."""

    sampling_rate: float | None = None
    lead: str | None = None
    window: float = 10.0
    plot: bool = False


def analyze_upload(
    files: Sequence[Upload],
    params: AnalyzeParams,
    settings: Settings,
    *,
    task: Callable[[AnalysisJob], Any] | None = None,
) -> Any:
    """Save the upload, then read and analyse the record in a worker process that is
    stopped after ``settings.analysis_timeout_s`` (504); return the response body
    (:func:`analyze_record`'s, or ``task``'s: an importable function of the job)."""
    with upload_folder(settings) as folder:
        saved = save_upload(files, folder, settings)
        job = AnalysisJob(
            saved.path, saved.fmt, folder, params, settings, upload_name(files), saved.shown
        )
        return run_with_deadline(
            task or analyze_record, (job,), timeout_s=settings.analysis_timeout_s
        )


@dataclass(frozen=True)
class AnalysisJob:
    """What a worker needs: the saved record, its format, the request and the settings
    (and the uploaded file's own name, without its folders)."""

    path: Path
    fmt: str
    folder: Path
    params: AnalyzeParams
    settings: Settings
    name: str = "record"
    shown: str = "the upload"  #: the client's name of the record file, for messages


@dataclass(frozen=True)
class Analysis:
    """A finished analysis: the record as read, the result, the warnings in words."""

    record: Record
    result: ECGResult
    notes: list[str]


def analyze_record(job: AnalysisJob) -> bytes:
    """Read the saved record within the service's budgets, analyse it, return the body:
    checked against :class:`~medmodal.serve.schemas.ECGAnalysis` and serialised to JSON
    here, in the worker (the service's event loop then only sends the bytes)."""
    done = run_analysis(job)
    body = result_body(done.result, job.fmt, done.notes)
    if job.params.plot:
        body["plot_png"] = overview_png(done.result)
    return ECGAnalysis.model_validate(body).model_dump_json().encode()


def run_analysis(job: AnalysisJob) -> Analysis:
    """Read the saved record within the service's budgets and analyse it (422/413 on bad
    input, naming the field)."""
    params, settings = job.params, job.settings
    with collect_notes() as notes:
        record = _read(job)
        record = _select_lead(record, params.lead)
        if record.signal.size > settings.max_values:
            raise ServiceError(
                422,
                f"the record holds {record.signal.size} samples x leads; the limit is "
                f"{settings.max_values} (crop it or pick one lead)",
                field="file",
            )
        try:
            result = ecg_process(
                record.signal,
                record.sampling_rate,
                window=params.window,
                lead_names=record.lead_names,
                metadata=record.meta,
            )
        except MedmodalError as exc:
            raise ServiceError(422, f"cannot analyse this record: {exc}", field="file") from None
    return Analysis(record, result, notes)


def upload_name(files: Sequence[Upload]) -> str:
    """The first uploaded file's name without folders or suffix (``203.csv`` -> ``203``),
    printable ASCII only, at most 64 characters; ``"record"`` when there is none."""
    raw = str(files[0][0] or "") if files else ""
    stem = Path(raw.replace("\\", "/")).name.split(".")[0]
    clean = "".join(c for c in stem if c.isascii() and c.isprintable() and c not in "\"';<>")
    return clean[:64] or "record"


def read_limits(settings: Settings) -> Limits:
    """The readers' budgets in the service: its value and extracted-size limits."""
    return Limits(
        max_values=settings.max_values, max_decompressed_bytes=settings.max_extracted_bytes
    )


def _read(job: AnalysisJob) -> Record:
    path, fmt, folder = job.path, job.fmt, job.folder
    try:
        return read_record(
            path, format=fmt, sampling_rate=job.params.sampling_rate,
            limits=read_limits(job.settings),
        )  # fmt: skip
    except RecordTooLargeError as exc:
        message = _scrub(str(exc), path, folder, job.shown)
        raise ServiceError(413, f"the {fmt} record is too large: {message}", field="file") from None
    except MedmodalError as exc:
        message = _scrub(str(exc), path, folder, job.shown)
        field = "sampling_rate" if "sampling_rate" in message else "file"
        raise ServiceError(422, f"cannot read the {fmt} record: {message}", field=field) from None
    except (OSError, ValueError, EOFError, UnicodeDecodeError, TypeError, AttributeError,
            KeyError, IndexError, zipfile.BadZipFile) as exc:  # fmt: skip
        raise ServiceError(
            422, f"cannot read the {fmt} record ({type(exc).__name__})", field="file"
        ) from None


def _scrub(message: str, path: Path, folder: Path, shown: str = "the upload") -> str:
    """The message without the temporary paths (they say nothing to the client), the
    record named by the client's own file name, and the library's keyword as the API's
    form field."""
    for long, short in ((path, shown), (path.parent, "upload"), (folder, "upload")):
        message = message.replace(f"{long}/", "").replace(str(long), short)
    message = message.replace(path.name, shown).replace("the upload.hea", "the upload")
    message = message.replace("read_record: ", "")
    return message.replace("pass sampling_rate=", "send the form field sampling_rate (Hz)")


def _select_lead(record: Record, lead: str | None) -> Record:
    if lead is None or lead == "":
        return record
    key: str | int = int(lead) if lead.isdecimal() else lead  # not isdigit: "²" is a digit
    try:
        return record.select([key])
    except MedmodalError:
        raise ServiceError(
            422,
            f"no lead {lead!r} in this record; its leads are: {', '.join(record.lead_names)}",
            field="lead",
        ) from None


def result_body(result: ECGResult, fmt: str, notes: Sequence[str]) -> dict[str, Any]:
    """The JSON body of an :class:`~medmodal.ecg.process.ECGResult` (NaN -> None).

    Every clinical number is :meth:`ECGResult.summary`'s, as in ``medmodal ecg analyze``.
    """
    summary = result.summary()
    return {
        "record": {
            "format": fmt,
            "n_samples": result.n_samples,
            "sampling_rate_hz": result.sampling_rate,
            "duration_s": result.duration_s,
            "leads": list(result.lead_names),
        },
        "n_beats": int(result.peaks.size),
        "heart_rate": json_safe(summary["heart_rate"]),
        "hrv": json_safe(summary.get("hrv")),
        "intervals": json_safe(summary.get("intervals")),
        "powerline": json_safe(summary["powerline"]),
        "rhythm": _windows(result.rhythm, with_rate=True),
        "rhythm_name": summary["rhythm_name"],
        "atrial_fibrillation": json_safe(summary["atrial_fibrillation"]),
        "beat_classes": _beat_classes(summary.get("beat_classes")),
        "quality": _windows(result.quality, with_rate=False),
        "r_peaks": [int(p) for p in result.peaks],
        "beats": _beat_series(result),
        "peak_lead": summary["peak_lead"],
        "peak_lead_reason": summary["peak_lead_reason"],
        "notes": list(dict.fromkeys(notes)),
        "plot_png": None,
    }


def _beat_series(result: ECGResult) -> dict[str, list[Any]]:
    """Per beat: rate, RR flag, class and its probability (the columns of
    :meth:`ECGResult.beats_frame`, taken from the result without building the frame)."""
    rr = result.rr_intervals
    classes = result.beat_classes
    n = int(result.peaks.size)
    return {
        "heart_rate_bpm": [json_safe(float(v)) for v in rr.per_beat_rate_bpm()],
        "rr_flag": [str(f) for f in rr.per_beat_flag()],
        "beat_class": [None] * n if classes is None else [str(c) for c in classes.label],
        "beat_class_p": [None] * n
        if classes is None
        else [json_safe(float(v)) for v in classes.confidence],
    }


def _beat_classes(block: dict[str, Any] | None) -> dict[str, Any] | None:
    """The schema's fields of the summary's beat-class block (keys the library may add
    later are left out, so the response stays what the schema promises)."""
    if block is None:
        return None
    body: dict[str, Any] = {key: json_safe(block[key]) for key in BeatClassSummary.model_fields}
    body["counts"] = {key: int(block["counts"][key]) for key in BeatClassCounts.model_fields}
    return body


def _windows(windowed: Quality | Rhythm, *, with_rate: bool) -> dict[str, Any]:
    rows = [
        {
            "start_s": float(windowed.start_s[i]),
            "end_s": float(windowed.end_s[i]),
            "label": str(windowed.label[i]),
            "reason": str(windowed.reason[i]),
            "heart_rate_bpm": json_safe(windowed.heart_rate_bpm[i]) if with_rate else None,
        }
        for i in range(len(windowed.label))
    ]
    fractions = {k: float(v) for k, v in windowed.fractions.items()}
    return {"overall": str(windowed.overall), "fractions": fractions, "windows": rows}


def overview_png(result: ECGResult, *, dpi: int = 80) -> str:
    """The annotated overview figure (:func:`medmodal.viz.ecg.plot_overview`), base64 PNG."""
    from medmodal.viz.ecg import plot_overview

    fig = plot_overview(result, seconds=PLOT_SECONDS)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


# --- warnings of one request, collected per thread ---------------------------------------
# warnings.catch_warnings() swaps process-wide state and is not thread-safe, so the
# analysis threads share one hook that routes each MedmodalWarning to its own thread's list.
_local = threading.local()
_lock = threading.Lock()
_state: dict[str, Any] = {"depth": 0, "saved": None}


def _hook(message: Any, category: Any, filename: str, lineno: int, *rest: Any) -> None:
    sink = getattr(_local, "notes", None)
    if sink is not None and issubclass(category, MedmodalWarning):
        sink.append(str(message))
        return
    saved = _state["saved"]
    if saved is not None:
        saved[0](message, category, filename, lineno, *rest)


@contextlib.contextmanager
def collect_notes() -> Iterator[list[str]]:
    """Collect the MedmodalWarnings raised in this thread while inside the block."""
    notes: list[str] = []
    _local.notes = notes
    with _lock:
        if _state["depth"] == 0:
            _state["saved"] = (warnings.showwarning, list(warnings.filters))
            warnings.showwarning = _hook  # type: ignore[assignment]
            warnings.filterwarnings("always", category=MedmodalWarning)
        _state["depth"] += 1
    try:
        yield notes
    finally:
        _local.notes = None
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0:
                showwarning, filters = _state["saved"]
                warnings.showwarning = showwarning
                warnings.filters[:] = filters  # type: ignore[index]
                warnings._filters_mutated()  # type: ignore[attr-defined]
                _state["saved"] = None
