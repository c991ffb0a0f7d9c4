"""Private atrial-fibrillation detectors, one module per method, registered in
``medmodal.ecg.af``.

Each detector module exposes ``detect(rr, p_present, odd) -> bool per RR interval``:
``rr`` holds the RR intervals in seconds, ``p_present`` (or ``None`` without a signal)
whether a P wave was found before the beat that ends each interval, ``odd`` (or
``None``) whether each beat's QRS differs from its neighbours' dominant shape
(``morphology``). ``atrial`` vetoes AF-like stretches with organised atrial activity
(flutter); ``episodes`` turns interval flags into episodes and window labels;
``_common`` holds the beat windows.
"""
