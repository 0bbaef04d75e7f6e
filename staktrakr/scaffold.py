"""`staktrakr new-dealer NAME`: the skeleton of a dealer plugin, a fixture page and its test."""

from __future__ import annotations

import re
from pathlib import Path

from .errors import StaktrakrError

_NAME = re.compile(r"^[a-z][a-z0-9]{1,40}$")

MODULE = '''"""{title} dealer plugin.

Describe the dealer's quirks here: where the 1-unit check/wire price is, what the page shows
when a product is out of stock, anything that fooled the generic chain.
"""

from staktrakr.hookspecs import hookimpl
from staktrakr.models import DealerProfile

PROFILE = DealerProfile(
    id="{name}",
    name="{title}",
    homepage="https://www.{name}.com",
    # browser=True,                 # pages need JavaScript to show prices
    # preorder_purchasable=True,    # "Pre-order" means you can buy it now
    # tail_markers=("You may also like",),  # cut the page where other products start
)


@hookimpl
def staktrakr_dealer_profiles() -> list[DealerProfile]:
    return [PROFILE]


# Only when the generic chain cannot read this dealer's pages:
#
# @hookimpl
# def staktrakr_extract_price(page, target, profile):
#     if profile.id != PROFILE.id:
#         return None
#     ...  # return an ExtractionResult, or None to let the generic chain decide
'''

FIXTURE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>2026 1 oz American Silver Eagle | {title}</title></head>
<body>
<header><div class="spot-ticker">Gold $5,020.10 Silver $80.60</div><nav><a href="/silver">Silver</a></nav></header>
<main>
  <h1>2026 1 oz American Silver Eagle Coin BU</h1>
  <p class="as-low-as">As low as $91.33</p>
  <table class="tier-prices">
    <tr><th>Quantity</th><th>Check/Wire</th><th>Card/PayPal</th></tr>
    <tr><td>1 - 19</td><td>$93.33</td><td>$97.21</td></tr>
    <tr><td>20+</td><td>$91.33</td><td>$95.13</td></tr>
  </table>
  <button class="add-to-cart">Add to Cart</button>
</main>
<footer>Free shipping on orders over $199</footer>
</body></html>
"""

TEST = '''"""{title}: extraction on saved product pages (tests/fixtures/dealers/{name}/)."""

from pathlib import Path

from staktrakr.plugins.dealers import {name}
from staktrakr.catalogue import catalogue_coin
from staktrakr.extract import Page, extract
from staktrakr.models import Target

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "dealers" / "{name}"


def decide(page_file: str, coin: str):
    page = Page((PAGES / page_file).read_text(encoding="utf-8"), tail_markers={name}.PROFILE.tail_markers)
    target = Target(coin=catalogue_coin(coin), vendor="{name}", urls=("https://example.invalid",))
    return extract(page, target, {name}.PROFILE)


def test_one_coin_at_the_check_wire_price():
    result = decide("ase.html", "ase")
    assert (result.status.value, result.price, result.in_stock) == ("ok", 93.33, True), "\\n".join(result.steps)
'''


def new_dealer(name: str, root: Path) -> list[Path]:
    """Write the plugin module, a fixture page and a test under `root`; never overwrite."""
    if not _NAME.match(name):
        raise StaktrakrError(f"dealer id {name!r}: use lower-case letters and digits, starting with a letter")
    title = name.capitalize()
    files = {
        root / "plugins" / "dealers" / f"{name}.py": MODULE.format(name=name, title=title),
        root / "tests" / "fixtures" / "dealers" / name / "ase.html": FIXTURE.format(title=title),
        root / "tests" / "dealers" / f"test_{name}.py": TEST.format(name=name, title=title),
    }
    existing = [str(p) for p in files if p.exists()]
    if existing:
        raise StaktrakrError(f"not overwriting existing file(s): {', '.join(existing)}")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for package in (root / "plugins", root / "plugins" / "dealers", root / "tests" / "dealers"):
        init = package / "__init__.py"
        if not init.exists():
            init.write_text("", encoding="utf-8")
    return list(files)
