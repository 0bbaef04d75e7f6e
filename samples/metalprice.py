"""A local stand-in for MetalPriceAPI (demo, tests): `/v1/latest` and `/v1/timeframe` on 127.0.0.1.

It answers like the real service (rates in metal units per 1 USD, plus the `USDXAU`-style
pairs of the paid plans) and can be told to misbehave the ways the real one does or might:
`{"success": false, "error": {...}}`, HTTP 500, a wrong shape, a slow answer, a rate that is 0,
missing or not a number. It checks the `api_key` but never stores it: the request log keeps the
other query parameters and whether the key matched, so a test can prove the key was sent
without the key ever reaching a file.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit
from .local_server import LocalHttpServer

# USD per troy ounce, from the live API's 2026-03-15 20:15 readings (tests/fixtures/live-api).
SAMPLE_PRICES: dict[str, float] = {"XAU": 5019.58, "XAG": 80.59, "XPT": 2022.9, "XPD": 1555.99}
DEMO_API_KEY = "demo-key-not-secret"
MAX_TIMEFRAME_DAYS = 365  # the real API's limit per /v1/timeframe call

# A `rate_overrides` value that leaves the symbol (and its USD pair) out of `rates`.
MISSING: Any = object()


def api_error(status_code: int, message: str) -> dict[str, Any]:
    """An error answer in the service's shape."""
    return {"success": False, "error": {"statusCode": status_code, "message": message}}


@dataclass
class Answer:
    """Replaces an endpoint's normal answer: `body` (JSON value, or raw text when a str) with
    `status`, after `delay_s`. With `body=None` the normal answer is sent after the delay."""

    status: int = 200
    body: Any = None
    delay_s: float = 0.0


@dataclass
class ApiRequest:
    """One request as the stand-in saw it, without the key."""

    path: str
    params: dict[str, str]
    key_ok: bool


@dataclass
class MetalPriceConfig:
    api_key: str = DEMO_API_KEY
    prices: dict[str, float] = field(default_factory=lambda: dict(SAMPLE_PRICES))
    usd_pairs: bool = True  # add USDXAU… (the paid plans do); without them clients must invert
    # symbol -> raw value put into `rates` (and its USD pair) instead of the real one
    # (0, -1, "n/a", None, …); MISSING leaves both out
    rate_overrides: dict[str, Any] = field(default_factory=dict)
    # per-date prices for /v1/timeframe; dates not listed use `prices`, dates in `no_data` are absent
    daily: dict[str, dict[str, float]] = field(default_factory=dict)
    no_data: set[str] = field(default_factory=set)
    latest: Answer | None = None
    timeframe: Answer | None = None
    requests: list[ApiRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hits(self, path: str) -> list[ApiRequest]:
        with self.lock:
            return [r for r in self.requests if r.path == path]


def _rates(prices: dict[str, float], symbols: list[str], config: MetalPriceConfig) -> dict[str, Any]:
    rates: dict[str, Any] = {"USD": 1}
    for symbol in symbols:
        price = prices.get(symbol)
        if price is None:
            continue
        rates[symbol] = 1 / price
    if config.usd_pairs:
        for symbol in symbols:
            if symbol in prices:
                rates[f"USD{symbol}"] = prices[symbol]
    for symbol, raw in config.rate_overrides.items():
        for key in (symbol, f"USD{symbol}"):
            if raw is MISSING:
                rates.pop(key, None)
            elif key in rates or key == symbol:
                rates[key] = raw
    return rates


def _handler(config: MetalPriceConfig) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "cloudflare"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return  # the request line holds the key: never print it

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            key_ok = query.pop("api_key", None) == config.api_key
            with config.lock:
                config.requests.append(ApiRequest(path=parts.path, params=query, key_ok=key_ok))
            override = {"/v1/latest": config.latest, "/v1/timeframe": config.timeframe}.get(parts.path)
            if override and override.delay_s:
                time.sleep(override.delay_s)
            if override and override.body is not None:
                self._send(override.status, override.body)
                return
            if parts.path not in ("/v1/latest", "/v1/timeframe"):
                self._send(404, api_error(404, "The requested resource does not exist."))
                return
            if not key_ok:
                self._send(200, api_error(101, "Invalid API Key. Please check your API key and try again."))
                return
            symbols = [s for s in (query.get("currencies") or ",".join(config.prices)).split(",") if s]
            if query.get("base", "USD") != "USD":
                self._send(200, api_error(201, "Invalid base currency."))
                return
            if parts.path == "/v1/latest":
                body = {
                    "success": True,
                    "base": "USD",
                    "timestamp": int(time.time()),
                    "rates": _rates(config.prices, symbols, config),
                }
            else:
                body = self._timeframe(query, symbols)
            self._send(override.status if override else 200, body)

        def _timeframe(self, query: dict[str, str], symbols: list[str]) -> dict[str, Any]:
            try:
                start = date.fromisoformat(query["start_date"])
                end = date.fromisoformat(query["end_date"])
            except (KeyError, ValueError):
                return api_error(202, "Invalid or missing start_date / end_date (YYYY-MM-DD).")
            if end < start or (end - start).days > MAX_TIMEFRAME_DAYS:
                return api_error(203, f"The timeframe must be 0-{MAX_TIMEFRAME_DAYS} days.")
            rates = {}
            day = start
            while day <= end:
                key = day.isoformat()
                if key not in config.no_data:
                    rates[key] = _rates(config.daily.get(key, config.prices), symbols, config)
                day += timedelta(days=1)
            return {
                "success": True,
                "base": "USD",
                "start_date": start.isoformat(),
                "end_date": end.isoformat(),
                "rates": rates,
            }

        def _send(self, status: int, body: Any) -> None:
            data = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up on a slow answer

    return Handler


class MetalPriceServer(LocalHttpServer):
    """`with MetalPriceServer() as api:` then METALPRICE_API_URL=api.base_url,
    METAL_PRICE_API_KEY=api.config.api_key."""

    name = "metalprice-api"

    def __init__(self, config: MetalPriceConfig | None = None, port: int = 0):
        self.config = config or MetalPriceConfig()
        super().__init__(_handler(self.config), port)


@contextmanager
def running_metalprice_api(config: MetalPriceConfig | None = None) -> Iterator[MetalPriceServer]:
    server = MetalPriceServer(config).start()
    try:
        yield server
    finally:
        server.stop()
