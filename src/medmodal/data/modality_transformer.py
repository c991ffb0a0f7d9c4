"""``ModalityTransformer``: a scikit-learn transformer applied to one modality of a frame.

The multimodal counterpart of ``ColumnTransformer``: in a ``Pipeline`` before a
:class:`~medmodal.fusion.FusionClassifier`, it fits any scikit-learn transformer (PCA,
a scaler, a feature selector) on one tabular modality of a
:class:`~medmodal.data.modality_frame.ModalityFrame` and passes the frame on with that
modality replaced (or added under ``output``). Rows where the modality is missing (mask
``False`` or all NaN) are left out of ``fit`` and come out all NaN, so they stay missing.

Example:
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from medmodal.data.synthetic import make_multimodal_classification
    >>> d = make_multimodal_classification(100, seed=0)
    >>> step = ModalityTransformer(PCA(3), "image").fit(d.frame())
    >>> step.transform(d.frame())["image"].shape
    (100, 3)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone

from medmodal.data.modality_frame import ModalityFrame
from medmodal.errors import InvalidParameterError, NotFittedError

__all__ = ["ModalityTransformer"]


class ModalityTransformer(TransformerMixin, BaseEstimator):
    """Fit ``transformer`` on one modality (rows flattened to features) of ``X``.

    Args:
        transformer: any scikit-learn transformer (cloned when fitted).
        modality: the modality it reads.
        output: the modality name it writes (default: replaces ``modality``).

    Attributes:
        transformer_: the fitted clone.
    """

    def __init__(self, transformer: Any, modality: str, *, output: str | None = None) -> None:
        self.transformer = transformer
        self.modality = modality
        self.output = output

    def _rows(self, X: Any, where: str) -> tuple[ModalityFrame, np.ndarray, np.ndarray]:
        frame = ModalityFrame.coerce(X)
        if self.modality not in frame.names:
            raise InvalidParameterError(
                f"ModalityTransformer.{where}: modality {self.modality!r} is not in X "
                f"(it has {list(frame.names)})"
            )
        values = np.asarray(frame[self.modality], dtype=np.float64)
        flat = values.reshape(len(frame), -1)  # (n, F)
        present = ~np.isnan(flat).all(axis=1) if flat.shape[1] else np.ones(len(frame), bool)
        present &= frame.masks.get(self.modality, np.ones(len(frame), bool))
        return frame, flat, present

    def fit(self, X: Any, y: Any = None) -> ModalityTransformer:
        """Fit a clone of ``transformer`` on the rows where the modality is present."""
        _, flat, present = self._rows(X, "fit")
        if not present.any():
            raise InvalidParameterError(
                f"ModalityTransformer.fit: modality {self.modality!r} is missing in every row"
            )
        target = None if y is None else np.asarray(y)[present]
        self.transformer_ = clone(self.transformer).fit(flat[present], target)
        return self

    def transform(self, X: Any) -> ModalityFrame:
        """The frame with the transformed modality (missing rows all NaN)."""
        if not hasattr(self, "transformer_"):
            raise NotFittedError("ModalityTransformer is not fitted yet: call fit(X) first")
        frame, flat, present = self._rows(X, "transform")
        done = np.asarray(self.transformer_.transform(flat[present]), dtype=np.float32)
        out = np.full((len(frame), done.shape[1]), np.nan, dtype=np.float32)  # (n, F')
        out[present] = done
        return frame.with_modality(self.output or self.modality, out)
