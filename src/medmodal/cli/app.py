"""The root Typer application; each command group lives in its own module."""

from __future__ import annotations

from typing import Annotated

import typer

import medmodal
from medmodal.cli import align, demo, ecg, ecg_batch, fusion, models, serve
from medmodal.cli._common import STATE

app = typer.Typer(
    name="medmodal",
    help="medmodal: multimodal medical AI toolkit (ECG, alignment, fusion).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
)
ecg.app.command("batch")(ecg_batch.batch)
app.add_typer(ecg.app, name="ecg")
app.add_typer(align.app, name="align")
app.add_typer(models.app, name="models")
app.add_typer(fusion.app, name="fusion")
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"medmodal {medmodal.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show full tracebacks on errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """medmodal: multimodal medical AI toolkit."""
    STATE["verbose"] = verbose


def run() -> None:
    """Run the CLI."""
    app()
