"""The clinician's page of an upload, rendered in the analysis worker: PDF or HTML.

The service keeps no analyses (each upload is analysed, answered and deleted), so the
page is another answer to the analysis request rather than a stored document:
:func:`report_pdf` and :func:`report_html` run in the worker process like
:func:`~medmodal.serve.ecg.analyze_record` (same budgets, deadline and errors) and call
the library's :func:`~medmodal.report.ecg_pdf.ecg_pdf` and
:func:`~medmodal.report.ecg_html.ecg_html`, which ``medmodal ecg analyze --pdf`` also
calls. The record is named by the uploaded file's own name.
"""

from __future__ import annotations

from medmodal.serve.ecg import AnalysisJob, run_analysis


def report_pdf(job: AnalysisJob) -> bytes:
    """The one-page PDF of the uploaded record."""
    from medmodal.report.ecg_pdf import ecg_pdf

    done = run_analysis(job)
    units = done.record.units
    return ecg_pdf(done.result, record_name=job.name, units=units, notes=done.notes)


def report_html(job: AnalysisJob) -> str:
    """The clinician's HTML page of the uploaded record."""
    from medmodal.report.ecg_html import ecg_html

    done = run_analysis(job)
    units = done.record.units
    return ecg_html(done.result, record_name=job.name, units=units, notes=done.notes)
