"""The root Typer application; command groups are added from their own modules."""

from __future__ import annotations

import typer

import medmodal

app = typer.Typer(
    name="medmodal",
    help="medmodal: multimodal medical AI toolkit (ECG, alignment, fusion).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"medmodal {medmodal.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """medmodal: multimodal medical AI toolkit."""


def run() -> None:
    """Run the CLI."""
    app()
