"""Worker of test_distributed.py, launched by ``python -m torch.distributed.run``.

Each rank embeds its own, unequal slice of a seeded global batch with DDP-wrapped linear
towers, gathers the embeddings with ``gather_features`` and computes the CLIP loss (dense
and chunked) on the gathered batch; it writes the loss, the gradients of its local
features and the towers' gradients to ``<out>/rank<r>.npz``.
"""

from __future__ import annotations

import os
import sys


def batch() -> tuple[object, object, list[int]]:
    """The global batch (shared with the test): 9 pairs split 5 + 4 over two ranks."""
    import torch

    g = torch.Generator().manual_seed(20261130)
    return torch.randn(9, 6, generator=g), torch.randn(9, 5, generator=g), [5, 4]


def _groups() -> object:
    import torch

    return torch.tensor([0, 1, 0, 2, 1, 0, 3, 3, 1])


def towers() -> tuple[object, object]:
    import torch

    torch.manual_seed(7)
    return torch.nn.Linear(6, 4), torch.nn.Linear(5, 4)


def main(out: str) -> None:
    import numpy as np
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F  # noqa: N812
    from torch.nn.parallel import DistributedDataParallel as DDP  # noqa: N817

    from medmodal.align import clip_loss, gather_features, unicl_loss
    from medmodal.align.distributed import gather_labels

    torch.set_num_threads(1)
    all_groups = _groups()
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    x, y, sizes = batch()
    start = sum(sizes[:rank])
    local = slice(start, start + sizes[rank])
    results: dict[str, np.ndarray] = {}

    # 1. features: gradient of the local rows through the gather
    feats = F.normalize(x[local, :4], dim=-1).requires_grad_()
    others = F.normalize(y[local, :4], dim=-1)
    t = torch.tensor(2.0, requires_grad=True)
    loss = clip_loss(gather_features(feats), gather_features(others), t)
    loss.backward()
    results |= {"feat_loss": loss.detach().numpy(), "feat_grad": feats.grad.numpy()}
    results["feat_t_grad"] = t.grad.numpy()

    # 1b. UniCL with per-pair groups gathered beside the features
    feats = F.normalize(x[local, :4], dim=-1).requires_grad_()
    groups = gather_labels(all_groups[local])
    loss = unicl_loss(gather_features(feats), gather_features(others), torch.tensor(2.0), groups)
    loss.backward()
    results |= {"unicl_loss": loss.detach().numpy(), "unicl_grad": feats.grad.numpy()}
    results["unicl_groups"] = groups.numpy()

    # 2. DDP towers, dense and chunked loss
    for name, chunk in (("dense", None), ("chunked", 3)):
        tower_a, tower_b = towers()
        ddp_a, ddp_b = DDP(tower_a), DDP(tower_b)
        ea = gather_features(F.normalize(ddp_a(x[local]), dim=-1))
        eb = gather_features(F.normalize(ddp_b(y[local]), dim=-1))
        loss = clip_loss(ea, eb, torch.tensor(2.6), chunk_size=chunk)
        loss.backward()
        results[f"{name}_loss"] = loss.detach().numpy()
        results[f"{name}_gathered_rows"] = np.array(ea.shape[0])
        for tname, tower in (("a", tower_a), ("b", tower_b)):
            results[f"{name}_{tname}_weight_grad"] = tower.weight.grad.numpy()
    np.savez(os.path.join(out, f"rank{rank}.npz"), **results)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
