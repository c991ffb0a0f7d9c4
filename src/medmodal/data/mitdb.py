"""The MIT-BIH Arrhythmia Database: 48 two-lead 30-minute records at 360 Hz.

Records live under ``<data root>/mitdb/`` (see :mod:`medmodal.data.paths`); ``root`` may
be the data root or the ``mitdb`` folder itself. Each record has reference beat and
rhythm annotations (``.atr``); headers name the subject's age, sex and medications.

Example:
    >>> from medmodal.data import mitdb
    >>> len(mitdb.RECORDS), mitdb.AAMI_CLASSES["V"], "114" in mitdb.DS1
    (48, 'V', True)

References:
    Moody GB, Mark RG. The impact of the MIT-BIH Arrhythmia Database. IEEE Eng Med Biol
    20(3):45-50 (2001). Licence: ODC-By 1.0.
    Goldberger AL et al. PhysioBank, PhysioToolkit, and PhysioNet. Circulation
    101(23):e215-e220 (2000).
    de Chazal P, O'Dwyer M, Reilly RB. Automatic classification of heartbeats using ECG
    morphology and heartbeat interval features. IEEE Trans Biomed Eng 51(7):1196-1206
    (2004) (the DS1/DS2 split).
    ANSI/AAMI EC57: Testing and reporting performance results of cardiac rhythm and ST
    segment measurement algorithms (the N/S/V/F/Q beat classes).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from medmodal.data.paths import dataset_dir
from medmodal.errors import InvalidParameterError
from medmodal.io import BEAT_SYMBOLS, Annotations, LeadSpec, Record, read_record, read_wfdb_header
from medmodal.io import read_annotations as _read_annotations
from medmodal.types import PathLike


def _ids(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: The 48 record ids.
RECORDS: tuple[str, ...] = _ids(
    "100 101 102 103 104 105 106 107 108 109 111 112 113 114 115 116 117 118 119 121 122 "
    "123 124 200 201 202 203 205 207 208 209 210 212 213 214 215 217 219 220 221 222 223 "
    "228 230 231 232 233 234"
)
#: Mains frequency of the recordings (Beth Israel Hospital, Boston, USA), for the notch.
POWERLINE_HZ = 60.0
#: Where :data:`POWERLINE_HZ` comes from, as records carry it in ``meta``.
POWERLINE_SOURCE = "MIT-BIH Arrhythmia Database: recorded in Boston, USA (60 Hz mains)"
#: Records of subjects with pacemakers (usually excluded from beat classification).
PACED_RECORDS: tuple[str, ...] = ("102", "104", "107", "217")
#: de Chazal et al. (2004) training half (22 records, paced ones excluded).
DS1: tuple[str, ...] = _ids(
    "101 106 108 109 112 114 115 116 118 119 122 124 201 203 205 207 208 209 215 220 223 230"
)
#: de Chazal et al. (2004) test half (22 records).
DS2: tuple[str, ...] = _ids(
    "100 103 105 111 113 117 121 123 200 202 210 212 213 214 219 221 222 228 231 232 233 234"
)
#: Sampling rate of every record (Hz).
SAMPLING_RATE = 360.0
#: AAMI EC57 class of each beat code: N (normal, bundle branch block, escape), S
#: (supraventricular ectopic), V (ventricular ectopic), F (fusion), Q (paced, unknown).
AAMI_CLASSES: dict[str, str] = {
    **dict.fromkeys("NLRej", "N"),
    **dict.fromkeys("AaJS", "S"),
    **dict.fromkeys("VE", "V"),
    "F": "F",
    **dict.fromkeys("/fQ", "Q"),
}

__all__ = [
    "AAMI_CLASSES",
    "BEAT_SYMBOLS",
    "DS1",
    "DS2",
    "PACED_RECORDS",
    "RECORDS",
    "SAMPLING_RATE",
    "RecordInfo",
    "aami_classes",
    "load_annotations",
    "load_record",
    "record_info",
    "record_table",
    "rhythm_episodes",
    "vf_episodes",
]


def _record_id(record_id: str | int) -> str:
    key = str(record_id).strip()
    if key in RECORDS:
        return key
    close = difflib.get_close_matches(key, RECORDS, n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
    raise InvalidParameterError(
        f"mitdb: unknown record {record_id!r}.{hint} Records are 100-124 and 200-234 "
        f"(see mitdb.RECORDS)"
    )


def _folder(root: PathLike | None) -> Path:
    if root is not None and (Path(root) / "100.hea").is_file():
        return Path(root)
    return dataset_dir("mitdb", root)


@dataclass(frozen=True)
class RecordInfo:
    """What a MIT-BIH header says about the subject and the recording.

    Attributes:
        record_id: e.g. ``"100"``.
        age: years, ``None`` where the header says ``-1`` (unknown).
        sex: ``"M"``, ``"F"`` or ``None``.
        medications: the medication list (empty when ``"None"``).
        comments: the remaining free-text header lines (rhythm, noise, PVC forms...).
        lead_names: the two leads in storage order (``("V5", "MLII")`` for 114).
    """

    record_id: str
    age: int | None
    sex: str | None
    medications: tuple[str, ...]
    comments: tuple[str, ...]
    lead_names: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row, indexed by record id."""
        row = {
            "age": np.nan if self.age is None else self.age,
            "sex": self.sex,
            "medications": ", ".join(self.medications),
            "comments": " ".join(self.comments),
            "leads": ", ".join(self.lead_names),
        }
        return pd.DataFrame([row], index=pd.Index([self.record_id], name="record"))


def _parse_info(record_id: str, comments: list[str], lead_names: tuple[str, ...]) -> RecordInfo:
    first = comments[0].split() if comments else []
    age = int(first[0]) if first and first[0].lstrip("-").isdigit() else None
    sex = first[1] if len(first) > 1 and first[1] in ("M", "F") else None
    meds_line = comments[1].strip() if len(comments) > 1 else ""
    meds = () if meds_line in ("", "None") else tuple(m.strip() for m in meds_line.split(","))
    return RecordInfo(
        record_id=record_id,
        age=None if age is None or age < 0 else age,
        sex=sex,
        medications=meds,
        comments=tuple(c.strip() for c in comments[2:]),
        lead_names=lead_names,
    )


def record_info(record_id: str | int, *, root: PathLike | None = None) -> RecordInfo:
    """Age, sex, medications and the other header comments of record ``record_id``."""
    rid = _record_id(record_id)
    header = read_wfdb_header(_folder(root) / rid)
    return _parse_info(rid, list(header.comments or []), tuple(header.sig_name))


def record_table(*, root: PathLike | None = None) -> pd.DataFrame:
    """:func:`record_info` of all 48 records, one row each (age, sex, medications...)."""
    return pd.concat([record_info(rid, root=root).to_frame() for rid in RECORDS])


def load_record(
    record_id: str | int, *, root: PathLike | None = None, leads: LeadSpec | None = None
) -> Record:
    """Record ``record_id`` with its reference annotations attached.

    Args:
        record_id: ``"100"`` or ``100``.
        root: the data root (or the ``mitdb`` folder); default from ``MEDMODAL_DATA``.
        leads: names or indices to keep, e.g. ``"MLII"`` (record 114 stores it second).

    Returns:
        A 360 Hz :class:`Record` in mV; ``meta`` holds ``age``, ``sex``,
        ``medications``, the header ``comments`` and the mains frequency
        (``powerline_hz`` 60, ``powerline_source``).

    Raises:
        DataNotFoundError: the data set (or the record's files) are not there.
        InvalidParameterError: unknown record id or lead.
    """
    rid = _record_id(record_id)
    rec = read_record(_folder(root) / f"{rid}.hea", annotation="atr")
    info = _parse_info(rid, rec.meta["comments"], rec.lead_names)
    meta = {
        **rec.meta,
        "age": info.age,
        "sex": info.sex,
        "medications": info.medications,
        **mains_meta(),
    }
    rec = replace(rec, meta=meta)
    return rec if leads is None else rec.select(leads)


def mains_meta() -> dict[str, object]:
    """The ``meta`` entries naming the mains frequency of every MIT-BIH record.

    Example:
        >>> mains_meta()["powerline_hz"]
        60.0
    """
    return {"powerline_hz": POWERLINE_HZ, "powerline_source": POWERLINE_SOURCE}


def load_annotations(
    record_id: str | int, *, root: PathLike | None = None, beats_only: bool = False
) -> Annotations:
    """The reference annotations of ``record_id`` (only beat codes if ``beats_only``)."""
    rid = _record_id(record_id)
    ann = _read_annotations(_folder(root) / rid, "atr")
    return ann.beats() if beats_only else ann


def aami_classes(annotations: Annotations) -> np.ndarray:
    """AAMI class (``"N"``, ``"S"``, ``"V"``, ``"F"``, ``"Q"``) of each beat annotation.

    Non-beat annotations are dropped first, so the result matches
    ``annotations.beats()`` one to one (codes ``B``, ``r``, ``n``, ``?`` have no
    AAMI class and map to ``""``).

    Example:
        >>> ann = Annotations([5, 9, 12, 20], ["N", "+", "V", "A"], sampling_rate=360)
        >>> aami_classes(ann).tolist()
        ['N', 'V', 'S']
    """
    return np.array([AAMI_CLASSES.get(s, "") for s in annotations.beats().symbol], dtype=str)


def vf_episodes(annotations: Annotations, *, n_samples: int | None = None) -> list[tuple[int, int]]:
    """Ventricular flutter/fibrillation intervals: from each ``[`` to the next ``]``.

    An episode still open at the end runs to ``n_samples`` (or the last annotation).

    Example:
        >>> ann = Annotations([100, 150, 400, 900], ["[", "!", "]", "N"], sampling_rate=360)
        >>> vf_episodes(ann)
        [(100, 400)]
    """
    episodes: list[tuple[int, int]] = []
    start: int | None = None
    for s, sym in zip(annotations.sample.tolist(), annotations.symbol, strict=True):
        if sym == "[" and start is None:
            start = s
        elif sym == "]":
            episodes.append((0 if start is None else start, s))
            start = None
    if start is not None:
        last = int(annotations.sample[-1])
        episodes.append((start, n_samples if n_samples is not None else last))
    return episodes


def rhythm_episodes(
    annotations: Annotations, *, n_samples: int | None = None
) -> list[tuple[str, int, int]]:
    """Rhythm intervals ``(rhythm, start, end)`` from the ``+`` annotations' aux notes.

    Rhythms are the MIT-BIH codes without the parenthesis (``"N"``, ``"AFIB"``, ``"B"``
    for ventricular bigeminy, ``"T"`` trigeminy, ``"VT"``...). The last runs to
    ``n_samples`` (or the last annotation).

    Example:
        >>> ann = Annotations([0, 50, 200, 300], ["+", "N", "+", "V"],
        ...                   ["(N", "", "(B", ""], sampling_rate=360)
        >>> rhythm_episodes(ann, n_samples=400)
        [('N', 0, 200), ('B', 200, 400)]
    """
    changes = [
        (str(note).strip().lstrip("("), int(s))
        for s, sym, note in zip(
            annotations.sample, annotations.symbol, annotations.aux_note, strict=True
        )
        if sym == "+" and str(note).strip().startswith("(")
    ]
    if not changes:
        return []
    end = n_samples if n_samples is not None else int(annotations.sample[-1])
    bounds = [s for _, s in changes[1:]] + [end]
    return [(r, s, e) for (r, s), e in zip(changes, bounds, strict=True)]
