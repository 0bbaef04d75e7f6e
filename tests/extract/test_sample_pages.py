"""Every sample dealer page against its known answer: the bundled sample sites (sites/truth.json,
also used by the demo) and a held-out set written separately (tests/fixtures/heldout/)."""

import pytest

from staktrakr.browser.modes import static_page_needs_browser
from staktrakr.catalogue import catalogue_coin
from staktrakr.config import load_config
from staktrakr.extract import Page, extract
from staktrakr.models import Target
from staktrakr.plugin_manager import build_plugin_manager, dealer_profiles, default_profile
from staktrakr_samples.server import SITES, load_truth

from ..conftest import FIXTURES

TRUTH = load_truth()
# Two held-out sets, each written by someone who never saw the extraction code.
HELDOUT = [(FIXTURES / name, entry) for name in ("heldout", "heldout2") for entry in load_truth(FIXTURES / name)]


@pytest.fixture(scope="module")
def pm():
    return build_plugin_manager(load_config(environ={}))


def _decide(pm, entry, root=SITES):
    profile = dealer_profiles(pm).get(entry["dealer"]) or default_profile(entry["dealer"])
    page = Page((root / entry["path"]).read_text(encoding="utf-8"), tail_markers=profile.tail_markers)
    target = Target(coin=catalogue_coin(entry["coin"]), vendor=entry["dealer"], urls=("http://x",))
    return extract(page, target, profile, pm=pm)


def test_every_dealer_has_at_least_four_pages_with_hard_cases():
    by_dealer = {}
    for entry in TRUTH:
        by_dealer.setdefault(entry["dealer"], set()).add(entry["case"])
    assert len(by_dealer) == 9
    for dealer, cases in by_dealer.items():
        assert sum(e["dealer"] == dealer for e in TRUTH) >= 4
        assert len(cases - {"normal"}) >= 3, dealer


@pytest.mark.parametrize("entry", [e for e in TRUTH if not e.get("needs_browser")], ids=lambda e: e["path"])
def test_static_page(pm, entry):
    result = _decide(pm, entry)
    expected = entry["expected"]
    assert (result.status.value, result.price, result.in_stock) == (expected["status"], expected["price"], expected["in_stock"]), "\n".join(result.steps)
    assert result.method if result.price is not None else True
    assert result.reason


@pytest.mark.parametrize("entry", [e for e in TRUTH if e.get("needs_browser")], ids=lambda e: e["path"])
def test_client_rendered_page_asks_for_the_browser(pm, entry):
    result = _decide(pm, entry)
    # Never the card price from structured data as the answer: the rendered page decides.
    html = (SITES / entry["path"]).read_bytes()
    assert static_page_needs_browser(result, 200, html), "\n".join(result.steps)


@pytest.mark.parametrize(("root", "entry"), HELDOUT, ids=[f"{root.name}/{e['path']}" for root, e in HELDOUT])
def test_heldout_page(pm, root, entry):
    result = _decide(pm, entry, root)
    expected = entry["expected"]
    assert (result.status.value, result.price, result.in_stock) == (expected["status"], expected["price"], expected["in_stock"]), "\n".join(result.steps)
