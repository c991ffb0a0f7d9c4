from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file
from tests.train import ddp_worker
from torch import nn
from torch.utils.data import TensorDataset

from medmodal.train.distributed import (
    all_reduce_sum,
    broadcast_metrics,
    make_sampler,
    setup_distributed,
    unwrap_model,
    wrap_model,
)

ROOT = Path(__file__).resolve().parents[2]


def test_single_process_context_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(var, raising=False)
    ctx = setup_distributed("cpu")
    assert (ctx.world_size, ctx.rank, ctx.is_main, ctx.is_distributed) == (1, 0, True, False)
    net = nn.Linear(2, 2)
    assert wrap_model(net, ctx) is net and unwrap_model(net) is net
    values = torch.tensor([1.0, 2.0])
    assert all_reduce_sum(values, ctx) is values
    assert broadcast_metrics({"a": 1.0}, ctx) == {"a": 1.0}


def test_data_order_depends_only_on_seed_and_epoch() -> None:
    ctx = setup_distributed("cpu")
    data = TensorDataset(torch.arange(20))

    def order(seed: int, epoch: int) -> list[int]:
        sampler = make_sampler(data, ctx, shuffle=True, seed=seed)
        sampler.set_epoch(epoch)
        return list(sampler)

    assert order(0, 1) == order(0, 1) != order(0, 2)
    assert order(0, 1) != order(1, 1)
    assert sorted(order(0, 3)) == list(range(20))


def _weights(file: Path) -> dict[str, torch.Tensor]:
    return load_file(str(file))


@pytest.mark.slow
def test_two_process_ddp_matches_one_process_on_the_global_batch(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "OMP_NUM_THREADS": "1",
    }
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        str(ROOT / "tests" / "train" / "ddp_worker.py"), str(tmp_path),
    ]  # fmt: skip
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    torch.set_num_threads(1)
    batch = 2 * ddp_worker.PER_RANK_BATCH  # the global batch of the 2 processes
    for name, run in (("mse", ddp_worker.run_mse), ("clip", ddp_worker.run_clip)):
        rank0 = _weights(tmp_path / f"{name}_rank0.safetensors")
        rank1 = _weights(tmp_path / f"{name}_rank1.safetensors")
        assert all(torch.equal(rank0[k], rank1[k]) for k in rank0), f"{name}: ranks diverged"

        single, single_result = run(None, batch)
        for key, value in single.state_dict().items():
            torch.testing.assert_close(rank0[key], value, rtol=1e-5, atol=1e-6, msg=key)
        history = pd.read_csv(tmp_path / name / "metrics.csv")  # written by rank 0 only
        expected = single_result.history  # type: ignore[attr-defined]
        for column in ("train_loss", "val_loss"):
            assert history[column].to_numpy() == pytest.approx(expected[column], rel=1e-5)
        assert history["val_loss"].iloc[-1] < history["val_loss"].iloc[0]
        record = json.loads((tmp_path / name / "last" / "config.json").read_text())
        assert record["state"]["epoch"] == 3 and record["train_config"]["batch_size"] == 8
