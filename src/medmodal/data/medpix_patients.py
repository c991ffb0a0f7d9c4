"""MedPix patients: cases of one patient found across splits, and patient-clean splits.

MedPix 2.0 numbers *cases*, not patients, and one patient can appear in several cases
(the same pheochromocytoma patient is case MPX1135 in dev and MPX1683 in train, with
near-identical CT slices). :func:`find_same_patients` compares every pair of cases and
calls them one patient when

- their demographics are compatible (same sex or one unknown; ages within
  :data:`AGE_TOLERANCE` years or one unknown) **and** two of three independent signals
  agree: the case diagnoses overlap (overlap coefficient of their word sets >=
  :data:`DIAGNOSIS_OVERLAP`), the histories read alike (Jaccard >=
  :data:`HISTORY_SIMILARITY`), two of their images correlate at >=
  :data:`IMAGE_CORRELATION`; **or**
- two of their images are near-duplicates (correlation >= :data:`NEAR_DUPLICATE`),
  whatever the metadata say.

One signal alone is not enough: same age, sex and a common diagnosis ("Wilms tumor",
2-year-old girl) happen in different patients. ``find_same_patients(...,
min_signals=1)`` lists the one-signal pairs too, for the report.

Image correlation is the Pearson correlation of the images resized to 32 x 32 px
(:func:`image_fingerprint`), a downsampled-correlation perceptual hash.

:func:`patient_splits` then applies the documented rule: the matched cases form one
patient group (union-find); a group whose cases lie in more than one split moves to
``train`` as a whole; a seeded, fixed fraction of the remaining train groups becomes the
``val`` split (for every choice: epoch, recipe, prompts), and ``dev`` is scored once, as
a test.

Example:
    >>> import numpy as np
    >>> from medmodal.data.medpix_patients import image_fingerprint
    >>> img = np.random.default_rng(0).integers(0, 255, (40, 60), dtype=np.uint8)
    >>> fp = image_fingerprint(img)
    >>> fp.shape, round(float(fp @ image_fingerprint(img // 2 + 10)), 3)
    ((1024,), 1.0)
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from medmodal.errors import DataFormatError, InvalidParameterError

__all__ = [
    "AGE_TOLERANCE",
    "DIAGNOSIS_OVERLAP",
    "HISTORY_SIMILARITY",
    "IMAGE_CORRELATION",
    "NEAR_DUPLICATE",
    "PatientSplits",
    "SamePatient",
    "find_same_patients",
    "image_fingerprint",
    "near_duplicates",
    "patient_splits",
]

#: Ages (years) of one patient's cases may differ by this much (follow-up visits).
AGE_TOLERANCE = 1.0
#: Overlap coefficient of the diagnosis words that, with compatible demographics, matches.
DIAGNOSIS_OVERLAP = 0.5
#: Jaccard similarity of the history words that, with compatible demographics, matches.
HISTORY_SIMILARITY = 0.7
#: Image correlation that, with compatible demographics, matches.
IMAGE_CORRELATION = 0.9
#: Image correlation of a near-duplicate: matches whatever the metadata, and no two
#: splits may share such a pair (:func:`near_duplicates`).
NEAR_DUPLICATE = 0.97

_FINGERPRINT_SIZE = 32
_WORD = re.compile(r"[a-z0-9]+")


def image_fingerprint(image: np.ndarray) -> np.ndarray:
    """A ``(1024,)`` zero-mean unit vector of the image resized to 32 x 32 px.

    The dot product of two fingerprints is the Pearson correlation of the downsampled
    images: 1.0 for the same image at another brightness or contrast. The whole image is
    resized (box filter), not padded: padding shared by all images of one aspect ratio
    would correlate unrelated images.
    """
    from PIL import Image

    arr = np.clip(np.asarray(image, dtype=np.float32), 0, 255).astype(np.uint8)
    if arr.ndim != 2 or min(arr.shape) < 1:
        raise InvalidParameterError(f"image_fingerprint: expected a 2-D image, got {arr.shape}")
    size = (_FINGERPRINT_SIZE, _FINGERPRINT_SIZE)
    small = Image.fromarray(arr).resize(size, Image.Resampling.BOX)  # whole image, no padding
    vec = np.asarray(small, dtype=np.float32).ravel()
    vec -= vec.mean()
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm > 0 else vec


@dataclass(frozen=True)
class SamePatient:
    """Two cases judged to be one patient, with the evidence."""

    case_a: str
    split_a: str
    case_b: str
    split_b: str
    age_a: float
    age_b: float
    sex_a: str
    sex_b: str
    diagnosis_a: str
    diagnosis_b: str
    diagnosis_overlap: float  # overlap coefficient of the diagnosis words
    history_similarity: float  # Jaccard similarity of the history words
    image_correlation: float  # highest correlation of an image of a with one of b
    reasons: tuple[str, ...]  # which signals matched


@dataclass(frozen=True)
class PatientSplits:
    """Patient groups and the split of every case under the documented rule.

    Attributes:
        matches: every pair of cases judged one patient.
        group: case id -> patient group id (cases matched to nobody have their own).
        file_split: case id -> the split its rows are in, in the data set's files.
        split: case id -> its split after the rule (``train``, ``val``, ``dev``...).
        val_fraction, seed: how ``val`` was carved out of ``train``.
    """

    matches: tuple[SamePatient, ...]
    group: Mapping[str, int]
    file_split: Mapping[str, str]
    split: Mapping[str, str]
    val_fraction: float
    seed: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    def moved(self) -> dict[str, tuple[str, str]]:
        """Cases moved out of their file split by the rule: case -> (from, to).

        A case carved from ``train`` into ``val`` is not a move; one moved from ``dev``
        to ``train`` and then drawn into ``val`` is."""
        return {
            c: (self.file_split[c], s)
            for c, s in self.split.items()
            if s != self.file_split[c] and not (self.file_split[c] == "train" and s == "val")
        }

    def cases(self, split: str) -> set[str]:
        """The case ids of one split after the rule."""
        return {c for c, s in self.split.items() if s == split}

    def to_frame(self) -> pd.DataFrame:
        """One row per matched pair of cases."""
        return pd.DataFrame([vars(m) for m in self.matches])


def _words(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text.lower()) if len(w) > 2)


def _case_texts(folder: Path, split: str) -> dict[str, tuple[str, str]]:
    """case -> (diagnosis, history) from ``splits/data_<split>.jsonl`` (empty if absent)."""
    path = folder / "splits" / f"data_{split}.jsonl"
    if not path.is_file():
        return {}
    out = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            case = row.get("Case") or {}
            diagnosis = str(case.get("Case Diagnosis") or case.get("Title") or "")
            out[str(row["U_id"])] = (diagnosis, str(case.get("History") or ""))
        except (json.JSONDecodeError, KeyError, AttributeError) as exc:
            raise DataFormatError(f"{path}:{n}: not a case row: {exc}") from exc
    return out


def _similarity(word_sets: list[frozenset[str]], *, jaccard: bool) -> np.ndarray:
    """``(C, C)`` Jaccard or overlap coefficient of word sets (0 where either is empty)."""
    vocab = {w: i for i, w in enumerate(sorted(set().union(*word_sets)))}
    m = np.zeros((len(word_sets), max(1, len(vocab))), dtype=np.float32)
    for i, words in enumerate(word_sets):
        m[i, [vocab[w] for w in words]] = 1.0
    inter = m @ m.T
    size = m.sum(axis=1)
    denom = size[:, None] + size[None, :] - inter if jaccard else np.minimum.outer(size, size)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, inter / denom, 0.0)


def _case_image_max(fingerprints: np.ndarray, case_index: np.ndarray, n_cases: int) -> np.ndarray:
    """``(C, C)`` highest image correlation between two cases (-1 on the diagonal)."""
    corr = fingerprints @ fingerprints.T  # (N, N)
    order = np.argsort(case_index, kind="stable")
    starts = np.searchsorted(case_index[order], np.arange(n_cases))
    rows = np.maximum.reduceat(corr[order], starts, axis=0)  # (C, N)
    best = np.maximum.reduceat(rows[:, order], starts, axis=1)  # (C, C)
    np.fill_diagonal(best, -1.0)
    return best


def find_same_patients(
    frames: Mapping[str, pd.DataFrame],
    fingerprints: Mapping[str, np.ndarray],
    folder: Path,
    *,
    min_signals: int = 2,
) -> list[SamePatient]:
    """Every pair of cases (any splits) judged one patient; see the module rule.

    ``min_signals=1`` lists the weaker candidates (one signal with compatible
    demographics) that the rule does not merge.

    Args:
        frames: split -> its per-image table (``MedPixSplit.frame``).
        fingerprints: split -> ``(N, 1024)`` :func:`image_fingerprint` of its images.
        folder: the MedPix folder (``splits/data_<split>.jsonl`` gives diagnoses).
    """
    table = pd.concat([f.assign(split=s) for s, f in frames.items()], ignore_index=True)
    fps = np.concatenate([fingerprints[s] for s in frames])
    cases = table.drop_duplicates("case_id").reset_index(drop=True)
    index = {c: i for i, c in enumerate(cases["case_id"])}
    texts = {k: v for s in frames for k, v in _case_texts(folder, s).items()}
    diag = [texts.get(c, ("", ""))[0] for c in cases["case_id"]]
    overlap = _similarity([_words(d) for d in diag], jaccard=False)
    histories = [_words(texts.get(c, ("", ""))[1]) for c in cases["case_id"]]
    history = _similarity(histories, jaccard=True)
    image = _case_image_max(fps, table["case_id"].map(index).to_numpy(), len(cases))
    age = cases["age"].to_numpy(dtype=float)
    sex = np.array([x if x in ("male", "female") else "" for x in cases["sex"].str.lower()])
    ages_ok = np.isnan(age)[:, None] | np.isnan(age)[None, :]
    ages_ok |= np.abs(age[:, None] - age[None, :]) <= AGE_TOLERANCE
    demo = ages_ok & ((sex[:, None] == "") | (sex[None, :] == "") | (sex[:, None] == sex[None, :]))
    signals = {
        "diagnosis": overlap >= DIAGNOSIS_OVERLAP,
        "history": history >= HISTORY_SIMILARITY,
        "image": image >= IMAGE_CORRELATION,
    }
    votes = np.sum(list(signals.values()), axis=0) * demo
    matched = (votes >= min_signals) | (image >= NEAR_DUPLICATE)
    out = []
    for i, j in zip(*np.nonzero(np.triu(matched, k=1)), strict=True):
        reasons = [k for k, v in signals.items() if v[i, j] and demo[i, j]]
        reasons += ["near-duplicate image"] if image[i, j] >= NEAR_DUPLICATE else []
        a, b = cases.iloc[i], cases.iloc[j]
        out.append(SamePatient(
            str(a.case_id), str(a.split), str(b.case_id), str(b.split), float(a.age),
            float(b.age), str(a.sex), str(b.sex), diag[i], diag[j], float(overlap[i, j]),
            float(history[i, j]), float(image[i, j]), tuple(reasons),
        ))  # fmt: skip
    return out


def _groups(cases: list[str], matches: list[SamePatient]) -> dict[str, int]:
    parent = {c: c for c in cases}

    def root(c: str) -> str:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for m in matches:
        parent[root(m.case_b)] = root(m.case_a)
    roots = sorted({root(c) for c in cases})
    ids = {r: i for i, r in enumerate(roots)}
    return {c: ids[root(c)] for c in cases}


def patient_splits(
    frames: Mapping[str, pd.DataFrame],
    fingerprints: Mapping[str, np.ndarray],
    folder: Path,
    *,
    val_fraction: float = 0.1,
    seed: int = 0,
) -> PatientSplits:
    """Patient groups, each in one split; ``val`` carved out of ``train`` by group.

    A group with cases in more than one split moves to ``train`` whole; then each train
    group goes to ``val`` when a number drawn from its first case id and ``seed``
    (uniform in [0, 1), SHA-256) is below ``val_fraction``: about that share of the
    groups, and a group's draw does not depend on which other cases or splits the folder
    holds (a folder with a test split gets the same val). A folder with its own ``val``
    split file keeps it.

    Raises:
        InvalidParameterError: ``val_fraction`` outside [0, 1), or no ``train`` split.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise InvalidParameterError(
            f"patient_splits: val_fraction must be in [0, 1), got {val_fraction!r}"
        )
    if "train" not in frames:
        raise InvalidParameterError(f"patient_splits: no 'train' split among {sorted(frames)}")
    file_split = {str(c): s for s, f in frames.items() for c in f["case_id"]}
    matches = find_same_patients(frames, fingerprints, folder)
    group = _groups(list(file_split), matches)
    members: dict[int, list[str]] = {}
    for case, g in group.items():
        members.setdefault(g, []).append(case)
    split = dict(file_split)
    for cases in members.values():
        if len({file_split[c] for c in cases}) > 1:
            split.update(dict.fromkeys(cases, "train"))
    if "val" not in frames:
        for g in sorted({group[c] for c, s in split.items() if s == "train"}):
            if _draw(min(members[g]), seed) < val_fraction:
                split.update(dict.fromkeys(members[g], "val"))
    return PatientSplits(tuple(matches), group, file_split, split, val_fraction, seed)


def _draw(case: str, seed: int) -> float:
    """A uniform number in [0, 1) fixed by the case id and the seed."""
    digest = hashlib.sha256(f"medpix-val:{seed}:{case}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def near_duplicates(
    fingerprints_a: np.ndarray, fingerprints_b: np.ndarray, threshold: float = NEAR_DUPLICATE
) -> list[tuple[int, int, float]]:
    """Pairs ``(i, j, correlation)`` of images of a and b correlating at >= ``threshold``."""
    if len(fingerprints_a) == 0 or len(fingerprints_b) == 0:
        return []
    corr = fingerprints_a @ fingerprints_b.T
    pairs = zip(*np.nonzero(corr >= threshold), strict=True)
    return [(int(i), int(j), float(corr[i, j])) for i, j in pairs]
