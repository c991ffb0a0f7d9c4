"""Add recording noise to an ECG at a set signal-to-noise ratio (noise stress tests).

:func:`ecg_add_noise` adds one kind of noise (or a recording of noise) to a clean ECG,
scaled so that the signal-to-noise ratio in the noisy stretches is exactly the one
asked for, everywhere or in the alternating segments of the MIT-BIH Noise Stress Test
protocol. Noise kinds (``kind=``):

{kinds}

The SNR is the MIT-BIH Noise Stress Test Database's (PhysioNet's ``nst``): QRS
peak-to-peak size ``A`` against the per-second RMS ``R`` of the noise,
``SNR = 10 log10((A**2 / 8) / R**2)``; see :mod:`medmodal.ecg.snr`.

Example:
    >>> from medmodal.ecg.simulate import ecg_simulate_annotated
    >>> from medmodal.ecg.noise import ecg_add_noise
    >>> from medmodal.ecg.snr import ecg_snr
    >>> sim = ecg_simulate_annotated(60, 360, seed=0)
    >>> noisy = ecg_add_noise(sim.signal, 360, snr_db=6, peaks=sim.r_peaks, seed=1)
    >>> noisy.signal.shape, noisy.kind
    ((21600,), 'electrode_motion')
    >>> round(ecg_snr(sim.signal, noisy.noise, 360, peaks=sim.r_peaks), 6)
    6.0

References:
    Moody GB, Muldrow WE, Mark RG. A noise stress test for arrhythmia detectors.
    Computers in Cardiology 11:381-384 (1984).
    Moody GB. nst: noise stress test for ECG analysis programs; sigamp: measure signal
    amplitudes. WFDB Software Package, PhysioNet.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from medmodal.ecg._noises import baseline_wander, electrode_motion, muscle
from medmodal.ecg._templates import beat_windows, residual
from medmodal.ecg._validate import as_peaks, as_signal, check_sampling_rate
from medmodal.ecg.snr import one_lead, qrs_amplitude, segment_rms
from medmodal.errors import InvalidParameterError, InvalidSignalError
from medmodal.registry import Registry
from medmodal.types import ArrayLike, BoolArray, FloatArray, IntArray

__all__ = [
    "NOISE_KINDS",
    "NoisyECG",
    "available_kinds",
    "ecg_add_noise",
    "noise_from_recording",
    "nstdb_segments",
]

#: A noise generator: ``(n_samples, sampling_rate, rng) -> (n_samples,)`` of unit RMS.
NoiseGenerator = Callable[[int, float, np.random.Generator], FloatArray]

#: The noise kinds that ``ecg_add_noise(..., kind=...)`` accepts.
NOISE_KINDS: Registry[NoiseGenerator] = Registry("noise kind")
NOISE_KINDS.add(
    "electrode_motion",
    electrode_motion.generate,
    aliases=("em", "motion"),
    description="electrode motion: 1/f contact noise at 0.5-20 Hz and QRS-like pulses "
    "and decaying steps, in bouts of activity (a model; see "
    "medmodal.ecg._noises.electrode_motion)",
)
NOISE_KINDS.add(
    "muscle",
    muscle.generate,
    aliases=("ma", "emg"),
    description="muscle (EMG): 20-150 Hz Gaussian noise in 0.3-2 s bursts",
)
NOISE_KINDS.add(
    "baseline_wander",
    baseline_wander.generate,
    aliases=("bw", "baseline"),
    description="baseline wander: breathing at 0.15-0.3 Hz and drift below 0.05 Hz",
)

#: NSTDB protocol: noise-free learning period and the length of each segment (s).
NSTDB_START, NSTDB_PERIOD = 300.0, 120.0


def available_kinds() -> tuple[str, ...]:
    """Canonical names of the registered noise kinds."""
    return NOISE_KINDS.names()


def nstdb_segments(
    n_samples: int,
    sampling_rate: float,
    *,
    start: float = NSTDB_START,
    period: float = NSTDB_PERIOD,
) -> BoolArray:
    """Where the MIT-BIH Noise Stress Test protocol adds noise: a boolean mask.

    The first ``start`` seconds (the detector's learning period) stay clean; then
    ``period``-second noisy and clean segments alternate, noisy first, to the end.

    Example:
        >>> mask = nstdb_segments(30 * 60 * 360, 360)
        >>> bool(mask[: 300 * 360].any()), bool(mask[300 * 360]), bool(mask[420 * 360])
        (False, True, False)
        >>> round(float(mask.mean()), 3)  # 13 of the 30 minutes
        0.433
    """
    rate = check_sampling_rate(sampling_rate, func="nstdb_segments")
    if not (np.isfinite(start) and np.isfinite(period) and start >= 0 and period > 0):
        raise InvalidParameterError(
            f"nstdb_segments: start must be >= 0 and period > 0 seconds, got {start!r}, {period!r}"
        )
    t = np.arange(int(n_samples)) / rate - start
    return (t >= 0) & (np.floor(np.maximum(t, 0) / period) % 2 == 0)


@dataclass(frozen=True, eq=False)
class NoisyECG:
    """An ECG with noise added (:func:`ecg_add_noise`).

    Attributes:
        signal: the noisy ECG, shaped like the input.
        noise: what was added (``signal - input``), shaped like the input.
        noisy: ``(n_samples,)`` mask of the samples that received noise.
        kind: the noise kind (``"recorded"`` for noise passed in).
        snr_db: the requested signal-to-noise ratio in the noisy stretches.
        qrs_amplitude: per lead, the QRS size ``A`` used for the calibration.
        gain: per lead, the factor applied to the noise source.
        sampling_rate: Hz.
    """

    signal: FloatArray
    noise: FloatArray
    noisy: BoolArray
    kind: str
    snr_db: float
    qrs_amplitude: FloatArray
    gain: FloatArray
    sampling_rate: float

    def segments(self) -> IntArray:
        """``(k, 2)`` sample bounds ``[start, stop)`` of the noisy stretches."""
        edges = np.diff(np.concatenate([[0], self.noisy.astype(np.int8), [0]]))
        return np.stack([np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)], axis=1)

    def to_frame(self) -> pd.DataFrame:
        """One row per noisy stretch and lead: bounds (s) and the noise RMS added."""
        noise = self.noise[:, None] if self.noise.ndim == 1 else self.noise
        rows = [
            {
                "start_s": a / self.sampling_rate,
                "end_s": b / self.sampling_rate,
                "lead": lead,
                "noise_rms": segment_rms(noise[a:b, lead], self.sampling_rate),
            }
            for a, b in self.segments().tolist()
            for lead in range(noise.shape[1])
        ]
        return pd.DataFrame(rows, columns=["start_s", "end_s", "lead", "noise_rms"])


def ecg_add_noise(
    signal: ArrayLike,
    sampling_rate: float,
    *,
    snr_db: float,
    kind: str = "electrode_motion",
    peaks: ArrayLike | None = None,
    protocol: str | ArrayLike = "continuous",
    noise: ArrayLike | None = None,
    seed: int | np.random.Generator | None = None,
) -> NoisyECG:
    """Add noise to a clean ECG so that the noisy stretches have ``snr_db``.

    Each lead gets its own draw of the noise and its own gain, chosen so that
    :func:`medmodal.ecg.snr.ecg_snr` of that lead over the noisy samples is ``snr_db``
    exactly (the MIT-BIH Noise Stress Test Database's definition). As in
    ``nst``, each noisy stretch starts from the level the previous one ended at, so
    switching the noise on or off adds no step.

    Args:
        signal: the clean ECG, ``(n_samples,)`` or ``(n_samples, n_leads)``.
        sampling_rate: Hz.
        snr_db: signal-to-noise ratio in dB (finite; the NSTDB uses 24 down to -6).
        kind: noise kind (see the module docstring and :func:`available_kinds`);
            ignored when ``noise`` is given.
        peaks: R peaks of the clean signal, to measure the QRS size (``nst`` uses the
            reference normal beats); detected with :func:`medmodal.ecg.peaks.ecg_peaks`
            when None.
        protocol: ``"continuous"`` (noise everywhere), ``"nstdb"`` (clean for the first
            5 minutes, then 2-minute noisy and clean segments alternate, noisy first;
            see :func:`nstdb_segments`), or a boolean mask of ``n_samples``.
        noise: a recording of noise to add instead of a generated kind,
            ``(m,)`` or ``(m, n_leads)`` at the same sampling rate; it is repeated from
            its start if shorter than the signal, as ``nst`` does.
        seed: seed or generator for the generated noise.

    Returns:
        A :class:`NoisyECG`.

    Raises:
        InvalidParameterError / InvalidSignalError: bad signal, rate, SNR, kind,
            protocol, peaks or noise.

    Example:
        >>> from medmodal.ecg.simulate import ecg_simulate_annotated
        >>> sim = ecg_simulate_annotated(600, 250, n_leads=2, seed=3)
        >>> out = ecg_add_noise(sim.signal, 250, snr_db=0, kind="muscle",
        ...                     peaks=sim.r_peaks, protocol="nstdb", seed=4)
        >>> out.to_frame().shape, [round(s / 250) for s in out.segments()[0]]
        ((4, 4), [300, 420])
    """
    func = "ecg_add_noise"
    rate = check_sampling_rate(sampling_rate, func=func)
    checked = as_signal(signal, rate, func=func)
    data = checked.data
    n, n_leads = data.shape
    target = _check_snr(snr_db, func=func)
    mask = _protocol(protocol, n, rate, func=func)
    beats = _beats(data, rate, peaks, func=func)
    source, kind_name = _source(noise, kind, n, n_leads, rate, seed, func=func)
    added = np.zeros_like(data)
    amplitude, gain = np.zeros(n_leads), np.zeros(n_leads)
    bounds = _bounds(mask)
    for lead in range(n_leads):
        amplitude[lead] = qrs_amplitude(data[:, lead], rate, beats)
        if bounds.size == 0:
            continue
        inside = np.concatenate([source[a:b, lead] for a, b in bounds])
        size = segment_rms(inside, rate)
        if not size > 0:
            raise InvalidSignalError(f"{func}: the noise is constant where it would be added")
        gain[lead] = amplitude[lead] / (np.sqrt(8.0) * size) * 10.0 ** (-target / 20.0)
        added[:, lead] = _switched(gain[lead] * source[:, lead], bounds)
    with np.errstate(over="ignore", invalid="ignore"):
        total = data + added
    if not (np.isfinite(total).all() and np.isfinite(amplitude).all()):
        raise InvalidSignalError(
            f"{func}: the signal's amplitude (up to {float(np.max(np.abs(data))):.3g}) is too "
            "large to add noise without overflowing float64; rescale it (e.g. to mV)"
        )
    return NoisyECG(
        signal=checked.restore(total),
        noise=checked.restore(added),
        noisy=mask,
        kind=kind_name,
        snr_db=target,
        qrs_amplitude=amplitude,
        gain=gain,
        sampling_rate=rate,
    )


def noise_from_recording(
    signal: ArrayLike, sampling_rate: float, peaks: ArrayLike, *, neighbours: int = 9
) -> FloatArray:
    """The noise of a real recording: one lead minus a running template of its beats.

    Each beat (-250 to +450 ms around its R peak, edges tapered over 50 ms) gets the
    sample-wise median of the ``neighbours`` beats around it, baseline-aligned, as its
    template; what is left once every template is subtracted is the recording's noise
    (electrode motion, muscle, baseline) - plus whatever makes a beat differ from its
    neighbours (an ectopic beat, a changing T wave), so prefer stretches where the
    noise dominates. Beats too close to the edges keep their samples.

    Args:
        signal: one lead, ``(n_samples,)``.
        sampling_rate: Hz.
        peaks: its R peaks (reference beats where there are any).
        neighbours: beats in each running median (odd, >= 3).

    Returns:
        ``(n_samples,)`` float64, the residual noise.

    Example:
        >>> import numpy as np
        >>> from medmodal.ecg.simulate import ecg_simulate_annotated
        >>> sim = ecg_simulate_annotated(60, 250, seed=0)
        >>> wander = 0.3 * np.sin(2 * np.pi * 0.3 * np.arange(15000) / 250)
        >>> res = noise_from_recording(sim.signal + wander, 250, sim.r_peaks)
        >>> bool(np.corrcoef(res[500:-500], wander[500:-500])[0, 1] > 0.95)
        True
    """
    func = "noise_from_recording"
    rate = check_sampling_rate(sampling_rate, func=func)
    x = one_lead(signal, rate, func=func)
    beats = as_peaks(peaks, func=func, n_samples=x.size)
    if isinstance(neighbours, bool) or not isinstance(neighbours, int) or neighbours < 3:
        raise InvalidParameterError(f"{func}: neighbours must be an int >= 3, got {neighbours!r}")
    whole = beat_windows(x, beats, rate)[1].shape[0]
    if whole < neighbours:
        raise InvalidSignalError(
            f"{func}: {whole} complete beats; at least {neighbours} are needed"
        )
    return residual(x, beats, rate, neighbours=neighbours)


def _check_snr(snr_db: object, *, func: str) -> float:
    if isinstance(snr_db, bool) or not isinstance(snr_db, numbers.Real):
        raise InvalidParameterError(f"{func}: snr_db must be a number of dB, got {snr_db!r}")
    value = float(snr_db)
    if not np.isfinite(value):
        raise InvalidParameterError(f"{func}: snr_db must be finite, got {snr_db!r}")
    return value


def _protocol(protocol: str | ArrayLike, n: int, rate: float, *, func: str) -> BoolArray:
    if isinstance(protocol, str):
        name = protocol.lower().strip()
        if name == "continuous":
            return np.ones(n, dtype=bool)
        if name == "nstdb":
            return nstdb_segments(n, rate)
        raise InvalidParameterError(
            f"{func}: protocol must be 'continuous', 'nstdb' or a boolean mask, got {protocol!r}"
        )
    mask = np.asarray(protocol)
    if mask.dtype != np.bool_ or mask.shape != (n,):
        raise InvalidParameterError(
            f"{func}: a protocol mask must be boolean with shape ({n},), got dtype "
            f"{mask.dtype} and shape {mask.shape}"
        )
    return mask.copy()


def _beats(data: FloatArray, rate: float, peaks: ArrayLike | None, *, func: str) -> IntArray:
    if peaks is None:
        from medmodal.ecg.peaks import ecg_peaks

        beats = ecg_peaks(data, rate)
    else:
        beats = as_peaks(peaks, func=func, n_samples=data.shape[0])
    if beats.size == 0:
        raise InvalidSignalError(
            f"{func}: no R peaks, so the QRS size that sets the noise level is unknown"
        )
    return beats


def _source(
    noise: ArrayLike | None,
    kind: str,
    n: int,
    n_leads: int,
    rate: float,
    seed: int | np.random.Generator | None,
    *,
    func: str,
) -> tuple[FloatArray, str]:
    """``(n, n_leads)`` noise before scaling, and the kind's canonical name."""
    if noise is None:
        generator = NOISE_KINDS.get(kind)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        draws = [generator(n, rate, rng) for _ in range(n_leads)]
        return np.stack(draws, axis=1), NOISE_KINDS.resolve(kind)
    recorded = as_signal(noise, rate, func=func, min_seconds=0.0, allow_flat=True).data
    if recorded.shape[1] not in (1, n_leads):
        raise InvalidSignalError(
            f"{func}: noise has {recorded.shape[1]} leads, the signal {n_leads}; give one "
            "noise lead or one per signal lead"
        )
    repeats = -(-n // recorded.shape[0])
    tiled = np.tile(recorded, (repeats, 1))[:n]
    return np.broadcast_to(tiled, (n, n_leads)), "recorded"


def _bounds(mask: BoolArray) -> IntArray:
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.stack([np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)], axis=1)


def _switched(scaled: FloatArray, bounds: IntArray) -> FloatArray:
    """``scaled`` inside the stretches, offset so that switching adds no step (``nst``)."""
    out = np.zeros_like(scaled)
    level = 0.0
    previous_stop = 0
    for start, stop in bounds.tolist():
        out[previous_stop:start] = level
        out[start:stop] = scaled[start:stop] - scaled[start] + level
        level = float(out[stop - 1])
        previous_stop = stop
    out[previous_stop:] = level
    return out


if __doc__:  # the kind list comes from the registry, so it cannot drift
    __doc__ = __doc__.replace("{kinds}", NOISE_KINDS.describe())
