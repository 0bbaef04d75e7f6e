"""The pieces of the chain on small, explicit inputs."""

import pytest

from staktrakr.catalogue import catalogue_coin
from staktrakr.extract.blocked import blocked_reason
from staktrakr.extract.money import find_amounts, round2
from staktrakr.extract.page import Page
from staktrakr.extract.payment import CARD, CHEAP, pay_labels, parse_tier
from staktrakr.extract.product import title_weights_oz, wrong_product_reason


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("$5,230.31", [5230.31]),
        ("$ 92.30 each", [92.3]),
        ("US$1,234.5", [1234.5]),
        ("Price 93.33 USD", [93.33]),
        ("ACH: USD 862.40", [862.4]),
        ("-$5.00 off", []),
        ("$2.5k bonus", []),
    ],
)
def test_amounts(text, values):
    assert [a.value for a in find_amounts(text)] == values


def test_split_amounts_and_nbsp_are_joined():
    page = Page("<html><body><h1>1 oz Coin</h1><div><span>$</span>\n<span>5,230</span>\n<span class=c>.31</span></div>"
                "<p>$&nbsp;92.30</p></body></html>")
    assert [a.value for line in page.lines for a in line.amounts] == [5230.31, 92.3]


def test_words_around_an_amount_disqualify_it():
    flags = {a.value: a.looks_like_price for a in find_amounts("Save $5 on orders over $199. Our price $93.33. $1 face value")}
    assert flags == {5.0: False, 199.0: False, 93.33: True, 1.0: False}


def test_round2_is_half_up():
    assert round2(2.675) == 2.68  # what JavaScript gives: Math.round(2.675 * 100) / 100 (2.675 * 100 rounds to 267.5)
    assert round2(1.005 * 1000) == 1005.0
    assert round2(0.125) == 0.13  # Python's round() would give 0.12


def test_payment_labels_and_ranks():
    labels = pay_labels("(e)Check/Wire Crypto Card/PayPal")
    assert [(l.text, l.rank) for l in labels] == [("(e)Check/Wire", CHEAP), ("Crypto", 1), ("Card/PayPal", CARD)]
    assert pay_labels("Bank Wire")[0].rank == CHEAP


@pytest.mark.parametrize(("text", "low"), [("1 - 19", 1), ("1+", 1), ("500+", 500), ("Qty 1 to 9", 1), ("1–24", 1), ("Any Qty", 1)])
def test_tiers(text, low):
    assert parse_tier(text).low == low


@pytest.mark.parametrize("text", ["2026 1 oz American Silver Eagle", "1 oz", "1/2 oz", "10 oz Silver Bar"])
def test_not_tiers(text):
    assert parse_tier(text) is None


@pytest.mark.parametrize(
    ("title", "weights"),
    [("2026 1 oz American Silver Eagle", [1]), ("1/2 oz Gold Eagle", [0.5]), ("1 Kilo Silver Bar", [32.15]), ("Half Ounce Gold", [0.5])],
)
def test_title_weights(title, weights):
    assert [round(w, 2) for w in title_weights_oz(title)] == weights


@pytest.mark.parametrize(
    ("slug", "title", "wrong"),
    [
        ("age", "2026 1/2 oz American Gold Eagle Coin BU", True),
        ("age", "2026 1 oz American Gold Eagle Coin BU", False),
        ("ape", "1 oz American Gold Eagle", True),  # gold shown for a platinum target
        ("ase", "Roll of 20 - 1 oz American Silver Eagles", True),
        ("goldback-utah-g1", "Utah Goldback G2 (1/500 oz gold)", True),
        ("goldback-utah-g1", "G1 Utah Goldback (1/1000 oz gold)", False),
        ("goldback-utah-g1", "1 Goldback - Utah", False),
        ("generic-silver-bar-10oz", "10 oz Silver Bar (Secondary Market)", False),
        ("maple-silver", "2026 Canada 1 oz Silver Maple Leaf $5 Coin", False),
    ],
)
def test_wrong_product(slug, title, wrong):
    assert (wrong_product_reason(title, catalogue_coin(slug)) is not None) is wrong


def test_bot_walls_are_blocked_but_product_pages_with_recaptcha_are_not():
    wall = Page("<html><head><title>Just a moment...</title></head><body>Checking your browser before accessing. Ray ID: 8a</body></html>")
    assert blocked_reason(wall)
    denied = Page("<html><body><h1>Access Denied</h1>You don't have permission to access this server. Reference #18.2f</body></html>", http_status=200)
    assert blocked_reason(denied)
    assert blocked_reason(Page("<html><body>x</body></html>", http_status=403)) == "HTTP 403"
    product = Page("<html><head><title>1 oz Silver Eagle</title></head><body><h1>1 oz Silver Eagle</h1>"
                   + "<p>Description of the coin. </p>" * 100 + "<div class='g-recaptcha'></div></body></html>")
    assert blocked_reason(product) is None


def test_a_tier_row_with_its_own_payment_labels():
    from staktrakr.catalogue import catalogue_coin as coin
    from staktrakr.extract import extract
    from staktrakr.models import DealerProfile, Target

    page = Page("<html><body><h1>10 oz Silver Bar</h1><ul><li>1-9 pcs — Credit/Debit: USD 896.90 | ACH Transfer: USD 862.40</li>"
                "<li>10+ pcs — Credit/Debit: USD 894.30 | ACH Transfer: USD 859.90</li></ul><p>In Stock</p></body></html>")
    result = extract(page, Target(coin=coin("generic-silver-bar-10oz"), vendor="x", urls=("u",)), DealerProfile(id="x", name="x"))
    assert (result.price, result.status.value) == (862.4, "ok"), result.steps


# -- bounds on hostile input (see also test_fuzz.py) ---------------------------------------------


def test_numbers_longer_than_twenty_digits_are_not_amounts():
    from staktrakr.extract.money import MAX_AMOUNTS

    assert [a.value for a in find_amounts("$1,234,567.89 and $12345678901234567890")] == [1234567.89, 12345678901234567890.0]
    for text in ("$" + "9" * 21, "$" + "9" * 5000 + ".99", "9" * 5000 + ".00 USD", "USD " + "9" * 30 + ".00",
                 "$1,234,567,890,123,456,789,012"):
        assert find_amounts(text) == [], text
    assert find_amounts("1" * 200_000) == []  # a long digit run: no amount (and no quadratic scan)
    assert len(find_amounts("$1.00 " * 10_000)) == MAX_AMOUNTS


def test_bounded_json_loading():
    from staktrakr.extract.limits import json_too_deep, load_json

    assert load_json('{"p": 93.33, "q": 12, "big": ' + "9" * 5000 + ', "f": 1e999, "n": NaN, "i": -Infinity}') == {
        "p": 93.33, "q": 12, "big": None, "f": None, "n": None, "i": None}
    assert load_json('[' + "1" * 21 + ', 0.' + "1" * 30 + ']') == [None, None]
    assert not json_too_deep("[" * 64 + "]" * 64)
    assert json_too_deep("[" * 65 + "]" * 65)
    assert json_too_deep('{"a":' * 100_000)  # unclosed
    assert not json_too_deep('{"a": "' + "[" * 1000 + '"}')  # brackets in strings do not count
    assert not json_too_deep('["\\"' + "[" * 1000 + '"]')  # nor after an escaped quote
    # an unterminated string runs to the end (one pass, not one per escaped quote); json.loads rejects it
    assert not json_too_deep('"' + '\\"' * 100_000 + "[" * 100)


def test_structured_numbers_that_are_not_prices():
    from staktrakr.extract.structured import _to_float

    assert [_to_float(v) for v in (93.33, 12, "93.33", "$1,234.50", True)] == [93.33, 12.0, 93.33, 1234.5, None]
    assert [_to_float(v) for v in (10**30, float("inf"), float("nan"), "1e400", "9" * 5000, "$" + "9" * 300)] == [None] * 6


def test_control_characters_and_references_to_them_are_stripped():
    from staktrakr.extract.limits import strip_control_characters

    assert strip_control_characters("$9\x004.19") == ("$94.19", 1)
    assert strip_control_characters("a\x0bb\x0cc") == ("a b c", 2)
    assert strip_control_characters("a\x1b\x7f\ufffe\ud800b&#27;&#x1B;&#65535;") == ("ab", 7)
    assert strip_control_characters("tab\there &#9; &#65; &#8364; &#0;") == ("tab\there &#9; &#65; &#8364; &#0;", 0)


def test_pages_as_bytes_in_other_encodings():
    html = "<html><body><h1>1 oz Coin</h1><p>Price: $93.33 – “ok”</p></body></html>"
    for data in (html.encode("utf-8"), html.encode("utf-8-sig"), html.encode("utf-16"), html.encode("utf-32")):
        assert Page(data).product_text == "1 oz Coin\nPrice: $93.33 – “ok”"
    assert "\ufffd" in Page(html.encode("utf-8") + b"\xff\xfe\xc3").html  # bad bytes are replaced, not fatal


def test_reading_a_deep_tree_does_not_recurse():
    from lxml import etree

    from staktrakr.extract.lines import linearize

    root = node = etree.Element("div")
    for i in range(5000):  # deeper than Python's recursion limit (the parser stops at 256; a tree built by hand does not)
        node = etree.SubElement(node, "div" if i % 2 else "span")
        node.text = "x" if i % 1000 == 0 else None
    node.text = "$93.33"
    assert [line.text for line in linearize(root)] == ["x", "x", "x", "x", "x", "$93.33"]


def test_dropping_many_elements_keeps_their_tails_in_order():
    import lxml.html

    from staktrakr.extract.html_tree import drop_all

    html = "<div>a<nav>N1</nav>b<nav>N2</nav>c<p>d<nav>N3</nav>e</p>f<nav>N4</nav><nav>N5</nav>g</div>"
    one, many = lxml.html.fromstring(html), lxml.html.fromstring(html)
    for el in list(one.iter("nav")):
        el.drop_tree()
    drop_all(list(many.iter("nav")))
    assert lxml.html.tostring(many) == lxml.html.tostring(one) == b"<div>abc<p>de</p>fg</div>"


def test_short_clean_text():
    from staktrakr.extract.money import short_clean_text

    assert short_clean_text("  Sold \n out  ", 80) == "Sold out"
    assert short_clean_text(" " * 100_000 + "Sold out" + " " * 100_000, 80) == "Sold out"
    assert short_clean_text("x" * 81, 80) is None
    assert short_clean_text("x " * 1_000_000, 80) is None


def test_a_page_cut_by_the_size_limit_is_not_called_truncated():
    html = "<html><body><h1>1 oz Coin</h1>" + "<p>Lorem ipsum.</p>" * 1000 + "</body></html>"
    page = Page(html, max_parse_bytes=5000)
    assert page.cut and len(page.html) <= 5000 and page.html.endswith(">")
    assert page.cut_reason == f"page is {len(html) / 1e3:.0f} KB; read the first {len(page.html) / 1e3:.0f} KB"
    assert not page.truncated
    assert Page(html[:-100], max_parse_bytes=5000).truncated  # the dealer's page itself ends early
