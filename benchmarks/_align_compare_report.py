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


#: The settings a comparison run depends on, as the page names them.
SHOWN = ("seeds", "epochs", "lr", "batch_size", "threads", "pretrained_epochs", "pretrained_lr",
         "lock_image", "pretrained_image_size")  # fmt: skip


def _settings(settings: dict[str, str]) -> str:
    return ", ".join(f"--{k.replace('_', '-')} {settings[k]}" for k in SHOWN if k in settings)


def _mean_sd(values: list[Any], scale: float = 100.0) -> str:
    """``mean ± sd`` of the values present (percent by default)."""
    import statistics

    kept = [scale * float(v) for v in values if v is not None]
    if not kept:
        return "-"
    sd = statistics.stdev(kept) if len(kept) > 1 else float("nan")
    return f"{statistics.fmean(kept):.1f} ± {sd:.1f}"


def _towers(runs: list[dict[str, Any]]) -> list[str]:
    """One line per tower: model, pretrained or not, locking, image size, lr, epochs."""
    lines, seen = [], set()
    for run in runs:
        if run["tower"] in seen:
            continue
        seen.add(run["tower"])
        lock = run.get("lock_image")
        lines.append(
            f"- {run['tower']}: `{run['model']}`"
            + (" with ImageNet weights" if run.get("pretrained") else " from scratch")
            + (f", first {lock} of 18 layers locked" if lock else "")
            + f", {run.get('image_size', '?')} px, peak lr {run['lr']:g}, "
            f"{run.get('epochs', '?')} epochs, {run.get('params_trainable', '?')} trainable "
            "parameters"
        )
    return lines


def render(results: dict[str, Any]) -> str:
    s = results["settings"]
    quick = results.get("quick", False)
    lines = [
        "# MedPix 2.0: from-scratch vs pretrained image tower, prompted vs true zero-shot",
        "",
    ]
    if quick:
        lines += ["**smoke run — not a result** (`--quick`: 1 epoch on a few pairs).", ""]
    if results.get("note"):
        lines += [results["note"], ""]
    runs = results["runs"]
    wall_over_cpu = sum(r["train_wall_s"] / r["train_cpu_s"] for r in runs) / len(runs)
    lines += [
        f"Train wall time is {wall_over_cpu:.2f}x train CPU time on average over the runs "
        f"(1.00 for a run alone on a core); random R@10 on the {results['n']['test']} test "
        f"images: {100 * min(10, results['n']['test']) / results['n']['test']:.1f} %.",
        "",
    ]
    lines += [
        f"Produced by `benchmarks/align_medpix.py --compare` ({_settings(s)}). Machine: "
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
        "| tower | evaluation | "
        + " | ".join(label for _, label in METRICS)
        + " | val mean R@10 (chose the epoch) | best epoch | train wall (min) |",
        "|---|---|" + "---|" * (len(METRICS) + 3),
    ]
    for key, summary in results["summary"].items():
        tower, evaluation = key.split("/")
        group = [r for r in results["runs"]
                 if r["tower"] == tower and r["evaluation"] == evaluation]  # fmt: skip
        epochs = ", ".join(f"{r['best_epoch']}/{r.get('epochs', '?')}" for r in group)
        cells = " | ".join(_cell(summary, m) for m, _ in METRICS)
        lines.append(
            f"| {tower} | {evaluation} | {cells} | {_mean_sd([r.get('val_best') for r in group])} "
            f"| {epochs} | {_mean_sd([r['train_wall_s'] / 60 for r in group], scale=1)} |"
        )
    lines += ["", *_towers(results["runs"])]
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


def render_sweep(results: dict[str, Any]) -> str:
    """Markdown of ``align_medpix.py --sweep`` (val only)."""
    runs, best = results["runs"], results["chosen"]
    lines = [
        "# MedPix 2.0: the pretrained image tower's settings, chosen on val",
        "",
        *(["**smoke run — not a result** (`--quick`).", ""] if results.get("quick") else []),
        "Produced by `benchmarks/align_medpix.py --sweep`. EfficientNet-Lite0 with ImageNet "
        "weights (`medpix-clip-effnet`, pretrained), prompted classification, seed 0; trained "
        "on the patient-clean train split and scored on val only (the test split is not "
        f"scored here). Machine: {results['machine'].get('cpu', '?')}, load average at start "
        f"{results['machine'].get('load_average_1_5_15')}. Only the settings listed were "
        "tried; the chosen one (best val mean R@10) is what the comparison trains.",
        "",
        "| setting | trainable parameters | best val mean R@10 | best epoch "
        "| val mean R@10 by epoch | train wall (min) |",
        "|---|---|---|---|---|---|",
    ]
    for key, run in runs.items():
        curve = " ".join(f"{v:.3f}" for v in run["val_curve"])
        mark = " (chosen)" if key == best else ""
        lines.append(
            f"| {key}{mark} | {run.get('params_trainable', '-')} | {run['val_best']:.3f} | "
            f"{run['best_epoch']} | {curve} | {run['train_wall_s'] / 60:.1f} |"
        )
    return "\n".join(lines) + "\n"
