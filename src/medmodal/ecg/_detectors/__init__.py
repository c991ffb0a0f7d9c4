"""Private R-peak detectors, one module per method, registered in ``medmodal.ecg.peaks``.

Each module exposes ``detect(data, sampling_rate) -> int64 peaks`` for a validated
``(n_samples, n_leads)`` float signal without flat leads; ``_common`` holds the shared
filters, multi-lead fusion and peak refinement.
"""
