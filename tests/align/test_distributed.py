"""gather_features: two gloo processes launched like torchrun compute the same loss and
gradients as one process on the concatenated batch."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from medmodal.align import clip_loss, gather_features, unicl_loss
from medmodal.align.distributed import gather_labels, is_distributed
from medmodal.errors import InvalidParameterError

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _dist_worker  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def ranks(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, np.ndarray]]:
    out = tmp_path_factory.mktemp("dist")
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
        "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
        str(HERE / "_dist_worker.py"), str(out),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(HERE.parents[1] / "src")}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [dict(np.load(out / f"rank{r}.npz", allow_pickle=False)) for r in range(2)]


def _single_process() -> dict[str, torch.Tensor]:
    x, y, _ = _dist_worker.batch()
    feats = F.normalize(x[:, :4], dim=-1).requires_grad_()
    t = torch.tensor(2.0, requires_grad=True)
    loss = clip_loss(feats, F.normalize(y[:, :4], dim=-1), t)
    loss.backward()
    out = {"feat_loss": loss.detach(), "feat_grad": feats.grad, "feat_t_grad": t.grad}
    tower_a, tower_b = _dist_worker.towers()
    ea, eb = F.normalize(tower_a(x), dim=-1), F.normalize(tower_b(y), dim=-1)
    loss = clip_loss(ea, eb, torch.tensor(2.6))
    loss.backward()
    return out | {"loss": loss.detach(), "a": tower_a.weight.grad, "b": tower_b.weight.grad}


def test_feature_gradients_match_single_process(ranks: list[dict[str, np.ndarray]]) -> None:
    ref = _single_process()
    rows = [slice(0, 5), slice(5, 9)]
    for rank, res in enumerate(ranks):
        np.testing.assert_allclose(res["feat_loss"], ref["feat_loss"].numpy(), rtol=1e-6)
        np.testing.assert_allclose(res["feat_t_grad"], ref["feat_t_grad"].numpy(), rtol=1e-5)
        # every rank's identical loss contributes: the local gradient is world_size x dL/dx
        expected = 2 * ref["feat_grad"][rows[rank]].numpy()
        np.testing.assert_allclose(res["feat_grad"], expected, rtol=1e-5, atol=1e-7)


def test_unicl_with_gathered_groups_matches_single_process(
    ranks: list[dict[str, np.ndarray]],
) -> None:
    x, y, _ = _dist_worker.batch()
    groups = _dist_worker._groups()
    feats = F.normalize(x[:, :4], dim=-1).requires_grad_()
    loss = unicl_loss(feats, F.normalize(y[:, :4], dim=-1), torch.tensor(2.0), groups)
    loss.backward()
    rows = [slice(0, 5), slice(5, 9)]
    for rank, res in enumerate(ranks):
        np.testing.assert_array_equal(res["unicl_groups"], groups.numpy())
        np.testing.assert_allclose(res["unicl_loss"], loss.detach().numpy(), rtol=1e-6)
        expected = 2 * feats.grad[rows[rank]].numpy()
        np.testing.assert_allclose(res["unicl_grad"], expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("mode", ["dense", "chunked"])
def test_ddp_gradients_equal_single_process(ranks: list[dict[str, np.ndarray]], mode: str) -> None:
    ref = _single_process()
    for res in ranks:
        assert int(res[f"{mode}_gathered_rows"]) == 9  # 5 + 4: unequal slices gathered
        np.testing.assert_allclose(res[f"{mode}_loss"], ref["loss"].numpy(), rtol=1e-6)
        for tower in ("a", "b"):
            np.testing.assert_allclose(
                res[f"{mode}_{tower}_weight_grad"], ref[tower].numpy(), rtol=1e-4, atol=1e-5
            )


def test_gather_is_identity_without_a_process_group() -> None:
    x = torch.randn(3, 2, requires_grad=True)
    assert not is_distributed()
    assert gather_features(x) is x


def test_gather_labels_is_identity_without_a_process_group_and_checks_input() -> None:
    y = torch.tensor([3, 1, 3])
    assert gather_labels(y) is y
    with pytest.raises(InvalidParameterError, match="gather_labels"):
        gather_labels(torch.zeros(3))
    with pytest.raises(InvalidParameterError, match="gather_labels"):
        gather_labels(torch.zeros(3, 1, dtype=torch.long))


def test_gather_rejects_bad_input() -> None:
    with pytest.raises(InvalidParameterError, match=r"gather_features: x has shape \(3,\)"):
        gather_features(torch.ones(3))
