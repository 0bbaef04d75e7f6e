"""`staktrakr providers …`: read the providers in force and edit the database copy."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from .context import CommandContext, console, err_console, pass_context, pull_first, warn


@click.group()
def providers() -> None:
    """Inspect the providers (which dealer pages are crawled for which coin)."""


@providers.command("list")
@click.option("--coin", "coins", multiple=True, help="Only this coin slug (repeatable).")
@click.option("--vendor", "dealers", multiple=True, help="Only this dealer id (repeatable).")
@click.option("--all", "show_all", is_flag=True, help="Also list disabled entries.")
@pass_context
def providers_list(ctx: CommandContext, coins: tuple[str, ...], dealers: tuple[str, ...], show_all: bool) -> None:
    """Print a table of coin x dealer URLs."""
    from ..providers import resolve_providers
    from ..store import open_database

    with open_database(ctx.config) as db:
        provider_set = resolve_providers(ctx.config, db)
    table = Table("coin", "metal", "oz", "dealer", "enabled", "url(s)", title=f"providers from {provider_set.source}")
    rows = 0
    for slug, by_dealer in provider_set.listings.items():
        if coins and slug not in coins:
            continue
        coin = provider_set.coins[slug]
        for dealer, listing in by_dealer.items():
            if dealers and dealer not in dealers:
                continue
            if not listing.active and not show_all:
                continue
            table.add_row(slug, coin.metal.value, f"{coin.weight_oz:g}", dealer, "yes" if listing.active else "no", "\n".join(listing.urls) or "-")
            rows += 1
    console.print(table)
    console.print(f"{rows} listing(s), {len(provider_set.targets())} enabled targets in total")


def _edit_providers(ctx: CommandContext, edit: Callable[[dict[str, Any]], Any]) -> None:
    """Apply an edit to the database copy (seeded from the providers in force when empty),
    validate it like a file, store it and push it so every poller uses it on its next run."""
    from ..providers import resolve_providers
    from ..store import open_database
    from ..store.provider_tables import load_providers_rich, save_providers
    from ..sync import push_or_warn

    database = open_database(ctx.config)
    pull_first(database)
    rich = load_providers_rich(database) or resolve_providers(ctx.config, database).rich()
    edited = edit(rich)
    coins, listings = save_providers(database, edited.rich())
    console.print(f"stored {coins} coins, {listings} listings in {ctx.config.STAKTRAKR_DB}")
    if push_or_warn(database, warn, then="the edit is queued and goes out with the next push"):
        console.print("pushed: both pollers use it on their next run")
    if ctx.config.STAKTRAKR_PROVIDERS:
        err_console.print("note: STAKTRAKR_PROVIDERS is set here, so this machine keeps using that file", markup=False)


@providers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_context
def providers_import(ctx: CommandContext, file: Path) -> None:
    """Validate FILE (flat or rich form) and store it in the database."""
    from ..providers import load_providers_file

    imported = load_providers_file(file)
    _edit_providers(ctx, lambda rich: _merge(rich, imported))


def _merge(rich: dict[str, Any], imported: Any) -> Any:
    from ..providers import parse_providers

    rich["coins"].update(imported.rich()["coins"])
    return parse_providers(rich, "imported providers")


@providers.command("export")
@click.option("--flat", is_flag=True, help="The public flat form {slug: {dealer: url}}.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file instead of stdout.")
@pass_context
def providers_export(ctx: CommandContext, flat: bool, out_file: Path | None) -> None:
    """Print the providers in force (rich form by default)."""
    from ..providers import resolve_providers
    from ..store import open_database

    with open_database(ctx.config) as database:
        provider_set = resolve_providers(ctx.config, database)
    text = json.dumps(provider_set.flat() if flat else provider_set.rich(), indent=2, ensure_ascii=False) + "\n"
    if out_file:
        out_file.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out_file} (from {provider_set.source})")
    else:
        click.echo(text, nl=False)


@providers.command("set-url")
@click.argument("coin")
@click.argument("dealer", metavar="VENDOR")
@click.argument("urls", nargs=-1, required=True)
@pass_context
def providers_set_url(ctx: CommandContext, coin: str, dealer: str, urls: tuple[str, ...]) -> None:
    """Set the URL of COIN at VENDOR; several URLs are tried in order."""
    from ..providers import edit_set_urls

    _edit_providers(ctx, lambda rich: edit_set_urls(rich, coin, dealer, list(urls)))


@providers.command("enable")
@click.argument("coin")
@click.argument("dealer", metavar="VENDOR")
@pass_context
def providers_enable(ctx: CommandContext, coin: str, dealer: str) -> None:
    """Crawl COIN at VENDOR again."""
    from ..providers import edit_enabled

    _edit_providers(ctx, lambda rich: edit_enabled(rich, coin, dealer, True))


@providers.command("disable")
@click.argument("coin")
@click.argument("dealer", metavar="VENDOR")
@pass_context
def providers_disable(ctx: CommandContext, coin: str, dealer: str) -> None:
    """Stop crawling COIN at VENDOR (the listing and its URLs are kept)."""
    from ..providers import edit_enabled

    _edit_providers(ctx, lambda rich: edit_enabled(rich, coin, dealer, False))


@providers.command("add-coin")
@click.argument("slug")
@click.option("--name", help="Display name (default: from the catalogue).")
@click.option("--metal", type=click.Choice(["silver", "gold", "platinum", "palladium", "goldback"]), help="Metal (default: from the catalogue).")
@click.option("--weight", "weight_oz", type=float, help="Troy ounces (Goldbacks: G units).")
@pass_context
def providers_add_coin(ctx: CommandContext, slug: str, name: str | None, metal: str | None, weight_oz: float | None) -> None:
    """Add a coin (then give it dealer URLs with set-url)."""
    from ..providers import edit_add_coin

    _edit_providers(ctx, lambda rich: edit_add_coin(rich, slug, name, metal, weight_oz))
