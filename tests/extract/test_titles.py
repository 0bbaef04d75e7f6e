"""Weights read from product titles, years included (a year is not part of a mixed number)."""

import pytest

from staktrakr.catalogue import catalogue_coin
from staktrakr.extract.product import title_weights_oz, wrong_product_reason
from staktrakr.models import Coin, Metal


@pytest.mark.parametrize(
    ("title", "weights"),
    [
        ("2026 1/4 oz American Gold Eagle", [0.25]),
        ("2025 1/10 oz Gold Maple Leaf", [0.1]),
        ("1 1/2 oz Silver Round", [1.5]),
        ("2026 1 oz American Silver Eagle BU", [1.0]),
        ("2025 American Gold Buffalo 1 oz .9999 Fine", [1.0]),
        ("2024 10 oz Silver Bar", [10.0]),
        ("2026 Britannia 1 oz Silver Coin", [1.0]),
        ("12 1/2 oz Novelty Bar", [12.5]),
    ],
)
def test_a_year_before_the_weight_is_not_part_of_it(title, weights):
    assert title_weights_oz(title) == pytest.approx(weights)


def test_a_fractional_coin_with_a_year_in_its_title_is_the_right_product():
    quarter_eagle = Coin(slug="age-quarter", name="American Gold Eagle 1/4 oz", metal=Metal.gold, weight_oz=0.25)
    assert wrong_product_reason("2026 1/4 oz American Gold Eagle", quarter_eagle) is None
    assert wrong_product_reason("2026 1/10 oz American Gold Eagle", quarter_eagle) is not None


def test_a_fractional_coin_behind_a_one_ounce_url_is_still_a_wrong_product():
    reason = wrong_product_reason("2026 1/4 oz American Gold Eagle", catalogue_coin("age"))
    assert reason is not None and "title shows 0.25 oz" in reason
