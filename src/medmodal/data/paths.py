"""Where data sets live: the ``MEDMODAL_DATA`` setting.

The data root is, in order: the ``root`` argument, the ``MEDMODAL_DATA`` environment
variable, ``../shared/data`` relative to the current directory (or to the source
checkout) when it exists. Nothing is ever downloaded.

An entry point (``medmodal demo``, the report) resolves it once into a :class:`DataRoot`
(the absolute folder and the data sets found there) and passes that down: it is a path
(``os.PathLike``), so every loader's ``root=`` takes it, and :func:`data_root` hands its
folder back as it is instead of resolving again.

Example:
    >>> import os
    >>> from medmodal.data.paths import DataRoot, data_root
    >>> str(data_root("/tmp/somewhere"))
    '/tmp/somewhere'
    >>> root = DataRoot.find("/tmp/somewhere")
    >>> data_root(root) is root.path, root.has("mitdb")
    (True, False)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
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


@dataclass(frozen=True)
class DataRoot:
    """A data root resolved once: its absolute folder and the data sets found there.

    Attributes:
        path: the folder (absolute).
        datasets: names (keys of ``DATASET_DIRS``) of the data sets under it.
    """

    path: Path
    datasets: frozenset[str]

    @classmethod
    def find(cls, root: PathLike | None = None) -> DataRoot:
        """Resolve ``root`` (see :func:`data_root`) and look once for every data set."""
        if isinstance(root, DataRoot):
            return root
        path = _resolve(root).absolute()
        found = frozenset(name for name, sub in DATASET_DIRS.items() if (path / sub).is_dir())
        return cls(path, found)

    def has(self, name: str) -> bool:
        """Whether data set ``name`` (e.g. ``"mitdb"``) was found under the root."""
        return name in self.datasets

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return str(self.path)


def data_root(root: PathLike | None = None) -> Path:
    """The data root folder (it may not exist; see :func:`dataset_dir`); the folder of a
    :class:`DataRoot` as it is."""
    if isinstance(root, DataRoot):
        return root.path
    return _resolve(root)


def _resolve(root: PathLike | None) -> Path:
    """The argument, else ``MEDMODAL_DATA``, else ``../shared/data`` where it exists."""
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
    if isinstance(root, DataRoot):
        return root.has(name)
    try:
        dataset_dir(name, root)
    except DataNotFoundError:
        return False
    return True
