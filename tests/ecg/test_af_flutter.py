"""ecg_af's flutter veto: organised atrial activity (one regular circuit, a sharp
spectral peak after QRS-T cancellation) is not AF, disorganised activity is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.signal

from medmodal.ecg import ecg_af
from medmodal.ecg._af import atrial
from medmodal.ecg.simulate import ecg_simulate_annotated

FS = 250


def _irregular_record(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """3 min of simulated AF-like (irregular) QRS-T with flutter waves (5 Hz sawtooth,
    300/min), fibrillatory waves (4-9 Hz band-limited noise) or neither added."""
    sim = ecg_simulate_annotated(180, FS, rhythm="afib", seed=3)
    x = sim.signal
    t = np.arange(x.size) / FS
    size = 0.1 * np.ptp(x)
    if kind == "flutter":
        x = x + size * (2 * ((t * 5.0) % 1.0) - 1)
    elif kind == "fibrillation":
        sos = scipy.signal.butter(2, [4, 9], btype="bandpass", fs=FS, output="sos")
        waves = scipy.signal.sosfiltfilt(sos, np.random.default_rng(0).normal(size=x.size))
        x = x + 2 * size * waves / np.ptp(waves)
    return x, sim.r_peaks


def test_flutter_waves_are_organised_fibrillatory_waves_are_not() -> None:
    for kind, organised in [("flutter", True), ("fibrillation", False), ("none", False)]:
        x, peaks = _irregular_record(kind)
        flags = atrial.organised(x[:, None], FS, peaks, np.ones(peaks.size - 1, dtype=bool))
        assert flags.mean() > 0.95 if organised else not flags.any(), kind


def test_flutter_with_irregular_conduction_is_not_af() -> None:
    flutter, peaks = _irregular_record("flutter")
    assert ecg_af(peaks, FS, signal=flutter).overall == "not_af"
    # the same RR intervals are AF when the atrial waves are fibrillatory
    fib, _ = _irregular_record("fibrillation")
    res = ecg_af(peaks, FS, signal=fib)
    assert res.overall == "af" and res.burden_pct > 90
    # without a signal, flutter cannot be told from AF by the RR alone
    assert ecg_af(peaks, FS).overall == "af"


def test_organisation_index_of_a_sine_and_of_noise() -> None:
    t = np.arange(0, 60, 1 / FS)
    sine = np.sin(2 * np.pi * 4.5 * t)[:, None]
    noise = np.random.default_rng(1).normal(size=(t.size, 2))
    assert atrial.organisation(sine, FS)[0] > 0.9
    assert (atrial.organisation(noise, FS) < 0.3).all()
    assert not atrial.organised(noise, FS, np.arange(100, t.size, FS), np.zeros(59, bool)).any()


@pytest.mark.parametrize("fs", [128, 500])
def test_short_or_sparse_input_is_never_organised(fs: int) -> None:
    x = np.random.default_rng(2).normal(size=(30 * fs, 1))  # shorter than one window
    peaks = np.arange(fs // 2, x.shape[0], fs)
    assert not atrial.organised(x, fs, peaks, np.ones(peaks.size - 1, dtype=bool)).any()


def test_mitdb_222_flutter_excerpt(mitdb_dir: Path) -> None:
    """Record 222 from 1500 s: the sustained flutter of its last 143 s (reference
    ``(AFL`` from 1663 s, with two AF blips) is organised, the sinus and nodal stretches
    before 1600 s are not (that AF in record 201 is kept: ``test_af.test_mitdb_201_excerpt``,
    which runs the veto)."""
    from medmodal.data import mitdb

    rec = mitdb.load_record("222", root=mitdb_dir)
    fs = rec.sampling_rate
    start = int(1500 * fs)
    assert rec.annotations is not None
    peaks = rec.annotations.between(start, rec.n_samples).beats().sample
    data = rec.signal[start:].astype(float)
    flags = atrial.organised(data, fs, peaks, np.ones(peaks.size - 1, dtype=bool))
    mids = 1500 + (peaks[:-1] + peaks[1:]) / 2 / fs
    assert flags[(mids > 1690) & (mids < 1780)].mean() > 0.9
    assert flags[mids < 1600].mean() < 0.1
