"""How well delineation matches cardiologists, and whether that is good enough for QT.

QT and QTc are only as good as the QRS onset and T-wave end they span, and T ends are
known to be hard to place. So QT is reported only when the delineator's measured error
on the QT database passes the bar of issue 11 (item 2), for BOTH the QRS onset and the
T offset:

- |mean error| at most ``MAX_ABS_MEAN_MS`` (10 ms);
- error SD strictly below the SD of each peer measured on the same beats (NeuroKit2's
  wavelet delineator and ecgpuwave);
- and the T-offset SD at most ``T_OFFSET_MAX_SD_MS`` (30.6 ms, the CSE tolerance: two
  SD of the spread between experts).

The figures live in ``delineation_validation.json`` next to this module (shipped in the
wheel), written by ``benchmarks/ecg_delineation.py`` from its run on the QT database;
:func:`qt_gate` reads them, so the gate opens by itself once delineation passes.

Delineation is measured under the lead convention it is used in (``conventions`` in the
file): ``"lead0"``, one lead delineated alone (a single-lead record, or lead II of a
12-lead ECG), and ``"both_leads"``, both leads of a two-lead record delineated together
(``ecg_delineate(..., leads="all")``, what :func:`medmodal.ecg.process.ecg_process`
does on a multi-lead record without a lead II). Each has its own figures and peers, and
the gate judges the convention that produced the QT (:func:`convention_for`).

Example:
    >>> from medmodal.ecg.validation import load_delineation_validation, qt_gate
    >>> validation = load_delineation_validation()
    >>> validation.method, validation.fiducials["qrs_onset"] is not None
    ('derivative', True)
    >>> sorted(validation.conventions)
    ['both_leads', 'lead0']
    >>> qt_gate(convention="lead0").reason.startswith("QT withheld: T-offset error")
    True

References:
    Laguna P, Mark RG, Goldberger AL, Moody GB. A database for evaluation of algorithms
    for measurement of QT and other waveform intervals in the ECG. Computers in
    Cardiology 24:673-676 (1997).
    The CSE Working Party. Recommendations for measurement standards in quantitative
    electrocardiography. Eur Heart J 6(10):815-825 (1985) (the tolerances).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medmodal.errors import DataFormatError, DataNotFoundError
from medmodal.types import PathLike

__all__ = [
    "FIDUCIALS",
    "MAX_ABS_MEAN_MS",
    "MULTI_LEAD",
    "QT_FIDUCIALS",
    "RESULTS_FILE",
    "SINGLE_LEAD",
    "T_OFFSET_MAX_SD_MS",
    "VALIDATION_FILE",
    "ConventionFigures",
    "DelineationValidation",
    "FiducialError",
    "Gate",
    "convention_for",
    "load_delineation_validation",
    "qt_gate",
]

#: The shipped validation figures (overwritten by ``benchmarks/ecg_delineation.py``).
VALIDATION_FILE = Path(__file__).with_name("delineation_validation.json")
#: Where the benchmark's full tables are, named in every reason.
RESULTS_FILE = "benchmarks/results/ecg_delineation.md"
#: Fiducial points the file may hold, in order.
FIDUCIALS = ("p_onset", "p_peak", "p_offset", "qrs_onset", "qrs_offset", "t_peak", "t_offset")
#: The fiducials QT spans.
QT_FIDUCIALS = ("qrs_onset", "t_offset")
#: Largest |mean error| (ms) accepted for a QT fiducial.
MAX_ABS_MEAN_MS = 10.0
#: Largest T-offset error SD (ms): the CSE tolerance (2 SD of the experts' spread).
T_OFFSET_MAX_SD_MS = 30.6
#: Lead conventions: one lead alone, or both leads of a two-lead record together.
SINGLE_LEAD, MULTI_LEAD = "lead0", "both_leads"
#: Names of the peers in words.
PEER_NAMES = {"neurokit2_dwt": "NeuroKit2 dwt", "ecgpuwave": "ecgpuwave"}
_WORDS = {"qrs_onset": "QRS-onset", "t_offset": "T-offset"}
_CONVENTION_WORDS = {SINGLE_LEAD: "one lead", MULTI_LEAD: "both leads together"}


@dataclass(frozen=True)
class FiducialError:
    """One fiducial's error against the cardiologist (method minus annotator).

    Attributes:
        se_pct: sensitivity, % of annotated points found.
        mean_ms: mean error (ms).
        sd_ms: standard deviation of the error (ms).
        n: points compared (None when the source does not say).
    """

    se_pct: float
    mean_ms: float
    sd_ms: float
    n: int | None = None


@dataclass(frozen=True)
class ConventionFigures:
    """Our errors and the peers' under one lead convention.

    Attributes:
        description: how the leads were used, in words.
        fiducials: fiducial -> error (None: not delineated).
        peers: peer name -> fiducial -> error (None: the peer does not give it).
    """

    description: str
    fiducials: dict[str, FiducialError | None] = field(default_factory=dict)
    peers: dict[str, dict[str, FiducialError | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class DelineationValidation:
    """The contents of ``delineation_validation.json``.

    Attributes:
        source: where the figures come from.
        generated: date (YYYY-MM-DD).
        database: records and annotator.
        convention: the convention of the top-level ``fiducials`` and ``peers``
            (``"lead0"``).
        method: the delineation method measured.
        fiducials: fiducial -> error (None: not delineated).
        peers: peer name -> fiducial -> error (None: the peer does not give it).
        conventions: convention -> its figures (``"lead0"`` always; ``"both_leads"``
            when the file has it).
    """

    source: str
    generated: str
    database: str
    convention: str
    method: str
    fiducials: dict[str, FiducialError | None] = field(default_factory=dict)
    peers: dict[str, dict[str, FiducialError | None]] = field(default_factory=dict)
    conventions: dict[str, ConventionFigures] = field(default_factory=dict)


@dataclass(frozen=True)
class Gate:
    """Whether a measurement may be reported, and why not when it may not.

    Attributes:
        passed: True when it may be reported.
        reason: why it is withheld (``""`` when passed).
    """

    passed: bool
    reason: str = ""


def load_delineation_validation(path: PathLike | None = None) -> DelineationValidation:
    """Read the validation figures (default: the file shipped in the package).

    Raises:
        DataNotFoundError: no file at ``path``.
        DataFormatError: the file is not the expected JSON (naming what is wrong).
    """
    file = Path(VALIDATION_FILE if path is None else path)
    if not file.is_file():
        raise DataNotFoundError(f"load_delineation_validation: no file {file}")
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
        top = _convention(raw, str(raw["convention"]))
        conventions = {
            str(k): _convention(v, str(k)) for k, v in raw.get("conventions", {}).items()
        }
        return DelineationValidation(
            source=str(raw["source"]),
            generated=str(raw["generated"]),
            database=str(raw["database"]),
            convention=str(raw["convention"]),
            method=str(raw["method"]),
            fiducials=top.fiducials,
            peers=top.peers,
            conventions={str(raw["convention"]): top} | conventions,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DataFormatError(
            f"load_delineation_validation: {file} is not a delineation validation file "
            f"({type(exc).__name__}: {exc})"
        ) from None


def _convention(raw: Any, name: str) -> ConventionFigures:
    return ConventionFigures(
        description=str(raw.get("description", name)),
        fiducials=_fiducials(raw["fiducials"]),
        peers={str(k): _fiducials(v["fiducials"]) for k, v in raw.get("peers", {}).items()},
    )


def _fiducials(raw: Any) -> dict[str, FiducialError | None]:
    out: dict[str, FiducialError | None] = {}
    for name in FIDUCIALS:
        entry = raw.get(name)
        out[name] = (
            None
            if entry is None
            else FiducialError(
                se_pct=float(entry["se_pct"]),
                mean_ms=float(entry["mean_ms"]),
                sd_ms=float(entry["sd_ms"]),
                n=None if entry.get("n") is None else int(entry["n"]),
            )
        )
    return out


def convention_for(n_leads: int) -> str:
    """The convention a delineation of ``n_leads`` leads is validated under.

    Example:
        >>> convention_for(1), convention_for(2)
        ('lead0', 'both_leads')
    """
    return SINGLE_LEAD if n_leads <= 1 else MULTI_LEAD


def qt_gate(
    validation: DelineationValidation | None = None,
    *,
    method: str = "derivative",
    convention: str = SINGLE_LEAD,
) -> Gate:
    """Whether QT/QTc of delineation ``method`` may be reported (see the module's rule).

    Never raises: an unreadable file, another method, a convention the file does not
    measure or a missing figure withhold QT with the reason.

    Args:
        validation: the figures (default: :func:`load_delineation_validation`).
        method: the delineation method whose QT would be reported.
        convention: how the leads were delineated (:func:`convention_for`).

    Example:
        >>> fail = qt_gate(convention="lead0")
        >>> "> 30.6 ms CSE tolerance" in fail.reason
        True
    """
    if validation is None:
        try:
            validation = load_delineation_validation()
        except (DataNotFoundError, DataFormatError) as exc:
            return Gate(False, f"QT withheld: no delineation validation to check it ({exc})")
    if validation.method != method:
        return Gate(
            False,
            f"QT withheld: delineation method {method!r} has no validation on the QT "
            f"database (the file measures {validation.method!r})",
        )
    figures = validation.conventions.get(convention)
    words = _CONVENTION_WORDS.get(convention, convention)
    if figures is None:
        return Gate(
            False, f"QT withheld: delineation on {words} has no validation on the QT database"
        )
    problems = [p for p in (_problem(name, figures) for name in QT_FIDUCIALS) if p]
    if not problems:
        return Gate(True)
    where = f"on the {_short(validation)}, {words} ({RESULTS_FILE})"
    return Gate(False, f"QT withheld: {'; '.join(problems)} {where}")


def _problem(name: str, figures: ConventionFigures) -> str:
    """What keeps fiducial ``name`` from the bar, in words (``""`` when it passes)."""
    ours = figures.fiducials.get(name)
    word = _WORDS[name]
    if ours is None:
        return f"{word} is not delineated"
    mean, sd = [], []
    if abs(ours.mean_ms) > MAX_ABS_MEAN_MS:
        mean.append(f"|mean| > {MAX_ABS_MEAN_MS:g} ms")
    if name == "t_offset" and ours.sd_ms > T_OFFSET_MAX_SD_MS:
        sd.append(f"> {T_OFFSET_MAX_SD_MS:g} ms CSE tolerance")
    for peer, theirs_all in figures.peers.items():
        theirs = theirs_all.get(name)
        if theirs is not None and not ours.sd_ms < theirs.sd_ms:
            sd.append(f"not below {PEER_NAMES.get(peer, peer)}'s {theirs.sd_ms:.1f} ms")
    parts = [f"mean {ours.mean_ms:+.1f} ms ({'; '.join(mean)})"] if mean else []
    parts += [f"SD {ours.sd_ms:.1f} ms ({'; '.join(sd)})"] if sd else []
    return f"{word} error {', '.join(parts)}" if parts else ""


def _short(validation: DelineationValidation) -> str:
    return "QT database" if "qt" in validation.database.lower() else validation.database
