"""What ``medmodal align`` prints and writes: tables, payloads, the smoke-run line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table

from medmodal.cli._common import console

if TYPE_CHECKING:
    from medmodal.align import AlignEvaluation, Task
    from medmodal.models import CLIPModel


#: ``--quick``: training and validation pairs of a smoke run.
QUICK_PAIRS = (128, 64)
SMOKE_LINE = "smoke run — not a result (1 epoch on 128 pairs; drop --quick for a real run)"


def run_line(net: CLIPModel, *, pretrained: bool, epochs: int, lr: float) -> str:
    """What is trained, in one line: the model, its image tower and the recipe."""
    parts = [f"training {net.config.name}"]
    image = net.config.image
    if image is not None:
        start = "ImageNet weights" if pretrained else "from scratch"
        lock = image.lock
        locked = {0: "", -1: ", all layers locked"}.get(lock, f", {lock} layers locked")
        parts.append(f"image tower {image.kind} ({start}{locked}, {image.image_size} px)")
    parts.append(f"{epochs} epoch{'' if epochs == 1 else 's'} at peak lr {lr:g}")
    return "; ".join(parts)


def image_options(net: CLIPModel) -> dict[str, Any]:
    """``image_size`` and ``normalize`` of the model's image tower for ``task.load``."""
    image = net.config.image
    if image is None:
        return {"image_size": 0}
    return {"image_size": image.image_size, "normalize": (image.mean, image.std)}


def announce(
    net: CLIPModel, task: Task, train_set: Any, epochs: int, batch_size: int, *,
    quick: bool, show: bool,
) -> None:  # fmt: skip
    """Print the smoke-run line, or for a real run the time one batch predicts."""
    from medmodal.align import estimate_training_time

    if not show:
        return
    if quick:
        console.print(SMOKE_LINE, highlight=False)
        return
    estimate = estimate_training_time(net, task, train_set, batch_size=batch_size, epochs=epochs)
    console.print(estimate.describe(), highlight=False)


def payload_of(evaluation: AlignEvaluation, info: dict[str, Any]) -> dict[str, Any]:
    return {
        **info,
        "task": evaluation.task,
        "split": evaluation.split,
        "n": evaluation.n,
        "metrics": evaluation.to_dict(),
        "evaluation": evaluation.evaluation,
        "zero_shot": evaluation.zero_shot,
        "zero_shot_majority": evaluation.zero_shot_chance,
        "zero_shot_n": evaluation.zero_shot_n,
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
    name = {"zero-shot": "True zero-shot", "prompted": "Prompted"}.get(
        evaluation.evaluation, "Zero-shot"
    )
    zs = Table(title=f"{name} classification")
    for column in ("label", "accuracy", "95 % interval", "n", "majority class"):
        zs.add_column(column, justify="right" if column != "label" else "left")
    for label, accuracy in evaluation.zero_shot.items():
        low, high = evaluation.zero_shot_interval(label)
        zs.add_row(label, f"{accuracy:.3f}", f"{low:.3f}-{high:.3f}",
                   str(evaluation.zero_shot_n.get(label, "")),
                   f"{evaluation.zero_shot_chance[label]:.3f}")  # fmt: skip
    console.print(zs)
