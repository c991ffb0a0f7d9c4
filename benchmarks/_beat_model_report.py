"""Markdown page of ``benchmarks/train_beat_model.py`` (rendered from its JSON)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import _machine
from _tuning_log import kept_section, log_lines

GOALS = {"macro_f1_nsv": 0.87, "S_f1": 0.70, "V_f1": 0.94}
GOAL_NAMES = {"macro_f1_nsv": "macro-F1(N,S,V)", "S_f1": "S-F1", "V_f1": "V-F1"}
SETS = {
    "ds2": "DS2, reference beats, lead MLII",
    "ds2_without_202": "DS2 without record 202 (patient of 201 in DS1)",
    "ds2_detected": "DS2, our detected R peaks (ecg_peaks), MLII",
    "ds2_128hz": "DS2 resampled to 128 Hz, MLII",
    "ds2_second_lead": "DS2, the second lead (V1/V2/V4/V5) alone",
}
CLASSES = ("N", "S", "V", "F")
PUBLISHED = [
    ("Niu et al. 2020 (symbolic encoding + multi-perspective CNN)", "", "", "0.766", "", "",
     "0.897"),
    ("Mondéjar-Guerra et al. 2019 (SVM ensemble)", "78.0", "50.0", "(0.609)", "95.0", "93.0",
     "(0.940)"),
    ("Zhang et al. 2021 (subject-invariant CNN)", "78.8", "", "", "92.5", "", ""),
    ("this project, fusion: attention (fusion_mitbih.md; best of 7 runs, their mean "
     "macro-F1 0.711)", "57.0", "34.6", "0.431", "87.1", "90.7", "0.889"),
]  # fmt: skip


def _ms(s: dict[str, Any], key: str, pct: bool = False) -> str:
    k = 100.0 if pct else 1.0
    fmt = "{:.1f} ± {:.1f}" if pct else "{:.3f} ± {:.3f}"
    return fmt.format(k * s[key]["mean"], k * s[key]["sd"])


def _headline(res: dict[str, Any]) -> list[str]:
    head = "| test set | macro-F1 (N,S,V) | acc % | " + " | ".join(
        f"{c} Se | {c} +P | {c} F1" for c in CLASSES
    )
    lines = [head + " |", "| --- | ---: | ---: |" + " ---: |" * (3 * len(CLASSES))]
    for key, title in SETS.items():
        s = res["summary"].get(key)
        if s is None:
            continue
        cells = [f"**{_ms(s, 'macro_f1_nsv')}**", _ms(s, "accuracy", True)]
        for c in CLASSES:
            cells += [_ms(s, f"{c}_se", True), _ms(s, f"{c}_ppv", True), _ms(s, f"{c}_f1")]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return lines


def _per_seed(res: dict[str, Any], key: str) -> list[str]:
    lines = [
        "| seed | macro-F1 [95 % CI] | S-F1 [95 % CI] | V-F1 [95 % CI] | S Se / +P % | "
        "V Se / +P % | unknown beats |",
        "| ---: | --- | --- | --- | --- | --- | ---: |",
    ]
    for seed, r in zip(res["seeds"], res["runs"][key], strict=True):
        ci = r.get("ci95", {})

        def cell(value: float, name: str, ci: dict[str, Any] = ci) -> str:
            lo, hi = ci.get(name, [float("nan")] * 2)
            return f"{value:.3f} [{lo:.3f}, {hi:.3f}]"

        lines.append(
            f"| {seed}{' (shipped)' if seed == res['ship_seed'] else ''} "
            f"| {cell(r['macro_f1_nsv'], 'macro_f1_nsv')} | {cell(r['S']['f1'], 'S_f1')} "
            f"| {cell(r['V']['f1'], 'V_f1')} | {100 * r['S']['se']:.1f} / "
            f"{100 * r['S']['ppv']:.1f} | {100 * r['V']['se']:.1f} / {100 * r['V']['ppv']:.1f} "
            f"| {r['unknown']} |"
        )
    return lines


def _goals(res: dict[str, Any]) -> list[str]:
    s = res["summary"]["ds2"]
    out = []
    for key, bar in GOALS.items():
        mean = s[key]["mean"]
        verdict = "met" if mean >= bar else "MISSED"
        out.append(f"- {GOAL_NAMES[key]}: {mean:.3f} ± {s[key]['sd']:.3f} (bar >= {bar:.2f}): "
                   f"{verdict}")  # fmt: skip
    return out


def _grid(sel: dict[str, Any]) -> list[str]:
    """The self-training settings tried on the folds, with their CV scores."""
    if len(sel.get("self_training_grid", [])) < 2:
        return []
    lines = [
        "Self-training settings tried (pooled out-of-fold DS1 beats at the chosen epoch; "
        "offsets fitted per row on the same folds; weight 0 is the network alone, "
        "`aami-beats-v2`):",
        "",
        "| confidence | neighbours | weight | components | macro-F1 | S-F1 | V-F1 | "
        "macro-F1 without offsets |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for g in sel["self_training_grid"]:
        st, cv = g["settings"], g["cv"]
        mark = "**" if st == sel.get("self_training") else ""
        lines.append(
            f"| {st['confidence']} | {st['neighbours']} | {st['weight']} | {st['components']} "
            f"| {mark}{cv['macro_f1_nsv']:.3f}{mark} | {cv['S']['f1']:.3f} | {cv['V']['f1']:.3f} "
            f"| {g['cv_without_offsets']['macro_f1_nsv']:.3f} |"
        )
    return ["", *lines]


def _selection(res: dict[str, Any]) -> list[str]:
    sel = res["selection"]
    cv, plain = sel["cv"], sel["cv_without_offsets"]
    curve = ", ".join(f"{e}: {v:.3f}" for e, v in sorted(sel["curve"].items(), key=lambda x:
                                                         int(x[0])))  # fmt: skip
    return [
        f"Chosen on the pooled out-of-fold beats of DS1 (3 patient-grouped folds, "
        f"seed {res['ship_seed']}): **{sel['epochs']} epochs** (network alone), "
        f"self-training {json.dumps(sel['self_training']) if sel.get('self_training') else 'none'}"
        ", logit offsets "
        f"(N, S, V, F, Q) {sel['logit_offset']}.",
        "",
        f"- DS1 CV macro-F1 per epoch (no offsets): {curve}",
        f"- DS1 CV at the chosen epoch and self-training, without offsets: macro-F1 "
        f"{plain['macro_f1_nsv']:.3f}, "
        f"S-F1 {plain['S']['f1']:.3f}, V-F1 {plain['V']['f1']:.3f}",
        f"- with the chosen offsets (fitted on these same folds, so optimistic): macro-F1 "
        f"{cv['macro_f1_nsv']:.3f}, S-F1 {cv['S']['f1']:.3f}, V-F1 {cv['V']['f1']:.3f}",
        *_grid(sel),
    ]


def _extras(res: dict[str, Any]) -> list[str]:
    det = res["runs"].get("ds2_detected", [])
    if not det:
        return []
    r = det[0]
    called = ", ".join(f"{c} {n}" for c, n in r.get("extra_called", {}).items())
    return [
        f"On detected peaks, scored beats are the reference N/S/V/F beats our detector "
        f"found (within 150 ms; missed beats are not scored); the "
        f"{r.get('extra_detections', 0)} detections with no reference beat were called "
        f"(seed {res['seeds'][0]}): {called}.",
    ]


def render(res: dict[str, Any], log: str = "_(no tuning log yet)_") -> str:
    lines = [
        "# Beat model: the shipped AAMI classifier on MIT-BIH DS2",
        "",
        f"`medmodal.ecg.ecg_beat_classes` (model `{res['model']}`, an MLP evaluated in numpy"
        f"{', then per-record self-training' if res['selection'].get('self_training') else ''}"
        ") trained on DS1 only by `benchmarks/train_beat_model.py`; every choice made on "
        "patient-grouped folds of DS1; DS2 (22 other patients) scored once per seed. "
        "Se = sensitivity, +P = positive predictivity (%); macro-F1 over N, S, V; beats the "
        "model calls unknown count as misses; Q beats are not scored. Mean ± sd over seeds "
        f"{res['seeds']}; per-seed 95 % intervals from 1000 patient-bootstrap resamples.",
        "",
        *(
            ()
            if res.get("default", True)
            else (
                f"**`{res['model']}` is not the default model** (`ecg_beat_classes(..., model="
                f'"{res["model"]}")` only): see the tuning log.',
                "",
            )
        ),
        f"Machine: {_machine.describe(res['machine'])}",
        "",
        f"Recipe: {json.dumps(res['settings']['recipe'])}. Training beats (DS1, both "
        f"leads): {res['train_beats']}. Whole run: {res['seconds'] / 60:.1f} min.",
        "",
        "## Goals (5-seed mean on DS2)",
        "",
        *_goals(res),
        "",
        "## DS2 (test), mean ± sd over seeds",
        "",
        *_headline(res),
        "",
        *_extras(res),
        "",
        "## DS2 per seed (patient-bootstrap 95 % intervals)",
        "",
        *_per_seed(res, "ds2"),
        "",
        "Without record 202:",
        "",
        *_per_seed(res, "ds2_without_202"),
        "",
        "## Published and earlier results (inter-patient DS1 -> DS2)",
        "",
        "| method | S Se | S +P | S F1 | V Se | V +P | V F1 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *("| " + " | ".join(row) + " |" for row in PUBLISHED),
        "",
        "F1 in parentheses computed from the published Se and +P.",
        "",
        "## Selection inside DS1",
        "",
        *_selection(res),
        "",
        f"The shipped weights are seed {res['ship_seed']}, fixed before training (no score "
        "picked it); `python benchmarks/train_beat_model.py --seed 0 --ship --model "
        f"{res['model']}` rewrites them from the cached selection.",
        "",
        *log_lines(log),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "results" /
                "beat_model.json")  # fmt: skip
    md = path.with_suffix(".md")
    md.write_text(render(json.loads(path.read_text()), kept_section(md)))
