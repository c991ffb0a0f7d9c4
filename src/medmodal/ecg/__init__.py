"""ECG processing: simulate, clean, detect R peaks, measure rate/HRV/rhythm/quality.

numpy/scipy only: importing ``medmodal.ecg`` never imports torch. Every function takes
``sampling_rate`` in Hz as its second argument; signals are ``(n_samples,)`` or
``(n_samples, n_leads)``.

Example:
    >>> from medmodal.ecg import ecg_simulate, ecg_clean, ecg_peaks, ecg_hrv
    >>> ecg = ecg_simulate(60, 360, heart_rate=72, noise=0.05, seed=1)
    >>> peaks = ecg_peaks(ecg_clean(ecg, 360), 360)
    >>> 68 <= peaks.size <= 76
    True
"""

from medmodal.ecg.af import AFResult, ecg_af
from medmodal.ecg.batch import BatchResult, ecg_process_many
from medmodal.ecg.beat_classes import BEAT_CLASSES, BeatClasses, ecg_beat_classes
from medmodal.ecg.beat_features import BeatFeatures, ecg_beat_features
from medmodal.ecg.clean import ecg_clean
from medmodal.ecg.delineate import Delineation, ecg_delineate
from medmodal.ecg.hrv import HRV, ecg_hrv
from medmodal.ecg.noise import NoisyECG, ecg_add_noise
from medmodal.ecg.normalize import ecg_normalize
from medmodal.ecg.peaks import ecg_peaks
from medmodal.ecg.process import ECGResult, ecg_process
from medmodal.ecg.quality import Quality, ecg_quality
from medmodal.ecg.rate import ecg_rate
from medmodal.ecg.rhythm import Rhythm, ecg_rhythm
from medmodal.ecg.segment import Beats, ecg_segment
from medmodal.ecg.simulate import SimulatedECG, ecg_simulate, ecg_simulate_annotated

__all__ = [
    "BEAT_CLASSES",
    "HRV",
    "AFResult",
    "BatchResult",
    "BeatClasses",
    "BeatFeatures",
    "Beats",
    "Delineation",
    "ECGResult",
    "NoisyECG",
    "Quality",
    "Rhythm",
    "SimulatedECG",
    "ecg_add_noise",
    "ecg_af",
    "ecg_beat_classes",
    "ecg_beat_features",
    "ecg_clean",
    "ecg_delineate",
    "ecg_hrv",
    "ecg_normalize",
    "ecg_peaks",
    "ecg_process",
    "ecg_process_many",
    "ecg_quality",
    "ecg_rate",
    "ecg_rhythm",
    "ecg_segment",
    "ecg_simulate",
    "ecg_simulate_annotated",
]
