"""ECG simulation methods and rhythms (private; use :mod:`medmodal.ecg.simulate`).

Importing this package registers every method (one module each) and every rhythm.
"""

from medmodal.ecg._simulators import _rhythms, ecgsyn, gaussian
from medmodal.ecg._simulators._base import FIDUCIALS, METHODS, RHYTHMS

__all__ = ["FIDUCIALS", "METHODS", "RHYTHMS", "_rhythms", "ecgsyn", "gaussian"]
