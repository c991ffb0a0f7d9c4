"""Type aliases shared across medmodal."""

from __future__ import annotations

import os
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

#: Anything numpy can turn into an array of samples.
ArrayLike: TypeAlias = npt.ArrayLike
#: A float64 array (signals after validation).
FloatArray: TypeAlias = npt.NDArray[np.float64]
#: An int64 array (sample indices such as R peaks).
IntArray: TypeAlias = npt.NDArray[np.int64]
#: A boolean array (masks).
BoolArray: TypeAlias = npt.NDArray[np.bool_]
#: A file-system path.
PathLike: TypeAlias = str | os.PathLike[str]
