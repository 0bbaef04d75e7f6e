"""The operator page `/status` of `staktrakr serve`: `api/status.json` and the API files of the
served folder as one server-rendered HTML page (tables that need no script, inline SVG charts).

`status_routes()` is what `staktrakr serve` adds to its application."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime, timedelta
from html import escape
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import quote

from aiohttp import web

from ..api import layout
from ..timeutil import parse_time
from .charts import line, share_bars
from .model import DealerStatus, PollerStatus, StatusFile

METALS = ("gold", "silver", "platinum", "palladium")
_SLUG = re.compile(layout.SLUG_PATTERN)
_TEMPLATE = Template(resources.files(__package__).joinpath("page.html").read_text(encoding="utf-8"))


def _read_json(root: Path, relative: str) -> Any:
    """A file of the data root, or None when it is missing or unreadable (a page shows what it has)."""
    try:
        return json.loads((root / relative).read_bytes())
    except (OSError, ValueError):
        return None


def _pct(share: float, attempts: int) -> str:
    return f"{share:.0%}" if attempts else "-"


def _cell(text: Any, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<td{attr}>{escape('-' if text is None else str(text))}</td>"


def dealer_row(d: DealerStatus) -> str:
    day, week = d.last_24h, d.last_7d
    failing = f"{d.failure} since {d.failing_since}" if d.failure else ""
    browser = "-" if d.needs_browser is None else ("yes" if d.needs_browser else "no")
    cells = [
        _cell(d.dealer), _cell(d.targets, "num"), _cell(_pct(day.ok, day.attempts), "num"),
        _cell(_pct(day.out_of_stock, day.attempts), "num"), _cell(_pct(day.blocked, day.attempts), "num"),
        _cell(_pct(day.failed, day.attempts), "num"), _cell(_pct(week.ok, week.attempts), "num"),
        f"<td>{share_bars(sorted(d.success_by_day.items()))}</td>", _cell(d.last_success),
        _cell(failing, "bad" if failing else ""), _cell(browser), _cell(d.median_response_ms, "num"),
    ]  # fmt: skip
    return f'<tr data-dealer="{escape(d.dealer)}">{"".join(cells)}</tr>'


def run_row(p: PollerStatus) -> str:
    cls = "bad" if p.status == "error" else ""
    cells = [_cell(p.poller), _cell(p.job), _cell(p.shard), _cell(p.started_at), _cell(p.finished_at),
             _cell(p.status, cls), _cell(f"{p.captured} / {p.total}", "num")]  # fmt: skip
    return f"<tr>{''.join(cells)}</tr>"


def _spot_points(root: Path, metal: str, until: datetime) -> list[tuple[str, float]]:
    """The metal's readings of the 24 hourly files up to `until`."""
    points = []
    for n in range(23, -1, -1):
        entries = _read_json(root, layout.hourly_spot(until - timedelta(hours=n)))
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and str(entry.get("metal", "")).lower() == metal and isinstance(entry.get("spot"), int | float):
                points.append((str(entry.get("timestamp")), float(entry["spot"])))
    return sorted(points)


def _coin_charts(root: Path, slug: str) -> list[str]:
    latest = _read_json(root, layout.slug_latest(slug)) or {}
    windows = [(w["window"], float(w["median"])) for w in latest.get("windows_24h", []) if isinstance(w, dict) and w.get("median") is not None]
    history = _read_json(root, layout.history_30d(slug)) or []
    days = [(d["date"], float(d["avg_median"])) for d in history if isinstance(d, dict) and d.get("avg_median") is not None]
    return [line(sorted(windows), label=f"{slug} median, 24 h"), line(days, label=f"{slug} median, 30 days")]


def render_page(root: Path, coin: str | None = None, metal: str | None = None) -> tuple[int, str]:
    """(HTTP status, HTML) of the page for the data root `root`."""
    raw = _read_json(root, layout.STATUS)
    if raw is None:
        return 503, f"<!doctype html><title>staktrakr status</title><p>No {layout.STATUS} in the served folder yet: run <code>staktrakr export</code>.</p>"
    status = StatusFile.model_validate(raw)
    manifest = _read_json(root, layout.MANIFEST) or {}
    coins = [c for c in manifest.get("coins", []) if isinstance(c, str) and _SLUG.fullmatch(c)]
    coin = coin if coin in coins else (coins[0] if coins else None)
    metal = metal if metal in METALS else "gold"
    generated = parse_time(status.generated_at)
    charts = [line(_spot_points(root, metal, generated), label=f"{metal} spot, 24 h")]
    if coin is not None:
        charts += _coin_charts(root, coin)

    def link(key: str, value: str, current: str | None) -> str:
        chosen = {"metal": metal, "coin": coin, key: value}
        query = "&".join(f"{k}={quote(v)}" for k, v in chosen.items() if v)
        return f"<strong>{escape(value)}</strong>" if value == current else f'<a href="status?{escape(query)}">{escape(value)}</a>'

    empty = '<tr><td colspan="12" class="empty">none</td></tr>'
    feeds = "\n".join(
        f'<tr><td>{escape(f.feed)}</td><td class="{"good" if f.fresh else "bad"}">{"fresh" if f.fresh else "stale"}</td>'
        f"<td>{escape(f.last_good or 'never')}</td><td class=\"num\">{f.threshold_seconds / 60:.0f}</td></tr>"
        for f in status.feeds
    )
    html = _TEMPLATE.substitute(
        generated_at=escape(status.generated_at),
        dealer_rows="\n".join(dealer_row(d) for d in status.dealers) or empty,
        feed_rows=feeds or empty,
        poller_rows="\n".join(run_row(p) for p in status.pollers) or empty,
        run_rows="\n".join(run_row(p) for p in status.recent_runs) or empty,
        metal_links=" ".join(link("metal", m, metal) for m in METALS),
        coin_links=" ".join(link("coin", c, coin) for c in coins) or '<span class="empty">no coins</span>',
        price_charts="\n".join(charts),
    )
    return 200, html


async def status_page(request: web.Request) -> web.Response:
    from ..serve import ROOT_KEY

    code, html = await asyncio.to_thread(render_page, request.app[ROOT_KEY], request.query.get("coin"), request.query.get("metal"))
    return web.Response(status=code, text=html, content_type="text/html", headers={"Cache-Control": "no-store"})


def status_routes() -> list[web.RouteDef]:
    return [web.get("/status", status_page)]
