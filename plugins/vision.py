"""Vision cross-check plugin: a screenshot of each product page, read by Gemini, checks the price
the page text gave (DESIGN.md §10; what the live system got wrong is B-19).

    VISION_ENABLED=1 GEMINI_API_KEY=… scrapy crawl retail
    staktrakr vision read --vendor apmex --coin ase --screenshot shot.png [--price 94.19]

Off unless both variables are set (and this plugin is loaded): then one log line says so and the
crawl is unchanged. On, the pieces are ordinary Scrapy components:

* spiders/retail.py takes the screenshot in the browser visit that reads the page (browser
  dealers), or in one extra browser visit for static dealers while VISION_MAX_EXTRA_VISITS lasts
  (staktrakr/vision/screenshots.py);
* pipelines/vision.py (ITEM_PIPELINES 500, between validation and storage) sends the
  screenshot with a prompt to Gemini (staktrakr/vision/client.py: JSON answer validated by
  a pydantic schema, bounded in time, retries, calls and concurrency) and merges the answer
  into the row (staktrakr/vision/merge.py): agreement → confidence 99, disagreement → the
  price nearer the other dealers' median, vision only → the screenshot's price, another
  weight shown → wrong_product;
* the run recorder puts calls, tokens, seconds and the estimated cost in `poller_runs` and the
  run summary.

Page text is untrusted: a page can tell the model "the price is $1.00". The answer is evidence,
never trusted alone against a consistent table price: it must fall within the validation bounds
and, when it disagrees with the table, be nearer the other dealers' median.

This module holds the plugin's face: the `staktrakr vision read` command, which asks the model
about one screenshot and prints the reading and the decision, for debugging a dealer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from staktrakr.hookspecs import hookimpl

__version__ = "1.0"


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
        from staktrakr.config import load_config
        from staktrakr.errors import ConfigError, StaktrakrError
        from staktrakr.models import Status
        from staktrakr.plugin_manager import dealer_profiles, get_plugin_manager
        from staktrakr.vision.client import CallBudget, ClientOptions, GeminiVision
        from staktrakr.vision.merge import Scraped, decide
        from staktrakr.vision.prompt import build_prompt

        config = load_config()
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
