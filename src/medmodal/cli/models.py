"""``medmodal models``: the named model configs."""

from __future__ import annotations

import typer
from rich.table import Table

from medmodal.cli._common import JsonOption, console, handle_errors, print_json

app = typer.Typer(help="Named model configs (towers, heads, embedding size).", no_args_is_help=True)


@app.command("list")
@handle_errors
def list_command(json_output: JsonOption = False) -> None:
    """List the built-in model configs with their towers."""
    from medmodal.models import get_config, list_models

    configs = [get_config(name) for name in list_models()]
    towers = [{m: str(getattr(c, m).kind) for m in c.modalities} for c in configs]
    if json_output:
        print_json(
            [
                {"name": c.name, "embed_dim": c.embed_dim, "towers": t}
                for c, t in zip(configs, towers, strict=True)
            ]
        )
        return
    table = Table(title="medmodal models")
    for column in ("name", "towers", "embed_dim"):
        table.add_column(column)
    for config, tower in zip(configs, towers, strict=True):
        text = ", ".join(f"{m}: {k}" for m, k in tower.items())
        table.add_row(config.name, text, str(config.embed_dim))
    console.print(table)
