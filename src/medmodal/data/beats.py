"""Beat-level MIT-BIH data for heartbeat classification: one row per beat, four modalities.

Each beat yields a window of lead MLII, a window of the record's other lead (selected by
name: record 114 stores MLII second; the other lead is V1 in most records, V2, V4 or V5
in some, and its name is kept per beat), rhythm features from the RR intervals and the
header's age and sex. Labels are the AAMI EC57 classes N (N L R e j), S (A a J S),
V (V E) and F (F); Q beats (paced, unclassifiable) and non-AAMI codes are left out.

Beats come either from the reference annotations (``peaks="reference"``) or from our
own R-peak detector (``peaks="detected"``, :func:`medmodal.ecg.ecg_peaks`), each
detection taking the label of the reference beat within 150 ms of it; the rhythm
features then come from the detected beats only, as a deployed system would see them.

Example:
    >>> from medmodal.data.bundled import load_bundled
    >>> beats = beats_from_record(load_bundled("mitdb-119"))
    >>> beats.mlii.shape, str(beats.other_lead[0]), sorted(set(beats.label.tolist()))
    ((326, 128), 'V1', ['N', 'V'])
    >>> int((beats.label == "V").sum()), beats.rhythm_names[:2]
    (80, ('pre_rr', 'post_rr'))

References:
    de Chazal P, O'Dwyer M, Reilly RB. Automatic classification of heartbeats using ECG
    morphology and heartbeat interval features. IEEE Trans Biomed Eng 51(7):1196-1206
    (2004) (inter-patient protocol, RR features).
    Mondéjar-Guerra V, Novo J, Rouco J, Penedo MG, Ortega M. Heartbeat classification
    fusing temporal and morphological information of ECGs via ensemble of classifiers.
    Biomed Signal Process Control 47:41-48 (2019) (local and record-normalised RR).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from medmodal.data.mitdb import AAMI_CLASSES, load_record
from medmodal.errors import DataFormatError, InvalidParameterError
from medmodal.io import BEAT_SYMBOLS, Record
from medmodal.types import PathLike

__all__ = [
    "BEAT_CLASSES",
    "RHYTHM_FEATURES",
    "BeatDataset",
    "beats_from_record",
    "build_beats",
    "match_peaks",
    "normalize_morphology",
    "rr_features",
]

#: The AAMI classes kept, in this order (Q is excluded).
BEAT_CLASSES: tuple[str, ...] = ("N", "S", "V", "F")
#: Names of the columns of :attr:`BeatDataset.rhythm`.
RHYTHM_FEATURES: tuple[str, ...] = (
    "pre_rr",  # s, from the previous beat
    "post_rr",  # s, to the next beat
    "local_rr",  # s, mean of the RR intervals around the beat
    "record_rr",  # s, mean RR of the whole record
    "pre_rel",  # pre_rr / record_rr
    "post_rel",  # post_rr / record_rr
    "local_rel",  # local_rr / record_rr
    "pre_local",  # pre_rr / local_rr
    "post_pre",  # post_rr / pre_rr
    "pre_prev",  # pre_rr / the previous beat's pre_rr
)
_MATCH_WINDOW_S = 0.15
_ARRAYS = ("mlii", "other", "other_lead", "rhythm", "demographics", "label", "symbol")
_ARRAYS2 = ("record", "sample")


@dataclass(frozen=True, eq=False)  # arrays inside: equality is identity
class BeatDataset:
    """Beats of one or more records, as aligned arrays (row ``i`` is one beat).

    Attributes:
        mlii: float32 ``(n, window_samples)`` lead MLII around each R peak (mV, cleaned).
        other: float32 ``(n, window_samples)`` the record's other lead.
        other_lead: ``(n,)`` str name of that lead (``"V1"``, ``"V2"``, ``"V4"``, ``"V5"``).
        rhythm: float32 ``(n, 10)`` RR features, columns :data:`RHYTHM_FEATURES`.
        demographics: float32 ``(n, 2)`` age (years) and sex (1 = female, 0 = male);
            NaN where the header does not say.
        label: ``(n,)`` str AAMI class (``"N"``, ``"S"``, ``"V"``, ``"F"``).
        symbol: ``(n,)`` str MIT-BIH beat code of the matching reference beat.
        record: ``(n,)`` str record id (the group for patient-wise splits).
        sample: int64 ``(n,)`` R-peak sample in the 360 Hz record.
        window: seconds before and after the R peak covered by a window.
        sampling_rate: Hz of the windows (after resampling).
        source: ``"reference"`` or ``"detected"`` R peaks.
        counts: per record, ``{"labelled": reference AAMI beats, "matched": of those
            found by the detector, "extra": detections matching no reference beat}``.
    """

    mlii: np.ndarray
    other: np.ndarray
    other_lead: np.ndarray
    rhythm: np.ndarray
    demographics: np.ndarray
    label: np.ndarray
    symbol: np.ndarray
    record: np.ndarray
    sample: np.ndarray
    window: tuple[float, float] = (-0.25, 0.40)
    sampling_rate: float = 128 / 0.65
    source: str = "reference"
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    rhythm_names: tuple[str, ...] = RHYTHM_FEATURES

    def __len__(self) -> int:
        return int(self.label.shape[0])

    def subset(self, mask: np.ndarray) -> BeatDataset:
        """The beats where boolean ``mask`` is true (or at integer positions)."""
        picked: dict[str, Any] = {name: getattr(self, name)[mask] for name in _ARRAYS + _ARRAYS2}
        return replace(self, **picked)

    def modalities(self) -> dict[str, np.ndarray]:
        """The four modalities as a fusion input: ``{"mlii": (n, 1, T), "other": (n, 1,
        T), "rhythm": (n, 10), "demographics": (n, 2)}`` (float32)."""
        return {
            "mlii": self.mlii[:, None, :],
            "other": self.other[:, None, :],
            "rhythm": self.rhythm,
            "demographics": self.demographics,
        }

    def class_counts(self) -> pd.Series:
        """Number of beats per AAMI class (all four, zeros included)."""
        counts = pd.Series(self.label).value_counts()
        return counts.reindex(list(BEAT_CLASSES), fill_value=0).astype(int)

    def to_frame(self) -> pd.DataFrame:
        """One row per beat: record, sample, symbol, label, other lead, age, sex and the
        rhythm features (the waveforms stay in the arrays)."""
        frame = pd.DataFrame(
            {
                "record": self.record.astype(str),
                "sample": self.sample,
                "symbol": self.symbol.astype(str),
                "label": self.label.astype(str),
                "other_lead": self.other_lead.astype(str),
                "age": self.demographics[:, 0],
                "sex": self.demographics[:, 1],
            }
        )
        rhythm = pd.DataFrame(self.rhythm, columns=list(self.rhythm_names))
        return pd.concat([frame, rhythm], axis=1)

    def save(self, path: PathLike) -> None:
        """Write the arrays and settings to one ``.npz`` file (no pickles)."""
        arrays: dict[str, Any] = {n: np.asarray(getattr(self, n)) for n in _ARRAYS + _ARRAYS2}
        for name in ("other_lead", "label", "symbol", "record"):
            arrays[name] = arrays[name].astype(str)
        settings = {
            "window": list(self.window),
            "sampling_rate": self.sampling_rate,
            "source": self.source,
            "counts": self.counts,
            "rhythm_names": list(self.rhythm_names),
        }
        np.savez(Path(path), settings=np.array(json.dumps(settings)), **arrays)

    @classmethod
    def load(cls, path: PathLike) -> BeatDataset:
        """Read a file written by :meth:`save`.

        Raises:
            DataFormatError: the file is not a saved :class:`BeatDataset`.
        """
        try:
            with np.load(Path(path), allow_pickle=False) as data:
                arrays = {name: data[name] for name in _ARRAYS + _ARRAYS2}
                settings = json.loads(str(data["settings"]))
        except (KeyError, ValueError, OSError) as exc:
            raise DataFormatError(
                f"BeatDataset.load: {path} is not a beat data set: {exc}"
            ) from exc
        return cls(
            **arrays,
            window=(float(settings["window"][0]), float(settings["window"][1])),
            sampling_rate=float(settings["sampling_rate"]),
            source=str(settings["source"]),
            counts={k: dict(v) for k, v in settings["counts"].items()},
            rhythm_names=tuple(settings["rhythm_names"]),
        )

    @classmethod
    def concatenate(cls, parts: Sequence[BeatDataset]) -> BeatDataset:
        """Stack several data sets (same window and source) row-wise."""
        if not parts:
            raise InvalidParameterError("BeatDataset.concatenate: needs at least one data set")
        first = parts[0]
        for other in parts[1:]:
            if other.window != first.window or other.source != first.source:
                raise InvalidParameterError(
                    "BeatDataset.concatenate: parts differ in window or source "
                    f"({other.window}/{other.source} vs {first.window}/{first.source})"
                )
        stacked: dict[str, Any] = {
            name: np.concatenate([getattr(p, name) for p in parts]) for name in _ARRAYS + _ARRAYS2
        }
        counts = {k: v for p in parts for k, v in p.counts.items()}
        return replace(first, **stacked, counts=counts)


def match_peaks(
    detected: np.ndarray, reference: np.ndarray, tolerance: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pair detections with reference beats one to one, nearest first, within
    ``tolerance`` samples.

    Returns:
        ``(det_idx, ref_idx)``: indices of the matched pairs, sorted by detection.

    Example:
        >>> d, r = match_peaks(np.array([10, 52, 300]), np.array([0, 50, 100]), 20)
        >>> d.tolist(), r.tolist()
        ([0, 1], [0, 1])
    """
    det = np.asarray(detected, dtype=np.int64)
    ref = np.asarray(reference, dtype=np.int64)
    if det.size == 0 or ref.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pos = np.searchsorted(ref, det)
    cand = []
    for shift in (-1, 0):
        j = np.clip(pos + shift, 0, ref.size - 1)
        cand.append((np.abs(det - ref[j]), np.arange(det.size), j))
    dist = np.concatenate([c[0] for c in cand])
    di = np.concatenate([c[1] for c in cand])
    rj = np.concatenate([c[2] for c in cand])
    order = np.argsort(dist, kind="stable")
    used_d = np.zeros(det.size, bool)
    used_r = np.zeros(ref.size, bool)
    out_d, out_r = [], []
    for k in order:
        if dist[k] > tolerance:
            break
        if not used_d[di[k]] and not used_r[rj[k]]:
            used_d[di[k]] = used_r[rj[k]] = True
            out_d.append(di[k])
            out_r.append(rj[k])
    d_arr = np.array(out_d, dtype=np.int64)
    r_arr = np.array(out_r, dtype=np.int64)
    keep = np.argsort(d_arr)
    return d_arr[keep], r_arr[keep]


def rr_features(peaks: np.ndarray, sampling_rate: float, *, local_beats: int = 10) -> np.ndarray:
    """The :data:`RHYTHM_FEATURES` of every beat in ``peaks`` (sorted sample indices).

    The first beat borrows its post-RR as pre-RR and the last its pre-RR as post-RR;
    the local RR is the mean of the ``local_beats`` intervals centred on the beat.

    Example:
        >>> f = rr_features(np.array([0, 360, 720, 900, 1440]), 360.0)
        >>> f[3, :2].round(2).tolist(), round(float(f[3, 8]), 1)
        ([0.5, 1.5], 3.0)
    """
    t = np.asarray(peaks, dtype=np.float64) / sampling_rate
    if t.size < 2:
        raise InvalidParameterError(f"rr_features: need at least 2 beats, got {t.size}")
    rr = np.diff(t)
    pre = np.concatenate([[rr[0]], rr])
    post = np.concatenate([rr, [rr[-1]]])
    half = max(local_beats // 2, 1)
    csum = np.concatenate([[0.0], np.cumsum(rr)])
    i = np.arange(t.size)
    lo = np.clip(i - half, 0, rr.size - 1)
    hi = np.clip(i + half, lo + 1, rr.size)
    local = (csum[hi] - csum[lo]) / (hi - lo)
    record = np.full(t.size, rr.mean())
    prev_pre = np.concatenate([[pre[0]], pre[:-1]])
    cols = [pre, post, local, record, pre / record, post / record, local / record]
    cols += [pre / local, post / pre, pre / prev_pre]
    return np.stack(cols, axis=1).astype(np.float32)


def _windows(signal: np.ndarray, peaks: np.ndarray, fs: float, window: tuple[float, float],
             n_out: int) -> np.ndarray:  # fmt: skip
    """Windows around ``peaks`` resampled (linear interpolation) to ``n_out`` samples;
    samples outside the record repeat the edge value."""
    offsets = np.linspace(window[0], window[1], n_out, endpoint=False) * fs  # (T,)
    pos = peaks[:, None].astype(np.float64) + offsets[None, :]  # (n, T)
    pos = np.clip(pos, 0, signal.size - 1)
    out = np.interp(pos.ravel(), np.arange(signal.size, dtype=np.float64), signal)
    return out.reshape(pos.shape).astype(np.float32)


def _other_lead(rec: Record) -> str:
    names = [n for n in rec.lead_names if n.upper() != "MLII"]
    if "MLII" not in rec.lead_names or not names:
        raise InvalidParameterError(
            f"beats_from_record: record {rec.name!r} needs lead MLII and one other lead, "
            f"has {list(rec.lead_names)}"
        )
    return names[0]


def _demographics(rec: Record) -> np.ndarray:
    age = rec.meta.get("age")
    sex = {"F": 1.0, "M": 0.0}.get(str(rec.meta.get("sex")), np.nan)
    return np.array([np.nan if age is None else float(age), sex], dtype=np.float32)


def _reference(rec: Record) -> tuple[np.ndarray, np.ndarray]:
    if rec.annotations is None:
        raise InvalidParameterError(
            f"beats_from_record: record {rec.name!r} has no reference annotations"
        )
    ann = rec.annotations.beats(BEAT_SYMBOLS)
    return np.asarray(ann.sample, dtype=np.int64), ann.symbol.astype(str)


def _beat_positions(
    rec: Record, clean: np.ndarray, peaks: str, tolerance_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    """(all beat positions for RR, index of the kept beats, their symbols, counts)."""
    ref, symbols = _reference(rec)
    labelled = np.array([AAMI_CLASSES.get(s, "Q") in BEAT_CLASSES for s in symbols])
    if peaks == "reference":
        counts = {"labelled": int(labelled.sum()), "matched": int(labelled.sum()), "extra": 0}
        return ref, np.flatnonzero(labelled), symbols[labelled], counts
    from medmodal.ecg.peaks import ecg_peaks

    det = ecg_peaks(clean, rec.sampling_rate)
    di, rj = match_peaks(det, ref, round(tolerance_s * rec.sampling_rate))
    keep = labelled[rj]
    counts = {
        "labelled": int(labelled.sum()),
        "matched": int(keep.sum()),
        "extra": int(det.size - di.size),
    }
    return det, di[keep], symbols[rj[keep]], counts


def beats_from_record(
    rec: Record,
    *,
    peaks: Literal["reference", "detected"] = "reference",
    window: tuple[float, float] = (-0.25, 0.40),
    n_samples: int = 128,
    local_beats: int = 10,
    tolerance: float = _MATCH_WINDOW_S,
) -> BeatDataset:
    """The labelled beats of one annotated two-lead record (MIT-BIH layout).

    Args:
        rec: a record with reference annotations and leads ``MLII`` plus one other
            (e.g. from :func:`medmodal.data.mitdb.load_record` or
            :func:`medmodal.data.bundled.load_bundled`).
        peaks: ``"reference"`` (the annotated beats) or ``"detected"`` (our detector's
            beats, labelled by the reference beat within ``tolerance`` seconds; the
            others are dropped and counted).
        window: seconds before (negative) and after the R peak.
        n_samples: samples per window after resampling.
        local_beats: RR intervals averaged for the local RR.
        tolerance: largest detection-to-reference distance (s) for a match.

    Returns:
        A :class:`BeatDataset` of the N, S, V and F beats.

    Raises:
        InvalidParameterError: bad arguments, no annotations, or no MLII lead.
    """
    from medmodal.ecg.clean import ecg_clean

    if peaks not in ("reference", "detected"):
        raise InvalidParameterError(
            f"beats_from_record: peaks must be 'reference' or 'detected', got {peaks!r}"
        )
    if not window[0] < 0 < window[1] or n_samples < 8:
        raise InvalidParameterError(
            f"beats_from_record: need window[0] < 0 < window[1] and n_samples >= 8, "
            f"got window={window}, n_samples={n_samples}"
        )
    other = _other_lead(rec)
    fs = rec.sampling_rate
    two = rec.select(["MLII", other])
    clean = ecg_clean(two.signal, fs)  # (n, 2)
    positions, kept, symbols, counts = _beat_positions(two, clean, peaks, tolerance)
    rhythm = rr_features(positions, fs, local_beats=local_beats)[kept]
    at = positions[kept]
    n = at.size
    rid = str(rec.meta.get("bundled", {}).get("record", rec.name)) if rec.meta else rec.name
    return BeatDataset(
        mlii=_windows(clean[:, 0], at, fs, window, n_samples),
        other=_windows(clean[:, 1], at, fs, window, n_samples),
        other_lead=np.full(n, other),
        rhythm=rhythm,
        demographics=np.tile(_demographics(rec), (n, 1)),
        label=np.array([AAMI_CLASSES[s] for s in symbols], dtype=str).reshape(n),
        symbol=symbols.astype(str),
        record=np.full(n, rid),
        sample=at.astype(np.int64),
        window=(float(window[0]), float(window[1])),
        sampling_rate=n_samples / (window[1] - window[0]),
        source=peaks,
        counts={rid: counts},
    )


def _cache_file(cache_dir: PathLike, rid: str, settings: dict[str, Any]) -> Path:
    key = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
    folder = Path(cache_dir) / f"beats-{key}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{rid}.npz"


def build_beats(
    records: Iterable[str | int],
    *,
    root: PathLike | None = None,
    peaks: Literal["reference", "detected"] = "reference",
    window: tuple[float, float] = (-0.25, 0.40),
    n_samples: int = 128,
    local_beats: int = 10,
    cache_dir: PathLike | None = None,
    progress: bool = False,
) -> BeatDataset:
    """:func:`beats_from_record` over MIT-BIH records (e.g. ``mitdb.DS1``), stacked.

    Args:
        records: record ids; the paced ones (102, 104, 107, 217) lack MLII in part and
            are rejected.
        root: the data root (see :mod:`medmodal.data.paths`).
        peaks, window, n_samples, local_beats: as in :func:`beats_from_record`.
        cache_dir: if given, each record's beats are saved there (one ``.npz`` per
            record and setting) and reused.
        progress: show a tqdm bar.

    Raises:
        DataNotFoundError: MIT-BIH is not under the data root.
        InvalidParameterError: unknown record or bad settings.
    """
    ids = [str(r) for r in records]
    if not ids:
        raise InvalidParameterError("build_beats: records is empty")
    settings = {"peaks": peaks, "window": list(window), "n": n_samples, "local": local_beats}
    iterator: Iterable[str] = ids
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(ids, desc=f"beats ({peaks})", unit="record")
    parts = []
    for rid in iterator:
        path = None if cache_dir is None else _cache_file(cache_dir, rid, settings)
        if path is not None and path.is_file():
            parts.append(BeatDataset.load(path))
            continue
        part = beats_from_record(
            load_record(rid, root=root),
            peaks=peaks,
            window=window,
            n_samples=n_samples,
            local_beats=local_beats,
        )
        if path is not None:
            part.save(path)
        parts.append(part)
    return BeatDataset.concatenate(parts)


def normalize_morphology(beats: BeatDataset, *, subtract_median: bool = False) -> BeatDataset:
    """Per-record normalised waveforms: each record's windows divided by the median
    peak-to-peak amplitude of its MLII (resp. other-lead) beats, and, if
    ``subtract_median``, minus the record's median beat. Uses no labels, so it is
    legitimate at test time (it needs the whole record, as the record-mean RR does).

    Example:
        >>> from medmodal.data.bundled import load_bundled
        >>> b = normalize_morphology(beats_from_record(load_bundled("mitdb-100")))
        >>> round(float(np.median(np.ptp(b.mlii, axis=1))), 3)
        1.0
    """
    mlii = beats.mlii.copy()
    other = beats.other.copy()
    for rid in np.unique(beats.record):
        rows = beats.record == rid
        for arr in (mlii, other):
            block = arr[rows]
            scale = float(np.median(np.ptp(block, axis=1))) or 1.0
            if subtract_median:
                block = block - np.median(block, axis=0, keepdims=True)
            arr[rows] = block / scale
    return replace(beats, mlii=mlii, other=other)
