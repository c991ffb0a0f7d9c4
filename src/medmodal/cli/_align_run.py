"""The run behind ``medmodal align``: its settings, its align.json, the model it trains."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from medmodal.errors import DataFormatError, DataNotFoundError, InvalidParameterError

if TYPE_CHECKING:
    from medmodal.align import Task
    from medmodal.models import CLIPModel

#: Settings of a run that evaluation must reuse (written as RUN_DIR/align.json).
RUN_FILE = "align.json"
#: The checkpoint ``align train --resume`` continues from (inside the run folder).
LAST_CHECKPOINT = "last"


@dataclass(frozen=True)
class RunSettings:
    """What ``align train`` trains: the task, the model, its text kind and seed."""

    task: Task
    net: CLIPModel
    text: str
    seed: int
    pretrained: bool = False


def run_settings(
    out: Path,
    *,
    resume: bool,
    overwrite: bool,
    data: str | None,
    text: str | None,
    model: str | None,
    seed: int | None,
    evaluation: str | None = None,
    pretrained: bool | None = None,
    lock_image: int | None = None,
) -> RunSettings:
    """The flags' run, or with ``--resume`` the run saved in ``out`` (flags that contradict
    its ``align.json`` are refused). Reads only: nothing is written here.

    ``pretrained=None`` (no flag) loads the image tower's published weights when the
    named model has them (``medpix-clip-effnet``), and not otherwise."""
    from medmodal.align import get_task
    from medmodal.models import has_pretrained
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
        name = model or task.default_model
        weights = has_pretrained(name) if pretrained is None else pretrained
        net = build_model(name, pretrained=weights, lock_image=lock_image)
        return RunSettings(task, net, text or task.default_text, seed, weights)
    if pretrained is not None or lock_image is not None:
        raise InvalidParameterError(
            "align train --resume: --pretrained/--no-pretrained and --lock-image apply to a "
            "new run; the resumed run continues from its own weights"
        )
    saved = {"evaluation": "prompted", **_saved_run(out)}
    given = {"data": data, "text": text, "seed": seed, "evaluation": evaluation}
    given["model"] = None if model is None else build_model(model).config.name
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
    return RunSettings(task, net, str(saved["text"]), int(saved["seed"]))


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


def schedule(
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


def load_run(
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


def build_model(name: str, *, pretrained: bool = False, lock_image: int | None = None) -> CLIPModel:
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
