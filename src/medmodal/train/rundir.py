"""The run folder ``fit`` writes: its layout, who may write into it, and its checkpoint.

::

    RUN_DIR/
      train_config.json   the TrainConfig of the (latest) call
      metrics.csv         one row per epoch (rewritten after every epoch)
      last/               checkpoint after the latest epoch, with optimiser state (resume)
      best/               checkpoint of the best epoch by config.monitor (weights only)
      tensorboard/        event files, when TensorBoard is installed

A run never deletes or overwrites what it did not create: a folder that exists and is not
empty is refused unless the call resumes the run in it (``resume=True``) or replaces that
run (``overwrite=True``, which removes only the files above), and a refused call changes
nothing on disk. Commands call :func:`claim_run_dir` before they write anything.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from medmodal.errors import InvalidParameterError
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "notes.txt").write_text("mine")
    >>> try:
    ...     claim_run_dir(folder)
    ... except InvalidParameterError as err:
    ...     print(str(err).split(" into ")[0])
    claim_run_dir: refusing to write
    >>> claim_run_dir(folder / "run") == folder / "run"
    True
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

from medmodal.errors import DataNotFoundError, InvalidParameterError, MedmodalWarning
from medmodal.train._atomic import protocol_folders, recover, resolve
from medmodal.train.checkpoint import CONFIG, FORMAT, find_checkpoint, read_train_config
from medmodal.train.config import TrainConfig
from medmodal.train.distributed import DistContext, barrier

LAST, BEST = "last", "best"
TRAIN_CONFIG, METRICS, TENSORBOARD = "train_config.json", "metrics.csv", "tensorboard"
_EVENTS = "events.out.tfevents."  # the only files of tensorboard/ a run writes
# Config fields that change neither the numbers nor the schedule of a run.
_COSMETIC = ("log_every", "progress", "tensorboard", "num_workers", "device", "out_dir")


def check_run_dir(
    out_dir: str | Path,
    *,
    resume: bool = False,
    overwrite: bool = False,
    caller: str = "check_run_dir",
) -> Path:
    """Refuse a run folder a run may not write into; reads only, changes nothing.

    Args:
        out_dir: the run folder.
        resume: the run in ``out_dir`` is continued: its ``last/`` must hold a checkpoint
            (also one a crash left between the renames of a save).
        overwrite: the run in ``out_dir`` is replaced: allowed when its ``best/`` and
            ``last/`` (if any) are checkpoints; other files are kept.
        caller: the function or command named in errors (e.g. ``"align train"``).

    Returns:
        ``out_dir`` as a path.

    Raises:
        InvalidParameterError: ``out_dir`` is a file; both ``resume`` and ``overwrite``;
            a non-empty folder without either; ``overwrite`` where ``best``/``last`` is
            not a checkpoint.
        DataNotFoundError: ``resume`` without a checkpoint in ``out_dir/last``.
    """
    out_dir = Path(out_dir)
    if resume and overwrite:
        raise InvalidParameterError(
            f"{caller}: resume=True and overwrite=True exclude each other (continue the run "
            f"in {out_dir} or replace it)"
        )
    if out_dir.exists() and not out_dir.is_dir():
        raise InvalidParameterError(f"{caller}: out_dir {out_dir} is a file, not a folder")
    if resume:
        try:
            find_checkpoint(out_dir / LAST)
        except DataNotFoundError:
            raise DataNotFoundError(
                f"{caller}: resume=True but {out_dir / LAST} holds no checkpoint"
            ) from None
    elif overwrite:
        _check_replaceable(out_dir, caller)
    elif out_dir.is_dir() and any(out_dir.iterdir()):
        names = sorted(p.name for p in out_dir.iterdir())
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise InvalidParameterError(
            f"{caller}: refusing to write into {out_dir}: it holds {len(names)} entries "
            f"({shown}); pass resume=True to continue the run in it, overwrite=True to "
            "replace that run, or choose a new or empty folder"
        )
    return out_dir


def claim_run_dir(
    out_dir: str | Path,
    *,
    resume: bool = False,
    overwrite: bool = False,
    caller: str = "claim_run_dir",
) -> Path:
    """Check ``out_dir`` (:func:`check_run_dir`), then make it ready for the run.

    Creates a new folder; when resuming, finishes a save a crash interrupted and removes
    the hidden folders killed saves left; when overwriting, removes the previous run's
    ``best/``, ``last/`` (and their hidden folders), ``metrics.csv``,
    ``train_config.json`` and TensorBoard event files, nothing else.

    A command (e.g. ``align train --out DIR``) calls this before it writes its own files
    into ``DIR``, then trains with ``fit(..., resume=resume, overwrite=not resume)``:
    the folder it claimed then holds only the command's files.

    Raises:
        InvalidParameterError, DataNotFoundError: as :func:`check_run_dir`; nothing on
            disk has changed then.
    """
    out_dir = check_run_dir(out_dir, resume=resume, overwrite=overwrite, caller=caller)
    _claim(out_dir, resume=resume, overwrite=overwrite)
    return out_dir


def prepare_run_dir(
    config: TrainConfig, *, resume: bool, overwrite: bool, ctx: DistContext
) -> Path | None:
    """``fit``'s run folder: checked on every rank, then claimed by the main one."""
    if config.out_dir is None:
        if resume:
            raise InvalidParameterError("fit: resume=True needs config.out_dir (the run folder)")
        return None
    out_dir = check_run_dir(config.out_dir, resume=resume, overwrite=overwrite, caller="fit")
    barrier(ctx)  # every rank has looked before the main one writes
    if ctx.is_main:
        _claim(out_dir, resume=resume, overwrite=overwrite)
        config.to_json(out_dir / TRAIN_CONFIG)
    barrier(ctx)
    if resume:
        _warn_if_config_changed(config, out_dir / LAST)
    return out_dir


def run_checkpoint(out_dir: Path) -> Path:
    """The checkpoint a finished run points to: ``best/`` when it exists, else ``last/``."""
    best = resolve(out_dir / BEST)
    return out_dir / BEST if best is not None and (best / CONFIG).is_file() else out_dir / LAST


def _claim(out_dir: Path, *, resume: bool, overwrite: bool) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in (BEST, LAST):
        if resume:
            recover(out_dir / name)
        elif overwrite:
            for _, _, folder in protocol_folders(out_dir / name):
                shutil.rmtree(folder)
            if (out_dir / name).is_dir():
                shutil.rmtree(out_dir / name)
    if overwrite:
        for name in (METRICS, TRAIN_CONFIG):
            (out_dir / name).unlink(missing_ok=True)
        board = out_dir / TENSORBOARD
        for event in board.glob(f"{_EVENTS}*") if board.is_dir() else ():
            event.unlink()


def _check_replaceable(out_dir: Path, caller: str) -> None:
    """``overwrite`` removes ``best/`` and ``last/``: only when they are checkpoints."""
    for name in (BEST, LAST):
        folder = out_dir / name
        if folder.exists() and not _is_checkpoint(folder):
            raise InvalidParameterError(
                f"{caller}: overwrite=True would delete {folder}, which is not a medmodal "
                "checkpoint; move it away or choose another out_dir"
            )


def _is_checkpoint(folder: Path) -> bool:
    try:
        record = json.loads((folder / CONFIG).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and record.get("format") == FORMAT


def _warn_if_config_changed(config: TrainConfig, last: Path) -> None:
    saved_config = read_train_config(last)
    if saved_config is None:
        return
    saved, new = saved_config.to_dict(), config.to_dict()
    changed = [k for k in new if k not in _COSMETIC and saved.get(k) != new[k]]
    if changed:
        warnings.warn(
            f"fit: resuming with a different {', '.join(changed)} than the saved run; "
            "the result will not match an uninterrupted run",
            MedmodalWarning,
            stacklevel=4,
        )
