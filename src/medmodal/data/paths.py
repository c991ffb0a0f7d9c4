"""Where data sets live: the ``MEDMODAL_DATA`` setting.

The data root is, in order: the ``root`` argument, the ``MEDMODAL_DATA`` environment
variable, ``../shared/data`` relative to the current directory (or to the source
checkout) when it exists. Nothing is
ever downloaded.

Example:
    >>> import os
    >>> from medmodal.data.paths import data_root
    >>> str(data_root("/tmp/somewhere"))
    '/tmp/somewhere'
"""

from __future__ import annotations

import os
from pathlib import Path

from medmodal.errors import DataNotFoundError
from medmodal.types import PathLike

ENV_VAR = "MEDMODAL_DATA"
DEFAULT_RELATIVE = Path("..") / "shared" / "data"
# The project checkout when medmodal runs from source (src/medmodal/data/paths.py).
_CHECKOUT = Path(__file__).resolve().parents[3]

#: Folder name of each data set under the data root.
DATASET_DIRS = {
    "mitdb": "mitdb",
    "ptbxl": "ptbxl-500",
    "medpix": "medpix2-256",
    "qtdb": "qtdb",
}


def data_root(root: PathLike | None = None) -> Path:
    """The data root folder (it may not exist; see :func:`dataset_dir`)."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    candidates = [Path.cwd() / DEFAULT_RELATIVE, _CHECKOUT / DEFAULT_RELATIVE]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    return candidates[0].resolve()


def dataset_dir(name: str, root: PathLike | None = None) -> Path:
    """Folder of data set ``name`` (e.g. ``"mitdb"``); raises if it is not there.

    Raises:
        DataNotFoundError: naming the folder where the data set belongs and how to set it.
    """
    sub = DATASET_DIRS.get(name, name)
    base = data_root(root)
    folder = base / sub
    if not folder.is_dir():
        raise DataNotFoundError(
            f"data set {name!r} not found: expected the folder {folder}. Put the data "
            f"there, or point {ENV_VAR} (or --data-root) at the folder that holds {sub}/"
        )
    return folder


def has_dataset(name: str, root: PathLike | None = None) -> bool:
    """Whether data set ``name`` is available under the data root."""
    try:
        dataset_dir(name, root)
    except DataNotFoundError:
        return False
    return True
