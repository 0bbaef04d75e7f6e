"""A local stand-in for the official Goldback exchange-rate page (demo, tests).

The pages under `samples/goldback/` are the layouts the scraper must read: a table of all
denominations (`table`), a table of denominations without G1 (`denominations`), a sentence
"1 Goldback = $10.06" among other dollar amounts (`prose`), and a page that fills the rate with
JavaScript after loading (`js`, like the real site). Placeholders `%%G1%%`, `%%G5%%`, … and
`%%DATE%%` are filled with the rate the test asks for; every layout is served at
`/exchange-rates/<layout>` (and with a trailing slash) by the sample-site server, so its rules
(status, delay) apply.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from staktrakr.catalogue import GOLDBACK_DENOMINATIONS
from staktrakr.extract.money import round2
from staktrakr.timeutil import utcnow
from .server import Rule, SampleSites, SiteConfig

PAGES = Path(str(resources.files("staktrakr_samples").joinpath("goldback")))
LAYOUTS = ("table", "denominations", "prose", "js")
SAMPLE_G1_USD = 10.06  # the official rate of 2026-03-15 (tests/fixtures/live-api)
RATE_JSON = "/exchange-rates/rate.json"


def denomination_values(g1_usd: float) -> dict[str, float]:
    """What the official page lists for each denomination at a G1 rate."""
    return {denom: round2(g1_usd * units) for denom, (units, _label, _gold) in GOLDBACK_DENOMINATIONS.items()}


def render_page(layout: str, g1_usd: float = SAMPLE_G1_USD, values: Mapping[str, float] | None = None, day: str | None = None) -> str:
    """The page of `layout` at this rate; `values` overrides single denominations (e.g. a typo)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown Goldback page layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    html = (PAGES / f"{layout}.html").read_text(encoding="utf-8")
    filled = denomination_values(g1_usd) | dict(values or {})
    for denom, value in filled.items():
        html = html.replace(f"%%{denom.upper()}%%", f"{value:,.2f}")
    return html.replace("%%DATE%%", day or utcnow().strftime("%B %-d, %Y"))


class GoldbackSite(SampleSites):
    """`with GoldbackSite() as site:` then GOLDBACK_URL=site.rate_url("table")."""

    def __init__(
        self,
        g1_usd: float = SAMPLE_G1_USD,
        *,
        values: Mapping[str, float] | None = None,
        rules: dict[str, Rule] | None = None,
        port: int = 0,
    ):
        # With and without the trailing slash: the config strips it from GOLDBACK_URL.
        pages = {}
        for layout in LAYOUTS:
            pages[f"/exchange-rates/{layout}"] = pages[f"/exchange-rates/{layout}/"] = render_page(layout, g1_usd, values)
        pages[RATE_JSON] = json.dumps({"g1": g1_usd, "denominations": denomination_values(g1_usd) | dict(values or {})})
        super().__init__(SiteConfig(root=PAGES, pages=pages, rules=dict(rules or {})), port=port)

    def rate_url(self, layout: str = "table") -> str:
        if layout not in LAYOUTS:
            raise ValueError(f"unknown Goldback page layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
        return self.url(f"exchange-rates/{layout}/")

    def hits(self, layout: str = "table") -> int:
        return sum(self.config.hits.get(f"/exchange-rates/{layout}{end}", 0) for end in ("", "/"))


@contextmanager
def running_goldback_site(g1_usd: float = SAMPLE_G1_USD) -> Iterator[GoldbackSite]:
    site = GoldbackSite(g1_usd).start()
    try:
        yield site
    finally:
        site.stop()
