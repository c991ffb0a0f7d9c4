"""Tiny models and data sets for the training tests (each run takes well under a second)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from medmodal.train import TrainConfig


@dataclass
class TinyConfig:
    """Config of :class:`TinyNet`, shaped like medmodal.models configs."""

    dim_in: int = 4
    hidden: int = 8
    dropout: float = 0.2

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TinyNet(nn.Module):
    """A two-layer regressor with dropout (so resumed runs must restore the RNG too)."""

    def __init__(self, config: TinyConfig | None = None) -> None:
        super().__init__()
        self.config = config or TinyConfig()
        c = self.config
        self.body = nn.Sequential(
            nn.Linear(c.dim_in, c.hidden), nn.ReLU(), nn.Dropout(c.dropout), nn.Linear(c.hidden, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).squeeze(-1)  # (B,)


def build_tiny(config: dict[str, Any]) -> TinyNet:
    return TinyNet(TinyConfig(**config))


def make_tiny(seed: int = 0, **overrides: Any) -> TinyNet:
    torch.manual_seed(seed)
    return TinyNet(TinyConfig(**overrides))


def mse_loss(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    x, y = batch
    return ((model(x) - y) ** 2).mean()


def regression_data(n: int, seed: int = 1, dim: int = 4) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, dim, generator=g)
    w = torch.arange(1.0, dim + 1) / dim
    y = torch.tanh(x @ w) + 0.05 * torch.randn(n, generator=g)
    return TensorDataset(x, y)


@pytest.fixture(scope="module")
def train_data() -> TensorDataset:
    return regression_data(96, seed=1)


@pytest.fixture(scope="module")
def val_data() -> TensorDataset:
    return regression_data(48, seed=2)


@pytest.fixture
def quick_config() -> TrainConfig:
    return TrainConfig(epochs=4, batch_size=16, lr=0.02, warmup_ratio=0.1, progress=False)


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """Tiny models run fastest on one thread (and do not fight the other test workers)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
