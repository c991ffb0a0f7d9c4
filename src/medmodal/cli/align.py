"""``medmodal align``: train a contrastive model on real pairs and evaluate a checkpoint."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from medmodal.cli._align_output import (
    QUICK_PAIRS,
    SMOKE_LINE,
    announce,
    image_options,
    payload_of,
    print_tables,
)
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
from medmodal.errors import DataFormatError, DataNotFoundError, InvalidParameterError
from medmodal.jsonsafe import dumps

if TYPE_CHECKING:
    from medmodal.align import Task
    from medmodal.models import CLIPModel

app = typer.Typer(
    help="Contrastive alignment: train image/ECG-text models and evaluate them.",
    no_args_is_help=True,
)

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
    evaluation: Annotated[
        str | None,
        typer.Option(
            "--evaluation",
            help="medpix: prompted (structured captions; labels are training targets) or "
            "zero-shot (free-text captions only; default: prompted).",
        ),
    ] = None,
    pretrained: Annotated[
        bool,
        typer.Option("--pretrained", help="Start the image tower from its ImageNet weights."),
    ] = False,
    lock_image: Annotated[
        int | None,
        typer.Option("--lock-image", help="Image-tower layers kept frozen (LiT; -1: all).", min=-1),
    ] = None,
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help="Smoke run: 1 epoch on the first 128 training and 64 validation pairs "
            "(checks the setup in about a minute; not a result).",
        ),
    ] = False,
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
    quiet: QuietOption = False,
    json_output: JsonOption = False,
) -> None:
    """Train a contrastive model on a data set's train split; choose the epoch on val.

    MedPix splits are patient-clean: train fits, val picks the epoch (and is scored here),
    dev is the test (score it once with align eval). An existing non-empty --out is
    refused unless --resume or --overwrite; a refused run changes nothing in it.
    """
    import torch

    from medmodal.align import check_model_fits
    from medmodal.train import TrainConfig, claim_run_dir, fit_alignment

    torch.set_num_threads(max(1, threads))
    run = _run_settings(out, resume=resume, overwrite=overwrite, data=data, text=text,
                        model=model, seed=seed, evaluation=evaluation,
                        pretrained=pretrained, lock_image=lock_image)  # fmt: skip
    task, net = run.task, run.net
    check_model_fits(net, task)
    schedule = _schedule(out, resume, epochs=epochs, batch_size=batch_size, lr=lr)
    if quick:
        schedule["epochs"] = 1
    recipe = task.train_config(**schedule, seed=run.seed, out_dir=str(out),
                               progress=not (quiet or json_output), tensorboard=False)  # fmt: skip
    TrainConfig.from_dict(recipe.to_dict())  # a bad recipe is refused before any write
    load: dict[str, Any] = {"root": data_root, "text": run.text, **image_options(net)}
    train_set = task.load(task.train_split, augment=True, seed=run.seed, **load)
    val_set = task.load(task.val_split, augment=False, seed=run.seed, **load)
    if quick:
        train_set, val_set = train_set.sample(QUICK_PAIRS[0]), val_set.sample(QUICK_PAIRS[1])  # type: ignore[attr-defined]
    announce(net, task, train_set, recipe.epochs, recipe.batch_size, quick=quick,
              show=not (quiet or json_output))  # fmt: skip
    claim_run_dir(out, resume=resume, overwrite=overwrite, caller="align train")
    run_info = {"data": task.name, "evaluation": task.evaluation, "text": run.text,
                "model": net.config.name, "seed": run.seed,
                "pretrained": run.pretrained}  # fmt: skip
    if not resume:  # a resumed run keeps its own align.json
        (out / RUN_FILE).write_text(json.dumps(run_info, indent=2) + "\n")
    # the folder is claimed: fit replaces nothing but what this command wrote there
    result = fit_alignment(
        net, task, train_set, val_set, recipe, resume=resume, overwrite=not resume
    )
    evaluation_result = task.evaluate(net, val_set, split=task.val_split)
    payload = payload_of(evaluation_result, run_info)
    payload |= {"best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
                "n_train": len(train_set), "n_val": len(val_set), "skipped": 0,
                "smoke_run": quick}  # fmt: skip
    (out / f"eval_{task.val_split}.json").write_text(dumps(payload, indent=2) + "\n")
    if json_output:
        print_json(payload)
    elif not quiet:
        title = f"{net.config.name} on {task.name} {task.val_split} ({task.evaluation})"
        print_tables(evaluation_result, title=title)
        console.print(f"run folder: {out} (best epoch {result.best_epoch}; {len(train_set)} "
                      f"training and {len(val_set)} validation pairs, none skipped)")  # fmt: skip
        if quick:
            console.print(SMOKE_LINE, highlight=False)


@dataclass(frozen=True)
class _RunSettings:
    """What ``align train`` trains: the task, the model, its text kind and seed."""

    task: Task
    net: CLIPModel
    text: str
    seed: int
    pretrained: bool = False


def _run_settings(
    out: Path,
    *,
    resume: bool,
    overwrite: bool,
    data: str | None,
    text: str | None,
    model: str | None,
    seed: int | None,
    evaluation: str | None = None,
    pretrained: bool = False,
    lock_image: int | None = None,
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
        task = get_task(data or "medpix", **({"evaluation": evaluation} if evaluation else {}))
        seed = 0 if seed is None else seed
        seed_everything(seed)  # the initial weights too: a seeded run reproduces
        net = _model(model or task.default_model, pretrained=pretrained, lock_image=lock_image)
        return _RunSettings(task, net, text or task.default_text, seed, pretrained)
    if pretrained or lock_image is not None:
        raise InvalidParameterError(
            "align train --resume: --pretrained and --lock-image apply to a new run; the "
            "resumed run continues from its own weights"
        )
    saved = {"evaluation": "prompted", **_saved_run(out)}
    given = {"data": data, "text": text, "seed": seed, "evaluation": evaluation}
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
    task = _saved_task(saved)
    return _RunSettings(task, net, str(saved["text"]), int(saved["seed"]))


def _saved_task(info: dict[str, Any], data: str | None = None) -> Task:
    """The task of a run's ``align.json`` (its evaluation; runs before it: prompted)."""
    from medmodal.align import get_task

    name = data or str(info.get("data", "medpix"))
    evaluation = info.get("evaluation")
    if evaluation and evaluation != "prompted":
        return get_task(name, evaluation=str(evaluation))
    return get_task(name)


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
    dataset = task.load(
        split, root=data_root, augment=False, seed=0, text=info["text"], **image_options(net)
    )
    evaluation = task.evaluate(net, dataset, split=split)
    payload = payload_of(evaluation, info)
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

    from medmodal.train import find_checkpoint, load_checkpoint

    torch.set_num_threads(max(1, threads))
    info = _run_info(checkpoint)
    task = _saved_task(info, data)
    ckpt = load_checkpoint(find_checkpoint(checkpoint))
    text = text or info.get("text") or task.default_text
    info = {**info, "checkpoint": str(ckpt.path), "text": text}
    return cast("CLIPModel", ckpt.model), task, info


def _model(name: str, *, pretrained: bool = False, lock_image: int | None = None) -> CLIPModel:
    """A named model, or one built from a JSON config file (``*.json``)."""
    from medmodal.models import create_model, model_from_config

    if not name.endswith(".json"):
        return create_model(name, pretrained=pretrained, lock_image=lock_image)
    if pretrained or lock_image is not None:
        raise InvalidParameterError(
            "align train: --pretrained and --lock-image need a named model "
            "(e.g. medpix-clip-effnet), not a config file"
        )
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
