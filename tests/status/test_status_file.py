"""`api/status.json` from a real database: shares, failures, feeds, pollers; valid against the
schema the export publishes; written by the export."""

from __future__ import annotations

import json

import jsonschema

from staktrakr.api import layout
from staktrakr.api.schema import schema_files
from staktrakr.export import export_api
from staktrakr.models import Coin, Metal
from staktrakr.providers import ProviderSet
from staktrakr.status import build_status

from .rows import NOW, fill_a_week as _fill


def test_status_matches_the_database(db):
    _fill(db)
    status = build_status(db, NOW, targets={"a": 2, "b": 1, "c": 1})
    dealers = {d.dealer: d for d in status.dealers}
    assert list(dealers) == ["a", "b", "c"]
    a, b, c = dealers["a"], dealers["b"], dealers["c"]
    assert a.targets == 2 and a.last_7d.attempts == 7 and a.last_7d.ok == 1.0 and a.failure is None
    assert a.last_24h.attempts == 1 and a.median_response_ms == 500 and a.needs_browser is None
    assert a.success_by_day["2026-03-15"] == 1.0 and len(a.success_by_day) == 7
    # b: 3 failures in 24 h after one success; failing since the first failure after it.
    assert b.last_24h.attempts == 4 and b.last_24h.ok == 0.25 and b.last_24h.blocked == 0.5 and b.last_24h.failed == 0.25
    assert b.failure == "blocked" and b.failing_since == "2026-03-15T11:10:00.000Z"
    assert b.last_success == "2026-03-15T11:00:00.000Z" and b.needs_browser is True
    assert b.median_response_ms == 100  # the last 24 h timed 900, 100, 100 ms (the error has no time)
    assert c.last_24h.out_of_stock == 1.0 and c.failure is None and c.last_success is None
    feeds = {f.feed: f for f in status.feeds}
    assert feeds["retail"].fresh and feeds["retail"].last_good == "2026-03-15T11:02:00.000Z"
    assert not feeds["spot"].fresh and feeds["spot"].threshold_seconds == 75 * 60
    assert not feeds["goldback"].fresh and feeds["goldback"].last_good is None
    pollers = {(p.job, p.poller): p for p in status.pollers}
    assert pollers[("retail", "test")].status == "partial" and pollers[("goldback", "test")].status == "error"
    assert [r.job for r in status.recent_runs] == ["retail", "retail", "spot", "goldback"]


def test_export_writes_a_status_file_its_schema_accepts(db, tmp_path):
    _fill(db)
    coin = Coin(slug="ase", name="American Silver Eagle 1 oz", metal=Metal.silver, weight_oz=1.0)
    providers = ProviderSet(source="test", coins={"ase": coin}, listings={})
    report = export_api(db, providers, tmp_path, as_of=NOW)
    assert layout.STATUS in report.written
    written = json.loads((tmp_path / layout.STATUS).read_text())
    schema = schema_files()[layout.schema_file("status")]
    jsonschema.Draft202012Validator(schema).validate(written)
    assert written == build_status(db, NOW, targets={}).model_dump(mode="json")
    text = (tmp_path / layout.STATUS).read_text()
    assert "http" not in text and "proxy" not in text.lower()  # names only: no URL, no proxy address
    again = export_api(db, providers, tmp_path, as_of=NOW)
    assert layout.STATUS not in again.written  # nothing moved: the file is left alone
