"""``medmodal align``: train a contrastive model on real pairs and evaluate a checkpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.table import Table

from medmodal.cli._common import (
    CheckpointOption,
    DataRootOption,
    JsonOption,
    OutFileOption,
    QuietOption,
    SeedOption,
    ThreadsOption,
    console,
    handle_errors,
    print_json,
    write_json,
)
from medmodal.errors import DataFormatError, DataNotFoundError
from medmodal.jsonsafe import dumps

if TYPE_CHECKING:
    from medmodal.align import AlignEvaluation, Task
    from medmodal.models import CLIPModel

app = typer.Typer(
    help="Contrastive alignment: train image/ECG-text models and evaluate them.",
    no_args_is_help=True,
)

#: Settings of a run that evaluation must reuse (written as RUN_DIR/align.json).
RUN_FILE = "align.json"


@app.command("train")
@handle_errors
def train(
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (checkpoints, metrics).")],
    model: Annotated[
        str | None,
        typer.Option("--model", help="Model name or config .json (default: the data's own)."),
    ] = None,
    data: Annotated[str, typer.Option("--data", help="Data set: medpix or ptbxl.")] = "medpix",
    data_root: DataRootOption = None,
    epochs: Annotated[int, typer.Option("--epochs", help="Passes over the training set.")] = 40,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Pairs per step.")] = 64,
    lr: Annotated[float, typer.Option("--lr", help="Peak learning rate (AdamW).")] = 2e-3,
    text: Annotated[
        str | None,
        typer.Option(
            "--text",
            help="Texts: medpix structured|caption; ptbxl report|statements (default: first).",
        ),
    ] = None,
    threads: Annotated[
        int,
        typer.Option("--threads", help="torch CPU threads (1 is fastest for these small models)."),
    ] = 1,
    seed: SeedOption = 0,
    quiet: QuietOption = False,
    json_output: JsonOption = False,
) -> None:
    """Train a contrastive model on a data set's train split; evaluate on its dev split."""
    import torch

    from medmodal.align import check_model_fits, get_task
    from medmodal.train import claim_run_dir, fit_alignment, seed_everything

    torch.set_num_threads(max(1, threads))
    task = get_task(data)
    text = text or task.default_text
    seed_everything(seed)  # the initial weights too: a seeded run reproduces
    net = _model(model or task.default_model)
    check_model_fits(net, task)
    size = net.config.image.image_size if net.config.image is not None else 0
    load: dict[str, Any] = {"root": data_root, "image_size": size, "text": text}
    train_set = task.load(task.train_split, augment=True, seed=seed, **load)
    val_set = task.load(task.val_split, augment=False, seed=seed, **load)
    recipe = task.train_config(
        epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, out_dir=str(out),
        progress=not quiet, tensorboard=False,
    )  # fmt: skip
    claim_run_dir(out, caller="align train")  # a non-empty --out is refused untouched
    run_info = {"data": task.name, "text": text, "model": net.config.name, "seed": seed}
    (out / RUN_FILE).write_text(json.dumps(run_info, indent=2) + "\n")
    result = fit_alignment(net, task, train_set, val_set, recipe, overwrite=True)  # claimed
    evaluation = task.evaluate(net, val_set, split=task.val_split)
    payload = _payload(evaluation, run_info)
    payload["best_epoch"] = result.best_epoch
    payload["epochs_run"] = result.epochs_run
    (out / f"eval_{task.val_split}.json").write_text(dumps(payload, indent=2) + "\n")
    if json_output:
        print_json(payload)
    elif not quiet:
        _print_tables(evaluation, title=f"{net.config.name} on {task.name} {task.val_split}")
        console.print(f"run folder: {out} (best epoch {result.best_epoch})")


@app.command("eval")
@handle_errors
def evaluate(
    checkpoint: CheckpointOption,
    data: Annotated[str | None, typer.Option("--data", help="Data set: medpix or ptbxl.")] = None,
    data_root: DataRootOption = None,
    split: Annotated[
        str, typer.Option("--split", help="Split to evaluate (dev, test...).")
    ] = "dev",
    text: Annotated[
        str | None, typer.Option("--text", help="Text kind (default: the run's).")
    ] = None,
    threads: ThreadsOption = 2,
    out: OutFileOption = None,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Retrieval (R@1/5/10 both ways) and zero-shot accuracy of a trained model."""
    from medmodal.align import check_model_fits

    net, task, info = _load_run(checkpoint, data, threads, text)
    check_model_fits(net, task)
    size = net.config.image.image_size if net.config.image is not None else 0
    dataset = task.load(
        split, root=data_root, image_size=size, augment=False, seed=0, text=info["text"]
    )
    evaluation = task.evaluate(net, dataset, split=split)
    payload = _payload(evaluation, info)
    if out is not None:
        write_json(out, payload)
    if json_output:
        print_json(payload)
    elif not quiet:
        _print_tables(evaluation, title=f"{net.config.name} on {task.name} {split}")
        if out is not None:
            console.print(f"wrote {out}")


@app.command("gallery")
@handle_errors
def gallery(
    checkpoint: CheckpointOption,
    data: Annotated[str | None, typer.Option("--data", help="Data set: medpix.")] = None,
    data_root: DataRootOption = None,
    split: Annotated[
        str, typer.Option("--split", help="Split whose images and captions fill the gallery.")
    ] = "dev",
    text: Annotated[
        str | None, typer.Option("--text", help="Caption kind (default: the run's).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Model folder to write (the checkpoint's files and the gallery; serve it with "
            "medmodal serve --models-dir <its parent>). Default: the checkpoint folder itself.",
            file_okay=False,
        ),
    ] = None,
    threads: ThreadsOption = 2,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Build the search gallery of an image-text model for the service's /v1/align/search.

    Encodes every image and caption of a data set's split with the trained model and saves
    them (gallery.safetensors + gallery.json) beside the model's config and weights.
    """
    from medmodal.cli._align_gallery import build_gallery

    net, task, info = _load_run(checkpoint, data, threads, text)
    summary = build_gallery(
        net, task, checkpoint, out, split=split, root=data_root, text=info["text"]
    )
    if json_output:
        print_json(summary)
    elif not quiet:
        console.print(
            f"gallery of {summary['images']} images and {summary['captions']} captions "
            f"({task.name} {split}) written to {summary['folder']}",
            highlight=False,
        )


def _load_run(
    checkpoint: Path, data: str | None, threads: int, text: str | None
) -> tuple[CLIPModel, Task, dict[str, Any]]:
    """The trained model of a run or checkpoint folder, its task and the run's settings
    (``info["text"]``: ``text``, else the run's text kind, else the task's default)."""
    import torch

    from medmodal.align import get_task
    from medmodal.train import find_checkpoint, load_checkpoint

    torch.set_num_threads(max(1, threads))
    info = _run_info(checkpoint)
    task = get_task(data or info.get("data", "medpix"))
    ckpt = load_checkpoint(find_checkpoint(checkpoint))
    text = text or info.get("text") or task.default_text
    info = {**info, "checkpoint": str(ckpt.path), "text": text}
    return cast("CLIPModel", ckpt.model), task, info


def _model(name: str) -> CLIPModel:
    """A named model, or one built from a JSON config file (``*.json``)."""
    from medmodal.models import create_model, model_from_config

    if not name.endswith(".json"):
        return create_model(name)
    path = Path(name)
    if not path.is_file():
        raise DataNotFoundError(f"model config file not found: {path}")
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"model config {path} is not valid JSON: {exc}") from exc
    return model_from_config(config)


def _run_info(path: Path) -> dict[str, Any]:
    for folder in (path, path.parent):
        file = folder / RUN_FILE
        if file.is_file():
            try:
                info = json.loads(file.read_text())
            except json.JSONDecodeError:
                return {}
            return info if isinstance(info, dict) else {}
    return {}


def _payload(evaluation: AlignEvaluation, info: dict[str, Any]) -> dict[str, Any]:
    return {
        **info,
        "task": evaluation.task,
        "split": evaluation.split,
        "n": evaluation.n,
        "metrics": evaluation.to_dict(),
        "zero_shot": evaluation.zero_shot,
        "zero_shot_majority": evaluation.zero_shot_chance,
    }


def _print_tables(evaluation: AlignEvaluation, *, title: str) -> None:
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
