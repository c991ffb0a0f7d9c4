"""File formats behind :func:`medmodal.io.read_record`: one private module per format.

Importing this package registers every format in :data:`FORMATS`.
"""

from __future__ import annotations

from medmodal.io._formats import csv, edf, npy, wfdb
from medmodal.io._formats._common import FORMATS, Format

__all__ = ["FORMATS", "Format", "csv", "edf", "npy", "wfdb"]
