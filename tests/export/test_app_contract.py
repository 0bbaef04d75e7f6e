"""The API as the StakTrakr web app reads it (CLIENT-CONTRACT.md), on an export made after a
backfill: every hourly spot file of a first visit, a name for every dealer, `coins_meta` for
every coin, Goldback figures against the Goldback rate, files a web server can read."""

from __future__ import annotations

import json
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from staktrakr.api.families import published_value
from staktrakr.api.layout import hourly_spot
from staktrakr.config import load_config
from staktrakr.export import export_api
from staktrakr.plugin_manager import build_plugin_manager, dealer_profiles
from staktrakr.providers import load_bundled_providers
from staktrakr.providers.parse import parse_providers
from staktrakr.store import Database
from staktrakr.timeutil import floor_15, iso_ms, utcnow

from .helpers import add

BACKFILL_DAYS = 8
METALS = {"gold": 5019.58, "silver": 80.6, "platinum": 2018.69, "palladium": 1555.99}
G1_RATE = 10.06
UNKNOWN_DEALER = "localcoinshop"
NO_ROWS_COIN = "goldback-utah-g10"
G5 = "goldback-utah-g5"


def app_hourly_paths(now) -> list[str]:
    """What the app fetches on a first visit: the hourly files of the last 7 days back from now (UTC)."""
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    return [hourly_spot(this_hour - timedelta(hours=h)) for h in range(7 * 24)]


def _providers():
    """The bundled coins, plus a coin nobody has priced yet and a dealer no plugin describes."""
    rich = load_bundled_providers().rich()
    for slug, g in ((G5, 5), (NO_ROWS_COIN, 10)):
        rich["coins"][slug] = {
            "name": f"G{g} Utah Goldback ({g}/1000 oz gold)", "metal": "goldback", "weight_oz": g,
            "providers": [{"id": "apmex", "enabled": True, "url": f"https://www.apmex.com/product/goldback-g{g}"}],
        }  # fmt: skip
    rich["coins"]["ase"]["providers"].append({"id": UNKNOWN_DEALER, "enabled": True, "url": "https://localcoinshop.example/ase"})
    return parse_providers(rich, "test")


@pytest.fixture(scope="module")
def export_run(tmp_path_factory):
    """A database after a backfill of 8 days of spot readings (every 15 minutes, stamped with
    their reading time as the spot importer stores them),
    a day of retail prices and today's Goldback rate, exported as of now under umask 077."""
    from staktrakr.plugins.goldback.store import GoldbackRate, insert_goldback_rate
    from staktrakr.plugins.spot.store import SpotReading, insert_spot_readings

    root = tmp_path_factory.mktemp("app")
    now = utcnow()
    db = Database.open_local(root / "db.sqlite")
    readings = []
    at = floor_15(now - timedelta(days=BACKFILL_DAYS))
    while at <= now:
        for metal, price in METALS.items():
            readings.append(SpotReading(
                id=f"import-{metal}-{iso_ms(at)}", poller_id="import", metal=metal, spot=price, source="import",
                timestamp=iso_ms(at), timestamp_floor=iso_ms(at), scraped_at=iso_ms(at),
            ))  # fmt: skip
        at += timedelta(minutes=15)
    insert_spot_readings(db, readings)
    insert_goldback_rate(db, GoldbackRate(id="api-gb", poller_id="api", date=now.date().isoformat(), g1_usd=G1_RATE,
                                          scraped_at=iso_ms(now - timedelta(hours=3)), source="goldback.com"))
    recent = now - timedelta(minutes=20)
    for i, dealer in enumerate(["apmex", "jmbullion", "sdbullion"]):
        add(db, "ase", dealer, iso_ms(recent + timedelta(seconds=i)), 90.0 + i)
        add(db, "goldback-utah-g1", dealer, iso_ms(recent + timedelta(seconds=i)), 12.49 + i)
    add(db, G5, "apmex", iso_ms(recent), 62.45)
    pm = build_plugin_manager(load_config(environ={}))
    out = root / "out"
    old_umask = os.umask(0o077)  # a cron job's strict umask must not make the API unreadable
    try:
        first = export_api(db, _providers(), out, as_of=now, pm=pm)
        second = export_api(db, _providers(), out, as_of=now, pm=pm)
    finally:
        os.umask(old_umask)
    db.close()
    return {"out": out, "now": now, "first": first, "second": second, "pm": pm, "db": root / "db.sqlite"}


def load(out: Path, relative: str):
    return json.loads((out / relative).read_text(encoding="utf-8"))


def schema_errors(out: Path, family: str, value) -> list[str]:
    """What the published JSON Schema of `family` (api/schema/) says about `value`."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load(out, f"api/schema/{family}.json"))
    return [e.message for e in validator.iter_errors(value)]


def test_a_first_visit_finds_every_hourly_file_and_a_second_export_writes_none(export_run):
    out, now = export_run["out"], export_run["now"]
    paths = app_hourly_paths(now)
    assert len(paths) == 168
    missing = [p for p in paths if not (out / p).is_file()]
    assert missing == []
    for relative in paths:
        entries = load(out, relative)
        published_value(relative, entries)  # its family's model accepts it, and its published schema
        assert schema_errors(out, "spot", entries) == [], relative
        assert {e["metal"] for e in entries} == {"Gold", "Silver", "Platinum", "Palladium"}
        assert entries[-1]["timestamp"].startswith(relative[7:17].replace("/", "-"))  # what health reads
    assert set(paths) <= set(export_run["first"].written)
    assert not set(paths) & set(export_run["second"].written)
    assert export_run["second"].written == []


def test_the_app_names_every_dealer(export_run):
    providers = load(export_run["out"], "api/providers.json")
    meta = providers.pop("_vendor_meta")
    assert not [k for k in providers if k.startswith("_")]
    dealers = {dealer for by_dealer in providers.values() for dealer in by_dealer}
    assert UNKNOWN_DEALER in dealers and set(meta) == dealers
    profiles = dealer_profiles(export_run["pm"])
    for dealer in dealers - {UNKNOWN_DEALER}:
        profile = profiles[dealer]
        assert meta[dealer] == {"name": profile.name, "color": profile.color, "url": profile.homepage}
        assert profile.color.startswith("#") and profile.homepage.startswith("https://")
    assert meta["gainesvillecoins"]["name"] == "Gainesville Coins" and meta["providentmetals"]["name"] == "Provident Metals"
    assert meta[UNKNOWN_DEALER] == {"name": UNKNOWN_DEALER}  # no colour, no link: the app's own grey chip
    # the published schema holds dealer names under `_vendor_meta` only, and no other `_` key
    assert schema_errors(export_run["out"], "providers", {**providers, "_vendor_meta": meta}) == []
    assert schema_errors(export_run["out"], "providers", {"ase": {"apmex": {"name": "APMEX"}}})
    assert schema_errors(export_run["out"], "providers", {"_other": {}})
    # the published file reads back as the same providers (the `_vendor_meta` key is not a coin)
    again = parse_providers(load(export_run["out"], "api/providers.json"), "published")
    assert again.flat() == providers


def test_coins_meta_names_every_listed_coin_including_one_without_rows(export_run):
    manifest = load(export_run["out"], "api/manifest.json")
    assert NO_ROWS_COIN in manifest["coins"] and manifest["coin_count"] == len(manifest["coins"])
    assert set(manifest["coins_meta"]) == set(manifest["coins"])
    for slug, meta in manifest["coins_meta"].items():
        assert meta["name"] and meta["metal"] in {"gold", "silver", "platinum", "palladium", "goldback"} and meta["weight"] > 0, slug
    assert manifest["coins_meta"][NO_ROWS_COIN] == {"name": "G10 Utah Goldback (10/1000 oz gold)", "metal": "goldback", "weight": 10}
    assert "goldback-utah-g1" in manifest["coins_meta"] and "ase" in manifest["coins_meta"]


def test_goldback_figures_are_measured_against_the_goldback_rate(export_run):
    latest = load(export_run["out"], "api/goldback-utah-g1/latest.json")
    assert latest["spot"]["metal"] == "goldback" and latest["spot"]["price"] == G1_RATE
    assert latest["melt_value"] == G1_RATE  # a G1 is worth one G1 at the exchange rate
    apmex = latest["vendors"]["apmex"]
    assert apmex["per_oz"] == 12.49  # per G unit, comparable with g1_usd (not 12,490 per ounce of gold)
    assert apmex["premium_pct"] == round((12.49 - G1_RATE) / G1_RATE * 100, 2)
    g5 = load(export_run["out"], f"api/{G5}/latest.json")
    assert g5["melt_value"] == round(5 * G1_RATE, 2)  # g1_usd x denomination
    assert g5["vendors"]["apmex"]["per_oz"] == 12.49
    assert g5["vendors"]["apmex"]["premium_pct"] == round((62.45 - 5 * G1_RATE) / (5 * G1_RATE) * 100, 2)
    summary = load(export_run["out"], "api/latest.json")["coins"]["goldback-utah-g1"]
    assert summary["melt_value"] == G1_RATE and summary["lowest_premium_pct"] == apmex["premium_pct"]
    # bullion stays against spot
    ase = load(export_run["out"], "api/ase/latest.json")
    assert ase["spot"]["metal"] == "silver" and ase["melt_value"] == METALS["silver"]
    assert ase["vendors"]["apmex"]["per_oz"] == 90 and ase["vendors"]["apmex"]["premium_pct"] == round((90 - 80.6) / 80.6 * 100, 2)


def test_every_exported_file_is_world_readable(export_run):
    out = export_run["out"]
    files = dirs = 0
    for folder, subdirs, names in os.walk(out):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o755, folder
        dirs += 1
        for name in names:
            assert stat.S_IMODE(os.stat(Path(folder) / name).st_mode) == 0o644, f"{folder}/{name}"
            files += 1
    assert files > 168 + 3 * 23 and dirs > 8


def test_files_an_older_version_left_0600_are_made_readable_without_rewriting(export_run):
    out = export_run["out"]
    private = ["api/manifest.json", "api/providers.json", app_hourly_paths(export_run["now"])[-1]]
    for relative in private:
        os.chmod(out / relative, 0o600)
    db = Database.open_local(export_run["db"])
    try:
        again = export_api(db, _providers(), out, as_of=export_run["now"], pm=export_run["pm"])
    finally:
        db.close()
    assert again.written == []
    assert {relative: stat.S_IMODE(os.stat(out / relative).st_mode) for relative in private} == dict.fromkeys(private, 0o644)
