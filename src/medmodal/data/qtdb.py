"""The QT Database: two-lead 15-minute records at 250 Hz with waveform boundaries.

Records live under ``<data root>/qtdb/`` (see :mod:`medmodal.data.paths`); ``root`` may
be the data root or the ``qtdb`` folder itself. The shared folder holds 53 of the 105
records (PhysioNet's ``RECORDS`` list, every other one); the folder's own ``RECORDS``
file says which, so :func:`list_records` never names a record that is not there.

Waveform annotations (``q1c``/``q2c``: cardiologists 1 and 2 on about 30 beats per
record; ``pu0``/``pu1``/``pu``: ecgpuwave on lead 0, lead 1, both leads) use the WFDB
wave codes: ``(`` an onset, ``p``/``t``/``u`` a P/T/U peak or a beat code (``N``, ``A``,
``V``...) for the QRS peak, ``)`` an offset. An onset or offset belongs to the peak it
brackets. :func:`wave_fiducials` turns such a file into one row per beat (the P wave
before the QRS, the T wave after it); :func:`load_fiducials` does it for a record.

Example:
    >>> from medmodal.io import Annotations
    >>> from medmodal.data.qtdb import wave_fiducials
    >>> ann = Annotations([10, 20, 30, 40, 50, 58, 90, 110],
    ...                   ["(", "p", ")", "(", "N", ")", "t", ")"], sampling_rate=250)
    >>> f = wave_fiducials(ann)
    >>> {name: int(v[0]) for name, v in f.points().items()}  # doctest: +NORMALIZE_WHITESPACE
    {'r_peak': 50, 'p_onset': 10, 'p_peak': 20, 'p_offset': 30, 'qrs_onset': 40,
     'qrs_offset': 58, 't_peak': 90, 't_offset': 110}
    >>> wave_fiducials(ann.subset([3, 4, 5])).p_peak.tolist()  # QRS only: no P, no T
    [-1]

References:
    Laguna P, Mark RG, Goldberger AL, Moody GB. A database for evaluation of algorithms
    for measurement of QT and other waveform intervals in the ECG. Computers in
    Cardiology 24:673-676 (1997). Licence: ODC-By 1.0.
    Goldberger AL et al. PhysioBank, PhysioToolkit, and PhysioNet. Circulation
    101(23):e215-e220 (2000).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from medmodal.data.paths import dataset_dir
from medmodal.ecg.delineate import FIDUCIAL_NAMES, BeatFiducials
from medmodal.errors import DataNotFoundError, InvalidParameterError
from medmodal.io import BEAT_SYMBOLS, Annotations, LeadSpec, Record, read_record
from medmodal.io import read_annotations as _read_annotations
from medmodal.types import PathLike

#: Sampling rate of every record (Hz).
SAMPLING_RATE = 250.0
#: Waveform annotators: the cardiologists (second pass) and ecgpuwave.
ANNOTATORS: dict[str, str] = {
    "q1c": "cardiologist 1, manual boundaries (second pass)",
    "q2c": "cardiologist 2, manual boundaries (second pass; 11 records)",
    "qt1": "cardiologist 1, manual boundaries (first pass)",
    "qt2": "cardiologist 2, manual boundaries (first pass)",
    "pu0": "ecgpuwave on lead 0",
    "pu1": "ecgpuwave on lead 1",
    "pu": "ecgpuwave on both leads",
}
#: Wave-peak codes other than beats.
WAVE_SYMBOLS = frozenset("ptu")

__all__ = [
    "ANNOTATORS",
    "SAMPLING_RATE",
    "Fiducials",
    "list_records",
    "load_fiducials",
    "load_record",
    "wave_fiducials",
]


@dataclass(frozen=True, eq=False)  # arrays inside: equality is identity
class Fiducials(BeatFiducials):
    """Annotated fiducial points, one entry per annotated beat (int64 samples, -1 = not
    marked): the :class:`medmodal.ecg.delineate.BeatFiducials` of the annotators.

    Attributes:
        r_peak: the QRS peak mark (the beat code's position).
        p_onset, p_peak, p_offset: the P wave before the QRS.
        qrs_onset, qrs_offset: the QRS boundaries.
        t_peak, t_offset: the T wave after the QRS (its first peak when two are marked,
            as ecgpuwave does for biphasic T waves).
        beat_symbol: the beat code of each beat (``"N"``, ``"V"``...).
        sampling_rate: Hz.
        record: record name.
        annotator: annotation file extension (``"q1c"``...).
    """

    beat_symbol: np.ndarray
    sampling_rate: float
    record: str = ""
    annotator: str = ""

    def to_frame(self) -> pd.DataFrame:
        """One row per beat, one column per fiducial (samples, -1 = not marked)."""
        frame = pd.DataFrame(self.points())
        frame["beat_symbol"] = self.beat_symbol.astype(str)
        frame.index.name = "beat"
        return frame


#: The fiducial point names of :class:`Fiducials`, in column order.
POINT_NAMES = FIDUCIAL_NAMES


@dataclass
class _Wave:
    kind: str  # "p", "t", "u" or "qrs"
    peak: int
    onset: int = -1
    offset: int = -1
    symbol: str = ""


def _waves(annotations: Annotations) -> list[_Wave]:
    """Waves in time order, each with the onset and offset that bracket its peak."""
    waves: list[_Wave] = []
    onset, open_wave = -1, None
    for sample, symbol in zip(annotations.sample.tolist(), annotations.symbol, strict=True):
        if symbol == "(":
            onset, open_wave = sample, None
        elif symbol in WAVE_SYMBOLS or symbol in BEAT_SYMBOLS:
            kind = symbol if symbol in WAVE_SYMBOLS else "qrs"
            if open_wave is not None and open_wave.kind == kind and onset < 0:
                continue  # a second peak of the same wave (a biphasic T wave)
            open_wave = _Wave(kind, sample, onset=onset, symbol=symbol)
            waves.append(open_wave)
            onset = -1
        elif symbol == ")" and open_wave is not None:
            open_wave.offset, open_wave = sample, None
    return waves


def wave_fiducials(annotations: Annotations, *, record: str = "", annotator: str = "") -> Fiducials:
    """One row per annotated beat from WFDB waveform annotations.

    Each QRS (a beat code) takes the last P wave marked after the previous QRS and the
    first T wave marked before the next one; U waves and other codes are ignored.

    Args:
        annotations: a waveform annotation file (``q1c``, ``pu0``...), read e.g. with
            :func:`medmodal.io.read_annotations`.
        record: record name to keep with the result.
        annotator: annotator name to keep with the result.

    Returns:
        The :class:`Fiducials` (-1 where a point is not marked).
    """
    waves = _waves(annotations)
    qrs = [w for w in waves if w.kind == "qrs"]
    peaks = np.array([w.peak for w in qrs], dtype=np.int64)
    bounds = np.concatenate(([-1], peaks, [np.iinfo(np.int64).max]))
    cols: dict[str, list[int]] = {name: [-1] * len(qrs) for name in POINT_NAMES}
    for k, w in enumerate(qrs):
        cols["r_peak"][k], cols["qrs_onset"][k], cols["qrs_offset"][k] = w.peak, w.onset, w.offset
    for w in waves:
        if w.kind not in ("p", "t"):
            continue
        k = int(np.searchsorted(peaks, w.peak))  # the QRS after this wave
        if w.kind == "p" and k < len(qrs) and w.peak > bounds[k]:
            cols["p_onset"][k], cols["p_peak"][k], cols["p_offset"][k] = w.onset, w.peak, w.offset
        elif w.kind == "t" and k > 0 and cols["t_peak"][k - 1] < 0:
            cols["t_peak"][k - 1], cols["t_offset"][k - 1] = w.peak, w.offset
    arrays = {name: np.array(values, dtype=np.int64) for name, values in cols.items()}
    return Fiducials(
        **arrays,
        beat_symbol=np.array([w.symbol for w in qrs], dtype=object),
        sampling_rate=annotations.sampling_rate,
        record=record,
        annotator=annotator,
    )


def _folder(root: PathLike | None) -> Path:
    if root is not None and (Path(root) / "RECORDS").is_file():
        return Path(root)
    return dataset_dir("qtdb", root)


def list_records(*, root: PathLike | None = None) -> tuple[str, ...]:
    """Names of the records in the QT database folder (its ``RECORDS`` file).

    Raises:
        DataNotFoundError: the folder (or its ``RECORDS`` file) is not there.
    """
    folder = _folder(root)
    listing = folder / "RECORDS"
    if not listing.is_file():
        raise DataNotFoundError(f"qtdb: no RECORDS file in {folder}")
    return tuple(listing.read_text().split())


def _record_id(record_id: str, root: PathLike | None) -> tuple[Path, str]:
    folder = _folder(root)
    key = str(record_id).strip()
    records = list_records(root=folder)
    if key in records:
        return folder, key
    close = difflib.get_close_matches(key, records, n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
    raise InvalidParameterError(
        f"qtdb: unknown record {record_id!r}.{hint} The folder {folder} holds "
        f"{len(records)} records (see qtdb.list_records())"
    )


def load_record(
    record_id: str, *, root: PathLike | None = None, leads: LeadSpec | None = None
) -> Record:
    """Record ``record_id`` (e.g. ``"sel100"``): two leads at 250 Hz in mV.

    Its reference beats (``.atr``, present for some records) are attached when there.

    Raises:
        DataNotFoundError: the data set (or the record's files) are not there.
        InvalidParameterError: unknown record or lead.
    """
    folder, rid = _record_id(record_id, root)
    rec = read_record(folder / f"{rid}.hea")
    return rec if leads is None else rec.select(leads)


def load_fiducials(
    record_id: str, annotator: str = "q1c", *, root: PathLike | None = None
) -> Fiducials:
    """The waveform annotations of ``record_id`` by ``annotator``, one row per beat.

    Args:
        record_id: e.g. ``"sel100"``.
        annotator: annotation file extension (see :data:`ANNOTATORS`; any other
            extension holding wave codes works too).
        root: the data root (or the ``qtdb`` folder); default from ``MEDMODAL_DATA``.

    Raises:
        DataNotFoundError: the data set, the record or its ``<annotator>`` file is not
            there (``q2c`` exists for 11 records only).
        InvalidParameterError: unknown record.
    """
    folder, rid = _record_id(record_id, root)
    ann = _read_annotations(folder / rid, str(annotator))
    return wave_fiducials(ann, record=rid, annotator=str(annotator))
