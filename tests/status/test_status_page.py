"""The operator page `/status` in headless Chromium: served by `staktrakr serve`'s application
from an exported folder, no console errors, its tables are status.json's, a screenshot is kept
(var/test-artifacts/status-page.png)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright

from staktrakr.api import layout
from staktrakr.export import export_api
from staktrakr.models import Coin, Metal, Status
from staktrakr.providers import ProviderSet
from staktrakr.serve import make_app, serve_in_thread
from staktrakr.status.page import status_routes

from ..conftest import CHROMIUM, ROOT, needs_chromium, write_json
from .rows import NOW, attempt, fill_a_week

ARTIFACTS = ROOT / "var" / "test-artifacts"


def _export(db, root: Path) -> dict:
    fill_a_week(db)
    for hours in range(1, 30):  # a coin with a month of prices for its charts
        attempt(db, NOW - timedelta(days=hours), "a", Status.ok, price=30.0 + hours % 4)
    coin = Coin(slug="ase", name="American Silver Eagle 1 oz", metal=Metal.silver, weight_oz=1.0)
    export_api(db, ProviderSet(source="test", coins={"ase": coin}, listings={}), root, as_of=NOW)
    for n in range(24):  # the spot plugin's hourly files, as published
        hour = NOW - timedelta(hours=n)
        stamp = f"{hour:%Y-%m-%d %H}:00:00"
        write_json(root / layout.hourly_spot(hour), [{"spot": 3000 + n * 2, "metal": "Gold", "source": "test", "provider": "test", "timestamp": stamp}])
    return json.loads((root / layout.STATUS).read_text())


@needs_chromium
def test_the_page_shows_status_json_without_console_errors(db, tmp_path):
    root = tmp_path / "data"
    status = _export(db, root)
    problems: list[str] = []
    with serve_in_thread(make_app(root, extra_routes=status_routes())) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            response = page.goto(f"{base}/status")
            assert response is not None and response.status == 200
            dealers = page.eval_on_selector_all("#dealers tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))")
            feeds = page.eval_on_selector_all("#feeds tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))")
            pollers = page.eval_on_selector_all("#pollers tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))")
            captions = page.eval_on_selector_all("figcaption", "els => els.map(e => e.innerText)")
            bars = page.eval_on_selector_all("#dealers svg.bars", "els => els.map(e => e.querySelectorAll('rect').length)")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "status-page.png"), full_page=True)
            page.goto(f"{base}/status?metal=silver&coin=ase")
            silver = page.inner_text(".charts")
        finally:
            browser.close()
    assert problems == []
    # The dealer table is status.json's, row for row.
    assert [row[0] for row in dealers] == [d["dealer"] for d in status["dealers"]]
    for row, dealer in zip(dealers, status["dealers"], strict=True):
        day = dealer["last_24h"]
        assert row[1] == str(dealer["targets"])
        assert row[2] == (f"{day['ok']:.0%}" if day["attempts"] else "-")
        assert row[4] == (f"{day['blocked']:.0%}" if day["attempts"] else "-")
        assert row[8] == (dealer["last_success"] or "-")
        assert row[9] == (f"{dealer['failure']} since {dealer['failing_since']}" if dealer["failure"] else "")
        assert row[11] == str(dealer["median_response_ms"] if dealer["median_response_ms"] is not None else "-")
    assert dealers[1][:3] == ["b", "0", "25%"] and dealers[1][10] == "yes"
    assert [(r[0], r[1]) for r in feeds] == [(f["feed"], "fresh" if f["fresh"] else "stale") for f in status["feeds"]]
    assert [(r[0], r[1], r[5]) for r in pollers] == [(p["poller"], p["job"], p["status"]) for p in status["pollers"]]
    assert bars == [7, 7, 7]  # one bar per day of the week, each dealer
    assert captions[0].startswith("gold spot, 24 h: 3,000.00 now; low 3,000.00, high 3,046.00")
    assert any(c.startswith("ase median, 30 days") for c in captions) and any(c.startswith("ase median, 24 h") for c in captions)
    assert "silver spot, 24 h: no data" in silver  # only gold was published
    assert (ARTIFACTS / "status-page.png").stat().st_size > 10_000


def test_without_a_status_file_the_page_says_how_to_get_one(tmp_path):
    from staktrakr.status.page import render_page

    code, html = render_page(tmp_path)
    assert code == 503 and "run <code>staktrakr export</code>" in html
