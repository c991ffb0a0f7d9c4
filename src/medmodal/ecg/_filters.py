"""Zero-phase Butterworth filtering shared by the cleaners and the R-peak detectors.

:func:`zero_phase` is ``scipy.signal.sosfiltfilt`` (odd-extension padding, filter state
started at the edge values, forward then backward) written to touch each sample as few
times as possible: a 30-minute 360 Hz lead is read once for the optional detrend and
once to build the padded copy, which is then filtered in place. Long signals are
filtered block-wise as matrix products (:mod:`medmodal.ecg._blockfilter`: both passes
at once, the same output to about 1e-11 of the signal, about twice as fast as scipy's
sample-by-sample kernel); short ones by scipy's kernel. Filter designs and block plans
are cached, so repeated calls at one sampling rate design nothing.

Example:
    >>> import numpy as np
    >>> import scipy.signal
    >>> x = np.random.default_rng(0).normal(size=2000)
    >>> sos = butter_sos(0.5, 40.0, 250.0, 2)
    >>> ours = zero_phase(sos, x, pad=250)
    >>> bool(np.allclose(ours, scipy.signal.sosfiltfilt(sos, x, padlen=250)))
    True
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.signal

from medmodal.ecg._blockfilter import BLOCK, BlockPlan, block_plan, zero_phase_blocks
from medmodal.types import FloatArray

#: Highest band edge as a fraction of the sampling rate (kept below Nyquist).
MAX_EDGE = 0.45
#: Quality factor of the powerline notch (-3 dB width = f0 / Q, i.e. 1.7 Hz at 50 Hz).
NOTCH_Q = 30.0


def _frozen(array: FloatArray) -> FloatArray:
    array.setflags(write=False)
    return array


def butter_sos(
    low: float | None, high: float | None, sampling_rate: float, order: int
) -> FloatArray:
    """Butterworth band-, high- or low-pass as second-order sections (designs are cached).

    ``high`` is capped at 45 % of the sampling rate; a ``None`` edge leaves that side
    open (and an edge that crosses the other one is dropped); both open gives ``(0, 6)``.
    """
    return _butter_sos(low, high, float(sampling_rate), int(order)).copy()


@functools.lru_cache(maxsize=128)
def _butter_sos(
    low: float | None, high: float | None, sampling_rate: float, order: int
) -> FloatArray:
    if high is not None and high >= MAX_EDGE * sampling_rate:
        high = MAX_EDGE * sampling_rate
    if high is not None and low is not None and high <= low:
        high = None
    if low is not None and high is not None:
        sos = scipy.signal.butter(order, [low, high], "bandpass", fs=sampling_rate, output="sos")
    elif low is not None:
        sos = scipy.signal.butter(order, low, "highpass", fs=sampling_rate, output="sos")
    elif high is not None:
        sos = scipy.signal.butter(order, high, "lowpass", fs=sampling_rate, output="sos")
    else:
        sos = np.zeros((0, 6))
    return _frozen(np.asarray(sos, dtype=np.float64))


def notch_sos(powerline: float | None, sampling_rate: float) -> FloatArray:
    """IIR notch at ``powerline`` Hz as one section; ``(0, 6)`` when None or >= Nyquist."""
    return _notch_sos(powerline, float(sampling_rate)).copy()


@functools.lru_cache(maxsize=32)
def _notch_sos(powerline: float | None, sampling_rate: float) -> FloatArray:
    if powerline is None or powerline >= sampling_rate / 2.0:
        return _frozen(np.zeros((0, 6)))
    b, a = scipy.signal.iirnotch(powerline, NOTCH_Q, fs=sampling_rate)
    return _frozen(scipy.signal.tf2sos(b, a))


@functools.lru_cache(maxsize=128)
def _initial_state(sos_bytes: bytes, n_sections: int) -> FloatArray:
    sos = np.frombuffer(sos_bytes, dtype=np.float64).reshape(n_sections, 6)
    return _frozen(scipy.signal.sosfilt_zi(sos))


@functools.lru_cache(maxsize=4)
def _centred_ramp(n: int) -> FloatArray:
    ramp = np.arange(n, dtype=np.float64)
    ramp -= (n - 1) / 2.0
    return _frozen(ramp)


def zero_phase(sos: FloatArray, x: FloatArray, *, pad: int, detrend: bool = False) -> FloatArray:
    """Forward-backward ``sosfilt`` of the 1-D ``x`` (as ``scipy.signal.sosfiltfilt``).

    Args:
        sos: second-order sections (``(0, 6)``: no filtering).
        x: 1-D finite samples (not modified).
        pad: samples of odd-extension padding at each end (capped at ``len(x) - 1``);
            about one second lets slow high-pass edges settle before the first sample.
        detrend: first remove the least-squares line of ``x``.

    Returns:
        A new C-contiguous 1-D array the length of ``x`` (a view into the padded
        working buffer).
    """
    n = x.shape[0]
    pad = max(0, min(pad, n - 1))
    ext = np.empty((1, n + 2 * pad))  # 2-D: the layout of scipy's in-place filter
    sos = np.ascontiguousarray(sos, dtype=np.float64)
    _extend(x, ext[0], pad, detrend)
    if sos.shape[0] == 0:
        return ext[0, pad : pad + n].copy()
    plan = _block_plan(sos, ext.shape[1], pad)
    if plan is not None:
        _in_blocks(plan, sos, ext)
        return ext[0, pad : pad + n]
    zi = _initial_state(sos.tobytes(), sos.shape[0])
    # One buffer, reversed in place between the passes: on long records touching fresh
    # memory can cost more than the filtering itself.
    _filter_in_place(sos, ext, zi * ext[0, 0])
    _reverse_in_place(ext[0])
    _filter_in_place(sos, ext, zi * ext[0, 0])
    _reverse_in_place(ext[0])
    return ext[0, pad : pad + n]


#: Shortest padded signal (in blocks) filtered block-wise; shorter ones sample by sample.
MIN_BLOCKS = 64


def _block_plan(sos: FloatArray, n: int, pad: int) -> BlockPlan | None:
    """The block form of ``sos`` when it pays and applies to ``n`` padded samples."""
    if _SOSFILT_KERNEL is None or n < MIN_BLOCKS * BLOCK or pad < BLOCK:
        return None
    return block_plan(sos.tobytes())


def _in_blocks(plan: BlockPlan, sos: FloatArray, ext: FloatArray) -> None:
    """Zero-phase filtering of the ``(1, n)`` buffer ``ext`` in place, block-wise.

    The first ``n % BLOCK`` samples (inside the padding, never returned) only carry the
    forward pass into the first block; the backward pass starts at the last sample as
    usual. See :mod:`medmodal.ecg._blockfilter`.
    """
    zi = _initial_state(sos.tobytes(), sos.shape[0])
    head = ext.shape[1] % plan.block
    state = zi[None] * ext[0, 0]
    if head:
        _SOSFILT_KERNEL(sos, ext[:, :head].copy(), state)
    zero_phase_blocks(plan, ext[0, head:], state.ravel(), zi.ravel(), _SOSFILT_KERNEL)


def _extend(x: FloatArray, ext: FloatArray, pad: int, detrend: bool) -> None:
    """Write ``x`` (detrended if asked) into ``ext`` with ``pad`` odd-extension samples."""
    n = x.shape[0]
    mid = ext[pad : pad + n]
    if detrend and n > 1:
        ramp = _centred_ramp(n)
        # Least-squares line: slope = sum(t x) / sum(t^2) with sum(t^2) = n(n^2 - 1)/12.
        slope = float(np.dot(ramp, x)) / (n * (n * n - 1.0) / 12.0)
        np.multiply(ramp, -slope, out=mid)
        mid += x
        mid -= float(x.mean())
    else:
        mid[:] = x
    if pad:
        ext[:pad] = 2.0 * mid[0] - mid[pad:0:-1]
        ext[pad + n :] = 2.0 * mid[-1] - mid[n - 1 - pad : n - 1][::-1]


#: Samples swapped per step by :func:`_reverse_in_place`.
_REVERSE_BLOCK = 1 << 15


def _reverse_in_place(x: FloatArray) -> None:
    """Reverse the 1-D ``x`` in place, a block at a time (no full-length temporary)."""
    n = x.shape[0]
    for start in range(0, n // 2, _REVERSE_BLOCK):
        stop = min(start + _REVERSE_BLOCK, n // 2)
        head = x[start:stop].copy()
        x[start:stop] = x[n - stop : n - start][::-1]
        x[n - stop : n - start] = head[::-1]


def _filter_in_place(sos: FloatArray, x: FloatArray, zi: FloatArray) -> None:
    """Run ``sos`` over the C-contiguous ``(1, n)`` buffer ``x`` in place from state ``zi``.

    scipy's compiled kernel filters in place; its public ``sosfilt`` wraps it with two
    copies of the signal, which cost more than the filtering on long records. When the
    kernel is not importable (a future scipy), the public function is used.
    """
    if _SOSFILT_KERNEL is not None:
        _SOSFILT_KERNEL(sos, x, np.ascontiguousarray(zi[None]))
    else:  # pragma: no cover - depends on the scipy version
        x[0] = scipy.signal.sosfilt(sos, x[0], zi=zi)[0]


try:  # the compiled kernel behind scipy.signal.sosfilt (in place)
    from scipy.signal._sosfilt import _sosfilt as _SOSFILT_KERNEL  # noqa: N812
except ImportError:  # pragma: no cover - depends on the scipy version
    _SOSFILT_KERNEL = None  # type: ignore[assignment]
