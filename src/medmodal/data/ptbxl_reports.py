"""PTB-XL ECG ↔ text pairs for contrastive alignment.

Two kinds of text can pair with each 12-lead ECG:

- ``"report"``: the free-text report written with the recording (mostly German, some
  English and Swedish, often a fixed phrase such as ``"sinusrhythmus normales ekg"``);
- ``"statements"``: an English text built from the record's SCP-ECG statements, each
  code replaced by its description in ``scp_statements.csv`` (``"normal ECG; sinus
  rhythm"``), ordered by likelihood.

Splits follow the PTB-XL benchmark folds (:data:`medmodal.data.ptbxl.FOLDS`): ``train``
(folds 1-8), ``val`` (9, alias ``dev``), ``test`` (10) and ``heldout`` (9 and 10).
Patients are kept within one fold by the data set's own stratification.

Example:
    >>> from medmodal.data.ptbxl_reports import statements_text
    >>> statements_text({"NORM": 100.0, "SR": 0.0}, {"NORM": "normal ECG", "SR": "sinus rhythm"})
    'normal ECG; sinus rhythm'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from medmodal.data import ptbxl
from medmodal.errors import InvalidParameterError
from medmodal.types import PathLike

#: Split names and their folds.
SPLITS: dict[str, tuple[int, ...]] = {
    "train": ptbxl.FOLDS["train"],
    "val": ptbxl.FOLDS["val"],
    "dev": ptbxl.FOLDS["val"],
    "test": ptbxl.FOLDS["test"],
    "heldout": ptbxl.FOLDS["val"] + ptbxl.FOLDS["test"],
}
#: Kinds of text paired with an ECG.
TEXT_KINDS: tuple[str, ...] = ("report", "statements")

__all__ = ["SPLITS", "TEXT_KINDS", "ECGReportSet", "load_ecg_reports", "statements_text"]


def statements_text(codes: Mapping[str, float], descriptions: Mapping[str, str]) -> str:
    """English text of SCP codes: their descriptions by decreasing likelihood, ``; ``-joined."""
    ordered = sorted(codes.items(), key=lambda kv: -kv[1])
    parts = [str(descriptions.get(code, code)).strip() for code, _ in ordered]
    return "; ".join(dict.fromkeys(p for p in parts if p))


@dataclass(frozen=True)
class ECGReportSet:
    """ECGs paired with texts.

    Attributes:
        split: the split name.
        ecg_ids: ``(n,)`` PTB-XL ids.
        signals: ``(n, 12, 1000)`` float32, mV, leads first (ready for a 1-D encoder).
        texts: the paired texts.
        superclasses: ``(n, 5)`` multi-hot NORM/MI/STTC/CD/HYP frame indexed by ecg_id.
    """

    split: str
    ecg_ids: np.ndarray
    signals: np.ndarray
    texts: list[str]
    superclasses: pd.DataFrame

    def __len__(self) -> int:
        return len(self.ecg_ids)

    def normal_labels(self) -> np.ndarray:
        """``"normal"`` for NORM-only records, ``"abnormal"`` for any other superclass,
        ``""`` where the record has no diagnostic statement."""
        sc = self.superclasses.to_numpy()
        other = sc[:, 1:].any(axis=1)
        norm = sc[:, 0].astype(bool) & ~other
        return np.where(norm, "normal", np.where(other, "abnormal", ""))

    def to_frame(self) -> pd.DataFrame:
        """One row per ECG: ecg_id, text and the superclass columns."""
        frame = self.superclasses.copy()
        frame.insert(0, "text", self.texts)
        return frame


def load_ecg_reports(
    split: str = "train", *, text: str = "report", root: PathLike | None = None
) -> ECGReportSet:
    """ECG ↔ text pairs of one PTB-XL split.

    Args:
        split: ``train``, ``val`` (``dev``), ``test`` or ``heldout`` (val + test).
        text: ``"report"`` (free text as recorded) or ``"statements"`` (English SCP
            statement descriptions).
        root: the PTB-XL folder or a data root holding ``ptbxl-500/``.

    Raises:
        InvalidParameterError: unknown split or text kind.
        DataNotFoundError: PTB-XL is not there.
    """
    if split not in SPLITS:
        raise InvalidParameterError(
            f"load_ecg_reports: unknown split {split!r}; allowed: {', '.join(SPLITS)}"
        )
    if text not in TEXT_KINDS:
        raise InvalidParameterError(
            f"load_ecg_reports: unknown text {text!r}; allowed: {', '.join(TEXT_KINDS)}"
        )
    meta = ptbxl.load_metadata(root=root)
    meta = meta[meta["strat_fold"].isin(SPLITS[split])]
    if text == "report":
        texts = [" ".join(str(r).split()) for r in meta["report"]]
    else:
        table = ptbxl.load_statements(root=root)
        descriptions = {str(k): str(v) for k, v in table["description"].dropna().items()}
        texts = [statements_text(c, descriptions) for c in meta["scp_codes"]]
    ids = meta.index.to_numpy(dtype=np.int64)
    signals = ptbxl.load_signals(ids, root=root)  # (n, 1000, 12)
    signals = np.nan_to_num(signals.transpose(0, 2, 1)).astype(np.float32)  # (n, 12, 1000)
    labels = ptbxl.superclasses(meta, root=root)
    return ECGReportSet(split, ids, np.ascontiguousarray(signals), texts, labels)
