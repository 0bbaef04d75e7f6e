"""The export on synthetic rows whose right answers are known."""

import json
import os

import pytest

from staktrakr.export import export_api
from staktrakr.providers import parse_providers
from staktrakr.timeutil import parse_time

from .helpers import add

AS_OF = parse_time("2026-03-15T20:20:00Z")
VENDORS = ["a", "b", "c", "d", "e", "f", "g", "h"]


@pytest.fixture
def providers():
    return parse_providers(
        {"coins": {
            "ase": {"providers": [{"id": v, "url": f"https://{v}.example/ase"} for v in VENDORS]},
            "age": {"providers": [{"id": "a", "url": "https://a.example/age"}]},
        }},
        "test providers",
    )


@pytest.fixture
def filled(db):
    for vendor, price in zip("abcd", (90.0, 91.0, 92.0, 93.0)):
        add(db, "ase", vendor, "2026-03-15T20:05:00Z", price)
    add(db, "ase", "e", "2026-03-15T20:06:00Z", 150.0)  # wrong product that passed every check
    add(db, "ase", "a", "2026-03-15T20:10:00Z", status="blocked")  # a later failure hides nothing
    add(db, "ase", "f", "2026-03-15T10:00:00Z", 91.5)  # last known, 10 h old
    add(db, "ase", "g", "2026-03-15T19:00:00Z", 95.0)
    add(db, "ase", "g", "2026-03-15T19:30:00Z", status="out_of_stock", in_stock=False, poller="home")
    add(db, "ase", "h", "2026-03-15T17:00:00Z", 96.0)
    add(db, "ase", "h", "2026-03-15T18:00:00Z", 96.0, status="out_of_stock", in_stock=False)
    # the window before: b was seen at 19:45 only, and is carried into later windows
    for vendor, price in zip("acd", (89.0, 91.0, 92.0)):
        add(db, "ase", vendor, "2026-03-15T19:46:00Z", price)
    add(db, "ase", "b", "2026-03-15T19:47:00Z", 90.5, poller="home")
    # yesterday: the previous day's median is 80 for the confidence score
    for vendor in "abcd":
        add(db, "ase", vendor, "2026-03-14T12:00:00Z", 80.0)
    add(db, "ase", "e", "2026-03-14T12:01:00Z", 40.0)  # an outlier in yesterday's window
    return db


def test_latest_merges_pollers_flags_outliers_and_falls_back(filled, providers, tmp_path):
    export_api(filled, providers, tmp_path, as_of=AS_OF)
    latest = json.loads((tmp_path / "api/ase/latest.json").read_text())
    assert latest["median_price"] == 92 and latest["lowest_price"] == 90  # e excluded
    vendors = latest["vendors"]
    assert list(vendors)[:5] == ["a", "b", "c", "d", "e"]
    assert vendors["e"]["outlier"] is True and vendors["e"]["confidence"] <= 20
    # within 3 % of the median (+30) but 12.5 % above yesterday's median of 80 (-20)
    assert vendors["a"] == {"price": 90, "confidence": 60, "source": "firecrawl", "inStock": True, "method": "table",
                            "scraped_at": "2026-03-15T20:05:00.000Z", "per_oz": 90, "premium_pct": None}
    assert vendors["f"]["source"] == "turso_last_known" and vendors["f"]["stale"] is True
    assert vendors["f"]["stale_since"] == "2026-03-15T10:00:00.000Z" and vendors["f"]["confidence"] is None
    assert "g" not in vendors and "h" not in vendors  # out of stock: no price published
    assert latest["availability_by_site"] == {"a": True, "b": True, "c": True, "d": True, "e": True, "f": True, "g": False, "h": False}
    assert latest["last_known_price_by_site"] == {"g": 95, "h": 96}
    assert latest["last_available_date_by_site"] == {"g": "2026-03-15", "h": "2026-03-15"}


def test_windows_cover_24_hours_carry_for_two_hours_and_list_outliers(filled, providers, tmp_path):
    export_api(filled, providers, tmp_path, as_of=AS_OF)
    windows = json.loads((tmp_path / "api/ase/latest.json").read_text())["windows_24h"]
    by_key = {w["window"]: w for w in windows}
    # windows with a price only: 18:00 and 19:30 hold nothing but out-of-stock news
    assert set(by_key) == {"2026-03-15T10:00:00.000Z", "2026-03-15T17:00:00.000Z", "2026-03-15T19:00:00.000Z",
                           "2026-03-15T19:45:00.000Z", "2026-03-15T20:00:00.000Z"}
    now = by_key["2026-03-15T20:00:00.000Z"]
    assert now["vendors"] == {"a": 90, "b": 91, "c": 92, "d": 93} and now["outliers"] == ["e"]
    assert now["median"] == 92 and now["low"] == 90 and now["carried"] == []
    before = by_key["2026-03-15T19:45:00.000Z"]
    assert before["vendors"] == {"a": 89, "b": 90.5, "c": 91, "d": 92}  # g went out of stock at 19:30
    # h went out of stock at 18:00: never carried after that
    assert "h" not in by_key["2026-03-15T19:00:00.000Z"]["vendors"]
    assert "g" not in by_key["2026-03-15T20:00:00.000Z"]["vendors"]  # out of stock at 19:30 stopped the carry
    assert "f" not in by_key["2026-03-15T17:00:00.000Z"]["vendors"]  # 7 h later: not carried
    yesterday = "2026-03-14T12:00:00.000Z"
    assert yesterday not in by_key  # 24 h only


def test_history_uses_in_stock_ok_rows_without_outliers(filled, providers, tmp_path):
    export_api(filled, providers, tmp_path, as_of=AS_OF)
    history = json.loads((tmp_path / "api/ase/history-30d.json").read_text())
    days = {d["date"]: d for d in history}
    assert list(days) == ["2026-03-14", "2026-03-15"]
    assert days["2026-03-14"]["avg_median"] == 80 and "e" not in days["2026-03-14"]["vendors"]  # its only row was an outlier
    assert days["2026-03-14"]["sample_count"] == 4
    today = days["2026-03-15"]["vendors"]
    assert today["a"] == {"avg": 89.5, "inStock": True, "low": 89, "samples": 2}
    assert "e" not in today or today["e"]["avg"] is None
    assert today["h"]["inStock"] is True and today["g"]["avg"] == 95
    seven = json.loads((tmp_path / "api/ase/history-7d.json").read_text())
    assert [d["date"] for d in seven] == ["2026-03-14", "2026-03-15"]


def test_manifest_latest_and_providers(filled, providers, tmp_path):
    export_api(filled, providers, tmp_path, as_of=AS_OF)
    manifest = json.loads((tmp_path / "api/manifest.json").read_text())
    assert manifest["coins"] == ["age", "ase"] and manifest["schema_version"] == 2
    assert manifest["coins_meta"]["ase"] == {"name": "American Silver Eagle 1 oz", "metal": "silver", "weight": 1}
    assert manifest["latest_window"] == "2026-03-15T20:00:00Z" and manifest["generated_at"] == "2026-03-15T20:20:00.000Z"
    latest = json.loads((tmp_path / "api/latest.json").read_text())
    assert latest["coins"] == {"ase": {"window_start": "2026-03-15T20:00:00Z", "median_price": 92, "lowest_price": 90,
                                       "vendor_count": 4, "melt_value": None, "lowest_premium_pct": None}}
    assert latest["coin_count"] == 1  # age has no data in 24 h
    assert json.loads((tmp_path / "api/providers.json").read_text())["age"] == {"a": "https://a.example/age"}


def test_stale_only_coin_is_marked_stale_in_latest(db, providers, tmp_path):
    add(db, "age", "a", "2026-03-15T09:00:00Z", 5200.0)
    export_api(db, providers, tmp_path, as_of=AS_OF)
    coin = json.loads((tmp_path / "api/latest.json").read_text())["coins"]["age"]
    assert coin["is_stale"] is True and coin["median_price"] == 5200


def test_as_of_uses_only_rows_observed_by_then(filled, providers, tmp_path):
    export_api(filled, providers, tmp_path, as_of=parse_time("2026-03-15T19:50:00Z"))
    latest = json.loads((tmp_path / "api/ase/latest.json").read_text())
    assert "g" not in latest["vendors"]
    assert latest["availability_by_site"]["g"] is False  # the 19:30 out-of-stock row is older than 19:50
    assert latest["vendors"]["a"]["price"] == 89 and "e" not in latest["vendors"]


def test_rewrites_nothing_when_nothing_changed_and_removes_stale_slugs(filled, providers, tmp_path):
    (tmp_path / "api/old-slug").mkdir(parents=True)
    (tmp_path / "api/old-slug/latest.json").write_text("{}")
    first = export_api(filled, providers, tmp_path, as_of=AS_OF)
    assert first.removed == ["api/old-slug/"] and not (tmp_path / "api/old-slug").exists()
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.json")}
    again = export_api(filled, providers, tmp_path, as_of=parse_time("2026-03-15T20:21:00Z"))
    assert again.written == [] and {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.json")} == mtimes
    assert json.loads((tmp_path / "api/manifest.json").read_text())["generated_at"] == "2026-03-15T20:20:00.000Z"
    add(filled, "ase", "c", "2026-03-15T20:21:30Z", 92.5)
    third = export_api(filled, providers, tmp_path, as_of=parse_time("2026-03-15T20:22:00Z"))
    assert "api/ase/latest.json" in third.written and "api/manifest.json" in third.written
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_crash_mid_write_leaves_the_old_file(filled, providers, tmp_path, monkeypatch):
    export_api(filled, providers, tmp_path, as_of=AS_OF)
    before = (tmp_path / "api/ase/latest.json").read_bytes()
    add(filled, "ase", "c", "2026-03-15T20:21:30Z", 92.5)

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        export_api(filled, providers, tmp_path, as_of=parse_time("2026-03-15T20:22:00Z"))
    assert (tmp_path / "api/ase/latest.json").read_bytes() == before
    assert not list(tmp_path.rglob("*.tmp"))


def test_carry_forward_is_bounded_to_two_hours_and_flagged(db, providers, tmp_path):
    for vendor, price in zip("abc", (90.0, 91.0, 92.0)):
        add(db, "ase", vendor, "2026-03-15T10:01:00Z", price)
    add(db, "ase", "a", "2026-03-15T10:16:00Z", 90.1)
    add(db, "ase", "b", "2026-03-15T10:17:00Z", 91.1)
    for minute in range(30, 300, 15):  # a keeps being seen every 15 minutes until 14:45
        hour, rest = divmod(600 + minute, 60)
        add(db, "ase", "a", f"2026-03-15T{hour:02d}:{rest:02d}:00Z", 90.2)
    export_api(db, providers, tmp_path, as_of=parse_time("2026-03-15T14:50:00Z"))
    windows = {w["window"][11:16]: w for w in json.loads((tmp_path / "api/ase/latest.json").read_text())["windows_24h"]}
    assert windows["10:15"]["carried"] == ["c"] and windows["10:15"]["vendors"]["c"] == 92
    assert windows["10:30"]["carried"] == ["b", "c"]
    assert windows["12:00"]["carried"] == ["b", "c"]  # c: 8 windows after 10:00
    assert windows["12:15"]["carried"] == ["b"]  # c: more than 2 h old now
    assert windows["12:30"]["carried"] == []
    assert windows["14:45"]["vendors"] == {"a": 90.2}


def test_premium_over_spot(filled, providers, tmp_path):
    from staktrakr.plugin_manager import get_plugin_manager
    from staktrakr.plugins.spot.store import SpotReading, insert_spot_readings

    insert_spot_readings(filled, [
        SpotReading(id="api-s1", poller_id="api", metal="silver", spot=80.0, source="metalprice-api",
                    timestamp="2026-03-15T20:01:02.000Z", timestamp_floor="2026-03-15T20:00:00Z", scraped_at="2026-03-15T20:01:02.000Z"),
        SpotReading(id="api-s0", poller_id="api", metal="silver", spot=70.0, source="metalprice-api",
                    timestamp="2026-03-13T20:01:02.000Z", timestamp_floor="2026-03-13T20:00:00Z", scraped_at="2026-03-13T20:01:02.000Z"),
    ])
    pm = get_plugin_manager()  # the spot price comes from the spot plugin (staktrakr_spot_price)
    export_api(filled, providers, tmp_path, as_of=AS_OF, pm=pm)
    latest = json.loads((tmp_path / "api/ase/latest.json").read_text())
    assert latest["spot"] == {"metal": "silver", "price": 80, "as_of": "2026-03-15T20:01:02.000Z"}
    assert latest["melt_value"] == 80
    assert latest["vendors"]["a"]["per_oz"] == 90 and latest["vendors"]["a"]["premium_pct"] == 12.5
    summary = json.loads((tmp_path / "api/latest.json").read_text())["coins"]["ase"]
    assert summary["melt_value"] == 80 and summary["lowest_premium_pct"] == 12.5
    # without a spot price from the last 24 h the keys stay, empty
    export_api(filled, providers, tmp_path, as_of=parse_time("2026-03-17T12:00:00Z"), pm=pm)
    assert json.loads((tmp_path / "api/ase/latest.json").read_text())["melt_value"] is None


def test_vision_decisions_keep_their_source_and_confidence(db, providers, tmp_path):
    add(db, "ase", "a", "2026-03-15T20:05:00Z", 90.0, source="firecrawl+vision", confidence=99, vision_price=90.1, vision_agrees=True)
    add(db, "ase", "b", "2026-03-15T20:05:00Z", 91.0, source="vision", confidence=64, method="vision")
    add(db, "ase", "c", "2026-03-15T20:05:00Z", 92.0)
    export_api(db, providers, tmp_path, as_of=AS_OF)
    vendors = json.loads((tmp_path / "api/ase/latest.json").read_text())["vendors"]
    assert (vendors["a"]["source"], vendors["a"]["confidence"]) == ("firecrawl+vision", 99)
    assert (vendors["b"]["source"], vendors["b"]["confidence"], vendors["b"]["method"]) == ("vision", 64, "vision")
    assert vendors["c"]["source"] == "firecrawl" and vendors["c"]["confidence"] == 80


def test_the_report_carries_the_manifest_as_published(filled, providers, tmp_path):
    """`publish` hands the report's manifest to the publishers without reading the file back."""
    first = export_api(filled, providers, tmp_path, as_of=AS_OF)
    assert first.manifest == json.loads((tmp_path / "api/manifest.json").read_text())
    assert first.manifest["coins"] == ["age", "ase"] and first.manifest["coins_meta"]["ase"]["weight"] == 1
    # Nothing moved: the manifest is left alone, and the report has the one on disk (older stamp).
    again = export_api(filled, providers, tmp_path, as_of=parse_time("2026-03-15T20:21:00Z"))
    assert "api/manifest.json" not in again.written
    assert again.manifest == first.manifest and again.manifest["generated_at"] == "2026-03-15T20:20:00.000Z"
    assert "manifest" not in json.loads(again.model_dump_json())  # not part of the printed report


def test_a_second_export_rewrites_no_schema(filled, providers, tmp_path):
    first = export_api(filled, providers, tmp_path, as_of=AS_OF)
    assert sum(w.startswith("api/schema/") for w in first.written) == 9  # one per family, status included
    again = export_api(filled, providers, tmp_path, as_of=AS_OF)
    assert again.written == []
