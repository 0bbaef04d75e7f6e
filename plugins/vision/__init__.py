"""Vision cross-check plugin: a screenshot of each product page, read by Gemini, checks the price
the page text gave (DESIGN.md §10; what the live system got wrong is B-19).

    VISION_ENABLED=1 GEMINI_API_KEY=… scrapy crawl retail
    staktrakr vision read --vendor apmex --coin ase --screenshot shot.png [--price 94.19]

Off unless both variables are set (and this plugin is loaded): then one log line says so and the
crawl is unchanged. The whole feature is this package, plugged in through hooks only:

    settings.py     its variables (staktrakr_config_fields) and VISION_* settings (staktrakr_default_settings)
    pipeline.py     ITEM_PIPELINES 500, between validation and storage (staktrakr_crawl_components):
                    sends the screenshot with a prompt to Gemini and merges the answer into the row
    visits.py       the screenshots, taken in the spider's browser visit that reads the page, or in
                    one extra browser visit for static dealers (the spider's visit signals)
    screenshots.py  the page methods that take a screenshot, the budgets, pruning old folders
    client.py       the Gemini call: JSON answer validated by schema.py, bounded in time, retries,
                    calls and concurrency
    prompt.py       the instructions sent with each screenshot
    merge.py        the decision: agreement → confidence 99, disagreement → the price nearer the
                    other dealers' median, vision only → the screenshot's price, another weight
                    shown → wrong_product
    store.py        its columns of price_snapshots and poller_runs (staktrakr_migrations)
    status.py       whether it is on

Run figures (calls, tokens, seconds, estimated cost) go to its poller_runs columns
(staktrakr_run_figures) and one line of the run summary (staktrakr_run_finished).

Page text is untrusted: a page can tell the model "the price is $1.00". The answer is evidence,
never trusted alone against a consistent table price: it must fall within the validation bounds
and, when it disagrees with the table, be nearer the other dealers' median.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from staktrakr.hookspecs import hookimpl
from staktrakr.store.migrations import Migration

from .settings import DEFAULTS, VisionSettings
from .status import PIPELINE
from .store import MIGRATIONS

__version__ = "1.0"

logger = logging.getLogger(__name__)

STATS = "staktrakr/vision"
RUN_FIGURES = ("calls", "tokens", "seconds", "cost_usd")


@hookimpl
def staktrakr_config_fields() -> type[VisionSettings]:
    return VisionSettings


@hookimpl
def staktrakr_default_settings() -> dict[str, Any]:
    return dict(DEFAULTS)


@hookimpl
def staktrakr_crawl_components() -> dict[str, dict[str, int]]:
    # Off (no VISION_ENABLED / GEMINI_API_KEY), the pipeline says so once and steps aside.
    return {"ITEM_PIPELINES": {PIPELINE: 500}}


@hookimpl
def staktrakr_migrations() -> list[Migration]:
    return list(MIGRATIONS)


@hookimpl
def staktrakr_run_figures(stats: dict[str, Any]) -> dict[str, Any] | None:
    """Calls, tokens, seconds and estimated cost on the run row; None when vision was off."""
    if not stats.get(f"{STATS}/enabled"):
        return None
    figures = {name: stats.get(f"{STATS}/{name}", 0) for name in RUN_FIGURES}
    return {
        "vision_calls": int(figures["calls"]),
        "vision_tokens": int(figures["tokens"]),
        "vision_seconds": round(float(figures["seconds"]), 3),
        "vision_cost_usd": round(float(figures["cost_usd"]), 6),
    }


@hookimpl
def staktrakr_run_finished(run: dict[str, Any], stats: dict[str, Any]) -> None:
    if run.get("vision_calls") is None:
        return
    logger.info(
        "  vision: %d calls, %d tokens, %.1f s, ~$%.4f; %d answered (%d agreed, %d disagreed, %d vision only), "
        "%d failed, %d skipped (budget)",
        run["vision_calls"], run.get("vision_tokens") or 0, run.get("vision_seconds") or 0,
        run.get("vision_cost_usd") or 0, stats.get(f"{STATS}/answered", 0), stats.get(f"{STATS}/agreed", 0),
        stats.get(f"{STATS}/disagreed", 0), stats.get(f"{STATS}/vision_only", 0), stats.get(f"{STATS}/failed", 0),
        stats.get(f"{STATS}/skipped_budget", 0),
    )  # fmt: skip


@hookimpl
def staktrakr_cli_commands(cli: Any) -> None:
    import click

    @cli.group("vision")
    def vision() -> None:
        """Vision cross-check (Gemini reads a screenshot of the product page)."""

    @vision.command("read")
    @click.option("--vendor", required=True, help="Dealer id, e.g. apmex.")
    @click.option("--coin", "slug", required=True, help="Coin slug, e.g. ase.")
    @click.option("--screenshot", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="PNG of the product page.")
    @click.option("--url", default="", help="The page's URL (named in the prompt).")
    @click.option("--price", type=float, default=None, help="The page text's price, to show the decision.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    def read(vendor: str, slug: str, screenshot: Path, url: str, price: float | None, as_json: bool) -> None:
        """Ask the model about one screenshot; print its reading and the merge decision."""
        from staktrakr.bounds import static_bounds
        from staktrakr.catalogue import catalogue_coin
        from staktrakr.config import load_section
        from staktrakr.errors import ConfigError, StaktrakrError
        from staktrakr.models import Status
        from staktrakr.plugin_manager import dealer_profiles, get_plugin_manager
        from .client import CallBudget, ClientOptions, GeminiVision
        from .merge import Scraped, decide
        from .prompt import build_prompt

        config = load_section(VisionSettings)
        if config.GEMINI_API_KEY is None:
            raise ConfigError("GEMINI_API_KEY is not set")
        coin = catalogue_coin(slug)
        if coin is None:
            raise StaktrakrError(f"unknown coin {slug!r}")
        profile = dealer_profiles(get_plugin_manager()).get(vendor)
        options = ClientOptions(base_url=config.GEMINI_BASE_URL)
        client = GeminiVision(config.GEMINI_API_KEY.get_secret_value(), options, CallBudget(1 + options.retries))
        try:
            answer = client.read(screenshot.read_bytes(), build_prompt(coin, vendor, profile.name if profile else vendor, url))
        finally:
            client.close()
        scraped = Scraped(price=price, in_stock=None if price is None else True, status=Status.ok if price else Status.no_price)
        decision = decide(scraped, answer.reading, coin, static_bounds(coin), [])
        result = {
            "reading": answer.reading.model_dump(),
            "decision": decision.model_dump(mode="json"),
            "tokens": answer.tokens,
            "seconds": answer.seconds,
        }
        if as_json:
            click.echo(json.dumps(result, indent=2))
            return
        reading = answer.reading
        click.echo(f"price {reading.price}  in stock {reading.in_stock}  weight {reading.weight!r}  ({reading.label})")
        click.echo(
            f"=> {decision.status.value} {decision.price} source {decision.source} confidence {decision.confidence}: {decision.note}"
        )
        click.echo(f"{answer.tokens} tokens in {answer.seconds:.1f} s ({answer.model})")
