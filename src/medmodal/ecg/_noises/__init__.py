"""Recording-noise generators, one module per kind, registered in ``medmodal.ecg.noise``.

Each module exposes ``generate(n_samples, sampling_rate, rng) -> (n_samples,)`` float
noise of unit RMS; :func:`medmodal.ecg.noise.ecg_add_noise` scales it to a
signal-to-noise ratio.
"""
