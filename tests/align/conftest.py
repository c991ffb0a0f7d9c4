"""One torch thread per test process: the suite runs under xdist on a shared machine, where
spinning intra-op thread pools make small tensor ops orders of magnitude slower."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
