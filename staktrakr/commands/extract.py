"""`staktrakr extract`: what the extraction chain decides for one page, and why."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..catalogue import catalogue_coin
from ..models import Coin
from .context import CommandContext, console, pass_context


def _coin(ctx: CommandContext, slug: str) -> Coin:
    """The catalogue's coin, else the providers' (a coin added with `providers add-coin`)."""
    from ..providers import resolve_providers
    from ..store import open_database

    coin = catalogue_coin(slug)
    if coin is None:
        with open_database(ctx.config) as database:
            coin = resolve_providers(ctx.config, database).coins.get(slug)
    if coin is None:
        raise click.BadParameter(f"unknown coin {slug!r} (not in the catalogue or the providers)", param_hint="--coin")
    return coin


@click.command("extract")
@click.option("--vendor", "dealer", required=True, help="Dealer id, e.g. apmex.")
@click.option("--coin", "coin_slug", required=True, help="Coin slug, e.g. ase.")
@click.option("--file", "file_path", type=click.Path(path_type=Path), help="A saved product page.")
@click.option("--url", help="Download this URL like the crawl does (browser for dealers that need it).")
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
@pass_context
def extract_command(ctx: CommandContext, dealer: str, coin_slug: str, file_path: Path | None, url: str | None, as_json: bool) -> None:
    """Show what the extraction chain decides for one page, and why."""
    from ..extract_cli import extract_file, extract_url

    if bool(file_path) == bool(url):
        raise click.UsageError("give exactly one of --file or --url")
    coin = _coin(ctx, coin_slug)
    result = extract_file(ctx.config, coin, dealer, file_path) if file_path else extract_url(coin, dealer, url or "")
    if as_json:
        click.echo(json.dumps(result.as_public()))
        return
    for i, step in enumerate(result.steps, 1):
        console.print(f"{i:2d}. {step}", markup=False, highlight=False)
    price = f"{result.price:.2f}" if result.price is not None else "none"
    console.print(
        f"=> status {result.status.value}, price {price}, in stock {result.in_stock}, method {result.method}, reason: {result.reason}",
        markup=False,
        highlight=False,
    )
