"""Torch helpers shared by every training layer: the thread guard, AdamW, best-epoch rule.

Both training loops (:class:`~medmodal.fusion.FusionClassifier`'s minibatch loop and
:func:`medmodal.train.fit`) and the explanations build on these, so they live once:

- :func:`num_threads`: ``torch.set_num_threads`` for the length of a ``with`` block;
- :class:`AdamW`: the update of ``torch.optim.AdamW`` (bit for bit on CPU) without
  ``torch.optim``'s import of ``torch._dynamo`` (seconds per process);
- :func:`is_improvement` and :func:`copy_weights`: which epoch is the best one, and a
  detached copy of its weights.

Example:
    >>> import torch
    >>> from medmodal._torch import AdamW, num_threads
    >>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.0)
    >>> with num_threads(1):
    ...     for _ in range(3):
    ...         opt.zero_grad()
    ...         (w**2).sum().backward()
    ...         opt.step()
    >>> [round(v, 2) for v in w.tolist()]
    [0.7, -1.7]
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol

import torch
from torch import Tensor, nn

from medmodal.errors import InvalidParameterError

#: Hyper-parameters a param group of :class:`AdamW` holds (the rest of a group is "params").
GROUP_KEYS = ("lr", "betas", "eps", "weight_decay")


class Stateful(Protocol):
    """What a checkpoint saves and restores: an optimiser or a learning-rate schedule."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state_dict: dict[str, Any]) -> None: ...


@contextlib.contextmanager
def num_threads(n: int | None) -> Iterator[None]:
    """Temporarily ``torch.set_num_threads(n)``; restores the previous count (``None``: no-op).

    Example:
        >>> import torch
        >>> from medmodal._torch import num_threads
        >>> before = torch.get_num_threads()
        >>> with num_threads(1):
        ...     torch.get_num_threads()
        1
        >>> torch.get_num_threads() == before
        True
    """
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class AdamW:
    """AdamW (decoupled weight decay, no amsgrad) with ``torch.optim.AdamW``'s arithmetic.

    The update runs on foreach kernels and gives the same weights, bit for bit, as
    ``torch.optim.AdamW`` on CPU (``tests/test_torch.py`` checks it); constructing a
    ``torch.optim`` optimiser imports ``torch._dynamo``, which costs seconds per process,
    so this small version keeps short fits, the CLI and the report quick. It takes
    parameters or param groups (dicts with ``"params"`` and any of :data:`GROUP_KEYS`),
    exposes ``param_groups`` (a schedule may set each group's ``"lr"``) and reads and
    writes ``torch.optim``'s ``state_dict`` layout, so checkpoints move between the two.

    Args:
        params: parameters, or param groups; parameters without ``requires_grad`` are
            skipped.
        lr: learning rate (default of every group).
        weight_decay: decoupled decay, multiplied by ``lr`` at each step.
        betas: decay rates of the first and second moment.
        eps: added to the denominator.

    Raises:
        InvalidParameterError: no trainable parameter, or a group with an unknown key.

    References:
        Loshchilov I, Hutter F. Decoupled weight decay regularization. ICLR (2019).
    """

    def __init__(
        self,
        params: Iterable[nn.Parameter] | Iterable[dict[str, Any]],
        *,
        lr: float,
        weight_decay: float = 1e-2,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay}
        items: list[Any] = list(params)
        groups = items if items and isinstance(items[0], dict) else [{"params": items}]
        self.param_groups: list[dict[str, Any]] = [_group(g, defaults) for g in groups]
        if not any(g["params"] for g in self.param_groups):
            raise InvalidParameterError("AdamW: no parameter with requires_grad=True to optimise")
        # per parameter: step count, first and second moment (created at its first step)
        self.state: dict[Tensor, dict[str, Any]] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (``set_to_none=False`` zeroes them in place)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        for group in self.param_groups:
            live = [p for p in group["params"] if p.grad is not None]
            if live:
                self._update(live, group)

    def _update(self, ps: list[Tensor], group: dict[str, Any]) -> None:
        lr, (b1, b2), eps, decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        states = [self._state(p) for p in ps]
        for s in states:  # bias corrections differ when a parameter skipped steps
            s["step"] += 1
        grads: list[Tensor] = [g for p in ps if (g := p.grad) is not None]
        ms, vs = [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states]
        torch._foreach_mul_(ps, 1 - lr * decay)
        torch._foreach_lerp_(ms, grads, 1 - b1)
        torch._foreach_mul_(vs, b2)
        torch._foreach_addcmul_(vs, grads, grads, value=1 - b2)
        steps = [s["step"] for s in states]
        denom = torch._foreach_sqrt(vs)
        torch._foreach_div_(denom, [math.sqrt(1 - b2**t) for t in steps])
        torch._foreach_add_(denom, eps)
        torch._foreach_addcdiv_(ps, ms, denom, [-(lr / (1 - b1**t)) for t in steps])

    def _state(self, p: Tensor) -> dict[str, Any]:
        if p not in self.state:
            zeros = torch.zeros_like(p, memory_format=torch.preserve_format)
            self.state[p] = {"step": 0, "exp_avg": zeros, "exp_avg_sq": zeros.clone()}
        return self.state[p]

    def state_dict(self) -> dict[str, Any]:
        """Moments and step counts by parameter index, and the groups (``torch.optim`` layout)."""
        index = {id(p): i for i, p in enumerate(self._params())}
        state = {
            index[id(p)]: {
                "step": torch.tensor(float(s["step"])),
                "exp_avg": s["exp_avg"],
                "exp_avg_sq": s["exp_avg_sq"],
            }
            for p, s in self.state.items()
        }
        groups, start = [], 0
        for g in self.param_groups:
            groups.append(
                {
                    **{k: g[k] for k in GROUP_KEYS},
                    "params": list(range(start, start + len(g["params"]))),
                }
            )
            start += len(g["params"])
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` (or ``torch.optim.AdamW.state_dict``) wrote.

        Raises:
            InvalidParameterError: the saved groups do not match these (number or sizes).
        """
        saved = list(state_dict["param_groups"])
        sizes = [len(g["params"]) for g in self.param_groups]
        if [len(g["params"]) for g in saved] != sizes:
            raise InvalidParameterError(
                f"AdamW.load_state_dict: saved param groups have sizes "
                f"{[len(g['params']) for g in saved]}, this optimiser's {sizes}"
            )
        for group, old in zip(self.param_groups, saved, strict=True):
            group.update({k: tuple(old[k]) if k == "betas" else old[k] for k in GROUP_KEYS})
        by_index = dict(zip((i for g in saved for i in g["params"]), self._params(), strict=True))
        self.state = {}
        for i, s in state_dict["state"].items():
            p = by_index[int(i)]
            self.state[p] = {
                "step": round(float(s["step"])),
                "exp_avg": s["exp_avg"].to(p.device, p.dtype).clone(),
                "exp_avg_sq": s["exp_avg_sq"].to(p.device, p.dtype).clone(),
            }

    def _params(self) -> list[Tensor]:
        return [p for g in self.param_groups for p in g["params"]]


def _group(group: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    unknown = set(group) - {"params", *GROUP_KEYS}
    if unknown:
        raise InvalidParameterError(
            f"AdamW: unknown param-group keys {sorted(unknown)}; allowed: params, "
            f"{', '.join(GROUP_KEYS)}"
        )
    params = [p for p in group["params"] if p.requires_grad]
    merged = {**defaults, **{k: v for k, v in group.items() if k != "params"}}
    merged["betas"] = tuple(merged["betas"])
    return {"params": params, **merged}


def is_improvement(
    value: float, best: float | None, *, mode: str = "min", min_delta: float = 0.0
) -> bool:
    """Whether a validation ``value`` beats ``best`` by more than ``min_delta``.

    Non-finite values never improve; the first finite value always does (``best=None``).

    Example:
        >>> from medmodal._torch import is_improvement
        >>> is_improvement(0.5, None), is_improvement(0.5, 0.50005, min_delta=1e-4)
        (True, False)
        >>> is_improvement(0.9, 0.8, mode="max"), is_improvement(float("nan"), None)
        (True, False)
    """
    if not math.isfinite(value):
        return False
    if best is None:
        return True
    if mode == "max":
        return value > best + min_delta
    return value < best - min_delta


def copy_weights(model: nn.Module) -> dict[str, Tensor]:
    """A detached CPU copy of ``model.state_dict()`` (to load back with ``load_state_dict``)."""
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
