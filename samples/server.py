"""A local web server for the sample dealer sites (demo, tests, benchmarks).

Serves `samples/sites/` on 127.0.0.1 like a dealer would: HTML, JSON and scripts with
realistic content types, optional per-path behaviour (status codes, latency, a path that blocks),
`?delay_ms=N` on any URL (a page's script fetching its prices late), and a per-request latency
range for benchmarks. It runs in a background thread and stops itself.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from .local_server import LocalHttpServer

SITES = Path(str(resources.files("staktrakr_samples").joinpath("sites")))


@dataclass
class Rule:
    """How one path answers instead of serving its file."""

    status: int | None = None
    body: str | None = None
    delay_s: float = 0.0
    # Answer `status` only to requests that do not come through a proxy (the proxy-tier tests).
    block_direct: bool = False


@dataclass
class SiteConfig:
    root: Path = SITES
    latency: tuple[float, float] = (0.0, 0.0)
    rules: dict[str, Rule] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)  # generated pages: path -> HTML
    hits: dict[str, int] = field(default_factory=dict)
    in_flight: dict[str, int] = field(default_factory=dict)
    max_in_flight: dict[str, int] = field(default_factory=dict)
    served_latency: dict[str, float] = field(default_factory=dict)  # seconds slept per dealer
    lock: threading.Lock = field(default_factory=threading.Lock)


_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
_MAX_DELAY_S = 10.0


def _delay_param(query: str) -> float:
    try:
        return min(max(float(parse_qs(query).get("delay_ms", ["0"])[0]) / 1000, 0.0), _MAX_DELAY_S)
    except ValueError:
        return 0.0


def _handler(config: SiteConfig) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "nginx"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return  # quiet: tests and the demo print their own story

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            # `?delay_ms=1200` on any path: a page's script can ask for a slow JSON endpoint.
            self._delay_s = _delay_param(parts.query)
            dealer = path.strip("/").split("/", 1)[0]
            with config.lock:
                config.hits[path] = config.hits.get(path, 0) + 1
                config.in_flight[dealer] = config.in_flight.get(dealer, 0) + 1
                config.max_in_flight[dealer] = max(config.max_in_flight.get(dealer, 0), config.in_flight[dealer])
            self._dealer = dealer
            try:
                self._answer(path)
            finally:
                self._done()

        def _done(self) -> None:
            # Counted until the response starts: the client may send its next request as soon
            # as the body arrives, before this thread gets here again.
            dealer = getattr(self, "_dealer", None)
            if dealer is not None:
                with config.lock:
                    config.in_flight[dealer] -= 1
                self._dealer = None

        def _answer(self, path: str) -> None:
            low, high = config.latency
            if high > 0:
                pause = random.uniform(low, high)
                time.sleep(pause)
                dealer = path.strip("/").split("/", 1)[0]
                with config.lock:
                    config.served_latency[dealer] = config.served_latency.get(dealer, 0.0) + pause
            rule = config.rules.get(path)
            proxied = self.path.startswith("http://") or "Via" in self.headers or "X-Forwarded-For" in self.headers
            if rule and rule.delay_s:
                time.sleep(rule.delay_s)
            if self._delay_s:
                time.sleep(self._delay_s)
            if rule and rule.status and not (rule.block_direct and proxied):
                self._send(rule.status, rule.body or f"<html><body><h1>{rule.status}</h1></body></html>")
                return
            if path in config.pages:
                self._send(200, config.pages[path])
                return
            file = (config.root / path.lstrip("/")).resolve()
            if config.root.resolve() not in file.parents or not file.is_file():
                self._send(
                    404, "<html><head><title>Page Not Found</title></head><body><h1>404 Not Found</h1></body></html>"
                )
                return
            self._send(200, file.read_text(encoding="utf-8"), _CONTENT_TYPES.get(file.suffix, _CONTENT_TYPES[".html"]))

        def _send(self, status: int, body: str, content_type: str = "text/html; charset=utf-8") -> None:
            data = body.encode("utf-8")
            self._done()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


class SampleSites(LocalHttpServer):
    """`with SampleSites() as sites: sites.url("apmex/ase.html")`"""

    name = "sample-sites"

    def __init__(self, config: SiteConfig | None = None, port: int = 0):
        self.config = config or SiteConfig()
        super().__init__(_handler(self.config), port)

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"


def load_truth(root: Path = SITES) -> list[dict[str, Any]]:
    """The known answer for every sample page (`sites/truth.json`)."""
    return json.loads((root / "truth.json").read_text(encoding="utf-8"))


def providers_for(
    sites: SampleSites, truth: list[dict[str, Any]], choose: Callable[[dict], bool] | None = None
) -> dict[str, Any]:
    """A rich providers file pointing every sample page at the running server."""
    from staktrakr.catalogue import catalogue_coin

    coins: dict[str, Any] = {}
    for entry in truth:
        if choose is not None and not choose(entry):
            continue
        coin = catalogue_coin(entry["coin"])
        assert coin is not None, entry["coin"]
        slot = coins.setdefault(
            coin.slug,
            {"name": coin.name, "metal": coin.metal.value, "weight_oz": coin.weight_oz, "providers": []},
        )
        if any(p["id"] == entry["dealer"] for p in slot["providers"]):
            continue
        slot["providers"].append({"id": entry["dealer"], "enabled": True, "url": sites.url(entry["path"])})
    return {"coins": coins}


@contextmanager
def running_sites(config: SiteConfig | None = None) -> Iterator[SampleSites]:
    sites = SampleSites(config).start()
    try:
        yield sites
    finally:
        sites.stop()
