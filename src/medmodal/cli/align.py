"""``medmodal align``: train a contrastive model on real pairs and evaluate a checkpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from medmodal.cli._align_output import (
    QUICK_PAIRS,
    SMOKE_LINE,
    announce,
    image_options,
    payload_of,
    print_tables,
    run_line,
)
from medmodal.cli._align_run import (
    RUN_FILE,
    load_run,
    run_settings,
    schedule,
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
from medmodal.cli._time import mark_smoke, progress_wanted
from medmodal.jsonsafe import dumps

if TYPE_CHECKING:
    pass

app = typer.Typer(
    help="Contrastive alignment: train image/ECG-text models and evaluate them.",
    no_args_is_help=True,
)


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
        typer.Option(
            "--model",
            help="Model name or config .json (default: the data's own, chosen on val; "
            "medpix prompted: medpix-clip-effnet, ImageNet-pretrained; medpix zero-shot: "
            "medpix-clip).",
        ),
    ] = None,
    data: Annotated[
        str | None, typer.Option("--data", help="Data set: medpix or ptbxl (default: medpix).")
    ] = None,
    data_root: DataRootOption = None,
    epochs: Annotated[
        int | None,
        typer.Option(
            "--epochs",
            help="Passes over the training set (default: the model's recipe: 40; "
            "medpix-clip-effnet 15).",
            min=1,
        ),
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", help="Pairs per step (default: 64).", min=1)
    ] = None,
    lr: Annotated[
        float | None,
        typer.Option(
            "--lr",
            help="Peak learning rate, AdamW (default: the model's recipe: 2e-3; "
            "medpix-clip-effnet 5e-4).",
        ),
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
        bool | None,
        typer.Option(
            "--pretrained/--no-pretrained",
            help="Start the image tower from its ImageNet weights (default: yes when the "
            "model has them, as medpix-clip-effnet does).",
            show_default=False,
        ),
    ] = None,
    lock_image: Annotated[
        int | None,
        typer.Option(
            "--lock-image",
            help="Image-tower layers kept frozen (LiT; -1: all; default: the model's, "
            "medpix-clip-effnet 12 of 18).",
            min=-1,
        ),
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
    run = run_settings(out, resume=resume, overwrite=overwrite, data=data, text=text,
                        model=model, seed=seed, evaluation=evaluation,
                        pretrained=pretrained, lock_image=lock_image)  # fmt: skip
    task, net = run.task, run.net
    check_model_fits(net, task)
    plan = schedule(out, resume, epochs=epochs, batch_size=batch_size, lr=lr)
    if quick:
        plan["epochs"] = 1
    recipe = task.train_config(net.config.name, **plan, seed=run.seed, out_dir=str(out),
                               progress=progress_wanted(quiet, json_output),
                               tensorboard=False)  # fmt: skip
    TrainConfig.from_dict(recipe.to_dict())  # a bad recipe is refused before any write
    load: dict[str, Any] = {"root": data_root, "text": run.text, **image_options(net)}
    train_set = task.load(task.train_split, augment=True, seed=run.seed, **load)
    val_set = task.load(task.val_split, augment=False, seed=run.seed, **load)
    if quick:
        train_set, val_set = train_set.sample(QUICK_PAIRS[0]), val_set.sample(QUICK_PAIRS[1])  # type: ignore[attr-defined]
    if not (quiet or json_output):
        console.print(run_line(net, pretrained=run.pretrained, epochs=recipe.epochs,
                               lr=recipe.lr), highlight=False)  # fmt: skip
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
    payload = mark_smoke(payload_of(evaluation_result, run_info), quick)
    payload |= {"best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
                "n_train": len(train_set), "n_val": len(val_set), "skipped": 0}  # fmt: skip
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
    net, task, info = load_run(checkpoint, data, threads, text)
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
    net, task, info = load_run(checkpoint, data, threads, text)
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
