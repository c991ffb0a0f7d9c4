"""Checkpoints: a folder of safetensors and JSON, written atomically, read without pickle.

A checkpoint folder holds

- ``config.json``: the model's config (``model.config.to_dict()``), the
  :class:`~medmodal.train.TrainConfig`, the run state (epoch, step, best metric, early
  stopping counter) and the seeding (seed, the next epoch's seed);
- ``model.safetensors``: the weights;
- ``optimizer.safetensors`` + ``optimizer.json``: the optimiser's tensors (AdamW moments)
  and its scalars/structure (param groups), plus the LR scheduler's state;
- ``history.json``: the per-epoch and per-step logs, so a resumed run reports all of them.

Saving writes a hidden sibling folder, flushes it and renames it into place with the
protocol of :mod:`medmodal.train._atomic`: a crash or a kill at any point leaves the old
or the new checkpoint, which :func:`find_checkpoint` finds (reading changes nothing on
disk); the next save finishes an interrupted one and removes the hidden folders a killed
save left. A run folder written by :func:`medmodal.train.fit` holds ``last/`` (for
resuming) and ``best/`` checkpoints; :func:`load_checkpoint` accepts either a checkpoint
or a run folder (``best`` first, also while a save of ``best`` was interrupted).

Example:
    >>> import tempfile
    >>> from torch import nn
    >>> from medmodal.train.checkpoint import load_checkpoint, save_checkpoint
    >>> net = nn.Linear(3, 2)
    >>> folder = save_checkpoint(tempfile.mkdtemp() + "/ckpt", net)
    >>> ckpt = load_checkpoint(folder, build_model=lambda cfg: nn.Linear(3, 2))
    >>> bool((ckpt.model.weight == net.weight).all())
    True
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file, load_model, save_file, save_model
from torch import nn

from medmodal._torch import Stateful
from medmodal.errors import DataFormatError, DataNotFoundError, InvalidParameterError
from medmodal.train._atomic import replace_folder, resolve
from medmodal.train.config import TrainConfig
from medmodal.train.distributed import unwrap_model
from medmodal.train.seed import derive_seed
from medmodal.train.state import TrainState

FORMAT = "medmodal-checkpoint"
VERSION = 1
CONFIG, WEIGHTS, HISTORY = "config.json", "model.safetensors", "history.json"
OPTIM_TENSORS, OPTIM_JSON = "optimizer.safetensors", "optimizer.json"


@dataclass
class Checkpoint:
    """A loaded checkpoint: the rebuilt model and what was saved with it."""

    path: Path  # the checkpoint folder read
    model: nn.Module  # rebuilt from model_config, weights loaded, in eval mode
    model_config: dict[str, Any] | None  # model.config.to_dict() at save time
    train_config: TrainConfig | None  # the training configuration, if saved
    state: TrainState  # epoch, step, best metric, history


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    *,
    train_config: TrainConfig | None = None,
    optimizer: Stateful | None = None,
    scheduler: Stateful | None = None,
    state: TrainState | None = None,
) -> Path:
    """Write a checkpoint folder at ``path`` atomically (replacing an older one).

    Args:
        path: the checkpoint folder to create or replace.
        model: the model (a DDP wrapper is unwrapped); ``model.config.to_dict()`` is
            saved when the model has one, which lets :func:`load_checkpoint` rebuild it.
        train_config: saved for the record and for resuming.
        optimizer: its state is saved (tensors as safetensors, the rest as JSON).
        scheduler: its ``state_dict()`` is saved as JSON.
        state: the run state (:class:`~medmodal.train.state.TrainState`).

    Returns:
        The checkpoint folder.
    """
    path = Path(path)
    model = unwrap_model(model)
    state = state or TrainState()
    with replace_folder(path) as tmp:
        save_model(model, str(tmp / WEIGHTS))
        record = {
            "format": FORMAT,
            "version": VERSION,
            "model_class": f"{type(model).__module__}.{type(model).__qualname__}",
            "model_config": _model_config(model),
            "train_config": train_config.to_dict() if train_config else None,
            "state": {k: v for k, v in state.to_dict().items() if k not in ("history", "steps")},
            "rng": _rng_record(train_config, state),
        }
        _write_json(tmp / CONFIG, record)
        _write_json(tmp / HISTORY, {"epochs": state.history, "steps": state.steps})
        if optimizer is not None:
            tensors, meta = _split_optimizer_state(optimizer.state_dict())
            save_file(tensors, str(tmp / OPTIM_TENSORS))
            meta["scheduler"] = scheduler.state_dict() if scheduler is not None else None
            _write_json(tmp / OPTIM_JSON, meta)
    return path


def load_checkpoint(
    path: str | Path,
    *,
    build_model: Callable[[dict[str, Any]], nn.Module] | None = None,
    map_location: str | torch.device = "cpu",
) -> Checkpoint:
    """Rebuild the model of a checkpoint (or of a run folder's ``best``/``last``).

    Args:
        path: a checkpoint folder, or a run folder written by :func:`~medmodal.train.fit`.
        build_model: makes an untrained model from the saved model config; defaults to
            :func:`medmodal.models.model_from_config`.
        map_location: device the model is moved to.

    Raises:
        DataNotFoundError: no checkpoint at ``path``.
        DataFormatError: unreadable files, or weights that do not fit the model built
            from the saved config (missing/unexpected names, other shapes).
    """
    folder = find_checkpoint(path)
    record = _read_record(folder)
    model_config = record.get("model_config")
    if build_model is None:
        if model_config is None:
            raise InvalidParameterError(
                f"load_checkpoint: {folder} has no model config (the model had no "
                "`.config`); pass build_model=... to construct the model"
            )
        from medmodal.models import model_from_config  # lazy: models sit below train

        build_model = model_from_config
    model = build_model(dict(model_config or {}))
    state = restore_checkpoint(folder, model)
    train_config = record.get("train_config")
    return Checkpoint(
        path=folder,
        model=model.to(map_location).eval(),
        model_config=model_config,
        train_config=TrainConfig.from_dict(train_config) if train_config else None,
        state=state,
    )


def restore_checkpoint(
    path: str | Path,
    model: nn.Module,
    *,
    optimizer: Stateful | None = None,
    scheduler: Stateful | None = None,
) -> TrainState:
    """Load a checkpoint into existing objects (weights, optimiser, scheduler); its state.

    Raises:
        DataFormatError: weights that do not fit ``model``, or a missing optimiser state
            when ``optimizer`` is given.
    """
    folder = find_checkpoint(path)
    record = _read_record(folder)
    _load_weights(unwrap_model(model), folder / WEIGHTS)
    if optimizer is not None:
        if not (folder / OPTIM_JSON).is_file() or not (folder / OPTIM_TENSORS).is_file():
            raise DataFormatError(f"restore_checkpoint: {folder} holds no optimiser state")
        meta = _read_json(folder / OPTIM_JSON)
        tensors = load_file(str(folder / OPTIM_TENSORS))
        optimizer.load_state_dict(_join_optimizer_state(tensors, meta))
        if scheduler is not None and meta.get("scheduler") is not None:
            scheduler.load_state_dict(meta["scheduler"])
    history = _read_json(folder / HISTORY) if (folder / HISTORY).is_file() else {}
    return TrainState.from_dict(
        {**record["state"], "history": history.get("epochs", []), "steps": history.get("steps", [])}
    )


def read_train_config(path: str | Path) -> TrainConfig | None:
    """The :class:`TrainConfig` saved in a checkpoint (``None`` when none was saved)."""
    saved = _read_record(find_checkpoint(path)).get("train_config")
    return TrainConfig.from_dict(saved) if saved else None


def find_checkpoint(path: str | Path) -> Path:
    """The checkpoint folder for ``path``: itself, or a run folder's ``best``/``last``.

    A save interrupted between its renames is resolved to the copy it left (a hidden
    sibling), so a run folder is never served its ``last`` while a ``best`` exists.
    Nothing on disk changes.
    """
    path = Path(path)
    for candidate in (path, path / "best", path / "last"):
        folder = resolve(candidate)
        if folder is not None and (folder / CONFIG).is_file():
            return folder
    raise DataNotFoundError(
        f"no checkpoint at {path}: expected a folder with {CONFIG} and {WEIGHTS} "
        "(or a run folder with best/ or last/)"
    )


# --------------------------------------------------------------------------- files


def _write_json(path: Path, obj: Any) -> None:
    try:
        text = json.dumps(obj, indent=2, allow_nan=True)
    except TypeError as exc:
        raise InvalidParameterError(
            f"save_checkpoint: {path.name} is not JSON-able: {exc}"
        ) from exc
    path.write_text(text + "\n")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DataFormatError(f"cannot read checkpoint file {path}: {exc}") from exc


def _read_record(folder: Path) -> dict[str, Any]:
    record = _read_json(folder / CONFIG)
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise DataFormatError(f"{folder / CONFIG} is not a medmodal checkpoint config")
    if not (folder / WEIGHTS).is_file():
        raise DataFormatError(f"checkpoint {folder} has no {WEIGHTS}")
    return record


def _rng_record(train_config: TrainConfig | None, state: TrainState) -> dict[str, Any]:
    """How the run draws random numbers: enough to reproduce the next epoch."""
    seed = train_config.seed if train_config else None
    return {
        "seed": seed,
        "next_epoch_seed_rank0": None if seed is None else derive_seed(seed, state.epoch + 1, 0),
        "scheme": "epoch e (1-based) re-seeds python, numpy and torch with "
        "derive_seed(seed, e, rank); the data order of epoch e is a function of (seed, e)",
    }


def _model_config(model: nn.Module) -> dict[str, Any] | None:
    config = getattr(model, "config", None)
    to_dict = getattr(config, "to_dict", None)
    return dict(to_dict()) if callable(to_dict) else None


# ------------------------------------------------------------------------- weights


def _load_weights(model: nn.Module, file: Path) -> None:
    """Load ``file`` into ``model`` after checking names and shapes (clear errors)."""
    try:
        with safe_open(str(file), framework="pt") as f:
            shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}  # noqa: SIM118
    except Exception as exc:  # safetensors raises its own error types
        raise DataFormatError(f"cannot read weights {file}: {exc}") from exc
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    wrong = [
        f"{k}: file {shapes[k]}, model {s}" for k, s in expected.items() if shapes.get(k, s) != s
    ]
    if not wrong:
        missing, unexpected = load_model(model, str(file), strict=False)
        if not missing and not unexpected:
            return
    else:
        missing = unexpected = []
    problems = [
        f"shapes differ: {', '.join(wrong[:5])}" if wrong else "",
        f"missing: {', '.join(sorted(missing)[:5])}" if missing else "",
        f"unexpected: {', '.join(sorted(unexpected)[:5])}" if unexpected else "",
    ]
    raise DataFormatError(
        f"checkpoint weights {file} do not match the {type(model).__name__} built from its "
        f"config ({'; '.join(p for p in problems if p)})"
    )


# ----------------------------------------------------------------------- optimiser


def _split_optimizer_state(sd: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Optimiser ``state_dict`` -> (tensors for safetensors, JSON-able rest)."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, param_state in sd["state"].items():
        for name, value in param_state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{index}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(index), {})[name] = value
    groups = [
        {k: list(v) if isinstance(v, tuple) else v for k, v in g.items()}
        for g in sd["param_groups"]
    ]
    return tensors, {"param_groups": groups, "scalars": scalars}


def _join_optimizer_state(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict:
    """Inverse of :func:`_split_optimizer_state`."""
    state: dict[int, dict[str, Any]] = {}
    for index, values in meta.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(values)
    for key, value in tensors.items():
        _, index, name = key.split(".", 2)
        state.setdefault(int(index), {})[name] = value
    groups = [
        {k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in g.items()}
        for g in meta["param_groups"]
    ]
    return {"state": state, "param_groups": groups}
