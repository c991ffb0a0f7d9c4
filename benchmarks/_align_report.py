"""Markdown rendering of benchmarks/align_medpix.py results."""

from __future__ import annotations

from typing import Any


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def _retrieval_rows(label: str, s: dict[str, Any]) -> list[str]:
    r, zs = s["retrieval"], s["zero_shot"]
    ratio = s["R@10_ratio_to_random"]
    return [
        f"| {label} | {_pct(r['a_to_b_R@1'])} | {_pct(r['a_to_b_R@5'])} | "
        f"{_pct(r['a_to_b_R@10'])} ({ratio['signal_to_text']:.1f}×) | {_pct(r['b_to_a_R@1'])} | "
        f"{_pct(r['b_to_a_R@5'])} | {_pct(r['b_to_a_R@10'])} ({ratio['text_to_signal']:.1f}×) | "
        f"{r['a_to_b_median_rank']:.0f} / {r['b_to_a_median_rank']:.0f} | "
        + " | ".join(_pct(v) for v in zs.values())
        + " |"
    ]


def _medpix(m: dict[str, Any]) -> list[str]:
    first = m["untrained medpix-clip"]
    zs_names = list(first["zero_shot"])
    head = (
        "| model | i→t R@1 | i→t R@5 | i→t R@10 (× random) | t→i R@1 | t→i R@5 | "
        "t→i R@10 (× random) | median rank i→t / t→i | "
        + " | ".join(f"zero-shot {n}" for n in zs_names)
        + " |"
    )
    lines = [head, "|" + "---|" * (8 + len(zs_names))]
    lines += _retrieval_rows("untrained medpix-clip (chance reference)", first)
    for name, entry in m.items():
        if isinstance(entry, dict) and "dev" in entry:
            lines += _retrieval_rows(f"**{name}**", entry["dev"])
    chance = 10 / m["n_dev"]
    majority = first["zero_shot_majority"]
    lines += [
        "",
        f"Random R@10 = 10 / {m['n_dev']} = {_pct(chance)}; the bar is 4× that "
        f"= {_pct(4 * chance)}. Majority-class rates on dev: "
        + ", ".join(f"{k} {_pct(v)}" for k, v in majority.items())
        + ".",
        "",
        "Same-caption retrieval (several dev images of a case share one caption; a "
        "retrieved caption identical to the true one counts as correct):",
        "",
        "| model | i→t R@10 | t→i R@10 |",
        "|---|---|---|",
    ]
    for name, entry in m.items():
        if isinstance(entry, dict) and "dev" in entry:
            r = entry["dev"]["retrieval"]
            i2t, t2i = r["same_text_a_to_b_R@10"], r["same_text_b_to_a_R@10"]
            lines.append(f"| {name} | {_pct(i2t)} | {_pct(t2i)} |")
    probes = {n: e["dev"]["linear_probe"] for n, e in m.items()
              if isinstance(e, dict) and "linear_probe" in e.get("dev", {})}  # fmt: skip
    if probes:
        lines += [
            "",
            "What the image embeddings hold: zero-shot (prompts) beside a linear probe "
            "(logistic regression fit on the train images' embeddings, scored on dev), the "
            "ceiling any prompt could reach with these image features:",
            "",
            "| model | zero-shot modality | probe modality | zero-shot region | probe region |",
            "|---|---|---|---|---|",
        ]
        for name, probe in probes.items():
            zs = m[name]["dev"]["zero_shot"]
            lines.append(
                f"| {name} | {_pct(zs['modality'])} | {_pct(probe['modality'])} | "
                f"{_pct(zs['location_category'])} | {_pct(probe['location_category'])} |"
            )
    lines += ["", "Training (same settings for both):", ""]
    lines += [
        "| model | trainable parameters | CPU time (s) | wall time (s) |",
        "|---|---|---|---|",
    ]
    for name, entry in m.items():
        if isinstance(entry, dict) and "dev" in entry:
            lines.append(
                f"| {name} | {entry['params_trainable']:,} | {entry['train_cpu_s']:.0f} | "
                f"{entry['train_wall_s']:.0f} |"
            )
    lines += ["", "Per-epoch dev curve of medpix-clip (R@10 both ways, zero-shot):", ""]
    hist = m.get("medpix-clip", {}).get("history", [])
    if hist:
        cols = list(hist[0])
        lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for row in hist:
            lines.append(
                "| " + " | ".join(f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c])
                                  for c in cols) + " |"
            )  # fmt: skip
    return lines


def _ptbxl(p: dict[str, Any]) -> list[str]:
    lines = [
        "| texts | unique train texts / N | split | N | e→t R@10 (× random) | "
        "t→e R@10 (× random) | same-text e→t R@10 | zero-shot normal vs abnormal "
        "(majority) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for text in ("report", "statements"):
        if text not in p:
            continue
        e = p[text]
        for split in ("val", "test"):
            s = e[split]
            r, ratio = s["retrieval"], s["R@10_ratio_to_random"]
            lines.append(
                f"| {text} | {e['n_unique_train_texts']} / {e['n_train']} | {split} | {s['n']} | "
                f"{_pct(r['a_to_b_R@10'])} ({ratio['signal_to_text']:.1f}×) | "
                f"{_pct(r['b_to_a_R@10'])} ({ratio['text_to_signal']:.1f}×) | "
                f"{_pct(r['same_text_a_to_b_R@10'])} | {_pct(s['zero_shot']['normal'])} "
                f"({_pct(s['zero_shot_majority']['normal'])}) |"
            )
    probe = p.get("german_probe", {}).get("pairs", [])
    if probe:
        lines += [
            "",
            "How all-MiniLM-L6-v2 (English) sees German report phrases:",
            "",
            "| German | English | German word pieces | cos(German, English) | "
            "cos(German, 'a photo of a cat') |",
            "|---|---|---|---|---|",
        ]
        for row in probe:
            lines.append(
                f"| {row['german']} | {row['english']} | {' '.join(row['tokens_german'])} | "
                f"{row['cos_german_english']:.2f} | {row['cos_german_unrelated']:.2f} |"
            )
    return lines


def render(results: dict[str, Any]) -> str:
    m = results["medpix"]
    machine = results["machine"]
    bars = results.get("bars", {})
    lines = [
        "# Contrastive alignment on MedPix 2.0 and PTB-XL",
        "",
        "Produced by `benchmarks/align_medpix.py` (settings: "
        + ", ".join(f"{k}={v}" for k, v in results["settings"].items() if k in
                    ("epochs", "ecg_epochs", "batch_size", "lr", "seed", "threads",
                     "image_size"))
        + f"). Machine: {machine['cpu']}, {machine['usable_cores']} usable cores, load "
        f"average at start {machine['load_average_1_5_15']} (shared with other jobs: wall "
        "times are not comparable, CPU times are).",
        "",
        "## Bars (MedPix dev, medpix-clip)",
        "",
    ]  # fmt: skip
    lines += [f"- {'met' if ok else 'MISSED'}: {name}" for name, ok in bars.items()]
    lines += [
        "",
        f"## MedPix 2.0: train ({m['n_train']} images) → dev ({m['n_dev']} images), "
        f"{m['image_size']} px, final epoch",
        "",
    ]
    lines += _medpix(m)
    if "ptbxl" in results:
        lines += ["", "## PTB-XL: ECG ↔ text (train folds 1-8, val fold 9, test fold 10)", ""]
        lines += _ptbxl(results["ptbxl"])
    lines += ["", "## Notes", ""]
    lines += [
        '- Texts are the captions led by their structured fields ("CT, axial, head (brain '
        'and neuro): <caption>"); zero-shot prompts are built from the same header '
        '("CT, axial, head", "a CT image of the head"), ensembled over planes and '
        "regions. Final epoch reported; dev was not used to pick an epoch.",
        "- Training texts: half the steps replace "
        "a caption by a shorter view of it, the header alone or the header and one "
        "sentence (ConVIRT's sentence sampling), and pairs whose headers are equal are "
        "positives of each other (UniCL multi-positive loss). The header fields are in "
        "every training text, so the zero-shot tasks ask about fields the model saw "
        "written in its captions: prompt-based classification, not transfer to unseen "
        "classes.",
        "- The training recipe (epochs, image size, text views, UniCL) was chosen after "
        "exploratory runs scored on this same dev split (listed in STATUS.md); the shared "
        "copy has no test split, so these dev numbers are somewhat optimistic.",
        "- Several dev images of one case share a caption; strict retrieval counts a tie "
        "with an identical caption against the model, the same-caption table does not.",
        "- The CPU time of the first MedPix model includes encoding every caption once with "
        "MiniLM (the frozen features are cached and shared by the second model).",
        "- The notebook's MLP towers are trained the same way and shown beside ours: with a "
        "frozen text encoder both learn the coarse modality/region/plane structure that "
        "dominates retrieval among 197 images; compare them row by row above.",
        "- Zero-shot accuracy sits just under the linear probe: the prompts use nearly all "
        "that the image embeddings hold, and the image tower (trained from scratch on "
        "1,653 images; no pretrained medical image weights are available offline) is what "
        "limits both.",
    ]
    if "ptbxl" not in results:
        lines += ["- PTB-XL: not measured in this run (see the issue's report)."]
    else:
        lines += [
            "- PTB-XL reports are mostly German (some English and Swedish) and highly "
            "templated (few unique texts per record). all-MiniLM-L6-v2 is an English model: it "
            "breaks German clinical words into English-vocabulary word pieces "
            "(`links ##schen ##kel ##block`), and a German phrase lands near its English "
            "translation only where the two share pieces (sinus rhythm / normal: high cosine; "
            "bundle branch block, infarction, hypertrophy: low). The frozen text features of "
            "German reports therefore carry little of their clinical meaning, English prompts "
            "do not transfer to them, and the model learns mostly which template goes with "
            "which ECG. English texts built from the SCP statements are more consistent "
            "(higher same-text retrieval) at the cost of being labels rather than reports. "
            "With 353 training records and 66-81 test/val records these numbers are noisy.",
        ]
    if "ptbxl_settings" in results and results["ptbxl_settings"] != results["settings"]:
        lines += [
            "- The PTB-XL part was not rerun here (`--reuse-ecg`): it comes from an earlier run "
            "of this script (its settings: ecg_epochs="
            f"{results['ptbxl_settings'].get('ecg_epochs')}, threads="
            f"{results['ptbxl_settings'].get('threads')}).",
        ]
    lines += ["", f"Total wall time: {results.get('total_wall_s', 0):.0f} s.", ""]
    return "\n".join(lines)
