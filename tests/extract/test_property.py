"""Random and mangled HTML never raises and never yields a price outside the bounds."""

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from staktrakr.bounds import static_bounds
from staktrakr.catalogue import catalogue_coin
from staktrakr.extract import Page, extract
from staktrakr.models import DealerProfile, Target
from staktrakr_samples.server import SITES, load_truth

PROFILE = DealerProfile(id="anydealer", name="Any Dealer")
COINS = [catalogue_coin(s) for s in ("ase", "age", "ape", "generic-silver-bar-10oz", "goldback-utah-g1")]
PAGES = [(SITES / e["path"]).read_text(encoding="utf-8") for e in load_truth()]

fragments = st.sampled_from([
    "<table>", "</table>", "<tr>", "<td>", "1 - 19", "$93.33", "$5,230.31", "Check/Wire", "Card/PayPal", "<h1>",
    "1/2 oz", "Out of Stock", "Pre-Order", "<script>", "{\"price\": 12}", "As low as $1.00", "&nbsp;", "<div>", "</div>",
    "$", ".31", "Sale price", "G2", "<!--", "]]>", "\x00", "ｄ", "€12,00", "$99999999.99", "Just a moment",
])


def _check(html: str, coin) -> None:
    result = extract(Page(html), Target(coin=coin, vendor="anydealer", urls=("x",)), PROFILE)
    if result.price is not None:
        low, high = static_bounds(coin)
        assert low <= result.price <= high
    assert result.status is not None and result.reason is not None or result.status.value == "ok"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(fragments | st.text(max_size=30), max_size=60), st.sampled_from(COINS))
def test_random_fragments(parts, coin):
    _check("".join(parts), coin)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(PAGES) - 1), st.integers(0, 2**32 - 1), st.sampled_from(COINS))
def test_mangled_real_pages(index, seed, coin):
    rng = random.Random(seed)
    html = PAGES[index]
    for _ in range(rng.randint(1, 6)):
        if not html:  # cut down to nothing: an empty page is a case of its own
            break
        cut = rng.randrange(len(html))
        action = rng.choice(("truncate", "delete", "duplicate", "swap"))
        if action == "truncate":
            html = html[:cut]
        elif action == "delete":
            html = html[:cut] + html[cut + rng.randint(1, 400):]
        elif action == "duplicate":
            html = html[:cut] + html[cut: cut + 300] + html[cut:]
        else:
            other = rng.randrange(len(html))
            html = html[:min(cut, other)] + html[max(cut, other):] + html[min(cut, other):max(cut, other)]
    _check(html, coin)
