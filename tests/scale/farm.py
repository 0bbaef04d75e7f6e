"""A synthetic dealer farm for the scale-out test and benchmark: many dealers on the sample
server, their pages copied from sample pages with known answers, a few of them script-rendered
(read only in the browser), and the dealer plugin that describes them (a crawl refuses dealers no
plugin describes), installed as pip would: a module and a dist-info with the entry point."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from staktrakr.catalogue import catalogue_coin
from staktrakr_samples.server import SITES, load_truth
from staktrakr_samples.storefront import script_rendered

# Sample dealers with a known in-stock price for both coins; their pages read the same under
# another dealer id (the generic profile).
TEMPLATE_DEALERS = ("apmex", "herobullion", "providentmetals", "gainesvillecoins")
COINS = ("ase", "age")


@dataclass
class Farm:
    dealers: list[str]
    browser_dealers: list[str]
    pages: dict[str, str] = field(default_factory=dict)  # path -> HTML, for SiteConfig.pages
    expected: dict[tuple[str, str], float] = field(default_factory=dict)  # (coin, dealer) -> price
    paths: dict[tuple[str, str], str] = field(default_factory=dict)  # (coin, dealer) -> path

    def providers(self, base_url: str) -> dict[str, Any]:
        coins: dict[str, Any] = {}
        for (slug, dealer), path in sorted(self.paths.items()):
            coin = catalogue_coin(slug)
            assert coin is not None
            slot = coins.setdefault(slug, {"name": coin.name, "metal": coin.metal.value, "weight_oz": coin.weight_oz, "providers": []})
            slot["providers"].append({"id": dealer, "enabled": True, "url": f"{base_url}{path}"})
        return {"coins": coins}

    def plugin(self, folder: Path) -> str:
        """The farm's dealer plugin; returns the folder to put on PYTHONPATH."""
        folder.mkdir(parents=True, exist_ok=True)
        profiles = [{"id": d, "name": d, "browser": True if d in self.browser_dealers else None} for d in self.dealers]
        (folder / "staktrakr_scale_farm.py").write_text(
            "from staktrakr.hookspecs import hookimpl\n"
            "from staktrakr.models import DealerProfile\n\n\n"
            "@hookimpl\n"
            "def staktrakr_dealer_profiles():\n"
            f"    return [DealerProfile(**p) for p in {profiles!r}]\n",
            encoding="utf-8",
        )
        info = folder / "staktrakr_scale_farm-1.0.dist-info"
        info.mkdir(exist_ok=True)
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: staktrakr-scale-farm\nVersion: 1.0\n", encoding="utf-8")
        (info / "entry_points.txt").write_text("[staktrakr]\nscale_farm = staktrakr_scale_farm\n", encoding="utf-8")
        return str(folder)


def build_farm(dealers: int, browser_dealers: int, render_ms: int = 300) -> Farm:
    """`dealers` dealers (the last `browser_dealers` script-rendered) x the two coins."""
    truth = {(e["coin"], e["dealer"]): e for e in load_truth()}
    names = [f"farm{i + 1:03d}" for i in range(dealers)]
    farm = Farm(dealers=names, browser_dealers=names[dealers - browser_dealers :])
    for n, dealer in enumerate(names):
        template = TEMPLATE_DEALERS[n % len(TEMPLATE_DEALERS)]
        for slug in COINS:
            source = truth[(slug, template)]
            html = (SITES / source["path"]).read_text(encoding="utf-8")
            if dealer in farm.browser_dealers:
                html = script_rendered(html, render_ms)
            path = f"/{dealer}/{slug}.html"
            farm.pages[path] = html
            farm.paths[(slug, dealer)] = path
            farm.expected[(slug, dealer)] = source["expected"]["price"]
    return farm
