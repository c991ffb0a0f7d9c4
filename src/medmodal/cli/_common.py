"""What every command shares: option definitions, console, one-line error handling."""

from __future__ import annotations

import contextlib
import functools
import io
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from medmodal.errors import InvalidParameterError, MedmodalError
from medmodal.jsonsafe import dumps

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
err_console = Console(stderr=True)

#: Global flags set by the root callback.
STATE: dict[str, bool] = {"verbose": False}

DataRootOption = Annotated[
    Path | None,
    typer.Option("--data-root", help="Folder holding the data sets (default: $MEDMODAL_DATA)."),
]
OutOption = Annotated[Path, typer.Option("--out", "-o", help="Output folder.")]
SeedOption = Annotated[int, typer.Option("--seed", help="Random seed.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or tables.")]
#: ``--out`` where a command writes one file of results (optional).
OutFileOption = Annotated[
    Path | None, typer.Option("--out", "-o", help="Also write the results (JSON) to this file.")
]
#: ``--out`` where a command writes a folder of results (optional).
OutDirOption = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Write the results (tables, figures) into this folder."),
]
#: ``--overwrite``: the one way to write into an output that exists (see :func:`check_out_dir`).
OverwriteOption = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Write into an existing non-empty --out (files of the same name are replaced, "
        "nothing else is deleted); without it such an --out is refused and left as it is.",
    ),
]
ThreadsOption = Annotated[int, typer.Option("--threads", help="torch CPU threads.")]
CheckpointOption = Annotated[
    Path, typer.Option("--checkpoint", help="Run folder (from align train) or checkpoint folder.")
]


@contextlib.contextmanager
def silenced(enabled: bool = True) -> Iterator[None]:
    """Swallow what the block prints (stdout and stderr) when ``enabled``.

    Errors still reach the user: they propagate as exceptions, which
    :func:`handle_errors` prints after the block has ended.
    """
    if not enabled:
        yield
        return
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield


def write_json(path: Path, payload: Any) -> None:
    """Write ``payload`` as strict JSON (NaN becomes null) to ``path``, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(payload) + "\n", encoding="utf-8")


def check_out_dir(folder: Path, *, overwrite: bool, caller: str) -> Path:
    """Refuse an output folder a command may not write into; reads only, changes nothing.

    A folder output must be new or empty, or the user passed ``--overwrite``; a path that
    is a file is always refused. Commands call this before they compute or write anything.

    Raises:
        InvalidParameterError: ``folder`` is a file, or a non-empty folder without
            ``overwrite``.
    """
    if folder.exists() and not folder.is_dir():
        raise InvalidParameterError(f"{caller}: --out {folder} is a file, not a folder")
    if not overwrite and folder.is_dir() and any(folder.iterdir()):
        names = sorted(p.name for p in folder.iterdir())
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        raise InvalidParameterError(
            f"{caller}: --out {folder} is not empty ({len(names)} entries: {shown}); "
            "pass --overwrite to write into it anyway, or choose a new or empty folder"
        )
    return folder


def check_out_files(files: list[Path], *, overwrite: bool, caller: str) -> None:
    """Refuse output files that exist (unless ``overwrite``) or are folders; reads only.

    Raises:
        InvalidParameterError: one of ``files`` is a folder, or exists without ``overwrite``.
    """
    for file in files:
        if file.is_dir():
            raise InvalidParameterError(f"{caller}: output {file} is a folder, not a file")
    existing = [str(f) for f in files if f.exists()]
    if existing and not overwrite:
        raise InvalidParameterError(
            f"{caller}: {', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; "
            "pass --overwrite to replace, or choose another --out"
        )


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn any error into one line on stderr and a non-zero exit (details with --verbose).

    medmodal's own errors (bad input, missing data) exit with code 2; anything else is a
    bug and exits with code 1.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            err_console.print("interrupted")
            raise typer.Exit(130) from None
        except Exception as exc:
            if STATE["verbose"]:
                err_console.print_exception()
            kind = (
                "error"
                if isinstance(exc, MedmodalError)
                else f"internal error ({type(exc).__name__})"
            )
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            message = in_cli_words(message)
            err_console.print(
                f"[red]{kind}:[/red] {message}", markup=True, highlight=False, soft_wrap=True
            )
            raise typer.Exit(2 if isinstance(exc, MedmodalError) else 1) from None

    return wrapper


#: Library keyword arguments an error may name, as the CLI flag that sets them.
CLI_FLAGS = {"sampling_rate": "--sampling-rate"}


def in_cli_words(message: str) -> str:
    """An error message with the library's keywords as CLI flags: ``pass sampling_rate=``
    becomes ``pass --sampling-rate HZ`` and ``sampling_rate=360 Hz`` ``--sampling-rate 360
    Hz``.

    Example:
        >>> in_cli_words("203.csv does not store a sampling rate; pass sampling_rate=")
        '203.csv does not store a sampling rate; pass --sampling-rate HZ'
    """
    for keyword, flag in CLI_FLAGS.items():
        message = re.sub(rf"\b{keyword}=(?=\s|$|;|,|\))", f"{flag} HZ", message)
        message = re.sub(rf"\b{keyword}=", f"{flag} ", message)
        message = re.sub(rf"(?<![-\w]){keyword}\b", flag, message)
    return message


def print_json(payload: Any) -> None:
    """Write ``payload`` as strict JSON to stdout (NaN becomes null)."""
    sys.stdout.write(dumps(payload) + "\n")
