"""Our export keeps the live API's contract: every key the published files have, with the
same JSON type, for every file family. The expected structure is derived from the real
published files (tests/fixtures/live-api, a copy of ../shared/reference/api-samples)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from staktrakr.export import export_api
from staktrakr.providers import load_bundled_providers
from staktrakr.timeutil import parse_time

from ..conftest import FIXTURES
from .helpers import add

SAMPLES = FIXTURES / "live-api"

# Objects keyed by data (slugs, dealers) rather than by field names: compared as maps.
MAPS = {
    "manifest": {"coins_meta"},
    "latest": {"coins"},
    "providers": {"", "*"},
    "slug_latest": {"vendors", "availability_by_site", "last_known_price_by_site", "last_available_date_by_site", "windows_24h[].vendors"},
    "history": {"[].vendors"},
}
FAMILIES = {
    "manifest": ("api/manifest.json", "api/manifest.json"),
    "latest": ("api/latest.json", "api/latest.json"),
    "providers": ("api/providers.json", "api/providers.json"),
    "slug_latest": ("api/ase/latest.json", "api/ase/latest.json"),
    "history": ("api/ase/history-30d.json", "api/ase/history-30d.json"),
    "history_7d": ("api/ase/history-7d.json", "api/ase/history-7d.json"),
    "goldback_spot": ("api/goldback-spot.json", "api/goldback-spot.json"),
    "goldback_year": ("goldback-2026.json", "goldback-2026.json"),
    "hourly": ("hourly/2026/03/15/20.json", "hourly/2026/03/15/20.json"),
    "15min": ("15min/2026/03/15/2015.json", "15min/2026/03/15/2015.json"),
}


def kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def shape(value: Any, path: str, maps: set[str]) -> dict[str, Any]:
    """{'kinds': {...}, 'fields': {name: shape}, 'required': set, 'items': shape, 'map': shape}"""
    node: dict[str, Any] = {"kinds": {kind(value)}}
    if isinstance(value, dict):
        if path in maps or (path == "" and "" in maps):
            node["map"] = merge([shape(v, "*" if path == "" else f"{path}.*", maps) for v in value.values()])
        else:
            node["fields"] = {k: shape(v, f"{path}.{k}".lstrip("."), maps) for k, v in value.items()}
            node["required"] = set(value)
    elif isinstance(value, list):
        node["items"] = merge([shape(v, f"{path}[]", maps) for v in value])
    return node


def merge(nodes: list[dict[str, Any]]) -> dict[str, Any] | None:
    nodes = [n for n in nodes if n]
    if not nodes:
        return None
    out: dict[str, Any] = {"kinds": set().union(*(n["kinds"] for n in nodes))}
    with_fields = [n for n in nodes if "fields" in n]
    if with_fields:
        names = {k for n in with_fields for k in n["fields"]}
        out["fields"] = {k: merge([n["fields"][k] for n in with_fields if k in n["fields"]]) for k in names}
        out["required"] = set.intersection(*(n["required"] for n in with_fields))
    for key in ("items", "map"):
        parts = [n[key] for n in nodes if n.get(key)]
        if parts:
            out[key] = merge(parts)
    return out


# Null where LIVE-SYSTEM §4.7 documents it (a dealer out of stock all day has no average),
# although the sample day happens to show only numbers there.
DOCUMENTED_NULLABLE = ("].avg", "].avg_median", "].avg_low")


def problems(value: Any, expected: dict[str, Any] | None, path: str = "$") -> list[str]:
    if expected is None:
        return []
    found = []
    if value is None and path.endswith(DOCUMENTED_NULLABLE):
        return []
    if kind(value) not in expected["kinds"]:
        return [f"{path}: {kind(value)} where the live API has {sorted(expected['kinds'])}"]
    if isinstance(value, dict) and "fields" in expected:
        for name in sorted(expected["required"] - set(value)):
            found.append(f"{path}.{name}: missing")
        for name, sub in expected["fields"].items():
            if name in value:
                found += problems(value[name], sub, f"{path}.{name}")
    if isinstance(value, dict) and "map" in expected:
        for k, v in value.items():
            found += problems(v, expected["map"], f"{path}[{k!r}]")
    if isinstance(value, list) and "items" in expected:
        for i, v in enumerate(value):
            found += problems(v, expected["items"], f"{path}[{i}]")
    return found


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """An export of a database that resembles the sample day: fresh, stale, out of stock."""
    from staktrakr.config import load_config
    from staktrakr.plugin_manager import build_plugin_manager
    from staktrakr.store import Database
    from staktrakr.plugins.goldback.store import GoldbackRate, insert_goldback_rate
    from staktrakr.plugins.spot.store import SpotReading, insert_spot_readings

    root = tmp_path_factory.mktemp("contract")
    db = Database.open_local(root / "db.sqlite")
    dealers = ["apmex", "herobullion", "jmbullion", "sdbullion", "summitmetals", "monumentmetals"]
    for day in ("2026-03-13", "2026-03-14", "2026-03-15"):
        for hour in (0, 4, 8, 12, 16, 20):
            for i, dealer in enumerate(dealers):
                add(db, "ase", dealer, f"{day}T{hour:02d}:0{i}:00Z", 90.0 + i)
                add(db, "age", dealer, f"{day}T{hour:02d}:0{i}:00Z", 5200.0 + 10 * i)
    add(db, "ase", "bullionexchanges", "2026-03-15T14:00:00Z", 88.0)  # stale last-known price
    add(db, "ase", "providentmetals", "2026-03-15T19:00:00Z", status="out_of_stock", in_stock=False)
    add(db, "ase", "providentmetals", "2026-03-14T10:00:00Z", 93.0)
    readings = []
    for metal, price in (("gold", 5019.58), ("silver", 80.6), ("platinum", 2018.69), ("palladium", 1555.99)):
        for minute in (0, 15):
            at = f"2026-03-15T20:{minute:02d}:04.000Z"
            readings.append(SpotReading(id=f"api-{metal}-{minute}", poller_id="api", metal=metal, spot=price, source="metalprice-api",
                                        timestamp=at, timestamp_floor=f"2026-03-15T20:{minute:02d}:00Z", scraped_at=at))
    insert_spot_readings(db, readings)
    insert_goldback_rate(db, GoldbackRate(id="api-gb-1", poller_id="api", date="2026-03-15", g1_usd=10.06,
                                          scraped_at="2026-03-15T00:01:01.596Z", source="goldback.com"))
    insert_goldback_rate(db, GoldbackRate(id="api-gb-0", poller_id="api", date="2026-03-14", g1_usd=10.06,
                                          scraped_at="2026-03-14T00:01:01.993Z", source="goldback.com"))
    pm = build_plugin_manager(load_config(environ={}))
    export_api(db, load_bundled_providers(), root / "out", as_of=parse_time("2026-03-15T20:23:00Z"), pm=pm)
    db.close()
    return root / "out"


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_matches_the_live_contract(exported, family):
    sample_rel, ours_rel = FAMILIES[family]
    maps = MAPS.get(family.removesuffix("_7d"), set())
    assert (exported / ours_rel).is_file(), f"the export did not write {ours_rel}"
    sample = json.loads((SAMPLES / sample_rel).read_text())
    ours = json.loads((exported / ours_rel).read_text())
    if family == "providers":
        # The web app's optional dealer names (CLIENT-CONTRACT), which the live sample lacks:
        # checked by its model and by tests/export/test_app_contract.py.
        assert isinstance(ours.pop("_vendor_meta"), dict)
    expected = shape(sample, "", maps)
    assert problems(ours, expected) == []


def test_the_contract_check_catches_a_removed_or_retyped_key(exported):
    sample = json.loads((SAMPLES / "api/ase/latest.json").read_text())
    ours = json.loads((exported / "api/ase/latest.json").read_text())
    expected = shape(sample, "", MAPS["slug_latest"])
    broken = dict(ours, median_price="92.30")
    del broken["availability_by_site"]
    found = problems(broken, expected)
    assert "$.availability_by_site: missing" in found
    assert any(p.startswith("$.median_price: string") for p in found)


def test_every_configured_slug_has_its_three_files(exported):
    manifest = json.loads((exported / "api/manifest.json").read_text())
    assert len(manifest["coins"]) == 23
    for slug in manifest["coins"]:
        for name in ("latest.json", "history-7d.json", "history-30d.json"):
            assert (exported / "api" / slug / name).is_file(), (slug, name)


# -- the published schemas ------------------------------------------------------------------------


def _validator(root, family_name):
    import jsonschema

    schema = json.loads((root / f"api/schema/{family_name}.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_every_exported_file_is_valid_against_its_published_schema(exported):
    from staktrakr.api.families import BY_NAME, family_of

    checked: dict[str, int] = {}
    for path in sorted(exported.rglob("*.json")):
        rel = path.relative_to(exported).as_posix()
        if rel.startswith("api/schema/"):
            continue
        family = family_of(rel)
        assert family is not None, f"{rel} belongs to no file family"
        errors = [e.message for e in _validator(exported, family.name).iter_errors(json.loads(path.read_text()))]
        assert errors == [], (rel, errors[:3])
        checked[family.name] = checked.get(family.name, 0) + 1
    assert set(checked) == set(BY_NAME), f"families without an exported file: {set(BY_NAME) - set(checked)}"


def test_the_live_samples_are_valid_against_our_published_schemas(exported):
    """The schemas describe the live contract too: every live sample of a family passes."""
    from staktrakr.api.families import family_of

    seen = set()
    for path in sorted(SAMPLES.rglob("*.json")):
        rel = path.relative_to(SAMPLES).as_posix()
        family = family_of(rel)
        if family is None:
            assert rel.startswith("retail/"), rel  # the live system's own poller files, not API files
            continue
        errors = [e.message for e in _validator(exported, family.name).iter_errors(json.loads(path.read_text()))]
        assert errors == [], (rel, errors[:3])
        seen.add(family.name)
    assert len(seen) == 8


def test_a_schema_rejects_a_retyped_or_unknown_key(exported):
    validator = _validator(exported, "slug-latest")
    ours = json.loads((exported / "api/ase/latest.json").read_text())
    assert validator.is_valid(ours)
    assert not validator.is_valid(dict(ours, median_price="92.30"))
    assert not validator.is_valid(dict(ours, surprise=1))
    broken = dict(ours)
    del broken["windows_24h"]
    assert not validator.is_valid(broken)


def test_the_export_refuses_to_write_a_file_its_model_rejects(tmp_path):
    from pydantic import ValidationError

    from staktrakr.export.writer import ApiWriter

    writer = ApiWriter(tmp_path / "out")
    with pytest.raises(ValidationError):
        writer.write_json("api/goldback-spot.json", {"date": "2026-03-15"})
    assert not (tmp_path / "out/api/goldback-spot.json").exists()
    writer.write_json("api/other-plugin/thing.json", {"any": "shape"})  # no family: written as it is
    assert json.loads((tmp_path / "out/api/other-plugin/thing.json").read_text()) == {"any": "shape"}


def test_a_model_is_written_only_as_its_own_family(tmp_path):
    from staktrakr.api.models import LatestIndex
    from staktrakr.export.writer import ApiWriter

    index = LatestIndex(window_start=None, generated_at="2026-03-15T20:23:00.000Z", coin_count=0, coins={})
    writer = ApiWriter(tmp_path / "out")
    with pytest.raises(TypeError, match="is a Manifest, not a LatestIndex"):
        writer.write_json("api/manifest.json", index)
    writer.write_json("api/latest.json", index)
    assert json.loads((tmp_path / "out/api/latest.json").read_text()) == {
        "window_start": None, "generated_at": "2026-03-15T20:23:00.000Z", "coin_count": 0, "coins": {},
    }  # fmt: skip
