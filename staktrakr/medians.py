"""The project's medians, in one place.

Two kinds, because the published API promises one and statistics needs the other:

* `upper_median`: sorted values, the element at index n // 2. This is the LIVE CONTRACT's
  median (every `median_price`, `avg_median` and window `median` of the API): for an even
  count it is the upper of the two middle values, never their average, so a published median
  is always a price some dealer really asked.
* `median`: the textbook median (the mean of the two middle values for an even count), for
  reference values that are never published (the outlier test, vision's cross-check, the
  Goldback page's agreement check).
"""

from __future__ import annotations

from collections.abc import Iterable


def upper_median(values: Iterable[float]) -> float | None:
    """The live contract's median: sorted, the element at index n // 2; None when empty."""
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else None


def median(values: Iterable[float]) -> float | None:
    """The textbook median (even count: mean of the two middle values); None when empty."""
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return None
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
