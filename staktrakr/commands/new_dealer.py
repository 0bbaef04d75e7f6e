"""`staktrakr new-dealer`: the skeleton of a dealer plugin, a fixture page and a passing test."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("new-dealer")
@click.argument("name")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True, help="Repository root to write into.")
def new_dealer_command(name: str, root: Path) -> None:
    """Write a dealer plugin skeleton, a fixture page and a passing test."""
    from ..scaffold import new_dealer

    for path in new_dealer(name, root):
        click.echo(f"wrote {path}")
    click.echo(f"next: save a real product page next to the fixture, then run pytest tests/dealers/test_{name}.py")
