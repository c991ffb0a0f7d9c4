"""The :class:`Record` and :class:`Annotations` containers (re-exported by ``medmodal.io``).

A record is what every reader returns: samples in physical units shaped
``(n_samples, n_leads)``, the sampling rate in Hz, one name and one unit per lead, free
metadata and optional annotations. Both containers are frozen and their arrays are
read-only, so a record handed to several functions cannot be changed behind their backs.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from medmodal.errors import InvalidParameterError
from medmodal.types import FloatArray, IntArray

#: WFDB/MIT-BIH annotation codes that mark a beat (ANSI/AAMI EC57 counts only these).
BEAT_SYMBOLS: frozenset[str] = frozenset("NLRBAaJSVrFejnE/fQ?")

#: A lead given by name (``"MLII"``) or by position (``0``).
LeadKey: TypeAlias = str | int
#: One lead or several.
LeadSpec: TypeAlias = LeadKey | Sequence[LeadKey]


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def _strings(values: Iterable[object], n: int, what: str) -> np.ndarray:
    out = np.array([str(v).rstrip("\x00") for v in values], dtype=object)
    if out.shape != (n,):
        raise InvalidParameterError(
            f"Annotations: {what} must have one entry per annotation ({n}), got {out.shape[0]}"
        )
    return _frozen(out)


@dataclass(frozen=True, eq=False)  # arrays inside: equality is identity
class Annotations:
    """Labels at sample positions (beats, rhythm changes, comments).

    Attributes:
        sample: int64 sample index of each annotation, non-decreasing.
        symbol: the annotation code (``"N"``, ``"V"``, ``"+"`` ...), one str per sample.
        aux_note: free text per annotation (rhythm changes carry e.g. ``"(AFIB"``).
        sampling_rate: Hz of the record the samples refer to.

    Example:
        >>> ann = Annotations([10, 20, 30], ["+", "N", "V"], ["(N", "", ""], 360)
        >>> len(ann.beats())
        2
        >>> ann.to_frame()["symbol"].tolist()
        ['+', 'N', 'V']
    """

    sample: IntArray
    symbol: np.ndarray
    aux_note: np.ndarray
    sampling_rate: float

    def __init__(
        self,
        sample: Iterable[int] | np.ndarray,
        symbol: Iterable[str],
        aux_note: Iterable[str] | None = None,
        sampling_rate: float = 1.0,
    ) -> None:
        samples = np.asarray(list(sample) if not isinstance(sample, np.ndarray) else sample)
        if samples.size and not np.issubdtype(samples.dtype, np.integer):
            raise InvalidParameterError(
                f"Annotations: sample must hold integers, got dtype {samples.dtype}"
            )
        samples = samples.astype(np.int64).reshape(-1)
        n = samples.shape[0]
        notes = [""] * n if aux_note is None else aux_note
        if not np.isfinite(sampling_rate) or sampling_rate <= 0:
            raise InvalidParameterError(
                f"Annotations: sampling_rate must be a positive number in Hz, got {sampling_rate}"
            )
        object.__setattr__(self, "sample", _frozen(samples))
        object.__setattr__(self, "symbol", _strings(symbol, n, "symbol"))
        object.__setattr__(self, "aux_note", _strings(notes, n, "aux_note"))
        object.__setattr__(self, "sampling_rate", float(sampling_rate))

    def __len__(self) -> int:
        return int(self.sample.shape[0])

    def subset(self, mask: np.ndarray) -> Annotations:
        """The annotations where boolean ``mask`` is true (or at integer positions)."""
        return Annotations(
            self.sample[mask], self.symbol[mask], self.aux_note[mask], self.sampling_rate
        )

    def beats(self, symbols: Iterable[str] = BEAT_SYMBOLS) -> Annotations:
        """Only the beat annotations (codes in :data:`BEAT_SYMBOLS` unless ``symbols``)."""
        keep = frozenset(symbols)
        return self.subset(np.array([s in keep for s in self.symbol], dtype=bool))

    def between(self, start: int, stop: int, *, shift: bool = True) -> Annotations:
        """Annotations with ``start <= sample < stop``, re-based to ``start`` if ``shift``."""
        mask = (self.sample >= start) & (self.sample < stop)
        sub = self.subset(mask)
        if not shift:
            return sub
        return Annotations(sub.sample - start, sub.symbol, sub.aux_note, self.sampling_rate)

    @property
    def time(self) -> FloatArray:
        """Annotation times in seconds."""
        return self.sample / self.sampling_rate

    def to_frame(self) -> pd.DataFrame:
        """One row per annotation: ``sample``, ``time`` (s), ``symbol``, ``aux_note``."""
        return pd.DataFrame(
            {
                "sample": self.sample,
                "time": self.time,
                "symbol": self.symbol.astype(str),
                "aux_note": self.aux_note.astype(str),
            }
        )


@dataclass(frozen=True, eq=False)  # arrays inside: equality is identity
class Record:
    """One recording: samples in physical units plus everything needed to interpret them.

    Attributes:
        signal: float64 ``(n_samples, n_leads)`` in physical units (read-only).
        sampling_rate: Hz.
        lead_names: one name per lead (``"MLII"``, ``"V1"``...).
        units: one physical unit per lead (``"mV"``; ``""`` when the file does not say).
        name: record name (e.g. ``"100"``).
        meta: whatever the format gives (age, sex, comments, base date...).
        annotations: beat/rhythm labels, or ``None``.

    Example:
        >>> import numpy as np
        >>> rec = Record(np.zeros((720, 2)), 360, ("MLII", "V5"), ("mV", "mV"), name="demo")
        >>> rec.duration, rec.lead("V5").shape, rec.select(["V5"]).lead_names
        (2.0, (720,), ('V5',))
    """

    signal: FloatArray
    sampling_rate: float
    lead_names: tuple[str, ...]
    units: tuple[str, ...] = ()
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    annotations: Annotations | None = None

    def __post_init__(self) -> None:
        signal = np.array(self.signal, dtype=np.float64)
        if signal.ndim == 1:
            signal = signal[:, None]
        if signal.ndim != 2:
            raise InvalidParameterError(
                f"Record: signal must be (n_samples,) or (n_samples, n_leads), got {signal.shape}"
            )
        rate = float(self.sampling_rate)
        if not np.isfinite(rate) or rate <= 0:
            raise InvalidParameterError(
                f"Record: sampling_rate must be a positive number in Hz, got {self.sampling_rate}"
            )
        names = tuple(str(n) for n in self.lead_names)
        units = tuple(str(u) for u in self.units) if self.units else ("",) * len(names)
        for what, values in (("lead_names", names), ("units", units)):
            if len(values) != signal.shape[1]:
                raise InvalidParameterError(
                    f"Record: {what} has {len(values)} entries for {signal.shape[1]} leads"
                )
        object.__setattr__(self, "signal", _frozen(signal))
        object.__setattr__(self, "sampling_rate", rate)
        object.__setattr__(self, "lead_names", names)
        object.__setattr__(self, "units", units)
        object.__setattr__(self, "name", str(self.name))

    @property
    def n_samples(self) -> int:
        """Number of samples per lead."""
        return int(self.signal.shape[0])

    @property
    def n_leads(self) -> int:
        """Number of leads."""
        return int(self.signal.shape[1])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.n_samples / self.sampling_rate

    def lead_index(self, key: LeadKey) -> int:
        """Position of lead ``key`` (a name, matched case-insensitively if unique, or index)."""
        if isinstance(key, bool) or not isinstance(key, (str, int, np.integer)):
            raise InvalidParameterError(
                f"Record {self.name!r}: a lead is given by name or index, got {key!r}"
            )
        if not isinstance(key, str):
            if -self.n_leads <= int(key) < self.n_leads:
                return int(key) % self.n_leads
            raise InvalidParameterError(
                f"Record {self.name!r}: lead index {int(key)} out of range for "
                f"{self.n_leads} leads {list(self.lead_names)}"
            )
        if key in self.lead_names:
            return self.lead_names.index(key)
        folded = [i for i, n in enumerate(self.lead_names) if n.lower() == key.lower()]
        if len(folded) == 1:
            return folded[0]
        close = difflib.get_close_matches(key, self.lead_names, n=2, cutoff=0.5)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise InvalidParameterError(
            f"Record {self.name!r} has no lead {key!r}.{hint} "
            f"Available leads: {', '.join(self.lead_names)}"
        )

    def lead(self, key: LeadKey) -> FloatArray:
        """The samples of one lead as a 1-D array (by name or index)."""
        return self.signal[:, self.lead_index(key)]

    def select(self, leads: LeadSpec) -> Record:
        """A record with only ``leads`` (names or indices), in the order given."""
        keys = [leads] if isinstance(leads, (str, int, np.integer)) else list(leads)
        if not keys:
            raise InvalidParameterError(f"Record {self.name!r}: select() needs at least one lead")
        idx = [self.lead_index(k) for k in keys]
        return replace(
            self,
            signal=self.signal[:, idx],
            lead_names=tuple(self.lead_names[i] for i in idx),
            units=tuple(self.units[i] for i in idx),
        )

    def crop(self, start: float = 0.0, stop: float | None = None) -> Record:
        """The part from ``start`` to ``stop`` seconds; annotations are cut and re-based."""
        end = self.duration if stop is None else stop
        if not 0 <= start < end <= self.duration + 1e-9:
            raise InvalidParameterError(
                f"Record {self.name!r}: crop needs 0 <= start < stop <= {self.duration:g} s, "
                f"got start={start}, stop={stop}"
            )
        i0 = round(start * self.sampling_rate)
        i1 = min(round(end * self.sampling_rate), self.n_samples)
        ann = None if self.annotations is None else self.annotations.between(i0, i1)
        return replace(self, signal=self.signal[i0:i1], annotations=ann)

    def to_frame(self) -> pd.DataFrame:
        """Samples as a DataFrame: one column per lead, indexed by time in seconds."""
        index = pd.Index(np.arange(self.n_samples) / self.sampling_rate, name="time")
        return pd.DataFrame(self.signal, index=index, columns=list(self.lead_names))
