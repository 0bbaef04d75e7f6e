"""Amounts in other currencies are never read as a US price."""

import pytest

from staktrakr.extract.money import find_amounts


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("CA$87.88 / US$63.49", [63.49]),
        ("C$ 88.10 (about $63.40)", [63.40]),
        ("AU$99.00 or $64.00", [64.00]),
        ("€55.59 EUR", []),
        ("£48.20", []),
        ("CAD 87.88", []),
        ("USD 63.49", [63.49]),
        ("63.49 USD", [63.49]),
        ("US $ 63.49", [63.49]),
        # cells glued together by the page's markup: "ea" before the next dollar sign is not a currency
        ("1 - 9$5,491.19 ea$5,279.99 ea", [5491.19, 5279.99]),
    ],
)
def test_only_us_dollars_are_prices(text, values):
    assert [a.value for a in find_amounts(text)] == values
