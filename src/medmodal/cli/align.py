"""``medmodal align``: train a contrastive model on real pairs and evaluate a checkpoint."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from medmodal.cli._align_output import eval_payload, print_tables
from medmodal.cli._common import (
    CheckpointOption,
    DataRootOption,
    JsonOption,
    OutFileOption,
    OverwriteOption,
    QuietOption,
    ThreadsOption,
    check_out_files,
    console,
    handle_errors,
    print_json,
    write_json,
)
from medmodal.cli._time import SMOKE_RUN, announce, mark_smoke, progress_wanted
from medmodal.errors import DataFormatError, DataNotFoundError, InvalidParameterError
from medmodal.jsonsafe import dumps

if TYPE_CHECKING:
    from medmodal.align import Task
    from medmodal.models import CLIPModel

app = typer.Typer(
    help="Contrastive alignment: train image/ECG-text models and evaluate them.",
    no_args_is_help=True,
)

#: Seconds per training epoch measured on 2 cores (benchmarks/results/align_cli.md: 40
#: epochs of medpix-clip on MedPix 2.0 in 12.7 min), by (data, model).
EPOCH_S = {("medpix", "medpix-clip"): 763.5 / 40}

#: Settings of a run that evaluation must reuse (written as RUN_DIR/align.json).
RUN_FILE = "align.json"
#: The checkpoint ``align train --resume`` continues from (inside the run folder).
LAST_CHECKPOINT = "last"


@app.command("train")
@handle_errors
def train(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Run folder (checkpoints, metrics, align.json): new or empty, or an earlier "
            "run with --resume (continue it) or --overwrite (replace it).",
        ),
    ],
    model: Annotated[
        str | None,
        typer.Option("--model", help="Model name or config .json (default: the data's own)."),
    ] = None,
    data: Annotated[
        str | None, typer.Option("--data", help="Data set: medpix or ptbxl (default: medpix).")
    ] = None,
    data_root: DataRootOption = None,
    epochs: Annotated[
        int | None,
        typer.Option("--epochs", help="Passes over the training set (default: 40).", min=1),
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", help="Pairs per step (default: 64).", min=1)
    ] = None,
    lr: Annotated[
        float | None, typer.Option("--lr", help="Peak learning rate, AdamW (default: 2e-3).")
    ] = None,
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
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed (default: 0).")] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue the run in --out from its last epoch (model, data, text and seed "
            "from its align.json; epochs, batch size and lr from its last checkpoint unless "
            "given).",
        ),
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Replace the run in --out (its checkpoints, metrics and align.json; other "
            "files are kept).",
        ),
    ] = False,
    quick: Annotated[
        bool, typer.Option("--quick", help="A smoke run: 1 epoch unless --epochs is given.")
    ] = False,
    quiet: QuietOption = False,
    json_output: JsonOption = False,
) -> None:
    """Train a contrastive model on a data set's train split; evaluate on its dev split.

    An existing non-empty --out is refused unless --resume or --overwrite; a refused run
    changes nothing in it. medpix-clip on MedPix: about 19 s an epoch on 2 cores (40
    epochs: 13 min).
    """
    import torch

    from medmodal.align import check_model_fits
    from medmodal.train import TrainConfig, claim_run_dir, fit_alignment

    torch.set_num_threads(max(1, threads))
    run = _run_settings(out, resume=resume, overwrite=overwrite, data=data, text=text,
                        model=model, seed=seed)  # fmt: skip
    task, net = run.task, run.net
    check_model_fits(net, task)
    epochs = 1 if quick and epochs is None else epochs
    recipe = task.train_config(
        **_schedule(out, resume, epochs=epochs, batch_size=batch_size, lr=lr),
        seed=run.seed, out_dir=str(out), progress=progress_wanted(quiet, json_output),
        tensorboard=False,
    )  # fmt: skip
    per_epoch = EPOCH_S.get((task.name, net.config.name))
    if per_epoch is not None:
        announce("align train", per_epoch * recipe.epochs, show=not (quiet or json_output),
                 quick_seconds=None if quick else per_epoch)  # fmt: skip
    TrainConfig.from_dict(recipe.to_dict())  # a bad recipe is refused before any write
    size = net.config.image.image_size if net.config.image is not None else 0
    load: dict[str, Any] = {"root": data_root, "image_size": size, "text": run.text}
    train_set = task.load(task.train_split, augment=True, seed=run.seed, **load)
    val_set = task.load(task.val_split, augment=False, seed=run.seed, **load)
    claim_run_dir(out, resume=resume, overwrite=overwrite, caller="align train")
    run_info = {"data": task.name, "text": run.text, "model": net.config.name, "seed": run.seed}
    if not resume:  # a resumed run keeps its own align.json
        (out / RUN_FILE).write_text(json.dumps(run_info, indent=2) + "\n")
    # the folder is claimed: fit replaces nothing but what this command wrote there
    result = fit_alignment(
        net, task, train_set, val_set, recipe, resume=resume, overwrite=not resume
    )
    evaluation = task.evaluate(net, val_set, split=task.val_split)
    payload = mark_smoke(eval_payload(evaluation, run_info), quick)
    payload["best_epoch"] = result.best_epoch
    payload["epochs_run"] = result.epochs_run
    (out / f"eval_{task.val_split}.json").write_text(dumps(payload, indent=2) + "\n")
    if json_output:
        print_json(payload)
    elif not quiet:
        print_tables(evaluation, title=f"{net.config.name} on {task.name} {task.val_split}")
        console.print(f"run folder: {out} (best epoch {result.best_epoch})")
        if quick:
            console.print(f"[bold yellow]{SMOKE_RUN}[/bold yellow] (--quick: 1 epoch)")


@dataclass(frozen=True)
class _RunSettings:
    """What ``align train`` trains: the task, the model, its text kind and seed."""

    task: Task
    net: CLIPModel
    text: str
    seed: int


def _run_settings(
    out: Path,
    *,
    resume: bool,
    overwrite: bool,
    data: str | None,
    text: str | None,
    model: str | None,
    seed: int | None,
) -> _RunSettings:
    """The flags' run, or with ``--resume`` the run saved in ``out`` (flags that contradict
    its ``align.json`` are refused). Reads only: nothing is written here."""
    from medmodal.align import get_task
    from medmodal.train import check_run_dir, load_checkpoint, seed_everything

    if resume and overwrite:
        raise InvalidParameterError(
            "align train: --resume continues the run in --out, --overwrite replaces it; "
            "pass one of them"
        )
    if not (resume or overwrite) and out.is_dir() and any(out.iterdir()):
        raise InvalidParameterError(
            f"align train: --out {out} is not empty; pass --resume to continue the run in "
            "it, --overwrite to replace that run, or choose a new or empty folder"
        )
    check_run_dir(out, resume=resume, overwrite=overwrite, caller="align train")
    if not resume:
        task = get_task(data or "medpix")
        seed = 0 if seed is None else seed
        seed_everything(seed)  # the initial weights too: a seeded run reproduces
        net = _model(model or task.default_model)
        return _RunSettings(task, net, text or task.default_text, seed)
    saved = _saved_run(out)
    given = {"data": data, "text": text, "seed": seed}
    given["model"] = None if model is None else _model(model).config.name
    clash = [f"--{k} {v} (the run's: {saved[k]})" for k, v in given.items()
             if v is not None and v != saved[k]]  # fmt: skip
    if clash:
        raise InvalidParameterError(
            f"align train --resume: {', '.join(clash)} contradict{'s' if len(clash) == 1 else ''}"
            f" {out / RUN_FILE}; drop the flag or start a new run"
        )
    seed_everything(int(saved["seed"]))
    net = cast("CLIPModel", load_checkpoint(out / LAST_CHECKPOINT).model)
    return _RunSettings(get_task(str(saved["data"])), net, str(saved["text"]), int(saved["seed"]))


def _saved_run(out: Path) -> dict[str, Any]:
    """The settings in ``out/align.json`` (data, text, model, seed); all four must be there."""
    info = _run_info(out) if (out / RUN_FILE).is_file() else {}
    missing = [k for k in ("data", "text", "model", "seed") if k not in info]
    if missing:
        raise DataFormatError(
            f"align train --resume: {out / RUN_FILE} is missing or lacks {', '.join(missing)}; "
            "only runs written by align train can be resumed"
        )
    return info


def _schedule(
    out: Path, resume: bool, *, epochs: int | None, batch_size: int | None, lr: float | None
) -> dict[str, Any]:
    """Epochs, batch size and lr given as flags, else the resumed run's (else the task's
    recipe keeps its defaults)."""
    from medmodal.train import read_train_config

    given = {"epochs": epochs, "batch_size": batch_size, "lr": lr}
    saved = read_train_config(out / LAST_CHECKPOINT) if resume else None
    if saved is not None:
        given = {k: getattr(saved, k) if v is None else v for k, v in given.items()}
    return {k: v for k, v in given.items() if v is not None}


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
    overwrite: OverwriteOption = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Retrieval (R@1/5/10 both ways) and zero-shot accuracy of a trained model.

    An existing --out file is refused unless --overwrite.
    """
    from medmodal.align import check_model_fits

    if out is not None:
        check_out_files([out], overwrite=overwrite, caller="align eval")
    net, task, info = _load_run(checkpoint, data, threads, text)
    check_model_fits(net, task)
    size = net.config.image.image_size if net.config.image is not None else 0
    dataset = task.load(
        split, root=data_root, image_size=size, augment=False, seed=0, text=info["text"]
    )
    evaluation = task.evaluate(net, dataset, split=split)
    payload = eval_payload(evaluation, info)
    if out is not None:
        write_json(out, payload)
    if json_output:
        print_json(payload)
    elif not quiet:
        print_tables(evaluation, title=f"{net.config.name} on {task.name} {split}")
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
    overwrite: OverwriteOption = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Build the search gallery of an image-text model for the service's /v1/align/search.

    Encodes every image and caption of a data set's split with the trained model and saves
    them (gallery.safetensors + gallery.json) beside the model's config and weights. A
    non-empty --out, or a gallery already in the checkpoint folder, is refused unless
    --overwrite.
    """
    from medmodal.cli._align_gallery import build_gallery, check_gallery_target

    check_gallery_target(checkpoint, out, overwrite=overwrite)
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
