"""The ``medmodal`` command line (Typer + Rich): thin adapters over the library."""

from __future__ import annotations


def main() -> None:
    """Entry point of the ``medmodal`` command."""
    from medmodal.cli.app import run

    run()
