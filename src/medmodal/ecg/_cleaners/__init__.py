"""ECG cleaning methods, one module each; importing this package registers them all."""

from medmodal.ecg._cleaners import default, median, minimal, none
from medmodal.ecg._cleaners._base import CLEANERS, Cleaner

__all__ = ["CLEANERS", "Cleaner", "default", "median", "minimal", "none"]
