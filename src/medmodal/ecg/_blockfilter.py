"""Forward-backward IIR filtering as a few matrix products (block state-space form).

scipy's ``sosfilt`` runs the recursion one sample at a time; each sample waits for the
one before, so a 30-minute record takes milliseconds however few sections there are.
Cut into blocks of ``L`` samples, a linear filter is two matrix products per block - the
block's own response and the response to the state it starts in - and only the states
at the block starts need a recursion, ``L`` times shorter. In the filter's modal
coordinates (its eigenvectors) that recursion splits into first-order ones, one per
pole pair. Written out for the forward pass and the backward pass over the forward
output together, the zero-phase output of every block is

``Z = (Tb T) X + (Tb Cs) Sf + Cb Sb``

with ``X`` the block's input, ``Sf`` and ``Sb`` the forward and backward states at its
start (from the two short recursions), ``T`` the block's impulse-response (Toeplitz)
matrix, ``Cs`` the response to a start state and ``Tb``, ``Cb`` their time reverses. So
the forward output is never formed, and most of the work is one ``(n / L, L) x (L, L)``
matrix product. The result equals the sample-by-sample passes up to rounding (about
1e-12 of the signal's size: the states of a low-cut high-pass are larger than its
output); the caller keeps the sample-by-sample path where the filter's modes are badly
conditioned.

References:
    Burrus CS. Block realization of digital filters. IEEE Trans Audio Electroacoust
    20(4):230-235 (1972).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from medmodal.types import FloatArray

#: Samples per block (the matrix products cost about ``L`` multiply-adds per sample).
BLOCK = 32
#: Largest condition number of the filter's eigenvectors for which blocks are used.
MAX_CONDITION = 1e6


@dataclass(frozen=True)
class BlockPlan:
    """The matrices of one filter at one block length (see the module docstring).

    ``output`` maps a block's input and its forward and backward start states (in
    modal coordinates, real and imaginary parts side by side) to its zero-phase output;
    ``to_modes`` gives each block's drive of the forward modes and of the backward
    modes; ``back_from_forward`` adds the forward start states' share of the backward
    drive.
    """

    block: int
    poles: np.ndarray  # (n_modes,) complex: each mode's pole raised to the block length
    to_modes: FloatArray  # (L, 4 n_modes): forward drive re/im, backward drive re/im
    back_from_forward: FloatArray  # (2 n_modes, 2 n_modes)
    output: FloatArray  # (L + 4 n_modes, L): [main; from states], applied to rows
    to_modal: np.ndarray  # (n_modes, S) complex: modal coordinates of a state
    last_output: FloatArray  # (L + 2 n_modes,): forward output at a block's last sample


def _state_space(sos: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, float]:
    """``(A, B, C, D)`` of the cascade, with scipy's ``zi`` (flattened) as the state.

    Section by section in transposed direct form II, as scipy's kernel runs it:
    ``y = b0 u + z0``, ``z0' = b1 u - a1 y + z1``, ``z1' = b2 u - a2 y``.
    """
    n_states = 2 * sos.shape[0]
    a = np.zeros((n_states, n_states))
    b = np.zeros(n_states)
    c = np.zeros(n_states)
    d = 1.0
    for s, (b0, b1, b2, _, a1, a2) in enumerate(sos):
        z0, z1 = 2 * s, 2 * s + 1
        # The section's input is the previous output: u = c_prev . state + d_prev x.
        c_in, d_in = c.copy(), d
        c = b0 * c_in
        c[z0] += 1.0
        d = b0 * d_in
        a[z0] = b1 * c_in - a1 * c
        a[z0, z1] += 1.0
        a[z1] = b2 * c_in - a2 * c
        b[z0] = b1 * d_in - a1 * d
        b[z1] = b2 * d_in - a2 * d
    return a, b, c, d


@functools.lru_cache(maxsize=32)
def block_plan(sos_bytes: bytes, block: int = BLOCK) -> BlockPlan | None:
    """The :class:`BlockPlan` of the sections in ``sos_bytes``; None when unsuitable.

    Unsuitable: a pole on or outside the unit circle, or modes whose eigenvectors are
    too badly conditioned (``MAX_CONDITION``) for the result to match the recursion.
    """
    sos = np.frombuffer(sos_bytes, dtype=np.float64).reshape(-1, 6)
    a, b, c, d = _state_space(sos)
    eigenvalues, vectors = np.linalg.eig(a)
    if np.abs(eigenvalues).max(initial=0.0) >= 1.0 or np.linalg.cond(vectors) > MAX_CONDITION:
        return None
    modal = np.linalg.inv(vectors)
    # One mode per complex pair (the upper one, counted twice) and every real mode.
    real = np.abs(eigenvalues.imag) <= 1e-12 * np.maximum(np.abs(eigenvalues), 1e-300)
    keep = np.flatnonzero(real | (eigenvalues.imag > 0))
    weight = np.where(real[keep], 1.0, 2.0)
    n_states, size = a.shape[0], block
    powers = np.empty((size + 1, n_states, n_states))
    powers[0] = np.eye(n_states)
    for k in range(1, size + 1):
        powers[k] = a @ powers[k - 1]
    impulse = np.concatenate([[d], c @ powers[: size - 1] @ b])  # h[0 .. L-1]
    index = np.arange(size)
    lag = index[:, None] - index[None, :]
    toeplitz = np.where(lag >= 0, impulse[np.clip(lag, 0, None)], 0.0)  # T[i, j] = h[i-j]
    from_start = c @ powers[:size]  # (L, S): output at i from a start state
    to_end = np.stack([powers[size - 1 - j] @ b for j in range(size)], axis=1)  # (S, L)
    flip = index[::-1]
    t_back = toeplitz[flip][:, flip]  # J T J
    # State from modal coordinates (real, imaginary parts): s = P [re; im].
    rebuild = np.concatenate(
        [weight * vectors[:, keep].real, -weight * vectors[:, keep].imag], axis=1
    )
    drive_f = modal[keep] @ to_end  # (n_modes, L) complex
    drive_b = modal[keep] @ to_end[:, flip]  # G J
    forward_out = t_back @ toeplitz  # Tb T
    back_in = drive_b @ toeplitz  # Gb T
    back_from_f = drive_b @ from_start @ rebuild  # (n_modes, 2 n_modes)
    return BlockPlan(
        block=size,
        poles=eigenvalues[keep] ** size,
        to_modes=np.concatenate(
            [drive_f.real, drive_f.imag, back_in.real, back_in.imag], axis=0
        ).T.copy(),
        back_from_forward=np.concatenate([back_from_f.real, back_from_f.imag], axis=0).T.copy(),
        output=np.concatenate(
            [
                forward_out.T,
                (t_back @ from_start @ rebuild).T,
                (from_start[flip] @ rebuild).T,
            ],
            axis=0,
        ),
        to_modal=modal[keep],
        last_output=np.concatenate([toeplitz[-1], from_start[-1] @ rebuild]),
    )


def zero_phase_blocks(
    plan: BlockPlan,
    body: FloatArray,
    forward_start: FloatArray,
    back_state: FloatArray,
    kernel: object,
) -> None:
    """Replace ``body`` (a whole number of blocks) by its zero-phase output, in place.

    Args:
        plan: the filter's :class:`BlockPlan`.
        body: writable C-contiguous 1-D input, ``len(body) % plan.block == 0``; the
            backward pass starts at its last sample.
        forward_start: the forward state (scipy ``zi``, flattened) at ``body[0]``.
        back_state: the backward pass's start state per unit of the forward output
            at the last sample (scipy's ``sosfilt_zi``, flattened).
        kernel: scipy's in-place ``_sosfilt`` (runs the first-order recursions).
    """
    rows = body.reshape(-1, plan.block)  # (M, L), a view: written back chunk by chunk
    n_rows, n_modes = rows.shape[0], plan.poles.size
    # Everything per block is kept one quantity per row (contiguous over blocks).
    drives = plan.to_modes.T @ rows.T  # (4 n_modes, M)
    states = np.empty((4 * n_modes, n_rows))  # forward re, im; backward re, im
    forward, backward = states[: 2 * n_modes], states[2 * n_modes :]
    _run_modes(plan, drives[: 2 * n_modes], plan.to_modal @ forward_start, forward, kernel)
    back_drive = drives[2 * n_modes :]
    back_drive += plan.back_from_forward.T @ forward
    last = float(rows[-1] @ plan.last_output[: plan.block])
    last += float(forward[:, -1] @ plan.last_output[plan.block :])
    start = plan.to_modal @ (back_state * last)
    _run_modes(plan, back_drive[:, ::-1], start, backward[:, ::-1], kernel)
    # One product per chunk, [input | start states] @ output, written
    # over the input: no full-length temporary (fresh memory is dear on long records).
    size = plan.block
    inputs = np.empty((min(CHUNK, n_rows), size + states.shape[0]))
    for lo in range(0, n_rows, CHUNK):
        chunk = rows[lo : lo + CHUNK]
        part = inputs[: chunk.shape[0]]
        part[:, :size] = chunk
        part[:, size:] = states[:, lo : lo + CHUNK].T
        np.matmul(part, plan.output, out=chunk)


#: Blocks per chunk of the final products (a few hundred kB of temporaries).
CHUNK = 1024


def _run_modes(
    plan: BlockPlan, drives: FloatArray, start: np.ndarray, out: FloatArray, kernel: object
) -> None:
    """Modal start states of every block into the rows of ``out`` (re parts, then im).

    Mode ``m`` follows ``w[0] = start[m]``, ``w[k + 1] = pole w[k] + drive[k]`` with
    ``drive = drives[m] + 1j drives[n_modes + m]``.
    """
    n_modes = plan.poles.size
    w = np.empty((1, drives.shape[1]), dtype=np.complex128)
    for m in range(n_modes):
        w[0, 0] = start[m]
        w[0, 1:].real = drives[m, :-1]
        w[0, 1:].imag = drives[n_modes + m, :-1]
        if w.shape[1] > 1:
            pole = plan.poles[m]
            sos = np.array([[1.0, 0.0, 0.0, 1.0, -pole, 0.0]], dtype=np.complex128)
            state = np.array([[[pole * start[m], 0.0]]], dtype=np.complex128)
            kernel(sos, w[:, 1:], state)  # type: ignore[operator]
        out[m] = w[0].real
        out[n_modes + m] = w[0].imag
