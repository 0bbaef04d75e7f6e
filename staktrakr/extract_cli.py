"""`staktrakr extract`: run the extraction chain on one page and explain the decision."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .config import Config
from .errors import StaktrakrError
from .extract import Page, extract
from .models import Coin, ExtractionResult, Target
from .plugin_manager import get_plugin_manager, dealer_profiles, default_profile


def extract_file(config: Config, coin: Coin, vendor: str, path: Path) -> ExtractionResult:
    pm = get_plugin_manager(config)
    profile = dealer_profiles(pm).get(vendor) or default_profile(vendor)
    try:
        html = path.read_bytes()
    except OSError as exc:
        raise StaktrakrError(f"cannot read {path}: {exc.strerror or exc}") from None
    uri = path.resolve().as_uri()
    page = Page(html, url=uri, tail_markers=profile.tail_markers)
    return extract(page, Target(coin=coin, vendor=vendor, urls=(uri,)), profile, pm=pm)


def extract_url(coin: Coin, vendor: str, url: str, settings_overrides: dict[str, Any] | None = None) -> ExtractionResult:
    """Download `url` exactly like the crawl does (politeness, browser for dealers that need it,
    re-fetch with the browser when the page renders its price client-side), then extract."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from staktrakr.spiders.retail import RetailSpider

    captured: list[ExtractionResult] = []

    class ExtractOneSpider(RetailSpider):
        name = "extract-one"

        def load_targets(self) -> list[Target]:
            return [Target(coin=coin, vendor=vendor, urls=(url,))]

        def outcome(self, target: Target, meta: dict, url: str, result: ExtractionResult, *, http_status: int | None) -> Any:
            if meta.get("browser"):
                result.steps.append("downloaded with the browser")
            captured.append(result)
            return iter(())

    settings = get_project_settings()
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    settings.set("EXTENSIONS", {"staktrakr.runs.RunRecorder": None, "staktrakr.sync.TursoSync": None}, priority="cmdline")
    settings.set("LOG_LEVEL", "WARNING", priority="cmdline")
    for name, value in (settings_overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    process = CrawlerProcess(settings, install_root_handler=True)
    process.crawl(ExtractOneSpider)
    process.start()
    if not captured:
        raise StaktrakrError(f"no answer from {url} (see the log above)")
    return captured[-1]
