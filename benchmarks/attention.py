"""Cross-attention speed: SDPA-based module vs the notebook's formulation (issue 3, section 7).

Ours: :class:`medmodal.fusion.CrossAttentionFusion` (``F.scaled_dot_product_attention``
when ``need_weights=False``; explicit scores when weights are asked for). Peer: the
teaching notebook's ``CrossAttentionFusion`` (practice 5: ``matmul`` → ``softmax`` →
``matmul``), re-implemented here faithfully with our module's weights copied in.

Shape: B = 32, Lq = 64, Lkv = 2048, D = 128, 4 heads, float32, forward + backward
(gradients for both inputs and every parameter), CPU, one thread.

- Equality and time: one child process checks outputs and every gradient against the peer
  (max abs diff), then times the variants in interleaved repetitions (ours, ours with
  weights, notebook, ours, ...) and keeps the median of each.
- Peak memory: every variant in its own fresh child process; ``ru_maxrss`` from
  ``resource.getrusage`` after resetting the kernel's high-water mark
  (``/proc/self/clear_refs``), minus the RSS at that moment (inputs and weights exist).

Usage::

    python benchmarks/attention.py            # writes results/attention.md and .json
    python benchmarks/attention.py --reps 5
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _machine

RESULTS = Path(__file__).resolve().parent / "results"
B, LQ, LKV, DIM, HEADS = 32, 64, 2048, 128, 4
THREADS = 1
MIB = 2**20
VARIANTS = ("ours", "ours_weights", "notebook")
LABELS = {
    "ours": "ours, need_weights=False (SDPA)",
    "ours_weights": "ours, need_weights=True (explicit scores)",
    "notebook": "notebook (matmul-softmax-matmul)",
    "core_sdpa": "core only: F.scaled_dot_product_attention",
    "core_explicit": "core only: matmul-softmax-matmul",
}


def _build() -> tuple[Any, Any, Any, Any]:
    """Seeded inputs, our module and the notebook module with the same weights."""
    import torch
    import torch.nn.functional as F  # noqa: N812
    from torch import nn

    from medmodal.fusion import CrossAttentionFusion

    class NotebookCrossAttention(nn.Module):
        """The notebook's practice-5 module, verbatim in substance."""

        def __init__(self, dim: int = 128, num_heads: int = 4) -> None:
            super().__init__()
            self.num_heads, self.dim, self.head_dim = num_heads, dim, dim // num_heads
            self.query = nn.Linear(dim, dim)
            self.key = nn.Linear(dim, dim)
            self.value = nn.Linear(dim, dim)
            self.out = nn.Linear(dim, dim)
            self.scale = self.head_dim**-0.5

        def forward(self, query_input: Any, key_value_input: Any) -> tuple[Any, Any]:
            b, h, d = query_input.shape[0], self.num_heads, self.head_dim
            q = self.query(query_input).view(b, -1, h, d).transpose(1, 2)
            k = self.key(key_value_input).view(b, -1, h, d).transpose(1, 2)
            v = self.value(key_value_input).view(b, -1, h, d).transpose(1, 2)
            scores = torch.matmul(q, k.transpose(-2, -1)) * self.scale  # (B, H, Lq, Lkv)
            attention_weights = F.softmax(scores, dim=-1)
            attended = torch.matmul(attention_weights, v)  # (B, H, Lq, d)
            attended = attended.transpose(1, 2).contiguous().view(b, -1, self.dim)
            return self.out(attended), attention_weights

    torch.manual_seed(0)
    ours = CrossAttentionFusion(DIM, HEADS)
    peer = NotebookCrossAttention(DIM, HEADS)
    with torch.no_grad():
        for mine, theirs in (
            (ours.q_proj, peer.query),
            (ours.k_proj, peer.key),
            (ours.v_proj, peer.value),
            (ours.out_proj, peer.out),
        ):
            theirs.weight.copy_(mine.weight)
            theirs.bias.copy_(mine.bias)
    g = torch.Generator().manual_seed(1)
    q = torch.randn(B, LQ, DIM, generator=g).requires_grad_()
    kv = torch.randn(B, LKV, DIM, generator=g).requires_grad_()
    return ours, peer, q, kv


def _step(variant: str, ours: Any, peer: Any, q: Any, kv: Any, grad_out: Any) -> Any:
    """One forward + backward; returns the output (detached)."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    if variant.startswith("core_"):  # the attention core alone, on projected tensors
        qh, kh, vh = q, kv, kv
        if variant == "core_sdpa":
            out = F.scaled_dot_product_attention(qh, kh, vh)
        else:
            w = F.softmax(torch.matmul(qh, kh.transpose(-2, -1)) * qh.shape[-1] ** -0.5, -1)
            out = torch.matmul(w, vh)
    elif variant == "notebook":
        out = peer(q, kv)[0]
    else:
        out = ours(q, kv, need_weights=variant == "ours_weights").output
    out.backward(grad_out)
    return out.detach()


def _zero(*objs: Any) -> None:
    for obj in objs:
        for p in obj.parameters() if hasattr(obj, "parameters") else [obj]:
            p.grad = None


def _grads(module: Any, q: Any, kv: Any) -> list[Any]:
    return [q.grad.clone(), kv.grad.clone(), *(p.grad.clone() for p in module.parameters())]


def _split_heads(module: Any, x: Any) -> Any:
    """``(B, L, D)`` -> ``(B, H, L, d)``, as the module splits its projections into heads."""
    b, length, _ = x.shape
    return x.view(b, length, module.num_heads, module.head_dim).transpose(1, 2)


def child_time(reps: int) -> dict[str, Any]:
    """Equality check, then interleaved timing of every variant in this process."""
    import torch

    torch.set_num_threads(THREADS)
    ours, peer, q, kv = _build()
    grad_out = torch.randn(B, LQ, DIM, generator=torch.Generator().manual_seed(2))
    diffs: dict[str, dict[str, float]] = {}
    _zero(peer, q, kv)
    ref_out = _step("notebook", ours, peer, q, kv, grad_out)
    ref_grads = _grads(peer, q, kv)
    for variant in ("ours", "ours_weights"):
        _zero(ours, q, kv)
        out = _step(variant, ours, peer, q, kv, grad_out)
        grads = _grads(ours, q, kv)
        diffs[variant] = {
            "output": float((out - ref_out).abs().max()),
            "grad_query": float((grads[0] - ref_grads[0]).abs().max()),
            "grad_key_value": float((grads[1] - ref_grads[1]).abs().max()),
            "grad_params": max(
                float((a - b).abs().max()) for a, b in zip(grads[2:], ref_grads[2:], strict=True)
            ),
            "grad_params_relative": max(
                float((a - b).abs().max()) for a, b in zip(grads[2:], ref_grads[2:], strict=True)
            )
            / max(float(b.abs().max()) for b in ref_grads[2:]),
        }
    with torch.no_grad():  # projected (B, H, L, d) tensors for the core-only rows
        qh = _split_heads(ours, ours.q_proj(q)).contiguous()
        kh = _split_heads(ours, ours.k_proj(kv)).contiguous()
    qh.requires_grad_()
    kh.requires_grad_()
    core_grad = torch.randn(qh.shape, generator=torch.Generator().manual_seed(3))
    times: dict[str, list[float]] = {v: [] for v in (*VARIANTS, "core_sdpa", "core_explicit")}
    loads: list[float] = []
    for _ in range(reps + 1):  # the first round is a warm-up, not kept
        loads.append(os.getloadavg()[0])
        for variant in times:
            core = variant.startswith("core_")
            _zero(ours, peer, q, kv, qh, kh)
            start = time.perf_counter()
            if core:
                _step(variant, None, None, qh, kh, core_grad)
            else:
                _step(variant, ours, peer, q, kv, grad_out)
            times[variant].append(time.perf_counter() - start)
    return {
        "sdpa_kernels": _sdpa_kernels(ours),
        "max_abs_diff_vs_notebook": diffs,
        "times_s": {v: t[1:] for v, t in times.items()},
        "median_s": {v: statistics.median(t[1:]) for v, t in times.items()},
        "load_1min_per_round": loads,
    }


def _sdpa_kernels(ours: Any) -> dict[str, list[str]]:
    """The aten attention kernels our module dispatches to, without and with a padding mask."""
    import torch
    from torch.profiler import profile

    q, kv = torch.randn(2, 4, DIM), torch.randn(2, 16, DIM)
    pad = torch.zeros(2, 16, dtype=torch.bool)
    pad[1, 8:] = True
    found = {}
    for name, mask in (("no mask", None), ("key padding mask", pad)):
        with profile() as prof:
            ours(q, kv, key_padding_mask=mask).output.sum().backward()
        found[name] = sorted(
            {e.key for e in prof.key_averages() if "attention" in e.key and "aten::" in e.key}
        )
    return found


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child_memory(variant: str) -> dict[str, Any]:
    """Peak RSS above the baseline for one forward + backward of ``variant``."""
    import torch

    torch.set_num_threads(THREADS)
    ours, peer, q, kv = _build()
    grad_out = torch.randn(B, LQ, DIM)
    small_q, small_kv = q[:1].detach().requires_grad_(), kv[:1, :64].detach().requires_grad_()
    _step(variant, ours, peer, small_q, small_kv, grad_out[:1])  # load kernels, tiny sizes
    _zero(ours, peer, q, kv)
    gc.collect()
    baseline = _rss()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the high-water RSS to the current RSS (Linux >= 4.0)
        reset = True
    except OSError:
        reset = False
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    _step(variant, ours, peer, q, kv, grad_out)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return {
        "variant": variant,
        "baseline_rss_bytes": baseline,
        "peak_above_baseline_bytes": peak - (baseline if reset else max(baseline, before)),
        "hwm_reset": reset,
    }


def _run_child(args: list[str]) -> dict[str, Any]:
    env = {**os.environ, "OMP_NUM_THREADS": str(THREADS), "MKL_NUM_THREADS": str(THREADS)}
    proc = subprocess.run(
        [sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True, env=env, check=True
    )
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _held_mib() -> dict[str, float]:
    """Computed floor: the (B, H, Lq, Lkv) float32 tensors each path keeps for backward."""
    scores = B * HEADS * LQ * LKV * 4 / MIB
    return {
        "ours": 0.0,
        "ours_weights": 2 * scores,
        "notebook": 2 * scores,
    }


def render(payload: dict[str, Any]) -> str:
    """The Markdown report."""
    t, mem = payload["timing"], payload["memory"]
    med = t["median_s"]
    nb_t, nb_m = med["notebook"], mem["notebook"]["peak_above_baseline_bytes"]
    lines = [
        "# Cross-attention: SDPA module vs the notebook's matmul-softmax-matmul (CPU)",
        "",
        f"Machine: {_machine.describe(payload['machine'])}",
        f"Threads: torch.set_num_threads({THREADS}). 1-minute load average during the timing "
        f"rounds: {min(t['load_1min_per_round']):.2f}–{max(t['load_1min_per_round']):.2f} "
        "(the 2 cores are shared with other jobs: ratios mean more than seconds).",
        "",
        f"Shape: B = {B}, Lq = {LQ}, Lkv = {LKV}, D = {DIM}, {HEADS} heads (head dim "
        f"{DIM // HEADS}), float32; forward + backward with gradients for both inputs and all "
        "parameters; the same weights in both modules.",
        "",
        "## Bars (issue 3, section 7)",
        "",
    ]
    for variant in ("ours", "ours_weights"):
        d = t["max_abs_diff_vs_notebook"][variant]
        worst = max(d["output"], d["grad_query"], d["grad_key_value"])
        speed = nb_t / med[variant]
        m = mem[variant]["peak_above_baseline_bytes"]
        lines.append(
            f"- {LABELS[variant]}: max abs diff vs notebook (output / input grads "
            f"{worst:.1e}; output "
            f"{d['output']:.1e}, grads {d['grad_query']:.1e} / {d['grad_key_value']:.1e} / "
            f"{d['grad_params']:.1e} (relative {d['grad_params_relative']:.1e})); outputs "
            f"within 1e-5: **{'met' if d['output'] <= 1e-5 else 'missed'}**; "
            f"speed-up {speed:.2f}× (bar ≥ 2×: **{'met' if speed >= 2 else 'missed'}**); "
            f"peak memory {m / max(nb_m, 1):.2f} of the notebook's "
            + (
                f"(bar < 1: **{'met' if m < 0.95 * nb_m else 'missed'}**)."
                if variant == "ours"
                else "(the same score tensors are kept: no saving expected, not a bar row)."
            )
        )
    core = med["core_explicit"] / med["core_sdpa"]
    lines += [
        "",
        "## Results",
        "",
        "| variant | median fwd+bwd (s) | speed-up vs notebook | peak RSS above baseline "
        "| peak vs notebook | (B,H,Lq,Lkv) tensors kept (computed) |",
        "|---|---|---|---|---|---|",
    ]
    held = _held_mib()
    for variant in VARIANTS:
        m = mem[variant]["peak_above_baseline_bytes"]
        lines.append(
            f"| {LABELS[variant]} | {med[variant]:.3f} | {nb_t / med[variant]:.2f}× | "
            f"{m / MIB:.0f} MiB | {m / max(nb_m, 1):.2f} | {held[variant]:.0f} MiB |"
        )
    lines += [
        f"| {LABELS['core_sdpa']} | {med['core_sdpa']:.3f} | {core:.2f}× vs core explicit "
        "| — | — | — |",
        f"| {LABELS['core_explicit']} | {med['core_explicit']:.3f} | — | — | — | — |",
        "",
        "## Why the module-level speed-up is what it is",
        "",
        *(f"- {note}" for note in payload["notes"]),
        "",
        "## Method",
        "",
        f"- Time: one child process checks equality, then runs {payload['reps']} interleaved "
        "rounds (every variant once per round, after one warm-up round) and reports each "
        "variant's median. The core-only rows time SDPA against matmul-softmax-matmul on the "
        "same projected (B, H, L, d) tensors (K used as V), without the four projections.",
        "- Peak memory: each variant in its own fresh process. After building inputs and "
        "weights and one tiny warm-up call (loads kernels), the kernel's RSS high-water mark "
        "is reset by writing `5` to `/proc/self/clear_refs`; the peak is "
        "`resource.getrusage(RUSAGE_SELF).ru_maxrss` after one forward + backward minus the "
        "RSS at the reset. tracemalloc would miss tensor memory (PyTorch allocates outside "
        "Python's allocator). The computed column counts only the (B, H, Lq, Lkv) "
        "float32 tensors autograd keeps (scores and softmax output); SDPA's CPU flash "
        "kernel keeps only a (B, H, Lq) log-sum-exp.",
        "- Peer: the notebook's class (separate query/key/value/out `nn.Linear`, `matmul` "
        "× scale, `F.softmax`, `matmul`, `.contiguous().view`), with our weights copied in.",
        "",
    ]
    return "\n".join(lines)


def _notes(payload: dict[str, Any]) -> list[str]:
    med = payload["timing"]["median_s"]
    proj = med["notebook"] - med["core_explicit"]
    return [
        f"The attention core alone (SDPA's CPU flash kernel vs matmul-softmax-matmul) is "
        f"{med['core_explicit'] / med['core_sdpa']:.2f}× faster; the four projections "
        f"(about {proj:.2f} s of the notebook's {med['notebook']:.2f} s: the K and V "
        f"projections are ({B}·{LKV}) × {DIM} × {DIM} GEMMs, forward and backward) cost the "
        "same in both modules, so they bound the module-level speed-up (Amdahl).",
        "SDPA kernels our module dispatches to on this CPU (torch.profiler, float32, no "
        "dropout): "
        + "; ".join(
            f"{k}: {', '.join(v) or 'none'}" for k, v in payload["timing"]["sdpa_kernels"].items()
        )
        + ".",
        "need_weights=True computes the scores explicitly (the weights must exist), so it "
        "costs about as much as the notebook; use it only for inspection.",
        "Tried and not kept: the K and V projections as one GEMM of width 2D (`F.linear` "
        "on the concatenated weights, one pass over the Lkv keys). In an interleaved run of "
        "this script it took 1/1.02 of the time of the two separate GEMMs (0.788 s vs "
        "0.801 s), within run-to-run noise, so the module keeps its separate projections "
        "(simpler, the author's code).",
        "Run-to-run spread on this shared machine: the module-level speed-up of the fast "
        "path was 1.73×–1.97× over five runs of this script (load 0.3–5); never 2×.",
        "Gradients: absolute differences of the parameter gradients are larger than the "
        "output's because each sums over B·Lkv = 65536 rows in float32; the relative figure "
        "divides the largest difference by the largest parameter gradient (the key bias's "
        "gradient is zero in exact arithmetic, softmax ignores a shift common to all keys, "
        "so per-tensor relative errors would be meaningless there).",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child-time", type=int, metavar="REPS")
    parser.add_argument("--child-memory", choices=VARIANTS)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--render-only", action="store_true", help="rewrite the .md")
    args = parser.parse_args()
    if args.render_only:
        payload: dict[str, Any] = json.loads((RESULTS / "attention.json").read_text())
        payload["notes"] = _notes(payload)
        (RESULTS / "attention.json").write_text(json.dumps(payload, indent=2) + "\n")
        (RESULTS / "attention.md").write_text(render(payload))
        return
    if args.child_time:
        print(json.dumps(child_time(args.child_time)))
        return
    if args.child_memory:
        print(json.dumps(child_memory(args.child_memory)))
        return
    machine = _machine.machine_info(("torch",))
    timing = _run_child(["--child-time", str(args.reps)])
    memory = {v: _run_child(["--child-memory", v]) for v in VARIANTS}
    payload = {
        "benchmark": "attention",
        "shape": {"B": B, "Lq": LQ, "Lkv": LKV, "dim": DIM, "heads": HEADS},
        "threads": THREADS,
        "reps": args.reps,
        "machine": machine,
        "load_1min_after": os.getloadavg()[0],
        "timing": timing,
        "memory": memory,
    }
    payload["notes"] = _notes(payload)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "attention.json").write_text(json.dumps(payload, indent=2) + "\n")
    (RESULTS / "attention.md").write_text(render(payload))
    print(render(payload))


if __name__ == "__main__":
    main()
