"""Exceptions and warnings raised by medmodal.

Every error medmodal raises on purpose is a :class:`MedmodalError`, so callers can catch
the whole family at once; the subclasses also derive from the matching built-in
exception (``ValueError``, ``FileNotFoundError``, ...) so existing handlers keep working.
"""

from __future__ import annotations


class MedmodalError(Exception):
    """Base class of every error medmodal raises on purpose."""


class InvalidParameterError(MedmodalError, ValueError):
    """A parameter has a value, type or shape the function does not accept."""


class InvalidSignalError(InvalidParameterError):
    """A signal cannot be analysed (non-finite, flat, too short, wrong shape...)."""


class NotFittedError(MedmodalError, AttributeError):
    """An estimator was used before ``fit``."""


class DataNotFoundError(MedmodalError, FileNotFoundError):
    """A file or data set is not where medmodal looked for it."""


class DataFormatError(MedmodalError, ValueError):
    """A file exists but cannot be read as the format it claims to be."""


class RecordTooLargeError(DataFormatError):
    """A file declares more than a reader's budget allows (samples, leads, sampling rate,
    decompressed bytes); the message names the file, the field, its value and the limit."""


class MissingDependencyError(MedmodalError, ImportError):
    """An optional dependency needed by the called feature is not installed."""


class MedmodalWarning(UserWarning):
    """medmodal changed something automatically (e.g. interpolated a short NaN gap)."""


__all__ = [
    "DataFormatError",
    "DataNotFoundError",
    "InvalidParameterError",
    "InvalidSignalError",
    "MedmodalError",
    "MedmodalWarning",
    "MissingDependencyError",
    "NotFittedError",
    "RecordTooLargeError",
]
