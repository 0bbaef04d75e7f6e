"""Plugin hook specifications. Built-in features (dealers, feeds, publishing) use them too."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from .models import Coin, DealerProfile, ExtractionResult, Target
    from .extract.page import Page

hookspec = pluggy.HookspecMarker("staktrakr")
hookimpl = pluggy.HookimplMarker("staktrakr")


@hookspec
def staktrakr_dealer_profiles() -> list[DealerProfile]:
    """Called when the crawler starts; return the DealerProfile(s) this plugin provides."""


@hookspec(firstresult=True)
def staktrakr_extract_price(page: Page, target: Target, profile: DealerProfile) -> ExtractionResult | None:
    """Called before the generic chain for each page; return a result to override it, or None."""


@hookspec
def staktrakr_spiders() -> list[type]:
    """Called by the spider loader; return extra Scrapy spider classes (e.g. `spot`, `goldback`)."""


@hookspec(firstresult=True)
def staktrakr_price_bounds(coin: Coin, db: Any, now: str, settings: Any) -> tuple[float, float, str] | None:
    """Called by validation per item; return (low, high, basis) to replace the static bounds, or None."""


@hookspec
def staktrakr_validate_item(item: dict[str, Any], coin: Coin) -> str | None:
    """Called by validation after the bounds check; return a rejection reason, or None to accept."""


@hookspec
def staktrakr_export_files(db: Any, as_of: str, coins: dict[str, Coin]) -> dict[str, Any] | None:
    """Called by `staktrakr export`; return {relative path: JSON value} of extra files to write."""


@hookspec
def staktrakr_publish(data_dir: str, manifest: dict[str, Any], config: Any) -> str | None:
    """Called by `staktrakr publish` after the export; publish the data root, return a summary line."""


@hookspec
def staktrakr_run_finished(run: dict[str, Any]) -> None:
    """Called when a crawl's poller_runs row has been written, with that row."""


@hookspec
def staktrakr_cli_commands(cli: click.Group) -> None:
    """Called when the CLI is built; add click commands to the `staktrakr` group."""
