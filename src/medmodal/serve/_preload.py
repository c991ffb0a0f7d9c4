"""Imported once by the analysis workers' forkserver (:mod:`medmodal.serve.worker`).

Importing this module warms the process that every analysis worker is forked from, so
that a new worker pays none of it and shares these pages with its siblings:

- the analysis, report and figure modules (matplotlib included) are imported;
- each record reader (WFDB, CSV, EDF, NumPy) reads a small record once, which imports
  its lazily loaded libraries (``wfdb`` alone costs about half a second);
- :func:`medmodal.ecg.process.ecg_process` analyses a short simulated record at common
  sampling rates (the filter designs are cached per rate), and the overview figure is
  drawn once (fonts loaded);
- the objects made so far are moved out of the garbage collector's reach
  (``gc.freeze``), so that collections in the workers do not copy the shared pages.

A failure here is logged and ignored: the workers then warm up on their first request.
"""

from __future__ import annotations

import gc
import logging
import tempfile
import warnings
from pathlib import Path

from medmodal.serve import ecg, ecg_report  # noqa: F401  (the workers' code)

log = logging.getLogger("medmodal.serve")

#: Sampling rates warmed (MIT-BIH 360 Hz; PTB-XL 100/500 Hz; common Holters 250 Hz).
WARM_RATES = (100.0, 250.0, 360.0, 500.0)
#: Formats whose readers are exercised (by file suffix).
WARM_SUFFIXES = (".hea", ".csv", ".edf", ".npz")


def warm() -> None:
    """Import and exercise the analysis code once (see the module docstring)."""
    import medmodal.report.ecg_html
    import medmodal.report.ecg_pdf  # noqa: F401
    from medmodal.ecg.process import ecg_process
    from medmodal.ecg.simulate import ecg_simulate
    from medmodal.io import Record, read_record, write_record

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for rate in WARM_RATES:
            signal = ecg_simulate(12, rate, n_leads=2, seed=0)
            result = ecg_process(signal, rate)
        ecg.overview_png(result)
        record = Record(signal, WARM_RATES[-1], ("I", "II"), ("mV", "mV"), name="warm")
        with tempfile.TemporaryDirectory(prefix="medmodal-warm-") as tmp:
            for suffix in WARM_SUFFIXES:
                read_record(write_record(record, Path(tmp) / f"warm{suffix}"))


try:
    warm()
except Exception as exc:  # never stop the forkserver: workers then warm up on first use
    log.warning("the analysis workers' warm-up failed (%s)", type(exc).__name__)
gc.collect()
gc.freeze()
