"""Seeding: one call seeds Python, NumPy and PyTorch; seeds derived per epoch and rank.

:func:`medmodal.train.fit` re-seeds at the start of every epoch with
``derive_seed(config.seed, epoch, rank)``, so the randomness of epoch ``e`` (data order,
dropout, augmentation) depends only on the seed and ``e``: a run resumed at epoch ``e``
draws exactly the numbers an uninterrupted run would.

Example:
    >>> import torch
    >>> from medmodal.train.seed import seed_everything
    >>> seed_everything(7)
    >>> a = torch.rand(3)
    >>> seed_everything(7)
    >>> bool(torch.equal(a, torch.rand(3)))
    True
"""

from __future__ import annotations

import random

import numpy as np
import torch

from medmodal.errors import InvalidParameterError


def seed_everything(seed: int, *, deterministic: bool | None = None) -> None:
    """Seed ``random``, NumPy's global generator and PyTorch (CPU and every GPU).

    Args:
        seed: a non-negative integer (reduced modulo 2**32 for NumPy).
        deterministic: when given, switch PyTorch's deterministic algorithms on or off
            on GPU (cuDNN autotuning off when on; ops without a deterministic kernel
            warn). On CPU the default kernels are already deterministic for a fixed
            thread count.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InvalidParameterError(
            f"seed_everything: seed must be a non-negative integer, got {seed!r}"
        )
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)  # noqa: NPY002 - third-party code reads the global one
    torch.manual_seed(int(seed))
    if deterministic is not None:
        if torch.cuda.is_available():  # CPU kernels are deterministic; this imports inductor
            torch.use_deterministic_algorithms(deterministic, warn_only=True)
        torch.backends.cudnn.deterministic = deterministic
        torch.backends.cudnn.benchmark = not deterministic


def derive_seed(seed: int, *keys: int) -> int:
    """A well-mixed 32-bit seed for ``(seed, *keys)``, e.g. ``derive_seed(seed, epoch, rank)``.

    Example:
        >>> derive_seed(0, 1) == derive_seed(0, 1) != derive_seed(0, 2)
        True
    """
    return int(np.random.SeedSequence([int(seed), *map(int, keys)]).generate_state(1)[0])
