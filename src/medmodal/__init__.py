"""medmodal: a toolkit for multimodal medical AI.

ECG processing, signal/image-text alignment, multimodal fusion and the evaluation,
interpretation and serving around them. Importing the top-level package is cheap: the
sub-packages (``medmodal.ecg``, ``medmodal.data``, ...) are imported when used.
"""

from medmodal._version import __version__
from medmodal.errors import (
    DataNotFoundError,
    InvalidParameterError,
    MedmodalError,
    MedmodalWarning,
)

__all__ = [
    "DataNotFoundError",
    "InvalidParameterError",
    "MedmodalError",
    "MedmodalWarning",
    "__version__",
]
