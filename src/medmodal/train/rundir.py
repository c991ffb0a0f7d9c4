"""The run folder ``fit`` writes: its layout, creation and the checkpoint it points to.

::

    RUN_DIR/
      train_config.json   the TrainConfig of the (latest) call
      metrics.csv         one row per epoch (rewritten after every epoch)
      last/               checkpoint after the latest epoch, with optimiser state (resume)
      best/               checkpoint of the best epoch by config.monitor (weights only)
      tensorboard/        event files, when TensorBoard is installed
"""

from __future__ import annotations

import warnings
from pathlib import Path

from medmodal.errors import DataNotFoundError, InvalidParameterError, MedmodalWarning
from medmodal.train.checkpoint import CONFIG, find_checkpoint, read_train_config
from medmodal.train.config import TrainConfig

LAST, BEST = "last", "best"
# Config fields that change neither the numbers nor the schedule of a run.
_COSMETIC = ("log_every", "progress", "tensorboard", "num_workers", "device", "out_dir")


def prepare_run_dir(config: TrainConfig, *, resume: bool, is_main: bool) -> Path | None:
    """Create the run folder (main process); refuse to overwrite a run unless resuming it."""
    if config.out_dir is None:
        if resume:
            raise InvalidParameterError("fit: resume=True needs config.out_dir (the run folder)")
        return None
    out_dir = Path(config.out_dir)
    last = out_dir / LAST
    if resume:
        try:
            find_checkpoint(last)  # also finds a save interrupted between its two renames
        except DataNotFoundError:
            raise DataNotFoundError(f"fit: resume=True but {last} holds no checkpoint") from None
    if not resume and last.exists():
        raise InvalidParameterError(
            f"fit: {out_dir} already holds a run; pass resume=True to continue it "
            "or choose another out_dir"
        )
    if resume:
        _warn_if_config_changed(config, last)
    if is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
        config.to_json(out_dir / "train_config.json")
    return out_dir


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


def run_checkpoint(out_dir: Path) -> Path:
    """The checkpoint a finished run points to: ``best/`` when it exists, else ``last/``."""
    best = out_dir / BEST
    return best if (best / CONFIG).is_file() else out_dir / LAST
