"""The seeds step of ``benchmarks/fusion_mitbih.py``: every model of the main table refit
with several seeds, its DS2 scores as the mean ± sd over the seeds, patient-bootstrap 95 %
intervals of that mean, with and without record 202 (the patient of DS1's 201), and the
Markdown section that shows them.

The interval of a seed mean comes from one set of resamples of DS2's patients (whole
records drawn with replacement) applied to every seed's predictions at once: each
resample's statistic is the mean over the seeds of the metric on that resample, so the
interval is about patients, the spread over seeds is the ``sd``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

import _machine
from medmodal.metrics.bootstrap import bootstrap_counts, contain_estimate
from medmodal.metrics.classification import confusion_scores

CLASSES = ("N", "S", "V", "F")
SCORED = ("N", "S", "V")
#: Metrics of the headline, in the order of the page's columns.
METRICS = (
    "accuracy",
    *(f"{c}_{m}" for c in SCORED for m in ("se", "ppv", "f1")),
    "macro_f1_nsv",
)
#: DS2 without this record: the same patient as DS1's 201.
SAME_PATIENT = "202"


def _codes(labels: np.ndarray) -> np.ndarray:
    """Class index per label (``len(CLASSES)`` for anything else, e.g. Q)."""
    out = np.full(len(labels), len(CLASSES), dtype=np.int64)
    for k, c in enumerate(CLASSES):
        out[labels == c] = k
    return out


def _metrics(cm: np.ndarray) -> dict[str, np.ndarray]:
    """The headline metrics of ``(..., K, K)`` confusion matrices (rows true class; the
    last row/column: any other class)."""
    out = confusion_scores(cm, CLASSES, scored=SCORED)
    out["macro_f1_nsv"] = out.pop("macro_f1")
    return out


def _record_confusions(y: np.ndarray, pred: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``(records, K, K)`` confusion counts of one seed's predictions, per record."""
    k = len(CLASSES) + 1
    cell = codes * k * k + _codes(y) * k + _codes(pred)
    n_rec = int(codes.max()) + 1
    return np.bincount(cell, minlength=n_rec * k * k).reshape(n_rec, k, k).astype(float)


def seed_summary(
    y: np.ndarray, preds: np.ndarray, records: np.ndarray, n_boot: int
) -> dict[str, Any]:
    """Mean, sd and the patient-bootstrap interval of the seed mean, per metric.

    A resample draws DS2's records with replacement
    (:func:`medmodal.metrics.bootstrap.bootstrap_counts` over records, seed 0); its
    confusion matrix per seed is the sum of the drawn records' matrices, so every seed is
    scored on the same resamples.

    Args:
        y: ``(n,)`` reference classes.
        preds: ``(n, seeds)`` predicted classes, one column per seed.
        records: ``(n,)`` record of each beat (the resampled unit).
        n_boot: resamples.
    """
    _, codes = np.unique(records, return_inverse=True)
    per_record = np.stack([_record_confusions(y, p, codes) for p in preds.T])  # (S, R, K, K)
    singles = _metrics(per_record.sum(axis=1))  # metric -> (S,)
    draws = np.concatenate(
        list(bootstrap_counts(per_record.shape[1], n_boot, seed=0))
    )  # (B, R): how often each record is drawn
    boot = _metrics(np.einsum("br,srij->bsij", draws, per_record))  # metric -> (B, S)
    value = {m: float(np.mean(singles[m])) for m in METRICS}
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean_draws = np.stack([np.nanmean(boot[m], axis=1) for m in METRICS], axis=1)
        lo, hi = np.nanquantile(mean_draws, [0.025, 0.975], axis=0)
    low, high, _ = contain_estimate(value, lo, hi)
    out: dict[str, Any] = {}
    for m in METRICS:
        vals = np.asarray(singles[m], dtype=float)
        out[m] = {
            "mean": value[m],
            "sd": float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
            "ci": [low[m], high[m]],
            "values": vals.tolist(),
        }
    return out


def headline(y: np.ndarray, preds: np.ndarray, records: np.ndarray, n_boot: int) -> dict[str, Any]:
    """:func:`seed_summary` on all of DS2 and on DS2 without :data:`SAME_PATIENT`."""
    keep = records != SAME_PATIENT
    return {
        "ds2": seed_summary(y, preds, records, n_boot),
        "ds2_without_202": seed_summary(y[keep], preds[keep], records[keep], n_boot),
    }


# ---------------------------------------------------------------- Markdown
def _cell(stat: dict[str, Any], scale: float, digits: int, ci: bool) -> str:
    text = f"{scale * stat['mean']:.{digits}f} ± {scale * stat['sd']:.{digits}f}"
    if ci:
        lo, hi = stat["ci"]
        text += f" [{scale * lo:.{digits}f}, {scale * hi:.{digits}f}]"
    return text


def render_seeds(results: dict[str, Any], best: str | None) -> list[str]:
    """The headline section (nothing when the seeds step has not run)."""
    step = results.get("seeds")
    if not step or not step.get("summary"):
        return []
    seeds = step["seeds"]
    lines = [
        "",
        f"## Headline: DS2 over {len(seeds)} seeds (mean ± sd [patient-bootstrap 95 % interval])",
        "",
        f"Every model of the main table refit on DS1 with seeds {seeds} (the seed sets the "
        "N-beat subsample, the weights' initialisation and the batches; everything else as in "
        "the settings above) and scored once on DS2; intervals from "
        f"{step['n_boot']} resamples of DS2's patients applied to all seeds' predictions "
        "(the interval of the seed mean). Record 202 is the patient of DS1's 201: the right "
        "half repeats the scores without it. The method marked best was chosen by DS1 CV "
        "(seed 0), never on DS2." + _refit_note(results),
        "",
        f"Machine of the seeds step: {_machine.describe(step['machine'])}"
        if "machine" in step
        else "",
        "",
        "| model | macro-F1 DS2 | S-F1 DS2 | V-F1 DS2 | macro-F1 without 202 "
        "| S-F1 without 202 | V-F1 without 202 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, s in step["summary"].items():
        cells = [
            _cell(s[part][m], 1, 3, True)
            for part in ("ds2", "ds2_without_202")
            for m in ("macro_f1_nsv", "S_f1", "V_f1")
        ]
        note = " (best by DS1 CV)" if name == best else ""
        n = len(s["ds2"]["macro_f1_nsv"]["values"])
        seeds_note = "" if n == len(seeds) else f" ({n} of {len(seeds)} seeds so far)"
        lines.append(f"| {name}{note}{seeds_note} | " + " | ".join(cells) + " |")
    lines += ["", "Se and +P per class (DS2, mean ± sd over the seeds, %):", ""]
    lines += ["| model | acc | N Se | N +P | S Se | S +P | V Se | V +P |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for name, s in step["summary"].items():
        d = s["ds2"]
        keys = ("accuracy", "N_se", "N_ppv", "S_se", "S_ppv", "V_se", "V_ppv")
        lines.append(f"| {name} | " + " | ".join(_cell(d[k], 100, 1, False) for k in keys) + " |")
    lines += _render_goals(step["summary"].get(best) if best else None, best)
    return lines


def _refit_note(results: dict[str, Any]) -> str:
    """How far the seed-0 refits are from the main table's single run of the same model."""
    runs, single = results["seeds"].get("runs", {}), results.get("fusion", {})
    gaps = {
        name: (runs[name]["0"]["macro_f1_nsv"], single[name]["ds2"]["macro_f1_nsv"])
        for name in runs if "0" in runs[name] and name in single
    }  # fmt: skip
    if not gaps:
        return ""
    name = max(gaps, key=lambda k: abs(gaps[k][0] - gaps[k][1]))
    refit, once = gaps[name]
    return (
        f" The seed-0 refit differs from the single run below (run "
        f"{results['machine']['date_utc'][:10]}) by up to {abs(refit - once):.3f} macro-F1 "
        f"({name} {refit:.3f} against {once:.3f}): one run is not a result, which is why "
        "this table leads."
    )


def _render_goals(s: dict[str, Any] | None, best: str | None) -> list[str]:
    if s is None:
        return []
    d = s["ds2"]
    checks = (("macro-F1(N,S,V) >= 0.87", "macro_f1_nsv", 0.87), ("S-F1 >= 0.70", "S_f1", 0.70),
              ("V-F1 >= 0.94", "V_f1", 0.94))  # fmt: skip
    lines = ["", f"Goals (issue 14, the {len(d['macro_f1_nsv']['values'])}-seed mean of {best}):"]
    for text, key, bar in checks:
        v = d[key]["mean"]
        lines.append(f"- {text}: {v:.3f} -> {'met' if v >= bar else 'MISSED'}")
    return lines
