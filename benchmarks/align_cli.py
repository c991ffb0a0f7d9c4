"""The alignment CLI end to end with its default settings, timed (issue 4, section 4).

Runs ``medmodal align train --data medpix --out RUN`` with every other option at its
default (the model too: the task's default, chosen on val), then ``medmodal align eval
--checkpoint RUN --split dev --json``, each as a subprocess, and records wall and CPU
time (the bar: training finishes in <= 20 minutes on 2 CPU cores), the settings the run
used (read back from its folder) and the dev results the eval command printed.

Usage::

    python benchmarks/align_cli.py [--data-root DIR] [--run-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _machine import describe, machine_info

RESULTS = Path(__file__).resolve().parent / "results"
NAME = "align_cli"
BAR_S = 20 * 60


def _run(cmd: list[str]) -> dict[str, Any]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return {"cmd": cmd, "wall_s": wall, "cpu_s": cpu, "stdout": proc.stdout}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-root", type=Path)
    p.add_argument("--run-dir", type=Path, help="keep the run here (default: a temp folder)")
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--render-only", action="store_true", help="rewrite the .md from the .json")
    args = p.parse_args(argv)
    if args.render_only:
        results = json.loads((args.out / f"{NAME}.json").read_text())
        (args.out / f"{NAME}.md").write_text(render(results))
        return results
    run_dir = args.run_dir or Path(tempfile.mkdtemp(prefix="medmodal-align-")) / "run"
    root = ["--data-root", str(args.data_root)] if args.data_root else []
    exe = [sys.executable, "-m", "medmodal"]
    info = machine_info(("torch",))
    train = _run(
        [*exe, "align", "train", "--data", "medpix", *root, "--out", str(run_dir), "--quiet"]
    )  # fmt: skip
    evaluation = _run(
        [*exe, "align", "eval", "--checkpoint", str(run_dir), "--data", "medpix", *root,
         "--split", "dev", "--json"]
    )  # fmt: skip
    payload = json.loads(evaluation.pop("stdout"))
    train.pop("stdout")
    results = {
        "machine": info,
        "settings": run_settings(run_dir),
        "train": train,
        "eval": evaluation,
        "dev": payload,
        "bar_met": train["wall_s"] <= BAR_S,
    }
    if args.run_dir is None:
        shutil.rmtree(run_dir.parent, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{NAME}.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    (args.out / f"{NAME}.md").write_text(render(results))
    print(render(results))
    return results


def run_settings(run_dir: Path) -> dict[str, Any]:
    """What the run trained, from its folder: align.json, train_config.json, the model."""
    run = json.loads((run_dir / "align.json").read_text())
    recipe = json.loads((run_dir / "train_config.json").read_text())
    model = json.loads((run_dir / "best" / "config.json").read_text())
    image = (model.get("model_config") or model).get("image") or {}
    return {
        **run,
        **{k: recipe.get(k) for k in ("epochs", "batch_size", "lr")},
        "image_kind": image.get("kind"),
        "image_size": image.get("image_size"),
        "image_lock": image.get("lock", 0),
    }


def _settings_line(s: dict[str, Any]) -> str:
    """The run's settings in words."""
    start = "ImageNet-pretrained" if s.get("pretrained") else "from scratch"
    lock = s.get("image_lock") or 0
    locked = f", {lock} image layers locked" if lock > 0 else ""
    return (
        f"model `{s['model']}` ({s.get('image_kind')} image tower {start}{locked}, "
        f"{s.get('image_size')} px), {s['epochs']} epochs, peak lr {s['lr']:g}, batch "
        f"{s['batch_size']}, 1 torch thread, seed {s['seed']}, {s['evaluation']} "
        "evaluation"
    )


def _label(dev: dict[str, Any]) -> str:
    """The accuracy rows' name: prompted classification unless the run was zero-shot."""
    return "zero-shot" if dev.get("evaluation") == "zero-shot" else "prompted"


def render(r: dict[str, Any]) -> str:
    t, e = r["train"], r["eval"]
    dev = r["dev"]
    zs = dev.get("zero_shot", {})
    retrieval = dev.get("metrics", {})
    out = t["cmd"][t["cmd"].index("--out") + 1]
    shown = " ".join(["python", *t["cmd"][1:]]).replace(out, "TMP/run")
    lines = [
        "# `medmodal align train` with its defaults, end to end",
        "",
        f"Produced by `benchmarks/align_cli.py`. Machine: {describe(r['machine'])}",
        "",
        f"- `{shown}`: "
        f"{t['wall_s'] / 60:.1f} min wall, {t['cpu_s'] / 60:.1f} min CPU (bar: <= 20 min on 2 "
        f"cores: **{'met' if r['bar_met'] else 'MISSED'}**).",
        f"- `python -m medmodal align eval --checkpoint TMP/run --data medpix --split dev "
        f"--json`: {e['wall_s']:.0f} s wall.",
        "",
        f"Every other option at its default: {_settings_line(r['settings'])}; "
        "patient-clean splits, epoch chosen on val. `benchmarks/align_medpix.py --compare` "
        "trains the same recipe with seeds 0-2.",
        "",
        f"Dev (the test split here) results the eval command printed (MedPix 2.0 dev, "
        f"{dev.get('n', '?')} images; evaluation: {dev.get('evaluation', '?')}):",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    for key in ("a_to_b_R@10", "b_to_a_R@10", "chance_R@10"):
        if key in retrieval:
            lines.append(f"| {key} | {float(retrieval[key]):.3f} |")
    for key, value in zs.items():
        lines.append(f"| {_label(dev)} {key} | {float(value):.3f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
