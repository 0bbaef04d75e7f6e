"""When a page fetched without the browser must be read in it, and what a page may download."""

from types import SimpleNamespace

from staktrakr.browser.request_filter import abort_heavy_request
from staktrakr.browser.modes import read_from_hints, static_page_needs_browser
from staktrakr.catalogue import catalogue_coin
from staktrakr.extract import Page, extract
from staktrakr.models import DealerProfile, ExtractionResult, Status, Target

PAGE = b"<html><body><h1>1 oz Silver Eagle</h1><script src='/app.js'></script></body></html>"
NO_SCRIPTS = b"<html><body><h1>1 oz Silver Eagle</h1><table><tr><td>$90.00</td></tr></table></body></html>"


def result(status, price=None, method=None, reason="", client_rendered=False, buy_button_disabled=False):
    return ExtractionResult(status=status, price=price, in_stock=status is Status.ok or None, method=method,
                            reason=reason, client_rendered=client_rendered, buy_button_disabled=buy_button_disabled)  # fmt: skip


def test_a_visible_table_price_is_read_statically():
    assert static_page_needs_browser(result(Status.ok, 90.0, "table"), 200, PAGE) is None


def test_no_price_on_a_page_that_runs_scripts_goes_to_the_browser():
    assert "no price" in static_page_needs_browser(result(Status.no_price), 200, PAGE)
    assert static_page_needs_browser(result(Status.no_price), 200, NO_SCRIPTS) is None


def test_a_price_from_data_or_a_bulk_label_is_a_hint_the_rendered_page_decides():
    for method in ("structured_data", "as_low_as"):
        found = result(Status.ok, 95.0, method)
        assert read_from_hints(found) and method in static_page_needs_browser(found, 200, PAGE)
    assert read_from_hints(result(Status.ok, 95.0, "browser+structured_data"))


def test_a_buy_button_disabled_until_a_script_runs_is_checked_in_the_browser():
    # The chain says so as data, whatever its reason's wording.
    html = ("<html><head><title>1 oz Silver Eagle</title></head><body><main><h1>1 oz American Silver Eagle</h1>"
            "<table><tr><th>Qty</th><th>Price</th></tr><tr><td>1-19</td><td>$90.00</td></tr></table>"
            "<button disabled>Add to cart</button><p>" + "Struck by the US Mint in .999 fine silver. " * 5 + "</p>"
            "</main><script src='/app.js'></script></body></html>")  # fmt: skip
    coin = catalogue_coin("ase")
    read = extract(Page(html, url="https://dealer.test/ase"), Target(coin=coin, vendor="dealer", urls=("https://dealer.test/ase",)),
                   DealerProfile(id="dealer", name="Dealer"))  # fmt: skip
    assert read.status is Status.out_of_stock and read.buy_button_disabled and "disabled" in read.reason
    assert "disabled" in static_page_needs_browser(read, 200, html.encode())
    sold_out = result(Status.out_of_stock, 90.0, "table", reason="Add to cart is greyed out", buy_button_disabled=True)
    assert "greyed out" in static_page_needs_browser(sold_out, 200, PAGE)
    stated = result(Status.out_of_stock, 90.0, "table", reason="page says 'Out of stock'")
    assert static_page_needs_browser(stated, 200, PAGE) is None
    mentioned = result(Status.out_of_stock, 90.0, "table", reason="disabled veterans' discount sold out")
    assert static_page_needs_browser(mentioned, 200, PAGE) is None  # a reason's words are not the signal


def test_walls_errors_wrong_products_and_cut_downloads_stay_as_they_are():
    for status in (Status.blocked, Status.error, Status.wrong_product):
        assert static_page_needs_browser(result(status), 200, PAGE) is None
    assert static_page_needs_browser(result(Status.no_price), 503, PAGE) is None
    assert static_page_needs_browser(result(Status.no_price), 200, PAGE[:-20]) is None  # no </html>


def test_images_fonts_media_and_trackers_are_never_downloaded():
    def asked(kind, url):
        return abort_heavy_request(SimpleNamespace(resource_type=kind, url=url))

    assert asked("image", "https://dealer.test/coin.jpg") and asked("font", "https://dealer.test/a.woff2")
    assert asked("script", "https://www.googletagmanager.com/gtm.js")
    assert asked("xhr", "https://region1.google-analytics.com/g/collect")
    assert not asked("script", "https://dealer.test/app.js") and not asked("fetch", "https://dealer.test/api/prices.json")
    assert not asked("document", "https://notgoogle-analytics.com.dealer.test/")
