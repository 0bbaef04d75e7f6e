"""Where each file of the published API lives: every path of the data root, spelled out once.

The data root is the folder served as `data/` by the live system (and by `staktrakr serve`):

    api/manifest.json                 the index: coins, endpoints, generated_at
    api/latest.json                   one summary per coin
    api/providers.json                the dealer URLs of each coin
    api/{slug}/latest.json            a coin's dealers, 24 h windows, spot and melt value
    api/{slug}/history-7d.json        its daily history, 7 and 30 days
    api/{slug}/history-30d.json
    api/status.json                   how each dealer, feed and poller is doing (staktrakr/status/)
    api/goldback-spot.json            the Goldback G1 rate of the day (Goldback plugin)
    goldback-YYYY.json                that year's daily Goldback rates (Goldback plugin)
    hourly/YYYY/MM/DD/HH.json         every spot reading of an hour (spot plugin)
    15min/YYYY/MM/DD/HHMM.json        the first spot reading of a 15-minute floor (spot plugin)
    spot-history-YYYY.json            the live system's yearly spot seeds (read, never written)
    api/schema/{family}.json          the JSON Schema of each family (generated from the models)

Writers, readers, the publisher, health and backfill all take their paths from here, so a
change of the layout is one change.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import PurePath

MANIFEST = "api/manifest.json"
LATEST = "api/latest.json"
PROVIDERS = "api/providers.json"
GOLDBACK_SPOT = "api/goldback-spot.json"
STATUS = "api/status.json"
API_DIR = "api"
SCHEMA_DIR = "api/schema"
# Folders of api/ that are not coins: never a slug's folder (never removed as a stale one).
NOT_SLUG_DIRS = frozenset({"schema"})
HOURLY_DIR = "hourly"
QUARTER_DIR = "15min"

# The manifest's `endpoints` (a published value: templates as the live system wrote them).
ENDPOINTS = {
    "latest": LATEST,
    "slug_latest": "api/{slug}/latest.json",
    "history_7d": "api/{slug}/history-7d.json",
    "history_30d": "api/{slug}/history-30d.json",
    "providers": PROVIDERS,
}

SLUG_PATTERN = r"[a-z0-9]+(?:-[a-z0-9]+)*"
SLUG_FILE_NAMES = ("latest.json", "history-7d.json", "history-30d.json")


def slug_dir(slug: str) -> str:
    return f"{API_DIR}/{slug}"


def slug_latest(slug: str) -> str:
    return ENDPOINTS["slug_latest"].format(slug=slug)


def history_7d(slug: str) -> str:
    return ENDPOINTS["history_7d"].format(slug=slug)


def history_30d(slug: str) -> str:
    return ENDPOINTS["history_30d"].format(slug=slug)


def goldback_year(year: int) -> str:
    return f"goldback-{year:04d}.json"


def spot_history_year(year: int) -> str:
    return f"spot-history-{year:04d}.json"


def hourly_spot(hour: datetime) -> str:
    """The spot file of the hour `hour` falls in (UTC)."""
    return f"{HOURLY_DIR}/{hour:%Y/%m/%d/%H}.json"


def quarter_spot(floor: datetime) -> str:
    """The spot file of the 15-minute floor `floor` (already floored, UTC)."""
    return f"{QUARTER_DIR}/{floor:%Y/%m/%d/%H%M}.json"


def schema_file(family: str) -> str:
    return f"{SCHEMA_DIR}/{family}.json"


GOLDBACK_YEAR_NAME = re.compile(r"goldback-(\d{4})\.json")

# Every file family of the API. The publisher commits only these; anything else in the folder
# (temp files of an interrupted write, an editor's backup, a database) is never published.
_API_FILE = re.compile(
    "|".join(
        (
            r"api/(?:manifest|latest|providers|goldback-spot|status)\.json",
            rf"api/{SLUG_PATTERN}/(?:latest|history-7d|history-30d)\.json",
            # Yearly files sit at the data root; api/ copies are accepted too.
            r"(?:api/)?(?:goldback|spot-history)-\d{4}\.json",
            r"hourly/\d{4}/\d{2}/\d{2}/\d{2}\.json",
            r"15min/\d{4}/\d{2}/\d{2}/\d{4}\.json",
            rf"api/schema/{SLUG_PATTERN}\.json",
        )
    )
)


def is_api_file(relpath: str | PurePath) -> bool:
    """Whether `relpath` (relative to the data root, `/`-separated) is one of the API's files."""
    return _API_FILE.fullmatch(PurePath(relpath).as_posix()) is not None
