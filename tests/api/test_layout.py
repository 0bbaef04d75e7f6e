"""Every path of the published API, spelled once (staktrakr/api/layout.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from staktrakr.api import layout
from staktrakr.api.families import BY_NAME, FAMILIES, family_of


def test_paths_of_each_family() -> None:
    at = datetime(2026, 3, 5, 7, 15, tzinfo=UTC)
    assert layout.slug_latest("ase") == "api/ase/latest.json"
    assert (layout.history_7d("ase"), layout.history_30d("ase")) == ("api/ase/history-7d.json", "api/ase/history-30d.json")
    assert layout.hourly_spot(at) == "hourly/2026/03/05/07.json"
    assert layout.quarter_spot(at) == "15min/2026/03/05/0715.json"
    assert layout.goldback_year(2026) == "goldback-2026.json"
    assert layout.schema_file("slug-latest") == "api/schema/slug-latest.json"
    # the manifest's endpoints are the live contract's templates
    assert layout.ENDPOINTS["slug_latest"].format(slug="ase") == layout.slug_latest("ase")


@pytest.mark.parametrize(
    ("path", "family"),
    [
        ("api/manifest.json", "manifest"), ("api/latest.json", "latest"), ("api/providers.json", "providers"),
        ("api/ase/latest.json", "slug-latest"), ("api/generic-silver-bar-10oz/history-7d.json", "history"),
        ("api/ase/history-30d.json", "history"), ("api/goldback-spot.json", "goldback-spot"),
        ("goldback-2026.json", "goldback-year"), ("hourly/2026/03/15/20.json", "spot"), ("15min/2026/03/15/2015.json", "spot"),
        ("spot-history-2026.json", "spot"), ("api/status.json", "status"),
    ],
)  # fmt: skip
def test_every_api_file_has_one_family_and_is_published(path: str, family: str) -> None:
    found = family_of(path)
    assert found is not None and found.name == family
    assert layout.is_api_file(path)


@pytest.mark.parametrize(
    "path",
    ["api/schema/latest.json", "api/.latest.json.x1.tmp", "api/ase/latest.json.bak", "staktrakr.db", "hourly/2026/03/15/2.json", "api/Ase/latest.json"],
)
def test_what_is_no_family(path: str) -> None:
    assert family_of(path) is None


def test_schemas_are_published_but_belong_to_no_family() -> None:
    assert all(layout.is_api_file(layout.schema_file(f.name)) for f in FAMILIES)
    assert not layout.is_api_file("api/schema/../../x.json") and set(BY_NAME) == {f.name for f in FAMILIES}
