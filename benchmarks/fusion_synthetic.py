"""Fusion strategies on synthetic multimodal data (issue 3, section 2): the notebook's table
over 5 seeds with CIs, an XOR setting late fusion provably cannot solve, missing modalities.

Settings (``make_multimodal_classification``):

- ``notebook``: the notebook's generator (clinical 5 + image 10 features, label = sign of
  c0 + 0.5 c1 + i0 + 0.7 i2), 1000 samples. Peers: the notebook's own models (scikit-learn
  LogisticRegression: clinical only, image only, early = concatenated features, late =
  average of the two posteriors) on the same folds.
- ``xor``: ``signal=0, interaction=1``: the label is sign(clinical[-1] * image[-1]), an
  XOR of one factor in each modality; 1200 samples.
- ``missing``: the notebook setting with each modality missing for 30 % of the samples
  (every sample keeps one), with and without modality dropout; the robustness table
  scores every model with each modality removed at test time.

Every method sees the same 3 folds per seed (3 folds, not 5; 5 seeds for ``notebook``, 3 for
``xor``, 1 for ``missing``; at most 60 epochs: to fit the run into the time available on a
2-core machine shared by several jobs); out-of-fold
predictions of the seeds are pooled and scored with a bootstrap 95 % CI; the spread over
seeds is reported too. Results are written after each setting.

Usage::

    python benchmarks/fusion_synthetic.py              # everything (tens of minutes)
    python benchmarks/fusion_synthetic.py --seeds 1 --settings notebook --n-boot 100
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _machine
from medmodal.data.synthetic import MultimodalDataset, make_multimodal_classification
from medmodal.fusion import run_comparison
from medmodal.fusion.compare import fold_splits
from medmodal.metrics.bootstrap import bootstrap_metrics
from medmodal.metrics.classification import METRICS, classification_metrics

RESULTS = Path(__file__).resolve().parent / "results"
COMMON = {
    "num_threads": 1,
    "batch_size": 256,
    "lr": 3e-3,
    "hidden": 32,
    "epochs": 60,
    "patience": 8,
}
SETTINGS: dict[str, dict[str, Any]] = {
    "notebook": {
        "data": {"n_samples": 1000},
        "methods": ["early", "late", "intermediate", "attention", "gated"],
        "missing": None,
        "peers": True,
        "cv": 3,
        "seeds": 5,
    },
    "xor": {
        "data": {"n_samples": 1200, "signal": 0.0, "interaction": 1.0},
        "methods": {
            "early": {"method": "early"},
            "late": {"method": "late"},
            "late (stacking)": {"method": "late", "combiner": "stacking"},
            "intermediate": {"method": "intermediate"},
            "attention": {"method": "attention"},
            "gated": {"method": "gated"},
        },
        "missing": None,
        "peers": True,
        "cv": 3,
        "seeds": 3,
    },
    "missing": {
        "data": {"n_samples": 1000, "missing_rate": 0.3},
        "methods": {
            "early": {"method": "early"},
            "late": {"method": "late"},
            "intermediate": {"method": "intermediate"},
            "intermediate + modality dropout": {"method": "intermediate", "modality_dropout": 0.3},
            "attention": {"method": "attention"},
            "attention + modality dropout": {"method": "attention", "modality_dropout": 0.3},
            "gated": {"method": "gated"},
        },
        "missing": "each",
        "peers": False,
        "cv": 3,
        "seeds": 1,
    },
}


def _notebook_peers(d: MultimodalDataset, folds: list) -> dict[str, np.ndarray]:
    """The notebook's LogisticRegression models, out of fold (missing rows: not supported)."""
    n = len(d.y)
    out = {k: np.full((n, 2), np.nan) for k in ("LR clinical", "LR image", "LR early", "LR late")}
    for train, test in folds:
        fits: dict[str, Callable[[dict[str, np.ndarray]], np.ndarray]] = {}
        for name in ("clinical", "image"):
            model = LogisticRegression(random_state=42, max_iter=1000)
            model.fit(d.X[name][train], d.y[train])
            fits[name] = model.predict_proba  # type: ignore[assignment]
            out[f"LR {name}"][test] = model.predict_proba(d.X[name][test])
        both = np.c_[d.X["clinical"], d.X["image"]]
        early = LogisticRegression(random_state=42, max_iter=1000).fit(both[train], d.y[train])
        out["LR early"][test] = early.predict_proba(both[test])
        out["LR late"][test] = (out["LR clinical"][test] + out["LR image"][test]) / 2
    return out


def run_setting(name: str, seeds: int, n_boot: int) -> dict[str, Any]:
    """Every method over ``seeds`` data sets; pooled CIs and per-seed spread."""
    spec = SETTINGS[name]
    pooled: dict[tuple[str, str], list[np.ndarray]] = {}
    ys: list[np.ndarray] = []
    per_seed: list[dict[str, Any]] = []
    times: dict[str, float] = {}
    for seed in range(seeds):
        d = make_multimodal_classification(seed=seed, **spec["data"])
        t0 = time.perf_counter()
        result = run_comparison(
            d.X, d.y, methods=spec["methods"], cv=spec["cv"], seed=seed, missing=spec["missing"],
            params=COMMON, n_boot=0, verbose=True,
        )  # fmt: skip
        times[f"seed {seed}"] = time.perf_counter() - t0
        preds = dict(result.predictions)
        if spec["peers"]:
            folds = fold_splits(d.y, spec["cv"], seed=seed)
            preds.update({(k, "all"): v for k, v in _notebook_peers(d, folds).items()})
        ys.append(d.y)
        for key, proba in preds.items():
            pooled.setdefault(key, []).append(proba)
            m = classification_metrics(d.y, proba)
            per_seed.append({"method": key[0], "condition": key[1], "seed": seed, **m})
        print(f"[{name}] seed {seed} done in {times[f'seed {seed}']:.0f} s", flush=True)
    y_all = np.concatenate(ys)
    rows = []
    spread = pd.DataFrame(per_seed).groupby(["method", "condition"], sort=False)
    for (method, cond), parts in pooled.items():
        ci = bootstrap_metrics(classification_metrics, y_all, np.concatenate(parts), n_boot=n_boot)
        sd = spread.get_group((method, cond))[list(METRICS)].std(ddof=1)
        row: dict[str, Any] = {"method": method, "condition": cond}
        for m in METRICS:
            row.update({m: ci.value[m], f"{m}_low": ci.low[m], f"{m}_high": ci.high[m]})
            row[f"{m}_seed_sd"] = float(sd[m]) if seeds > 1 else float("nan")
        rows.append(row)
    return {"setting": name, "data": spec["data"], "seeds": seeds, "cv": spec["cv"], "rows": rows,
            "per_seed": per_seed, "seconds": times}  # fmt: skip


EXPLANATION = """\
## Why late fusion cannot recover the interaction (setting `xor`)

In `xor` the label is `y = 1[a * b > 0]` with `a` the last clinical feature and `b` the last
image feature, independent standard normals: `y` is the XOR of `sign(a)` and `sign(b)`.

1. **Each modality alone carries no information.** Given the clinical features, `b` is
   still symmetric around 0, so `P(y = 1 | clinical) = P(b > 0) = 1/2` exactly, and the
   same holds for the image. The Bayes-optimal unimodal models are constant, so any late
   fusion of (even perfect) unimodal posteriors is constant too: AUROC 0.5.
2. **No additive combination can represent XOR anyway.** Late fusion outputs
   `g(f_c(clinical) + f_i(image))` for a monotone link `g` (averaging posteriors, learned
   weights and stacking are all of this form). Write `u± = f_c` at `a > 0 / a < 0` and
   `v± = f_i` at `b > 0 / b < 0`. Ranking the positives `(+,+), (-,-)` above the
   negatives `(+,-), (-,+)` needs `u+ + v+ > u+ + v-` (so `v+ > v-`) and
   `u- + v- > u- + v+` (so `v- > v+`): a contradiction. Stacking with a linear meta-model
   is still additive in the per-modality outputs, so it fails the same way.

Early fusion (an MLP on the concatenated features), intermediate fusion (a joint head on
both encodings), cross-attention and the gated unit all compute functions of both
modalities jointly and can represent the product `a * b`.
"""


def summary(results: list[dict[str, Any]]) -> list[str]:
    """Headline numbers (AUROC) per setting."""
    out = ["", "## Headline (pooled AUROC [95 % CI], all modalities at test time)", ""]
    for res in results:
        rows = [r for r in res["rows"] if r["condition"] == "all"]
        best = max(rows, key=lambda r: r["auroc"])
        parts = ", ".join(f"{r['method']} {_fmt(r, 'auroc')}" for r in rows)
        out.append(f"- `{res['setting']}`: best **{best['method']}**; {parts}.")
    return out


def _fmt(row: dict[str, Any], m: str) -> str:
    return f"{row[m]:.3f} [{row[m + '_low']:.3f}, {row[m + '_high']:.3f}]"


def markdown(results: list[dict[str, Any]], info: dict[str, Any]) -> str:
    """The results page."""
    lines = [
        "# Fusion strategies on synthetic multimodal data",
        "",
        "Generated by `benchmarks/fusion_synthetic.py` (issue 3, section 2).",
        "",
        f"**Machine:** {_machine.describe(info)}",
        "",
        "Figures: `fusion_synthetic_<setting>.png` (bars with 95 % CI whiskers; robustness "
        "bars for `missing`).",
        "",
        EXPLANATION,
        *summary(results),
    ]
    for res in results:
        lines += ["", f"## Setting `{res['setting']}`: {json.dumps(res['data'])}, "
                  f"{res['seeds']} seeds x {res['cv']}-fold CV", ""]  # fmt: skip
        lines.append(
            "Out-of-fold predictions of all seeds pooled; value [bootstrap 95 % CI]; "
            "± = standard deviation of the per-seed values."
        )
        lines.append("")
        shown = ("accuracy", "balanced_accuracy", "macro_f1", "auroc", "auprc", "brier", "ece")
        lines.append("| method | condition | " + " | ".join(shown) + " |")
        lines.append("|---|---|" + "---|" * len(shown))
        for row in res["rows"]:
            cells = [f"{_fmt(row, m)} ± {row[m + '_seed_sd']:.3f}" for m in shown]
            lines.append(f"| {row['method']} | {row['condition']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def figures(results: list[dict[str, Any]], out: Path) -> None:
    """Bars with CIs per setting; the robustness plot for settings run with missing=."""
    from medmodal.viz.fusion import plot_comparison, plot_robustness

    for res in results:
        table = pd.DataFrame(res["rows"])
        title = f"{res['setting']}: {res['seeds']} seeds x {res['cv']}-fold CV, pooled, 95 % CI"
        if res["setting"] == "missing":
            fig = plot_robustness(table, title=f"{title}; AUROC with a modality removed")
        else:
            fig = plot_comparison(
                table, metrics=("auroc", "balanced_accuracy", "brier"), title=title
            )
        fig.savefig(out / f"fusion_synthetic_{res['setting']}.png", dpi=110)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=None, help="override every setting's")
    parser.add_argument("--settings", default="xor,notebook,missing")
    parser.add_argument("--n-boot", type=int, default=300)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    info = _machine.machine_info(("torch", "scikit-learn", "medmodal"))
    started = time.perf_counter()
    results = []
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.settings.split(","):
        results.append(run_setting(name, args.seeds or SETTINGS[name]["seeds"], args.n_boot))
        info["total_seconds"] = time.perf_counter() - started
        info["load_average_at_end"] = _machine.load_average()
        (args.out / "fusion_synthetic.json").write_text(
            json.dumps({"machine": info, "results": results}, indent=1, default=float) + "\n"
        )
        (args.out / "fusion_synthetic.md").write_text(markdown(results, info))
        figures(results, args.out)
        print(f"wrote {args.out / 'fusion_synthetic.md'} ({name})", flush=True)


if __name__ == "__main__":
    main()
