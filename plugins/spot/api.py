"""MetalPriceAPI: its symbols, its answers (pydantic models), and the USD price of a metal in them.

The feed's errors say what could not be used and why; a whole answer that is unusable
(`AnswerError`) costs every metal, one bad rate (`RateError`) only its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool, ValidationError
from scrapy.http import Response

from staktrakr.errors import StaktrakrError
from staktrakr.extract.money import round2

from .settings import DEFAULT_SANE_BOUNDS, factor_pair, number, setting_dict

# MetalPriceAPI symbols of the four metals, in the order the live poller wrote them.
SYMBOLS: dict[str, str] = {"XAU": "gold", "XAG": "silver", "XPT": "platinum", "XPD": "palladium"}
SOURCE_API = "metalprice-api"
SOURCE_TIMEFRAME = "timeframe"  # daily rates of /v1/timeframe, stamped at the missing hour

# -- errors ------------------------------------------------------------------------------------


class SpotFeedError(StaktrakrError):
    """Something the spot feed could not use; the message says what and why."""


class AnswerError(SpotFeedError):
    """The whole API answer is unusable (HTTP error, `success: false`, wrong shape, not JSON)."""


class RateError(SpotFeedError):
    """One metal's rate is unusable (missing, zero, not a number, outside the sane bounds)."""


# -- API answers -------------------------------------------------------------------------------


class ApiError(BaseModel):
    model_config = ConfigDict(extra="allow")

    statusCode: int | None = None  # noqa: N815 - the API's field name
    message: str | None = None
    info: str | None = None


class LatestAnswer(BaseModel):
    """`/v1/latest`: rates are metal units per 1 USD (`XAU`), plus `USDXAU` on paid plans."""

    model_config = ConfigDict(extra="allow")

    success: StrictBool
    error: ApiError | None = None
    base: str | None = None
    timestamp: int | None = None
    # Values are checked per metal, so that one bad rate does not cost the other metals.
    rates: dict[str, Any] | None = None


class TimeframeAnswer(BaseModel):
    """`/v1/timeframe`: `rates` is {YYYY-MM-DD: {XAU: …, USDXAU: …}}."""

    model_config = ConfigDict(extra="allow")

    success: StrictBool
    error: ApiError | None = None
    rates: dict[str, dict[str, Any]] | None = None


def read_answer(response: Response, model: type[LatestAnswer] | type[TimeframeAnswer]) -> Any:
    """The validated answer of a successful call; AnswerError says why there is none."""
    try:
        data = json.loads(response.body)
    except ValueError:
        data = None
    if response.status != 200:
        detail = ""
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            detail = f": {data['error'].get('message') or data['error'].get('info') or ''}".rstrip(": ")
        raise AnswerError(f"HTTP {response.status}{detail}")
    if data is None:
        raise AnswerError("the answer is not JSON")
    try:
        answer = model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in exc.errors()[:3])
        raise AnswerError(f"unexpected answer shape ({problems})") from None
    if not answer.success:
        error = answer.error or ApiError()
        code = f" {error.statusCode}" if error.statusCode is not None else ""
        raise AnswerError(f"API error{code}: {error.message or error.info or 'no message'}")
    if answer.rates is None:
        raise AnswerError("unexpected answer shape (rates: missing)")
    return answer


def usd_per_oz(rates: Mapping[str, Any], symbol: str) -> float:
    """USD per troy ounce: `USDXAU` when the answer has a usable one, else 1 / `XAU`."""
    pair = number(rates.get(f"USD{symbol}"))
    if pair is not None and pair > 0:
        return round2(pair)
    raw = rates.get(symbol)
    if raw is None:
        raise RateError(f"{symbol} is missing from the answer")
    rate = number(raw)
    if rate is None:
        raise RateError(f"{symbol} rate {raw!r} is not a number")
    if rate <= 0:
        raise RateError(f"{symbol} rate is {rate:g}: no price can be derived from it")
    return round2(1 / rate)


def sane_bounds(settings: Any) -> dict[str, tuple[float, float]]:
    """STAKTRAKR_SPOT_SANE_BOUNDS over the defaults, per metal."""
    bounds = dict(DEFAULT_SANE_BOUNDS)
    for metal, pair in setting_dict(settings, "STAKTRAKR_SPOT_SANE_BOUNDS").items():
        parsed = factor_pair(pair)
        if parsed is None or metal not in bounds:
            raise SpotFeedError(
                f"STAKTRAKR_SPOT_SANE_BOUNDS[{metal!r}] must be [low, high] USD/oz for one of {', '.join(bounds)}; got {pair!r}"
            )
        bounds[metal] = parsed
    return bounds


def check_sane(metal: str, price: float, bounds: Mapping[str, tuple[float, float]]) -> float:
    low, high = bounds[metal]
    if not low <= price <= high:
        raise RateError(f"{price:,.2f} USD/oz is outside the sane bounds {low:,g}-{high:,g} (STAKTRAKR_SPOT_SANE_BOUNDS)")
    return price

