"""``ModalityFrame``: several modalities as one row-indexable ``X`` for scikit-learn tools.

A dict of modality arrays cannot go through scikit-learn's model selection
(``cross_val_score`` counts its keys as samples). A :class:`ModalityFrame` holds the same
arrays (rows first, any trailing shape) and their optional presence masks, and indexes
*rows*: ``frame[idx]`` is the frame of those samples, with every modality and mask cut
alike, which is what ``cross_val_score``, ``GridSearchCV`` and ``Pipeline`` need
(scikit-learn's ``_safe_indexing`` calls ``frame[idx, ...]``). ``frame["ecg"]`` is one
modality's array.

Example:
    >>> import numpy as np
    >>> frame = ModalityFrame({"ecg": np.zeros((6, 1, 50)), "age": np.arange(6.0)[:, None]})
    >>> frame.shape, frame.names
    ((6,), ('age', 'ecg'))
    >>> part = frame[np.array([0, 2, 4])]
    >>> part["age"].ravel().tolist(), part["ecg"].shape
    ([0.0, 2.0, 4.0], (3, 1, 50))
    >>> import pandas as pd
    >>> df = pd.DataFrame({"hr": [60.0, 70], "qt": [400.0, 380], "sex": [0.0, 1]})
    >>> ModalityFrame.from_frame(df, {"ecg": ["hr", "qt"], "demo": ["sex"]})["ecg"].shape
    (2, 2)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from medmodal.errors import InvalidParameterError

__all__ = ["SINGLE_MODALITY", "ModalityFrame"]

#: The modality name a plain 2-D array or an unmapped DataFrame becomes.
SINGLE_MODALITY = "features"


class ModalityFrame:
    """Modality arrays (samples first) and presence masks that index by row.

    Args:
        modalities: modality name → array ``(n, ...)`` (same ``n`` for all).
        masks: optional modality name → bool ``(n,)`` (``True`` = present).

    Raises:
        InvalidParameterError: no modality, a bad name, rows that differ, a mask that
            names an unknown modality or has the wrong shape.
    """

    __slots__ = ("_arrays", "_masks", "_n")

    def __init__(
        self,
        modalities: Mapping[str, Any],
        masks: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(modalities, Mapping) or not modalities:
            raise InvalidParameterError(
                "ModalityFrame: modalities must be a non-empty dict of name -> array "
                f"(n_samples, ...), got {type(modalities).__name__}"
            )
        arrays = {_check_name(k): np.asarray(v) for k, v in sorted(modalities.items())}
        for name, a in arrays.items():
            if a.ndim < 1:
                raise InvalidParameterError(f"ModalityFrame: modality {name!r} is a scalar")
        sizes = {name: a.shape[0] for name, a in arrays.items()}
        if len(set(sizes.values())) != 1:
            raise InvalidParameterError(f"ModalityFrame: modalities differ in n_samples: {sizes}")
        self._n = next(iter(sizes.values()))
        self._arrays = arrays
        self._masks = self._check_masks(masks or {})

    def _check_masks(self, masks: Mapping[str, Any]) -> dict[str, np.ndarray]:
        unknown = sorted(set(masks) - set(self._arrays))
        if unknown:
            raise InvalidParameterError(
                f"ModalityFrame: masks name unknown modalities {unknown}; "
                f"the modalities are {sorted(self._arrays)}"
            )
        out = {}
        for name, m in masks.items():
            arr = np.asarray(m)
            if arr.shape != (self._n,) or arr.dtype.kind not in "bui":
                raise InvalidParameterError(
                    f"ModalityFrame: masks[{name!r}] must be a bool array of shape "
                    f"({self._n},), got {arr.dtype} {arr.shape}"
                )
            out[name] = arr.astype(bool)
        return out

    # -- construction ----------------------------------------------------------------
    @classmethod
    def from_frame(cls, frame: Any, columns: Mapping[str, Sequence[str]]) -> ModalityFrame:
        """Tabular modalities from a pandas DataFrame: modality name → its column names.

        Raises:
            InvalidParameterError: a named column is not in the frame.
        """
        have = set(frame.columns)
        arrays = {}
        for name, cols in columns.items():
            missing = [c for c in cols if c not in have]
            if missing or not cols:
                raise InvalidParameterError(
                    f"ModalityFrame.from_frame: modality {name!r} names columns {missing or []} "
                    f"that are not in the frame (it has {list(frame.columns)})"
                )
            arrays[name] = frame[list(cols)].to_numpy(dtype=np.float64)
        return cls(arrays)

    @classmethod
    def coerce(cls, X: Any, masks: Mapping[str, Any] | None = None) -> ModalityFrame:
        """``X`` as a frame: a frame (``masks`` added to its own), a dict of modality
        arrays, or one table (2-D array or DataFrame) as the single modality
        :data:`SINGLE_MODALITY`."""
        if hasattr(X, "tocsr") or hasattr(X, "todense"):
            raise InvalidParameterError(
                "sparse input is not supported: pass dense arrays (X.toarray())"
            )
        if isinstance(X, ModalityFrame):
            return X if not masks else cls(X._arrays, {**X._masks, **masks})
        if isinstance(X, Mapping):
            return cls(X, masks)
        if hasattr(X, "iloc"):  # a DataFrame: its values, as one tabular modality
            X = X.to_numpy()
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise InvalidParameterError(
                "X must be a ModalityFrame, a dict of modality name -> array, or a 2-D "
                f"table (n_samples, n_features); got {type(X).__name__} of shape "
                f"{arr.shape}. Reshape your data: x.reshape(-1, 1) for one feature."
            )
        return cls({SINGLE_MODALITY: arr}, masks)

    # -- row indexing (what scikit-learn needs) --------------------------------------
    @property
    def shape(self) -> tuple[int]:
        """``(n_samples,)``: scikit-learn counts samples from it."""
        return (self._n,)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, key: Any) -> Any:
        """A modality's array (``frame["ecg"]``) or the frame of some rows
        (integer/bool array, slice, list, or ``(rows, ...)``)."""
        if isinstance(key, str):
            return self._arrays[key]
        if isinstance(key, tuple) and len(key) == 2 and key[1] is Ellipsis:
            key = key[0]
        if isinstance(key, (int, np.integer)):
            key = [key]
        if not isinstance(key, slice):
            key = np.asarray(key)
            if key.dtype.kind not in "biu" and key.size:
                raise InvalidParameterError(
                    f"ModalityFrame: rows are chosen by integers, bools or a slice, got {key.dtype}"
                )
            key = key.astype(bool if key.dtype.kind == "b" else np.intp)
        return ModalityFrame(
            {k: v[key] for k, v in self._arrays.items()},
            {k: v[key] for k, v in self._masks.items()},
        )

    def __iter__(self) -> Iterator[str]:
        raise TypeError("ModalityFrame is indexed by rows, not iterated: use .names or .to_dict()")

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {v.shape[1:]}" for k, v in self._arrays.items())
        return f"ModalityFrame(n={self._n}, {{{shapes}}}, masks={sorted(self._masks)})"

    # -- access ----------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Modality names, sorted."""
        return tuple(self._arrays)

    @property
    def masks(self) -> dict[str, np.ndarray]:
        """The given presence masks (a copy of the dict; modalities without one absent)."""
        return dict(self._masks)

    def to_dict(self) -> dict[str, np.ndarray]:
        """Modality name → array (the dict ``X`` every fusion function also takes)."""
        return dict(self._arrays)

    def with_modality(self, name: str, values: Any) -> ModalityFrame:
        """A new frame with ``name`` added or replaced (same rows); masks kept."""
        return ModalityFrame({**self._arrays, name: values}, self._masks)


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name or "." in name:
        raise InvalidParameterError(
            f"ModalityFrame: modality names must be non-empty strings without '.', got {name!r}"
        )
    return name
