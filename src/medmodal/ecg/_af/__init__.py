"""Private atrial-fibrillation detectors, one module per method, registered in
``medmodal.ecg.af``.

Each module exposes ``detect(rr, p_present) -> bool per RR interval``: ``rr`` holds the
RR intervals in seconds, ``p_present`` (or ``None`` without a signal) whether a P wave
was found before the beat that ends each interval. ``_common`` holds the beat windows.
"""
