"""The decision between the page text's price and the screenshot's (plugins/vision/merge.py)."""

import pytest

from staktrakr.bounds import static_bounds
from staktrakr.catalogue import catalogue_coin
from staktrakr.models import Status
from staktrakr.plugins.vision.client import VisionError, parse_answer
from staktrakr.plugins.vision.merge import Scraped, decide, weight_mismatch
from staktrakr.plugins.vision.schema import VisionReading

ASE = catalogue_coin("ase")
AGE = catalogue_coin("age")
G1 = catalogue_coin("goldback-utah-g1")
OTHER_ASE_DEALERS = [92.49, 92.79, 93.17, 93.39, 93.89]  # median 93.17


def page(price, status=Status.ok, in_stock=True):
    return Scraped(price=price, in_stock=in_stock, status=status, method="table")


def seen(price, in_stock=True, weight="1 oz", label="1-19 row, Check/Wire column"):
    return VisionReading(price=price, in_stock=in_stock, weight=weight, label=label)


def test_agreement_within_3_percent_gives_99_and_keeps_the_table_price():
    decision = decide(page(94.19), seen(94.49), ASE, static_bounds(ASE), OTHER_ASE_DEALERS)
    assert (decision.price, decision.status, decision.confidence, decision.source) == (94.19, Status.ok, 99, "firecrawl+vision")
    assert decision.vision_agrees is True and decision.vision_price == 94.49 and decision.scraped_price == 94.19


def test_agreement_is_our_3_percent_test_not_the_models_word():
    assert decide(page(100.0), seen(103.0), ASE, static_bounds(ASE), []).vision_agrees is True
    assert decide(page(100.0), seen(103.2), ASE, static_bounds(ASE), []).vision_agrees is False


def test_disagreement_keeps_the_price_nearer_the_other_dealers_median():
    misread = decide(page(94.19), seen(103.61), ASE, static_bounds(ASE), OTHER_ASE_DEALERS)
    assert (misread.price, misread.source, misread.method) == (94.19, "firecrawl", "table")
    assert misread.scraped_price == 94.19 and misread.vision_price == 103.61 and misread.vision_agrees is False
    # 9.1 % apart: 70 x (1 - 0.091 / 0.5)
    assert misread.confidence == 57
    assert "kept the page price" in misread.note and "median of 5 other dealer(s) 93.17" in misread.note

    text_wrong = decide(page(84.99), seen(93.49), ASE, static_bounds(ASE), OTHER_ASE_DEALERS)
    assert (text_wrong.price, text_wrong.source, text_wrong.method) == (93.49, "vision", "vision")
    assert text_wrong.scraped_price == 84.99 and text_wrong.confidence <= 70


def test_disagreement_with_no_other_dealer_keeps_the_table_price():
    decision = decide(page(94.19), seen(120.00), ASE, static_bounds(ASE), [])
    assert decision.price == 94.19 and decision.source == "firecrawl"
    assert decision.confidence == 40  # 21.5 % apart: 70 x (1 - 0.215 / 0.5)
    assert "no other dealer to compare" in decision.note


def test_a_big_gap_leaves_no_confidence():
    assert decide(page(94.19), seen(300.0), ASE, static_bounds(ASE), []).confidence == 0


def test_vision_only_price_when_the_text_had_none():
    decision = decide(page(None, Status.no_price, None), seen(93.00), ASE, static_bounds(ASE), OTHER_ASE_DEALERS)
    assert (decision.price, decision.status, decision.in_stock) == (93.00, Status.ok, True)
    assert (decision.source, decision.method) == ("vision", "vision")
    assert 60 <= decision.confidence <= 70 and decision.scraped_price is None


def test_vision_only_out_of_stock_and_unknown_stock():
    sold_out = decide(page(None, Status.no_price, None), seen(93.00, in_stock=False), ASE, static_bounds(ASE), [])
    assert (sold_out.status, sold_out.in_stock, sold_out.price) == (Status.out_of_stock, False, 93.00)
    unknown = decide(page(None, Status.no_price, None), seen(93.00, in_stock=None), ASE, static_bounds(ASE), [])
    assert unknown.status is Status.ok and unknown.confidence <= 50


def test_another_weight_on_the_screenshot_is_a_wrong_product():
    decision = decide(page(94.19), seen(47.10, weight="1/2 oz"), ASE, static_bounds(ASE), OTHER_ASE_DEALERS)
    assert (decision.status, decision.price, decision.in_stock) == (Status.wrong_product, None, None)
    assert decision.vision_weight == "1/2 oz" and decision.scraped_price == 94.19
    assert "screenshot shows 0.5 oz" in decision.note
    goldback = decide(page(12.49), seen(24.99, weight="G2"), G1, static_bounds(G1), [])
    assert goldback.status is Status.wrong_product and "Goldback G2" in goldback.note


@pytest.mark.parametrize(
    ("weight", "coin", "wrong"),
    [
        ("1 oz", ASE, False), ("1 troy oz (31.1 g)", ASE, False), ("31.1 g", ASE, False), (None, ASE, False),
        ("American Silver Eagle", ASE, False), ("1/10 oz", AGE, True), ("1 kilo", ASE, True),
        ("G1", G1, False), ("1 Goldback", G1, False), ("1/1000 oz", G1, False), ("G5", G1, True), ("1/500 oz", G1, True),
    ],
)  # fmt: skip
def test_weight_check_reuses_the_title_rules(weight, coin, wrong):
    assert (weight_mismatch(weight, coin) is not None) is wrong


def test_a_vision_price_outside_the_bounds_is_ignored():
    # the page told the model "the price is $1.00"; the model obeyed
    decision = decide(page(94.19), seen(1.00), ASE, static_bounds(ASE), OTHER_ASE_DEALERS)
    assert (decision.price, decision.status, decision.source) == (94.19, Status.ok, "firecrawl")
    assert decision.confidence is None  # the export's scrape-only score applies
    assert decision.vision_price == 1.00 and decision.vision_agrees is False
    assert "outside 15.00-400.00: ignored" in decision.note
    nothing = decide(page(None, Status.no_price, None), seen(1.00), ASE, static_bounds(ASE), [])
    assert (nothing.status, nothing.price) == (Status.no_price, None)


def test_an_injected_price_inside_the_bounds_loses_to_the_median():
    decision = decide(page(93.99), seen(84.00), ASE, static_bounds(ASE), OTHER_ASE_DEALERS)
    assert decision.price == 93.99 and decision.source == "firecrawl" and decision.confidence < 70


def test_screenshot_out_of_stock_lowers_confidence_but_keeps_the_status():
    decision = decide(page(94.19), seen(94.19, in_stock=False), ASE, static_bounds(ASE), OTHER_ASE_DEALERS)
    assert (decision.status, decision.in_stock, decision.price) == (Status.ok, True, 94.19)
    assert decision.vision_in_stock is False and decision.confidence == 50
    no_price = decide(page(94.19), seen(None, in_stock=False), ASE, static_bounds(ASE), [])
    assert no_price.confidence == 50 and no_price.status is Status.ok


def test_screenshot_in_stock_does_not_reopen_an_out_of_stock_page():
    decision = decide(page(90.49, Status.out_of_stock, False), seen(90.49, in_stock=True), ASE, static_bounds(ASE), [])
    assert (decision.status, decision.in_stock, decision.vision_in_stock) == (Status.out_of_stock, False, True)
    assert "status kept" in decision.note


def test_no_price_on_the_screenshot_changes_nothing():
    decision = decide(page(94.19), seen(None), ASE, static_bounds(ASE), OTHER_ASE_DEALERS)
    assert (decision.price, decision.confidence, decision.vision_agrees) == (94.19, None, None)


@pytest.mark.parametrize(
    ("text", "price"),
    [
        ('{"price": 94.19, "in_stock": true, "weight": "1 oz", "label": "1-19"}', 94.19),
        ('```json\n{"price": "$1,234.50", "in_stock": null}\n```', 1234.50),
        ('Here it is: {"price": 0, "in_stock": false} hope that helps', None),
        ('{"price": null}', None),
    ],
)
def test_answers_are_parsed_and_validated(text, price):
    assert parse_answer(text).price == price


@pytest.mark.parametrize("text", ["", "Sure! The price is 94.19", '["a list"]', '{"price": "ninety"}', '{"in_stock": "maybe"}'])
def test_answers_that_are_not_the_schema_are_errors(text):
    with pytest.raises(VisionError):
        parse_answer(text)
