"""Backfill: import the history the live system published (its static JSON API) into the database.

`staktrakr backfill --from-api DIR_OR_URL` reads a *data root* — the folder (or the http(s) URL of
the folder) that holds `api/`, `hourly/`, `15min/` and `goldback-YYYY.json` — and stores:

* every (window, dealer) of `api/{slug}/latest.json` `windows_24h` as a `price_snapshots` row
  (method `import`, scraped at the window time);
* for the days no window covers, the dealers' daily averages of `api/{slug}/history-30d.json`
  (method `import_daily`, scraped at 12:00 UTC that day);
* the spot readings of `hourly/YYYY/MM/DD/HH.json` and `15min/YYYY/MM/DD/HHMM.json`;
* the Goldback rates of `goldback-YYYY.json`.

Rules that keep the database honest:

* Every row id is `import-` plus a hash of the row's natural key, so a second run (or a run on a
  newer copy of the files) inserts nothing it already inserted. Poller ids (`api-20260315T…-hex`)
  have a different shape, so the two can never collide.
* Nothing is imported over what the pollers stored themselves: a (coin, dealer, window) or a
  (metal, 15-minute floor) that already has a poller row is counted as *covered* and left out, and
  a day that already has any window row gets no daily average.
* Slugs come from `api/manifest.json` `coins`. The live publisher never deleted the folders of
  slugs it stopped exporting (B-17), so other folders are listed in the report, not imported;
  only without a manifest are the folders themselves the list.
* A file is validated as a whole: a NUL-filled, truncated, non-JSON or wrongly shaped file, or one
  with a value that is not a plausible number, is skipped with its reason and the rest goes on.

Over HTTP folders cannot be listed, so a URL source imports: the manifest's slugs, the Goldback
files of the years the imported windows and days fall in, and only the **hourly** spot files of
the hours the imported windows cover (a missing file is skipped silently). 15-minute files are
not fetched: the export's hourly file already holds the same readings at their floors. Spot
readings of hours outside the windows are not reachable over HTTP; import from a checkout of the
`api` branch to get them all.

The yearly `spot-history-YYYY.json` seed files and `history-7d.json` (a subset of the 30-day file)
are not imported.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit

import click
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    StrictBool,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    computed_field,
)
from rich.console import Console
from rich.table import Table

from .models import Status
from .store.db import Database
from .store.goldback import GoldbackRate, insert_goldback_rate
from .store.snapshots import IMPORT_POLLER_ID, Snapshot, insert_snapshots, observed_days, observed_windows
from .store.spot import observed_spot_floors
from .store.spot import SpotReading, insert_spot_readings
from .timeutil import floor_15, iso_ms, iso_s, parse_time, utcnow

logger = logging.getLogger(__name__)

WINDOW_METHOD = "import"
DAILY_METHOD = "import_daily"

HTTP_TIMEOUT_S = 30.0
MAX_FILE_BYTES = 64 * 1024 * 1024  # the largest real file (a latest.json) is well under 1 MB
INSERT_BATCH_ROWS = 1000

# Plausibility limits. They catch corrupt or nonsensical values, not wrong products: the
# widest range the live scraper accepted for any coin was 5-200,000 USD (§2.8), its spot feed
# rejected prices outside 5-50,000 (§5) and its Goldback scraper only read 0.50-20.00 per G1 (§6).
MAX_COIN_PRICE_USD = 200_000.0
SPOT_RANGE_USD = (5.0, 50_000.0)
GOLDBACK_G1_RANGE_USD = (0.5, 100.0)
EARLIEST_TIME = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)

_SLUG = r"^[a-z0-9][a-z0-9-]{0,63}$"
_VENDOR = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
_GOLDBACK_FILE = re.compile(r"^goldback-(\d{4})\.json$")


# -- what the published files hold ----------------------------------------------------------------


def _time_from_text(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("must be a date-time string")
    try:
        return parse_time(value)
    except ValueError:
        raise ValueError(f"not a date-time: {value[:40]!r}") from None


def _plausible_time(value: datetime, info: ValidationInfo) -> datetime:
    now = (info.context or {}).get("now") or utcnow()
    if value < EARLIEST_TIME or value > now + FUTURE_SLACK:
        raise ValueError(f"{iso_s(value)} is outside {iso_s(EARLIEST_TIME)} .. now")
    return value


def _date_from_text(value: Any) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError("must be a YYYY-MM-DD string")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a date: {value!r}") from None


def _plausible_date(value: date, info: ValidationInfo) -> date:
    _plausible_time(datetime(value.year, value.month, value.day, tzinfo=UTC), info)
    return value


Time = Annotated[datetime, BeforeValidator(_time_from_text), AfterValidator(_plausible_time)]
Day = Annotated[date, BeforeValidator(_date_from_text), AfterValidator(_plausible_date)]
Slug = Annotated[str, StringConstraints(strict=True, pattern=_SLUG)]
VendorId = Annotated[str, StringConstraints(strict=True, pattern=_VENDOR)]
# strict: a price written as a string ("92.30") or a boolean is a broken file, not a number.
CoinPrice = Annotated[float, Field(strict=True, gt=0, le=MAX_COIN_PRICE_USD, allow_inf_nan=False)]
SpotPrice = Annotated[float, Field(strict=True, ge=SPOT_RANGE_USD[0], le=SPOT_RANGE_USD[1], allow_inf_nan=False)]
G1Price = Annotated[
    float, Field(strict=True, ge=GOLDBACK_G1_RANGE_USD[0], le=GOLDBACK_G1_RANGE_USD[1], allow_inf_nan=False)
]
SpotMetal = Annotated[
    Literal["gold", "silver", "platinum", "palladium"],
    BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v),
]


class Manifest(BaseModel):
    """`api/manifest.json`: only the slug list matters here."""

    coins: list[Slug]


class Window(BaseModel):
    """One entry of `windows_24h`: the dealers' prices at one window (median/low are derived)."""

    window: Time
    vendors: dict[VendorId, CoinPrice]


class SlugLatest(BaseModel):
    """`api/{slug}/latest.json`: the windows are the only history it holds."""

    windows_24h: list[Window]


class DailyVendor(BaseModel):
    avg: CoinPrice | None
    inStock: StrictBool  # noqa: N815 - the published key


class HistoryDay(BaseModel):
    """One day of `api/{slug}/history-30d.json`."""

    date: Day
    vendors: dict[VendorId, DailyVendor]


class SpotEntry(BaseModel):
    """One entry of an hourly or 15-minute spot file; the time stamp is UTC without a zone."""

    spot: SpotPrice
    metal: SpotMetal
    timestamp: Time


class GoldbackEntry(BaseModel):
    """One entry of `goldback-YYYY.json`."""

    date: Day
    g1_usd: G1Price
    scraped_at: Time


_MANIFEST = TypeAdapter(Manifest)
_LATEST = TypeAdapter(SlugLatest)
_HISTORY = TypeAdapter(list[HistoryDay])
_SPOT_FILE = TypeAdapter(list[SpotEntry])
_GOLDBACK_FILE_ADAPTER = TypeAdapter(list[GoldbackEntry])


# -- the report -----------------------------------------------------------------------------------


class FamilyCounts(BaseModel):
    """What one family of files gave."""

    files: int = 0  # files read and valid
    rows: int = 0  # distinct rows those files hold, after the import rules
    inserted: int = 0  # rows stored by this run
    # Rows left out because the pollers already stored that window or spot floor. (Days that
    # already have window rows are not counted in `rows` of the daily family at all.)
    covered: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def already_imported(self) -> int:
        return self.rows - self.inserted - self.covered


class SkippedFile(BaseModel):
    file: str  # path relative to the data root
    reason: str


class BackfillReport(BaseModel):
    """Counts per file family, and every file that was skipped with the reason."""

    source: str  # folder, or URL without query string
    started_at: str
    duration_s: float = 0.0
    windows: FamilyCounts = Field(default_factory=FamilyCounts)
    daily: FamilyCounts = Field(default_factory=FamilyCounts)
    spot: FamilyCounts = Field(default_factory=FamilyCounts)
    goldback: FamilyCounts = Field(default_factory=FamilyCounts)
    skipped: list[SkippedFile] = Field(default_factory=list)
    # Slug folders the manifest does not list (stale exports of removed coins): not imported.
    ignored_slugs: list[str] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def files_read(self) -> int:
        return self.windows.files + self.daily.files + self.spot.files + self.goldback.files

    @computed_field  # type: ignore[prop-decorator]
    @property
    def inserted(self) -> int:
        return self.windows.inserted + self.daily.inserted + self.spot.inserted + self.goldback.inserted

    @computed_field  # type: ignore[prop-decorator]
    @property
    def exit_code(self) -> int:
        """0 when at least one data file could be read, even if others were skipped."""
        return 0 if self.files_read else 1

    def families(self) -> dict[str, FamilyCounts]:
        return {"windows": self.windows, "daily": self.daily, "spot": self.spot, "goldback": self.goldback}

    def skip(self, file: str, reason: str) -> None:
        logger.info("backfill: skipped %s: %s", file, reason)  # the report lists them
        self.skipped.append(SkippedFile(file=file, reason=reason))


# -- where the files come from --------------------------------------------------------------------


class BadFile(Exception):
    """A file exists but cannot be used; the message says why."""


class FolderRoot:
    def __init__(self, root: Path):
        self.root = root
        self.label = str(root)

    def read(self, rel: str) -> bytes | None:
        path = self.root / rel
        try:
            if not path.is_file():
                return None
            if path.stat().st_size > MAX_FILE_BYTES:
                raise BadFile(f"larger than {MAX_FILE_BYTES} bytes")
            return path.read_bytes()
        except OSError as exc:
            raise BadFile(f"cannot read: {exc.strerror or exc}") from None

    def where(self, rel: str) -> str:
        return str(self.root / rel)

    def slug_folders(self) -> list[str]:
        api = self.root / "api"
        if not api.is_dir():
            return []
        return sorted(
            p.name for p in api.iterdir()
            if p.is_dir() and re.match(_SLUG, p.name) and ((p / "latest.json").is_file() or (p / "history-30d.json").is_file())
        )  # fmt: skip

    def spot_files(self) -> list[str]:
        # 15-minute files first: theirs are the real poll times, the hourly copies are floored.
        found = []
        for family in ("15min", "hourly"):
            base = self.root / family
            if base.is_dir():
                found += sorted(p.relative_to(self.root).as_posix() for p in base.rglob("*.json") if p.is_file())
        return found

    def goldback_files(self) -> list[str]:
        return sorted(p.name for p in self.root.glob("goldback-*.json") if _GOLDBACK_FILE.match(p.name))


class HttpRoot:
    """A data root served over http(s). The query string of the given URL (if any) is sent with
    every request but never logged or reported."""

    def __init__(self, url: str, timeout_s: float = HTTP_TIMEOUT_S):
        parts = urlsplit(url)
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        self._base = urlunsplit((parts.scheme, parts.netloc, path, "", ""))
        self._query = parts.query
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        port = f":{parts.port}" if parts.port else ""
        self.label = urlunsplit((parts.scheme, host + port, path, "", ""))  # no user:password@, no query
        self.timeout_s = timeout_s

    def below(self, folder: str) -> HttpRoot:
        """The same server, one folder down (`data/` when given the repository root)."""
        parts = urlsplit(self._base)
        return HttpRoot(urlunsplit((parts.scheme, parts.netloc, parts.path + folder, self._query, "")), self.timeout_s)

    def where(self, rel: str) -> str:
        return self.label + rel

    def read(self, rel: str) -> bytes | None:
        url = self._base + quote(rel) + (f"?{self._query}" if self._query else "")
        request = urllib.request.Request(url, headers={"User-Agent": "staktrakr-backfill", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310 - scheme checked
                raw = response.read(MAX_FILE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            if exc.code in (404, 410):
                return None
            raise BadFile(f"HTTP {exc.code}") from None
        except urllib.error.URLError as exc:
            raise BadFile(f"cannot fetch: {_reason_text(exc.reason)}") from None
        except TimeoutError:
            raise BadFile(f"timed out after {self.timeout_s:g} s") from None
        except OSError as exc:
            raise BadFile(f"cannot fetch: {exc.strerror or type(exc).__name__}") from None
        if len(raw) > MAX_FILE_BYTES:
            raise BadFile(f"larger than {MAX_FILE_BYTES} bytes")
        return raw


def _reason_text(reason: Any) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, OSError):
        return reason.strerror or type(reason).__name__
    return str(reason)


def _decode(raw: bytes) -> Any:
    """Bytes to JSON, with a reason a person can act on when that fails."""
    if not raw.strip():
        raise BadFile("empty file")
    nuls = raw.count(b"\x00")
    if nuls == len(raw):
        raise BadFile(f"{nuls} NUL bytes and nothing else (interrupted write)")
    if nuls:
        raise BadFile(f"contains {nuls} NUL bytes (interrupted write)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadFile("not UTF-8 text") from None
    try:
        return json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()):
            raise BadFile(f"truncated JSON ({len(raw)} bytes, ends inside a value)") from None
        raise BadFile(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def _no_constants(name: str) -> Any:
    raise BadFile(f"not JSON: {name} is not a JSON number")


def _shape_problem(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False)[:3]:
        where = ".".join(str(p) for p in error["loc"]) or "file"
        problems.append(f"{where}: {error['msg']}")
    more = exc.error_count() - len(problems)
    return "; ".join(problems) + (f" (+{more} more)" if more > 0 else "")


# -- the import -----------------------------------------------------------------------------------


def backfill(db: Database, source: str, now: datetime | None = None, *, timeout_s: float = HTTP_TIMEOUT_S) -> BackfillReport:
    """Import everything `source` (a data-root folder or its http(s) URL) holds; see the module doc."""
    now = now or utcnow()
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    started = time.monotonic()
    root = _open_root(source, timeout_s)
    report = BackfillReport(source=_redact(source) if isinstance(root, str) else root.label, started_at=iso_ms(now))
    if isinstance(root, str):
        report.skip(".", root)
    else:
        _Import(db, root, report, now).run()
    report.duration_s = round(time.monotonic() - started, 3)
    logger.info(
        "backfill from %s: %d file(s) read, %d row(s) inserted, %d file(s) skipped in %.1f s",
        report.source, report.files_read, report.inserted, len(report.skipped), report.duration_s,
    )  # fmt: skip
    return report


def _open_root(source: str, timeout_s: float) -> FolderRoot | HttpRoot | str:
    """The data root, or why `source` is not one."""
    parts = urlsplit(source)
    if parts.scheme.lower() in ("http", "https"):
        try:
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError:
            return "malformed URL (bad port)"
        return HttpRoot(source, timeout_s) if parts.hostname else "malformed URL (no host)"
    if "://" in source:
        return f"unsupported URL scheme {parts.scheme!r}: give a folder or an http(s) URL"
    path = Path(source).expanduser()
    if not path.exists():
        return "no such folder"
    if not path.is_dir():
        return "not a folder"
    # serve.js serves the repository, so the data root is often its `data/` folder.
    if not (path / "api").is_dir() and (path / "data" / "api").is_dir():
        path = path / "data"
    return FolderRoot(path)


def _redact(source: str) -> str:
    parts = urlsplit(source)
    if parts.scheme and parts.netloc:
        return urlunsplit((parts.scheme, parts.hostname or "", parts.path, "", ""))
    return source


class _Import:
    """One backfill run over one data root."""

    def __init__(self, db: Database, root: FolderRoot | HttpRoot, report: BackfillReport, now: datetime):
        self.db, self.root, self.report, self.now = db, root, report, now
        self.window_hours: set[datetime] = set()  # hours the imported windows cover (HTTP spot files)
        self.years: set[int] = set()
        self.spot_ids: set[str] = set()

    def run(self) -> None:
        for slug in self._slugs():
            self._slug(slug)
        if isinstance(self.root, FolderRoot):
            goldback_files = self.root.goldback_files()
            spot_files = self.root.spot_files()
            for rel in goldback_files:
                self._goldback(rel, quiet_missing=False)
            for rel in spot_files:
                self._spot(rel, quiet_missing=False)
        else:
            for year in sorted(self.years):
                self._goldback(f"goldback-{year}.json", quiet_missing=True)
            for hour in sorted(self.window_hours):
                self._spot(hour.strftime("hourly/%Y/%m/%d/%H.json"), quiet_missing=True)
        if not self.report.files_read and not self.report.skipped:
            self.report.skip(".", "not a data root: no api/ slug files, hourly/, 15min/ or goldback-YYYY.json")

    def _read(self, rel: str) -> tuple[Any, bool]:
        """(the file's JSON, False), (None, True) when it does not exist, or (None, False) after
        recording why it cannot be used."""
        try:
            raw = self.root.read(rel)
            if raw is None:
                return None, True
            return _decode(raw), False
        except BadFile as exc:
            self.report.skip(rel, str(exc))
            return None, False

    def _load(self, rel: str, quiet_missing: bool) -> Any:
        """The file's JSON, or None after recording why not (a missing file only if not quiet)."""
        data, missing = self._read(rel)
        if missing and not quiet_missing:
            self.report.skip(rel, self._missing())
        return data

    def _validate(self, rel: str, adapter: TypeAdapter[Any], data: Any) -> Any:
        try:
            return adapter.validate_python(data, context={"now": self.now})
        except ValidationError as exc:
            self.report.skip(rel, f"unexpected content: {_shape_problem(exc)}")
            return None

    # -- slugs --

    def _slugs(self) -> list[str]:
        listed: list[str] | None = None
        if isinstance(self.root, HttpRoot):
            self._find_http_data_root()
        data = self._load("api/manifest.json", quiet_missing=isinstance(self.root, FolderRoot))
        if data is not None:
            manifest = self._validate("api/manifest.json", _MANIFEST, data)
            listed = list(dict.fromkeys(manifest.coins)) if manifest else None
        if not isinstance(self.root, FolderRoot):
            return listed or []
        folders = self.root.slug_folders()
        if listed is None:
            logger.info("backfill: no usable manifest in %s; importing the %d slug folder(s)", self.root.label, len(folders))
            return folders
        self.report.ignored_slugs = [s for s in folders if s not in set(listed)]
        if self.report.ignored_slugs:
            logger.info("backfill: %d slug folder(s) not in the manifest are not imported", len(self.report.ignored_slugs))
        return listed

    def _missing(self) -> str:
        return "missing" if isinstance(self.root, FolderRoot) else "not found (HTTP 404)"

    def _find_http_data_root(self) -> None:
        """serve.js serves the repository: accept its root URL for the `data/` folder below it."""
        assert isinstance(self.root, HttpRoot)
        try:
            if self.root.read("api/manifest.json") is not None:
                return
            inner = self.root.below("data/")
            if inner.read("api/manifest.json") is not None:
                logger.info("backfill: using the data root %s", inner.label)
                self.root = inner
                self.report.source = inner.label
        except BadFile:
            pass  # reported when the manifest is read for real

    def _slug(self, slug: str) -> None:
        latest_rel, history_rel = f"api/{slug}/latest.json", f"api/{slug}/history-30d.json"
        latest_data, latest_missing = self._read(latest_rel)
        history_data, history_missing = self._read(history_rel)
        if latest_missing and history_missing:
            self.report.skip(f"api/{slug}/", f"listed in the manifest, but latest.json and history-30d.json are {self._missing()}")
            return
        for rel, missing in ((latest_rel, latest_missing), (history_rel, history_missing)):
            if missing:
                self.report.skip(rel, self._missing())
        window_days: set[str] = set()
        latest = self._validate(latest_rel, _LATEST, latest_data) if latest_data is not None else None
        if latest is not None:
            window_days = self._windows(slug, latest_rel, latest.windows_24h)
        days = self._validate(history_rel, _HISTORY, history_data) if history_data is not None else None
        if days is not None:
            self._daily(slug, history_rel, days, window_days)

    def _windows(self, slug: str, rel: str, windows: list[Window]) -> set[str]:
        counts = self.report.windows
        counts.files += 1
        reason = f"imported from windows_24h of {self.root.where(rel)}"
        rows: dict[str, Snapshot] = {}
        for entry in windows:
            at = entry.window
            self.window_hours.add(at.replace(minute=0, second=0, microsecond=0))
            self.years.add(at.year)
            scraped_at, window_start = iso_ms(at), iso_s(floor_15(at))
            for vendor, price in entry.vendors.items():
                row_id = _import_id("window", slug, vendor, scraped_at)
                rows[row_id] = Snapshot(
                    id=row_id, run_id=None, poller_id=IMPORT_POLLER_ID, scraped_at=scraped_at,
                    window_start=window_start, coin_slug=slug, vendor=vendor, url=None, price=price,
                    in_stock=True, status=Status.ok, method=WINDOW_METHOD, reason=reason,
                )  # fmt: skip
        with self.db.held():
            live = observed_windows(self.db, slug)
            fresh = [s for s in rows.values() if (s.vendor, s.window_start) not in live]
            counts.rows += len(rows)
            counts.covered += len(rows) - len(fresh)
            inserted = insert_snapshots(self.db, fresh)
        counts.inserted += inserted
        logger.info("backfill %s: %d window row(s) in %s, %d new", slug, len(rows), rel, inserted)
        return {iso_s(e.window)[:10] for e in windows}

    def _daily(self, slug: str, rel: str, days: list[HistoryDay], window_days: set[str]) -> None:
        counts = self.report.daily
        counts.files += 1
        reason = "daily average imported from history-30d"
        with self.db.held():
            covered_days = window_days | observed_days(self.db, slug, DAILY_METHOD)
            rows: dict[str, Snapshot] = {}
            for day in days:
                self.years.add(day.date.year)
                if day.date.isoformat() in covered_days:
                    continue
                noon = datetime(day.date.year, day.date.month, day.date.day, 12, tzinfo=UTC)
                for vendor, figures in day.vendors.items():
                    if figures.avg is None:
                        continue
                    row_id = _import_id("daily", slug, vendor, day.date.isoformat())
                    rows[row_id] = Snapshot(
                        id=row_id, run_id=None, poller_id=IMPORT_POLLER_ID, scraped_at=iso_ms(noon),
                        window_start=iso_s(noon), coin_slug=slug, vendor=vendor, url=None, price=figures.avg,
                        in_stock=figures.inStock, status=Status.ok if figures.inStock else Status.out_of_stock,
                        method=DAILY_METHOD, reason=reason,
                    )  # fmt: skip
            counts.rows += len(rows)
            inserted = insert_snapshots(self.db, list(rows.values()))
        counts.inserted += inserted
        logger.info("backfill %s: %d daily row(s) in %s for days without windows, %d new", slug, len(rows), rel, inserted)

    # -- spot and Goldback --

    def _spot(self, rel: str, quiet_missing: bool) -> None:
        data = self._load(rel, quiet_missing)
        entries = self._validate(rel, _SPOT_FILE, data) if data is not None else None
        if entries is None:
            return
        counts = self.report.spot
        counts.files += 1
        readings: dict[str, SpotReading] = {}
        for entry in entries:
            floor = iso_s(floor_15(entry.timestamp))
            # One poll shows up in a 15-minute file (its real time) and in the hourly file
            # (stamped with the floor): the same metal, floor and price is the same reading.
            row_id = _import_id("spot", entry.metal, floor, repr(entry.spot))
            if row_id in self.spot_ids or row_id in readings:
                continue
            readings[row_id] = SpotReading(
                id=row_id, poller_id=IMPORT_POLLER_ID, metal=entry.metal, spot=entry.spot, source=IMPORT_POLLER_ID,
                timestamp=iso_ms(entry.timestamp), timestamp_floor=floor, scraped_at=iso_ms(entry.timestamp),
            )  # fmt: skip
        self.spot_ids.update(readings)
        if not readings:
            return
        with self.db.held():
            floors = [r.timestamp_floor for r in readings.values()]
            live = observed_spot_floors(self.db, min(floors), max(floors), IMPORT_POLLER_ID)
            fresh = [r for r in readings.values() if (r.metal, r.timestamp_floor) not in live]
            counts.rows += len(readings)
            counts.covered += len(readings) - len(fresh)
            counts.inserted += insert_spot_readings(self.db, fresh) if fresh else 0

    def _goldback(self, rel: str, quiet_missing: bool) -> None:
        data = self._load(rel, quiet_missing)
        entries = self._validate(rel, _GOLDBACK_FILE_ADAPTER, data) if data is not None else None
        if entries is None:
            return
        counts = self.report.goldback
        counts.files += 1
        rates = {}
        for entry in entries:
            scraped_at = iso_ms(entry.scraped_at)
            row_id = _import_id("goldback", entry.date.isoformat(), scraped_at)
            rates[row_id] = GoldbackRate(
                id=row_id, poller_id=IMPORT_POLLER_ID, date=entry.date.isoformat(), g1_usd=entry.g1_usd,
                scraped_at=scraped_at, source=IMPORT_POLLER_ID, url=None,
            )  # fmt: skip
        counts.rows += len(rates)
        with self.db.held():
            counts.inserted += sum(insert_goldback_rate(self.db, rate) for rate in rates.values())


def _import_id(*key: str) -> str:
    """`import-3f9a…`: the same natural key always gives the same id (idempotent re-runs)."""
    return f"{IMPORT_POLLER_ID}-{hashlib.sha256('|'.join(key).encode()).hexdigest()[:20]}"


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- the command ----------------------------------------------------------------------------------


@click.command("backfill")
@click.option("--from-api", "source", required=True, metavar="DIR_OR_URL", help="Data root of a published API: a folder (checkout of the api branch) or its http(s) URL.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def backfill_command(source: str, as_json: bool) -> None:
    """Import the history a published API still holds (windows, daily averages, spot, Goldback).

    Safe to repeat: rows already imported, and windows the pollers stored themselves, are left
    alone. Exits 1 only when no file could be read.
    """
    from .config import load_config
    from .store import open_database

    with open_database(load_config()) as db:
        report = backfill(db, source)
    if as_json:
        click.echo(report.model_dump_json(indent=2))
    else:
        _print_report(report, Console(width=None if sys.stdout.isatty() else 160))
    if report.exit_code:
        sys.exit(report.exit_code)


def _print_report(report: BackfillReport, console: Console) -> None:
    table = Table("family", "files", "rows in files", "inserted", "already imported", "stored by pollers", title=f"backfill from {report.source}")
    for name, counts in report.families().items():
        table.add_row(name, str(counts.files), str(counts.rows), str(counts.inserted), str(counts.already_imported), str(counts.covered))
    console.print(table)
    if report.skipped:
        skipped = Table("skipped file", "reason", title=f"{len(report.skipped)} file(s) skipped")
        for item in report.skipped:
            skipped.add_row(item.file, item.reason)
        console.print(skipped)
    if report.ignored_slugs:
        console.print(f"not in the manifest, not imported: {', '.join(report.ignored_slugs)}", markup=False, highlight=False)
    if report.exit_code:
        console.print("nothing could be read: no rows imported", markup=False, highlight=False)
    else:
        console.print(f"{report.inserted} row(s) inserted from {report.files_read} file(s) in {report.duration_s:.1f} s", markup=False, highlight=False)
