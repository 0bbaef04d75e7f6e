"""Hostile and mangled pages: the extraction never raises, always explains itself, and says
clearly what it did with a page too big, too deep or too broken to read whole.

The mutations are those of benchmarks/fuzz_extract.py (which also measures speed; these tests
never look at the clock: a page's time budget is set generously or to ~0 on purpose)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from staktrakr.catalogue import catalogue_coin
from staktrakr.config import load_config
from staktrakr.extract import Page, extract, limits
from staktrakr.extract.chain import _EMPTY_PRICE
from staktrakr.extract.page import _FRAMEWORK_ROOT
from staktrakr.models import ExtractionResult, Status, Target
from staktrakr.plugin_manager import build_plugin_manager, dealer_profiles, default_profile

ROOT = Path(__file__).resolve().parents[2]
GENEROUS = 60.0  # seconds: a time budget no page should need; results do not depend on the machine


def _load_fuzz():
    spec = importlib.util.spec_from_file_location("fuzz_extract", ROOT / "benchmarks" / "fuzz_extract.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_extract"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


fuzz = _load_fuzz()
SOURCES = fuzz.load_sources("sites,heldout,heldout2")
SOURCE = {s.label: s for s in SOURCES}


@pytest.fixture(scope="module")
def pm():
    return build_plugin_manager(load_config(environ={}))


def _decide(pm, data, dealer, coin, **page_options) -> ExtractionResult:
    profile = dealer_profiles(pm).get(dealer) or default_profile(dealer)
    page = Page(data, url="http://x", tail_markers=profile.tail_markers, **page_options)
    target = Target(coin=catalogue_coin(coin), vendor=dealer, urls=("http://x",))
    return extract(page, target, profile, pm=pm, time_budget=GENEROUS)


def _valid(result: ExtractionResult) -> None:
    assert isinstance(result, ExtractionResult)
    assert isinstance(result.status, Status)
    assert result.steps, "every decision is explained"
    if result.status is not Status.ok:
        assert result.reason, result.steps
    if result.price is not None:
        assert result.price > 0
    # the guard in extract() only catches what slipped through: the fuzz must find nothing for it
    assert not (result.reason or "").startswith("extraction failed"), result.reason


# -- a seeded corpus and random mutations --------------------------------------------------------


@pytest.mark.parametrize("chunk", range(6))
def test_seeded_corpus_of_mangled_pages(pm, chunk):
    """300 mangled pages (pages up to 300 KB here; the benchmark goes to 5 MB)."""
    for index in range(chunk * 50, chunk * 50 + 50):
        case = fuzz.make_case(7, index, SOURCES, max_size=300_000)
        _valid(_decide(pm, case.data, case.dealer, case.coin))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    st.integers(0, len(SOURCES) - 1),
    st.lists(st.sampled_from(sorted(fuzz.MUTATIONS)), min_size=1, max_size=3),
    st.integers(0, 2**32 - 1),
)
def test_random_mutations(pm, index, names, seed):
    import random

    rng = random.Random(seed)
    source = SOURCES[index]
    data = source.html
    for name in sorted(names, key=lambda n: n in fuzz.BYTES_OUT):
        if isinstance(data, bytes):
            break
        data = fuzz.MUTATIONS[name][1](rng, data, fuzz.big_size(rng, 150_000))
    _valid(_decide(pm, data, source.dealer, source.coin))


# -- the three exceptions the first fuzz run found -------------------------------------------------

APMEX = SOURCE["sites/apmex/ase.html"]  # ok, 94.19, in stock
EXPECTED = ("ok", 94.19, True)


def _with(html: str, piece: str) -> str:
    return html.replace("</body>", piece + "</body>", 1)


def _answer(result: ExtractionResult) -> tuple:
    return result.status.value, result.price, result.in_stock


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_ld_is_skipped_with_a_step(pm, depth):
    html = _with(APMEX.html, f'<script type="application/ld+json">{"[" * depth}{"]" * depth}</script>'
                             f'<script type="application/json" id="__NEXT_DATA__">{{"a":{"[" * depth}{"]" * depth}}}</script>')
    result = _decide(pm, html, APMEX.dealer, APMEX.coin)
    assert _answer(result) == EXPECTED, result.steps
    assert f"skipped 2 JSON script(s) nested deeper than {limits.MAX_JSON_DEPTH}" in result.steps


@pytest.mark.parametrize("digits", [5_000, 20_000])
def test_numbers_of_thousands_of_digits_are_ignored(pm, digits):
    number = "9" * digits
    html = _with(APMEX.html, f'<script type="application/ld+json">{{"@type":"Offer","price":{number},"lowPrice":"{number}"}}</script>'
                             f"<p>Special: ${number}.00 or {number}.00 USD</p>")
    result = _decide(pm, html, APMEX.dealer, APMEX.coin)
    assert _answer(result) == EXPECTED, result.steps


def test_huge_number_alone_leaves_no_price_not_an_error(pm):
    html = ('<html><head><script type="application/ld+json">{"@type":"Product","name":"1 oz American Silver Eagle",'
            f'"offers":{{"@type":"Offer","price":{"7" * 5000}}}}}</script></head>'
            f"<body><h1>1 oz American Silver Eagle</h1><p>Our price: ${'7' * 5000}.00</p><p>{'Lorem ipsum ' * 10}</p></body></html>")
    result = _decide(pm, html, "anydealer", "ase")
    assert result.status is Status.no_price and result.price is None
    assert result.reason == "no plausible price on the page"


@pytest.mark.parametrize("junk", ["\x00", "\x0b", "\x1b", "\x0c\x1f\x7f", "\ufffe", "\ud800", "&#27;", "&#x0B;", "&#65535;"])
def test_control_characters_are_stripped_before_parsing(pm, junk):
    # between every tag and in every text (the digits of prices too: "$9\x004.19" reads "$94.19")
    html = APMEX.html.replace("><", f">{junk}<").replace("Out of", f"Out{junk} of")
    result = _decide(pm, html, APMEX.dealer, APMEX.coin)
    assert _answer(result) == EXPECTED, result.steps
    assert any(step.startswith("removed ") and "control character" in step for step in result.steps)


def test_nul_filled_page_is_an_empty_page(pm):
    for data in ("\x00" * 100_000, b"\x00" * 100_000):
        result = _decide(pm, data, APMEX.dealer, APMEX.coin)
        assert result.status is Status.no_price and result.reason == "empty page"


# -- the quadratic pattern ----------------------------------------------------------------------


def _unbounded_inside_unbounded(pattern: re.Pattern[str]) -> list[str]:
    """Repetitions without an upper bound nested in one another (the shape of catastrophic
    backtracking), as text for the assertion message."""
    try:
        from re import _constants as constants
        from re import _parser as parser
    except ImportError:  # Python < 3.11
        import sre_constants as constants  # type: ignore[no-redef]
        import sre_parse as parser  # type: ignore[no-redef]

    found: list[str] = []

    def walk(items, inside: bool) -> None:
        for op, av in items:
            if op in (constants.MAX_REPEAT, constants.MIN_REPEAT, getattr(constants, "POSSESSIVE_REPEAT", None)):
                low, high, body = av
                unbounded = high == constants.MAXREPEAT
                if unbounded and inside:
                    found.append(str(body))
                walk(body, inside or unbounded)
            elif op in (constants.SUBPATTERN,):
                walk(av[-1], inside)
            elif op == constants.BRANCH:
                for branch in av[1]:
                    walk(branch, inside)
            elif op in (constants.ASSERT, constants.ASSERT_NOT):
                walk(av[1], inside)

    walk(parser.parse(pattern.pattern, pattern.flags), False)
    return found


def test_whole_page_patterns_have_only_bounded_repetitions():
    try:
        from re import _constants as constants
        from re import _parser as parser
    except ImportError:  # Python < 3.11
        import sre_constants as constants  # type: ignore[no-redef]
        import sre_parse as parser  # type: ignore[no-redef]

    def unbounded(items) -> bool:
        for op, av in items:
            if op in (constants.MAX_REPEAT, constants.MIN_REPEAT) and (av[1] == constants.MAXREPEAT or unbounded(av[2])):
                return True
            if op == constants.SUBPATTERN and unbounded(av[-1]):
                return True
            if op == constants.BRANCH and any(unbounded(b) for b in av[1]):
                return True
        return False

    for pattern in (_EMPTY_PRICE, _FRAMEWORK_ROOT):
        assert not unbounded(parser.parse(pattern.pattern, pattern.flags)), pattern.pattern


def test_no_pattern_of_the_chain_nests_unbounded_repetitions():
    from staktrakr.extract import blocked, chain, money, page, payment, stock, structured, tables, text

    # `"[^"\\]*(?:\\.[^"\\]*)*…`: the inner and outer loops cannot share a character (a backslash
    # starts every outer turn), so it stays linear.
    allowed = {limits._JSON_STRING}
    checked = 0
    for module in (blocked, chain, limits, money, page, payment, stock, structured, tables, text):
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern) and value not in allowed:
                checked += 1
                assert not _unbounded_inside_unbounded(value), f"{module.__name__}.{name}: {value.pattern}"
    assert checked > 20


def test_600_kb_unclosed_attribute_page(pm):
    """The client-rendering check used to be quadratic here (60 s and more); now every repetition
    is bounded. The page is read to a decision like any other."""
    filler = "".join("price tier pricing <span> x " for _ in range(600_000 // 28))
    html = APMEX.html.replace('<h1', '<div class="product-price ' + filler + '<h1', 1)
    assert len(html) > 600_000
    _EMPTY_PRICE.search(html.lower())  # returns (whatever it finds is not the point here)
    result = _decide(pm, html, APMEX.dealer, APMEX.coin)
    _valid(result)


# -- big pages ------------------------------------------------------------------------------------


def test_5_mb_page_is_read_from_the_start_with_a_clear_step(pm):
    padding = "<div class='filler'>" + "<p>Lorem ipsum dolor sit amet.</p>" * 150_000 + "</div>"
    html = _with(APMEX.html, padding)
    assert len(html) > 5_000_000
    result = _decide(pm, html, APMEX.dealer, APMEX.coin)
    assert _answer(result) == EXPECTED, result.steps
    assert any(re.fullmatch(r"page is 5\.\d MB; read the first 2\.0 MB", step) for step in result.steps), result.steps


def test_5_mb_page_without_a_price_in_the_part_read_says_so(pm):
    html = ("<html><head><title>1 oz American Silver Eagle</title></head><body><h1>1 oz American Silver Eagle</h1>"
            + "<p>Lorem ipsum dolor sit amet.</p>" * 170_000 + "<p>Price: $94.19</p></body></html>")
    assert len(html) > 5_000_000
    result = _decide(pm, html, "anydealer", "ase")
    assert result.status is Status.no_price
    assert re.fullmatch(r"no plausible price in the part of the page read \(page is 5\.\d MB; read the first 2\.0 MB\)", result.reason)
    assert "truncated" not in result.reason  # the page had its </html>: we cut it, not the dealer


def test_the_parse_limit_is_a_knob():
    html = _with(APMEX.html, "<p>Lorem ipsum dolor sit amet.</p>" * 100)
    page = Page(html, max_parse_bytes=len(html) // 2)
    assert page.cut and page.cut_reason.startswith("page is ")
    assert not Page(html, max_parse_bytes=0).cut  # 0: no limit
    assert not Page(html).cut


def test_many_elements_are_cut_with_a_step(pm):
    html = _with(APMEX.html, "<i>x</i>" * 50_000)
    result = _decide(pm, html, APMEX.dealer, APMEX.coin)
    assert _answer(result) == EXPECTED, result.steps
    assert f"page has over {limits.STAKTRAKR_MAX_ELEMENTS:,} elements; read the first {limits.STAKTRAKR_MAX_ELEMENTS:,}" in result.steps


def test_json_data_at_the_end_of_a_cut_page_is_still_read():
    html = ("<html><body><h1>1 oz American Silver Eagle</h1>" + "<i>x</i>" * 40_000
            + '<script type="application/json" id="__NEXT_DATA__">{"props":{"achPrice":94.19}}</script></body></html>')
    page = Page(html)
    assert page.cut
    assert page.json_scripts() == [("__NEXT_DATA__", {"props": {"achPrice": 94.19}})]


# -- the guards ------------------------------------------------------------------------------------


def test_time_budget_gives_no_price_with_the_step(pm):
    profile = dealer_profiles(pm)[APMEX.dealer]
    page = Page(APMEX.html, tail_markers=profile.tail_markers)
    target = Target(coin=catalogue_coin(APMEX.coin), vendor=APMEX.dealer, urls=("http://x",))
    result = extract(page, target, profile, pm=pm, time_budget=1e-9)
    assert result.status is Status.no_price and result.price is None
    assert re.fullmatch(r"extraction took longer than 0\.0 s; gave up at [a-z ]+", result.reason), result.reason
    # the same page with its normal budget
    assert _answer(extract(page, target, profile, pm=pm, time_budget=GENEROUS)) == EXPECTED


def test_an_unexpected_failure_is_an_error_result_not_an_exception():
    class Hook:
        def staktrakr_extract_price(self, **_):
            raise RecursionError("maximum recursion depth exceeded while decoding a JSON array")

    class Manager:
        hook = Hook()

    profile = default_profile("anydealer")
    target = Target(coin=catalogue_coin("ase"), vendor="anydealer", urls=("x",))
    result = extract(Page(APMEX.html), target, profile, pm=Manager())
    assert result.status is Status.error
    assert result.reason == "extraction failed: RecursionError: maximum recursion depth exceeded while decoding a JSON array"
    assert "Traceback" not in " ".join(result.steps)


def test_nesting_deeper_than_the_parser_reads_is_noted(pm):
    html = APMEX.html.replace("<h1", "<div>" * 300 + "<h1", 1)
    result = _decide(pm, html, APMEX.dealer, APMEX.coin)
    _valid(result)
    assert "elements nested over 256 deep: the parser read the page only up to there" in result.steps
