"""Compose the README figure ``docs/figures/medmodal-demo.png`` from a demo report.

The figure shows one figure of each report section side by side: the ECG overview of the
atrial-fibrillation excerpt (MIT-BIH 201), the fusion scores with their intervals, the
alignment similarity matrix and the attention map over an ECG. Regenerate it after a full
(not ``--quick``) demo run on the embedded data, from the repository root::

    medmodal demo --out medmodal-report          # about 2-3 minutes on 2 cores
    python docs/make_figure.py medmodal-report   # writes docs/figures/medmodal-demo.png

Options: ``--out PATH`` writes the PNG elsewhere; ``--dpi`` sets its resolution.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib.image as mpimg
from matplotlib.figure import Figure  # no pyplot: no GUI backend is ever needed

DEFAULT_OUT = Path(__file__).resolve().parent / "figures" / "medmodal-demo.png"
#: Panels in reading order: (section folder, file name or glob, heading).
PANELS = (
    (
        "ecg",
        "*201*_overview.png",
        "ECG: a real MIT-BIH record (atrial fibrillation) analysed end to end",
    ),
    ("fusion", "scores.png", "Fusion: strategies on the same folds, 95 % CIs"),
    ("align", "similarity.png", "Alignment: held-out {pair} similarity"),
    ("attention", "attention_overlay.png", "Attention: where cross-attention looks on an ECG"),
)


def _panel_file(report: Path, section: str, pattern: str) -> Path:
    folder = report / section
    found = sorted(folder.glob(pattern)) or sorted(folder.glob("*_overview.png"))
    if not found:
        raise SystemExit(f"make_figure: no {pattern} in {folder}: run `medmodal demo` first")
    return found[0]


def compose(report: Path, out: Path, *, dpi: int = 100) -> Path:
    """Write the 2 x 2 figure of ``report``'s sections to ``out`` and return it."""
    summary = json.loads((report / "summary.json").read_text(encoding="utf-8"))
    failed = [s["key"] for s in summary["sections"] if s["status"] != "ok"]
    if failed:
        raise SystemExit(f"make_figure: sections {failed} failed in {report}; rerun the demo")
    embedded = summary["settings"].get("data_root") == "embedded"
    fig = Figure(figsize=(15.3, 9.45), layout="constrained")
    axes = fig.subplots(2, 2)
    for ax, (section, pattern, heading) in zip(axes.ravel(), PANELS, strict=True):
        ax.imshow(mpimg.imread(_panel_file(report, section, pattern)))
        pair = "ECG x report" if embedded else "image x caption"
        ax.set_title(heading.format(pair=pair), fontsize=13, loc="left")
        ax.set_axis_off()
    fig.suptitle(
        "medmodal demo: one command, four practices (from medmodal-report/index.html)",
        fontsize=16,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="the demo report folder (medmodal-report)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="PNG to write")
    parser.add_argument("--dpi", type=int, default=100, help="resolution of the PNG")
    args = parser.parse_args(argv)
    print(compose(args.report, args.out, dpi=args.dpi))
    return 0


if __name__ == "__main__":
    sys.exit(main())
