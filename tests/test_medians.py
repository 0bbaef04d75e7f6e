"""The project's two medians (staktrakr/medians.py)."""

from __future__ import annotations

import statistics

from hypothesis import given
from hypothesis import strategies as st

from staktrakr.medians import median, upper_median


def test_the_live_contract_median_is_the_upper_middle_value_never_an_average() -> None:
    assert upper_median([92.3, 90.11, 95.3, 92.25]) == 92.3  # sorted: 90.11, 92.25, 92.3, 95.3
    assert upper_median([3.0, 1.0, 2.0]) == 2.0
    assert upper_median([]) is None and median([]) is None


def test_the_textbook_median_averages_the_middle_two() -> None:
    assert median([92.3, 90.11, 95.3, 92.25]) == (92.25 + 92.3) / 2
    assert median([3.0, 1.0, 2.0]) == 2.0


@given(st.lists(st.floats(min_value=0.01, max_value=1e6), min_size=1, max_size=40))
def test_both_against_their_definitions(values: list[float]) -> None:
    assert median(values) == statistics.median(values)
    assert upper_median(values) == statistics.median_high(values)
    assert upper_median(values) in values  # a price some dealer really asked
