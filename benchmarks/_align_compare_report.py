"""Markdown of ``align_medpix.py --compare``: towers x evaluations, mean ± sd over seeds."""

from __future__ import annotations

from typing import Any

METRICS = (
    ("a_to_b_R@10", "i→t R@10"),
    ("b_to_a_R@10", "t→i R@10"),
    ("zs_modality", "modality"),
    ("zs_location_category", "body region"),
    ("zs_plane", "plane"),
)


def _cell(summary: dict[str, Any], key: str) -> str:
    s = summary.get(key)
    if not s:
        return "-"
    return f"{100 * s['mean']:.1f} ± {100 * s['sd']:.1f}"


def _seed_cell(run: dict[str, Any], key: str) -> str:
    d = run["test"]
    value = d.get(key)
    if value is None:
        return "-"
    low, high = d.get(f"{key}_low"), d.get(f"{key}_high")
    interval = f" [{100 * low:.1f}-{100 * high:.1f}]" if low is not None else ""
    return f"{100 * value:.1f}{interval}"


def render(results: dict[str, Any]) -> str:
    s = results["settings"]
    quick = results.get("quick", False)
    lines = [
        "# MedPix 2.0: from-scratch vs pretrained image tower, prompted vs true zero-shot",
        "",
    ]
    if quick:
        lines += ["**smoke run — not a result** (`--quick`: 1 epoch on a few pairs).", ""]
    lines += [
        f"Produced by `benchmarks/align_medpix.py --compare` (settings: {s}). Machine: "
        f"{results['machine'].get('cpu', '?')}, load average at start "
        f"{results['machine'].get('load_average_1_5_15')}.",
        "",
        "Splits are patient-clean (`benchmarks/results/medpix_duplicates.md`): each model is "
        "trained on train, its epoch chosen on val (best val mean R@10), and dev is scored "
        f"once as the test ({results['n']['test']} images; train {results['n']['train']}, "
        f"val {results['n']['val']}).",
        "",
        "- **prompted classification**: trained on the structured captions (header "
        '"CT, axial, head" + free text, same-header pairs as UniCL positives): the labels '
        "are training targets.",
        "- **true zero-shot**: trained on the free-text captions only (no header, plain CLIP "
        "loss), scored with plain-sentence prompts that are never a training text.",
        "",
        "## Test (dev) results, mean ± sd over seeds (%)",
        "",
        "| tower | evaluation | " + " | ".join(label for _, label in METRICS) + " | best epoch |",
        "|---|---|" + "---|" * (len(METRICS) + 1),
    ]
    for key, summary in results["summary"].items():
        tower, evaluation = key.split("/")
        epochs = ", ".join(str(r["best_epoch"]) for r in results["runs"]
                           if r["tower"] == tower and r["evaluation"] == evaluation)  # fmt: skip
        cells = " | ".join(_cell(summary, m) for m, _ in METRICS)
        lines.append(f"| {tower} | {evaluation} | {cells} | {epochs} |")
    lines += [
        "",
        "## Every run: test value [Wilson 95 % interval] (%)",
        "",
        "| tower | evaluation | seed | " + " | ".join(label for _, label in METRICS[2:]) + " | "
        "i→t R@10 | t→i R@10 | train CPU s |",
        "|---|---|---|" + "---|" * (len(METRICS) + 1),
    ]
    for run in results["runs"]:
        cells = " | ".join(_seed_cell(run, m) for m, _ in METRICS[2:])
        d = run["test"]
        lines.append(
            f"| {run['tower']} | {run['evaluation']} | {run['seed']} | {cells} | "
            f"{100 * d['a_to_b_R@10']:.1f} | {100 * d['b_to_a_R@10']:.1f} | "
            f"{run['train_cpu_s']:.0f} |"
        )
    lines += ["", "## Goals (issue 15, on the test split, mean over seeds)", ""]
    for goal, met in results["goals"].items():
        lines.append(f"- {'met' if met else 'MISSED'}: {goal}")
    lines.append("")
    return "\n".join(lines)
