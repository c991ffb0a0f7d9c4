"""What ``align train`` and ``align eval`` print: the JSON payload and the Rich tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table

from medmodal.cli._common import console

if TYPE_CHECKING:
    from medmodal.align import AlignEvaluation


def eval_payload(evaluation: AlignEvaluation, info: dict[str, Any]) -> dict[str, Any]:
    return {
        **info,
        "task": evaluation.task,
        "split": evaluation.split,
        "n": evaluation.n,
        "metrics": evaluation.to_dict(),
        "zero_shot": evaluation.zero_shot,
        "zero_shot_majority": evaluation.zero_shot_chance,
    }


def print_tables(evaluation: AlignEvaluation, *, title: str) -> None:
    frame = evaluation.to_frame()
    table = Table(title=f"Retrieval: {title} (N = {evaluation.n})")
    table.add_column("direction")
    for column in frame.columns:
        table.add_column(str(column), justify="right")
    for name, row in frame.iterrows():
        cells = [f"{v:.3f}" if "R@" in str(c) else f"{v:.1f}" for c, v in row.items()]
        table.add_row(str(name), *cells)
    console.print(table)
    zs = Table(title="Zero-shot classification")
    for column in ("label", "accuracy", "majority class"):
        zs.add_column(column, justify="right" if column != "label" else "left")
    for label, accuracy in evaluation.zero_shot.items():
        zs.add_row(label, f"{accuracy:.3f}", f"{evaluation.zero_shot_chance[label]:.3f}")
    console.print(zs)
