"""ECG processing: simulate, clean, detect R peaks, measure rate/HRV/rhythm/quality.

numpy/scipy only: importing ``medmodal.ecg`` never imports torch. Every function takes
``sampling_rate`` in Hz as its second argument; signals are ``(n_samples,)`` or
``(n_samples, n_leads)``.
"""
