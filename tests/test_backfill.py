"""`staktrakr backfill --from-api`: the published files of the live system go into the database,
once, and broken files are skipped with a reason while the rest still comes in."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from staktrakr.backfill import BackfillReport, backfill, backfill_command
from staktrakr.models import Status
from staktrakr.plugins.spot.store import SpotReading, insert_spot_readings
from staktrakr.store import Database
from staktrakr.store.snapshots import Snapshot, insert_snapshot
from staktrakr.timeutil import floor_15, iso_s, parse_time

from .conftest import FIXTURES, write_json

LIVE_API = FIXTURES / "live-api"


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    """A writable copy of the published files (the data root)."""
    return Path(shutil.copytree(LIVE_API, tmp_path / "published"))


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def rows(db: Database, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    return db.query(sql, params)


def count(db: Database, table: str, where: str = "1", params: tuple[Any, ...] = ()) -> int:
    return int(db.query_value(f"SELECT COUNT(*) FROM {table} WHERE {where}", params))


def window_days(root: Path, slug: str) -> set[str]:
    return {w["window"][:10] for w in load(root / "api" / slug / "latest.json")["windows_24h"]}


def expected_counts(root: Path, slug: str = "ase") -> dict[str, int]:
    """What the files hold, worked out from the JSON the way a reader of LIVE-SYSTEM.md would."""
    windows = load(root / "api" / slug / "latest.json")["windows_24h"]
    covered = window_days(root, slug)
    daily = sum(
        1
        for day in load(root / "api" / slug / "history-30d.json")
        if day["date"] not in covered
        for figures in day["vendors"].values()
        if figures["avg"] is not None
    )
    readings = set()
    for path in [*(root / "hourly").rglob("*.json"), *(root / "15min").rglob("*.json")]:
        for entry in load(path):
            floor = iso_s(floor_15(parse_time(entry["timestamp"])))
            readings.add((entry["metal"].lower(), floor, entry["spot"]))
    return {
        "windows": sum(len(w["vendors"]) for w in windows),
        "daily": daily,
        "spot": len(readings),
        "goldback": len(load(root / "goldback-2026.json")),
    }


def add_slug(root: Path, slug: str) -> Path:
    """Publish the `ase` files again under another slug the manifest lists."""
    return Path(shutil.copytree(root / "api" / "ase", root / "api" / slug))


def reasons(report: BackfillReport) -> dict[str, str]:
    return {s.file: s.reason for s in report.skipped}


def file_reasons(report: BackfillReport) -> dict[str, str]:
    """Skipped files, without the manifest slugs the fixture never published."""
    return {file: why for file, why in reasons(report).items() if not file.endswith("/")}


# -- a clean import ---------------------------------------------------------------------------------


def test_imports_every_family_of_the_published_files(db: Database, data_root: Path) -> None:
    expected = expected_counts(data_root)

    report = backfill(db, str(data_root))

    assert report.exit_code == 0
    for family, n in expected.items():
        counts = report.families[family]
        assert (counts.rows, counts.inserted, counts.covered) == (n, n, 0), family
    assert count(db, "price_snapshots", "method = 'import'") == expected["windows"]
    assert count(db, "price_snapshots", "method = 'import_daily'") == expected["daily"]
    assert count(db, "spot_prices") == expected["spot"]
    assert count(db, "goldback_rates") == expected["goldback"]
    assert count(db, "price_snapshots", "poller_id <> 'import' OR id NOT LIKE 'import-%'") == 0
    assert count(db, "provider_failures") == 0  # imported rows are observations, never failures


def test_a_window_price_lands_exactly(db: Database, data_root: Path) -> None:
    last = load(data_root / "api" / "ase" / "latest.json")["windows_24h"][-1]
    assert last["window"] == "2026-03-15T20:00:00.000Z" and last["vendors"]["jmbullion"] == 95.3

    backfill(db, str(data_root))

    [row] = rows(db, "SELECT * FROM price_snapshots WHERE coin_slug = 'ase' AND vendor = 'jmbullion' AND scraped_at = ?", (last["window"],))
    assert row["price"] == 95.3
    assert row["window_start"] == "2026-03-15T20:00:00Z"
    assert (row["status"], row["in_stock"], row["method"], row["poller_id"]) == ("ok", 1, "import", "import")
    assert row["url"] is None and row["run_id"] is None
    assert row["reason"] == f"imported from windows_24h of {data_root / 'api' / 'ase' / 'latest.json'}"
    assert row["id"].startswith("import-")


def test_old_style_window_keys_are_normalised(db: Database, data_root: Path) -> None:
    # Before 2026-03-14 the keys were ISO-s 15-minute floors, not ISO-ms.
    path = data_root / "api" / "ase" / "latest.json"
    latest = load(path)
    latest["windows_24h"] = [{"window": "2026-03-01T14:15:00Z", "median": 93.5, "low": 91.0, "vendors": {"apmex": 93.5, "sdbullion": 91}}]
    write_json(path, latest)

    backfill(db, str(data_root))

    found = rows(db, "SELECT vendor, price, scraped_at, window_start FROM price_snapshots WHERE method = 'import' ORDER BY vendor")
    assert found == [
        {"vendor": "apmex", "price": 93.5, "scraped_at": "2026-03-01T14:15:00.000Z", "window_start": "2026-03-01T14:15:00Z"},
        {"vendor": "sdbullion", "price": 91.0, "scraped_at": "2026-03-01T14:15:00.000Z", "window_start": "2026-03-01T14:15:00Z"},
    ]


def test_daily_averages_only_for_days_without_windows(db: Database, data_root: Path) -> None:
    history = load(data_root / "api" / "ase" / "history-30d.json")
    covered = window_days(data_root, "ase")
    uncovered = {d["date"] for d in history} - covered
    assert covered and uncovered  # the fixture has both kinds of day

    backfill(db, str(data_root))

    days = {r["day"] for r in rows(db, "SELECT DISTINCT substr(scraped_at, 1, 10) AS day FROM price_snapshots WHERE method = 'import_daily'")}
    assert days == uncovered
    first = history[0]
    [row] = rows(db, "SELECT * FROM price_snapshots WHERE method = 'import_daily' AND vendor = 'apmex' AND scraped_at = ?", (f"{first['date']}T12:00:00.000Z",))
    assert row["price"] == first["vendors"]["apmex"]["avg"]
    assert row["window_start"] == f"{first['date']}T12:00:00Z"
    assert (row["status"], row["in_stock"], row["reason"]) == ("ok", 1, "daily average imported from history-30d")


def test_daily_stock_flag_and_missing_averages(db: Database, data_root: Path) -> None:
    path = data_root / "api" / "ase" / "history-30d.json"
    history = load(path)
    day = history[0]
    day["vendors"]["apmex"]["inStock"] = False
    day["vendors"]["jmbullion"]["avg"] = None
    write_json(path, history)

    backfill(db, str(data_root))

    at = f"{day['date']}T12:00:00.000Z"
    [apmex] = rows(db, "SELECT * FROM price_snapshots WHERE vendor = 'apmex' AND scraped_at = ?", (at,))
    assert (apmex["status"], apmex["in_stock"], apmex["price"]) == (Status.out_of_stock.value, 0, day["vendors"]["apmex"]["avg"])
    assert count(db, "price_snapshots", "vendor = 'jmbullion' AND scraped_at = ?", (at,)) == 0


def test_spot_readings_of_hourly_and_15min_files_are_stored_once(db: Database, data_root: Path) -> None:
    hourly = load(data_root / "hourly/2026/03/15/20.json")
    quarter = load(data_root / "15min/2026/03/15/2015.json")
    assert len(hourly) + len(quarter) > expected_counts(data_root)["spot"]  # the files overlap

    backfill(db, str(data_root))

    gold = rows(db, "SELECT * FROM spot_prices WHERE metal = 'gold' ORDER BY timestamp")
    assert [(r["timestamp"], r["timestamp_floor"], r["spot"]) for r in gold] == [
        ("2026-03-15T20:00:00.000Z", "2026-03-15T20:00:00Z", 5019.58),
        ("2026-03-15T20:15:00.000Z", "2026-03-15T20:15:00Z", 5019.58),
    ]
    assert {r["metal"] for r in rows(db, "SELECT metal FROM spot_prices")} == {"gold", "silver", "platinum", "palladium"}
    assert {(r["source"], r["poller_id"]) for r in rows(db, "SELECT source, poller_id FROM spot_prices")} == {("import", "import")}


def test_a_15min_reading_keeps_its_real_time_when_the_hourly_file_has_the_floor(db: Database, data_root: Path) -> None:
    # The live poller stamps 15-minute files with the poll time; the export floors the hourly copy.
    path = data_root / "15min/2026/03/15/2015.json"
    entries = load(path)
    for entry in entries:
        entry["timestamp"] = "2026-03-15 20:15:03"
    write_json(path, entries)

    report = backfill(db, str(data_root))

    assert report.families["spot"].rows == 8
    [silver] = rows(db, "SELECT * FROM spot_prices WHERE metal = 'silver' AND timestamp_floor = '2026-03-15T20:15:00Z'")
    assert silver["timestamp"] == "2026-03-15T20:15:03.000Z"


def test_goldback_rates(db: Database, data_root: Path) -> None:
    entries = load(data_root / "goldback-2026.json")

    backfill(db, str(data_root))

    stored = rows(db, "SELECT date, g1_usd, scraped_at, source, poller_id FROM goldback_rates ORDER BY date DESC")
    assert [(r["date"], r["g1_usd"], r["scraped_at"]) for r in stored] == [(e["date"], e["g1_usd"], e["scraped_at"]) for e in entries]
    assert {(r["source"], r["poller_id"]) for r in stored} == {("import", "import")}


def test_a_second_run_inserts_nothing(db: Database, data_root: Path) -> None:
    first = backfill(db, str(data_root))
    tables = ("price_snapshots", "spot_prices", "goldback_rates", "poller_runs", "provider_failures")
    before = {t: count(db, t) for t in tables}

    second = backfill(db, str(data_root))

    assert second.inserted == 0
    assert {t: count(db, t) for t in tables} == before
    for family, counts in second.families.items():
        assert counts.already_imported == first.families[family].rows, family


def test_what_the_pollers_stored_is_not_imported_again(db: Database, data_root: Path) -> None:
    poller_row = Snapshot(
        id="api-20260315T200002057-0a1b2c3d4e5f", run_id="api-run", poller_id="api", scraped_at="2026-03-15T20:00:02.057Z",
        window_start="2026-03-15T20:00:00Z", coin_slug="ase", vendor="jmbullion", url="https://www.jmbullion.com/x/",
        price=95.31, in_stock=True, status=Status.ok, method="table",
    )  # fmt: skip
    insert_snapshot(db, poller_row)
    history_day = load(data_root / "api" / "ase" / "history-30d.json")[0]["date"]
    insert_snapshot(db, poller_row.model_copy(update={"id": "api-2", "scraped_at": f"{history_day}T09:00:01.000Z", "window_start": f"{history_day}T09:00:00Z"}))
    insert_spot_readings(db, [SpotReading(
        id="fly-spot-1", poller_id="fly-spot", metal="gold", spot=5020.0, source="metalprice-api",
        timestamp="2026-03-15T20:00:01.000Z", timestamp_floor="2026-03-15T20:00:00Z", scraped_at="2026-03-15T20:00:01.000Z",
    )])  # fmt: skip
    expected = expected_counts(data_root)

    report = backfill(db, str(data_root))

    assert report.families["windows"].covered == 1
    assert count(db, "price_snapshots", "vendor = 'jmbullion' AND window_start = '2026-03-15T20:00:00Z'") == 1
    assert count(db, "price_snapshots", "method = 'import_daily' AND substr(scraped_at, 1, 10) = ?", (history_day,)) == 0
    assert report.families["spot"].covered == 1 and count(db, "spot_prices", "metal = 'gold'") == 2
    assert count(db, "price_snapshots", "method = 'import'") == expected["windows"] - 1


def test_slug_folders_missing_from_the_manifest_are_not_imported(db: Database, data_root: Path) -> None:
    add_slug(data_root, "goldback-utah-g50")  # a stale folder the live publisher never deleted (B-17)

    report = backfill(db, str(data_root))

    assert report.ignored_slugs == ["goldback-utah-g50"]
    assert count(db, "price_snapshots", "coin_slug = 'goldback-utah-g50'") == 0


def test_without_a_manifest_the_folders_are_the_slugs(db: Database, data_root: Path) -> None:
    (data_root / "api" / "manifest.json").unlink()
    add_slug(data_root, "age")

    report = backfill(db, str(data_root))

    assert report.exit_code == 0 and report.skipped == []
    assert {r["coin_slug"] for r in rows(db, "SELECT DISTINCT coin_slug FROM price_snapshots")} == {"age", "ase"}


# -- broken files -----------------------------------------------------------------------------------


def test_broken_files_are_skipped_with_reasons_and_the_rest_is_imported(db: Database, data_root: Path) -> None:
    expected = expected_counts(data_root)
    api = data_root / "api"
    quarter = data_root / "15min/2026/02/25/2220.json"
    quarter.parent.mkdir(parents=True)
    quarter.write_bytes(b"\x00" * 573)  # the real 15min/2026/02/25/2220.json
    add_slug(data_root, "age")
    text = (api / "age" / "latest.json").read_text()
    (api / "age" / "latest.json").write_text(text[: len(text) // 2])
    add_slug(data_root, "ape")
    latest = load(api / "ape" / "latest.json")
    latest["windows_24h"] = {w["window"]: w for w in latest["windows_24h"]}
    write_json(api / "ape" / "latest.json", latest)
    add_slug(data_root, "buffalo")
    latest = load(api / "buffalo" / "latest.json")
    latest["windows_24h"][3]["vendors"]["apmex"] = "106.08"
    write_json(api / "buffalo" / "latest.json", latest)

    report = backfill(db, str(data_root))

    assert report.exit_code == 0
    why = reasons(report)
    assert "NUL" in why["15min/2026/02/25/2220.json"]
    assert "truncated" in why["api/age/latest.json"]
    assert "windows_24h" in why["api/ape/latest.json"] and "list" in why["api/ape/latest.json"]
    assert "windows_24h.3.vendors.apmex" in why["api/buffalo/latest.json"]
    # ase's windows, every spot reading and the Goldback file still came in
    assert count(db, "price_snapshots", "method = 'import'") == expected["windows"]
    assert {r["coin_slug"] for r in rows(db, "SELECT DISTINCT coin_slug FROM price_snapshots WHERE method = 'import'")} == {"ase"}
    assert count(db, "spot_prices") == expected["spot"]
    assert count(db, "goldback_rates") == expected["goldback"]
    # a slug whose windows were unreadable gets the daily averages of every day instead
    history_days = {d["date"] for d in load(api / "age" / "history-30d.json")}
    age_days = {r["day"] for r in rows(db, "SELECT DISTINCT substr(scraped_at, 1, 10) AS day FROM price_snapshots WHERE coin_slug = 'age'")}
    assert age_days == history_days


@pytest.mark.parametrize(
    ("rel", "corrupt", "words"),
    [
        ("api/ase/latest.json", lambda d: d["windows_24h"][0]["vendors"].update(apmex=-5), "greater than 0"),
        ("api/ase/latest.json", lambda d: d["windows_24h"][0]["vendors"].update(apmex=1e12), "less than or equal"),
        ("api/ase/latest.json", lambda d: d["windows_24h"][0]["vendors"].update(apmex=True), "valid number"),
        ("api/ase/latest.json", lambda d: d["windows_24h"][0].update(window="yesterday"), "not a date-time"),
        ("api/ase/latest.json", lambda d: d["windows_24h"][0].update(window="2099-01-01T00:00:00.000Z"), "outside"),
        ("api/ase/history-30d.json", lambda d: d[0]["vendors"]["apmex"].update(inStock="yes"), "valid boolean"),
        ("hourly/2026/03/15/20.json", lambda d: d[0].update(spot=0.01), "greater than or equal to 5"),
        ("hourly/2026/03/15/20.json", lambda d: d[0].update(metal="Copper"), "metal"),
        ("goldback-2026.json", lambda d: d[0].update(g1_usd=-10.06), "g1_usd"),
    ],
)
def test_implausible_values_skip_their_file(db: Database, data_root: Path, rel: str, corrupt: Any, words: str) -> None:
    data = load(data_root / rel)
    corrupt(data)
    write_json(data_root / rel, data)

    report = backfill(db, str(data_root), now=datetime.fromisoformat("2026-03-16T00:00:00+00:00"))

    assert report.exit_code == 0
    assert list(file_reasons(report)) == [rel]
    assert words in file_reasons(report)[rel]


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"", "empty"), (b"<html>502 Bad Gateway</html>", "malformed JSON"), (b"\xff\xfe[]", "UTF-8"), (b'[{"spot": NaN}]', "NaN")],
)
def test_unreadable_spot_files(db: Database, data_root: Path, content: bytes, words: str) -> None:
    (data_root / "hourly/2026/03/15/20.json").write_bytes(content)

    report = backfill(db, str(data_root))

    assert words in reasons(report)["hourly/2026/03/15/20.json"]
    assert report.families["spot"].files == 1  # the 15-minute file still counts


def test_nothing_readable_is_a_failure(db: Database, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad" / "api" / "ase").mkdir(parents=True)
    (tmp_path / "bad" / "api" / "ase" / "latest.json").write_bytes(b"\x00" * 100)

    empty = backfill(db, str(tmp_path / "empty"))
    assert empty.exit_code == 1 and "not a data root" in reasons(empty)["."]
    bad = backfill(db, str(tmp_path / "bad"))
    assert bad.exit_code == 1
    assert reasons(bad) == {
        "api/ase/latest.json": "100 NUL bytes and nothing else (interrupted write)",
        "api/ase/history-30d.json": "missing",
    }
    missing = backfill(db, str(tmp_path / "nowhere"))
    assert missing.exit_code == 1 and reasons(missing) == {".": "no such folder"}
    assert count(db, "price_snapshots") == 0


def test_the_repository_folder_is_accepted_for_its_data_root(db: Database, tmp_path: Path) -> None:
    shutil.copytree(LIVE_API, tmp_path / "repo" / "data")

    report = backfill(db, str(tmp_path / "repo"))

    assert report.families["windows"].inserted == expected_counts(tmp_path / "repo" / "data")["windows"]


# -- over HTTP --------------------------------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass


@contextmanager
def http_server(folder: Path) -> Iterator[str]:
    """`folder` on a real HTTP server on 127.0.0.1 (it cannot list folders for us)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def served(data_root: Path) -> Iterator[str]:
    with http_server(data_root) as url:
        yield url


def test_a_url_imports_the_same_windows_as_the_folder(db: Database, data_root: Path, served: str, tmp_path: Path) -> None:
    from_folder = Database.open_local(tmp_path / "from-folder.db")
    backfill(from_folder, str(data_root))
    from_folder_rows = from_folder.query("SELECT id, coin_slug, vendor, scraped_at, price, status FROM price_snapshots ORDER BY id")
    from_folder.close()

    report = backfill(db, served)

    assert report.exit_code == 0
    assert rows(db, "SELECT id, coin_slug, vendor, scraped_at, price, status FROM price_snapshots ORDER BY id") == from_folder_rows
    assert report.families["goldback"].inserted == expected_counts(data_root)["goldback"]
    # only the hourly file of a window hour is fetched; it holds all 8 readings of hour 20
    assert report.families["spot"].files == 1 and count(db, "spot_prices") == 8
    # manifest slugs that were never published are reported once each, not per file
    assert reasons(report)["api/age/"].endswith("not found (HTTP 404)")
    assert not any(s.file.startswith(("hourly/", "goldback-")) for s in report.skipped)


def test_the_repository_url_is_accepted_for_its_data_root(db: Database, data_root: Path, tmp_path: Path) -> None:
    # serve.js serves the repository, so its URLs read /data/api/manifest.json
    repo = tmp_path / "repo"
    repo.mkdir()
    data_root.rename(repo / "data")
    with http_server(repo) as url:
        report = backfill(db, url.rstrip("/"))

    assert report.source.endswith("/data")
    assert report.families["windows"].inserted == expected_counts(repo / "data")["windows"]


def test_a_url_query_string_is_never_logged_or_reported(db: Database, served: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="staktrakr")

    report = backfill(db, served + "?token=sekrit-value")

    assert report.families["windows"].inserted > 0
    assert "sekrit" not in report.model_dump_json() and "sekrit" not in caplog.text
    assert "sekrit" not in json.dumps(rows(db, "SELECT reason FROM price_snapshots LIMIT 5"))


def test_an_unreachable_url_is_a_failure(db: Database) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    report = backfill(db, f"http://127.0.0.1:{port}/", timeout_s=5)

    assert report.exit_code == 1
    assert "cannot reach" in reasons(report)["api/manifest.json"]


# -- the command ------------------------------------------------------------------------------------


def test_command_prints_a_table_and_exits_0(data_root: Path) -> None:
    result = CliRunner().invoke(backfill_command, ["--from-api", str(data_root)])

    assert result.exit_code == 0, result.output
    assert "windows" in result.output and "goldback" in result.output
    assert "listed in the manifest" in result.output  # the skipped table


def test_command_json_report(data_root: Path, db: Database) -> None:
    result = CliRunner().invoke(backfill_command, ["--from-api", str(data_root), "--json"])

    assert result.exit_code == 0, result.output
    report = BackfillReport.model_validate_json(result.output)
    assert report.families["windows"].inserted == expected_counts(data_root)["windows"] == count(db, "price_snapshots", "method = 'import'")
    assert json.loads(result.output)["exit_code"] == 0


def test_command_fails_when_nothing_could_be_read(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    runner = CliRunner()

    empty = runner.invoke(backfill_command, ["--from-api", str(tmp_path / "empty"), "--json"])
    missing_option = runner.invoke(backfill_command, [])

    assert empty.exit_code == 1 and json.loads(empty.output)["files_read"] == 0
    assert missing_option.exit_code == 2


def test_a_third_party_importer_reads_its_own_files(db: Database, data_root: Path) -> None:
    """An importer from another package gets the same run: the root, the checks, the report."""
    from pydantic import TypeAdapter

    from staktrakr.backfill import BackfillImporter, ImportRun

    seen: list[int] = []

    class SilverFixImporter(BackfillImporter):
        family = "silver-fix"

        def run(self, run: ImportRun) -> None:
            assert run.folder is not None and 2026 in run.years  # after the retail import
            values = run.load_valid("silver-fix.json", TypeAdapter(list[int]), quiet_missing=False)
            run.counts(self.family).files += 1 if values is not None else 0
            seen.extend(values or [])
            run.load_valid("silver-fix-broken.json", TypeAdapter(list[int]), quiet_missing=False)

    write_json(data_root / "silver-fix.json", [1, 2])
    (data_root / "silver-fix-broken.json").write_text('["x"]')
    report = backfill(db, str(data_root), importers=[SilverFixImporter()])
    assert seen == [1, 2] and list(report.families) == ["windows", "daily", "silver-fix"]
    assert report.families["silver-fix"].files == 1
    assert "unexpected content: 0: Input should be a valid integer" in reasons(report)["silver-fix-broken.json"]
    assert count(db, "spot_prices") == 0  # only the importers given ran


def test_a_plugin_returning_something_else_than_an_importer_is_one_clear_error() -> None:
    import pluggy

    from staktrakr import hookspecs
    from staktrakr.backfill import collect_importers
    from staktrakr.errors import PluginError

    class Confused:
        @hookspecs.hookimpl
        def staktrakr_backfill_importers(self) -> list[object]:
            return ["spot"]

    pm = pluggy.PluginManager("staktrakr")
    pm.add_hookspecs(hookspecs)
    pm.register(Confused())
    with pytest.raises(PluginError, match="returned a str, not a BackfillImporter"):
        collect_importers(pm)
