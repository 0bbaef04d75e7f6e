"""`scrapy crawl spot` against the MetalPriceAPI stand-in on 127.0.0.1, read back from the
database, the published files, the run row and the log."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler

from staktrakr.plugins.spot.api import SOURCE_API, SOURCE_TIMEFRAME
from staktrakr.plugins.spot.spider import SpotSpider
from staktrakr.logs import JsonLogs
from staktrakr_samples.metalprice import (
    MISSING,
    SAMPLE_PRICES,
    Answer,
    MetalPriceConfig,
    MetalPriceServer,
    api_error,
)
from staktrakr.store import Database
from staktrakr.plugins.spot.store import SpotReading, insert_spot_readings
from staktrakr.timeutil import floor_15, iso_ms, iso_s, parse_time, utcnow

from ..conftest import scrapy, staktrakr

CANARY = "CANARY-7f3e9b2c51d04e8a-KEY"
ENTRY_KEYS = ["spot", "metal", "source", "provider", "timestamp"]
METALS = {"gold": "XAU", "silver": "XAG", "platinum": "XPT", "palladium": "XPD"}


def crawl(api: MetalPriceServer, *args: str, key: str | None = CANARY, env: dict[str, str] | None = None) -> Any:
    full = {"METALPRICE_API_URL": api.base_url, **(env or {})}
    if key is not None:
        full["METAL_PRICE_API_KEY"] = key
    return scrapy("crawl", "spot", *args, env=full, timeout=120)


def spot_rows(db: Database) -> list[dict[str, Any]]:
    return db.query("SELECT * FROM spot_prices ORDER BY timestamp, metal")


def runs(db: Database) -> list[dict[str, Any]]:
    return db.query("SELECT * FROM poller_runs WHERE job = 'spot' ORDER BY started_at")


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def away_from_quarter_boundary(margin_s: float = 30) -> None:
    """Two polls in a test must share one 15-minute floor: wait out a boundary that is near."""
    now = utcnow()
    left = (floor_15(now) + timedelta(minutes=15) - now).total_seconds()
    if left < margin_s:
        time.sleep(left + 1)


def hourly_file(root: Path, when: datetime) -> Path:
    return root / f"hourly/{when:%Y/%m/%d/%H}.json"


def quarter_file(root: Path, when: datetime) -> Path:
    return root / f"15min/{floor_15(when):%Y/%m/%d/%H%M}.json"


def publish(config: Any) -> None:
    """The spot files are the export's (hook staktrakr_export_files): publish what is stored."""
    done = staktrakr("export", "--out", str(config.STAKTRAKR_API_DIR), "--json")
    assert done.returncode == 0, done.stderr[-3000:]


# -- a normal poll -----------------------------------------------------------------------------


def test_a_poll_stores_each_metal_with_its_real_time_and_the_export_writes_the_files(db, config):
    with MetalPriceServer(MetalPriceConfig(api_key=CANARY)) as api:
        done = crawl(api)
        requests = api.config.hits("/v1/latest")
    assert done.returncode == 0, done.stderr[-3000:]
    # the documented call, with the key (checked by the stand-in, never stored by it)
    assert [(r.params, r.key_ok) for r in requests] == [({"base": "USD", "currencies": "XAU,XAG,XPT,XPD"}, True)]

    rows = spot_rows(db)
    assert {r["metal"]: r["spot"] for r in rows} == {m: SAMPLE_PRICES[s] for m, s in METALS.items()}
    assert {(r["source"], r["poller_id"]) for r in rows} == {(SOURCE_API, "test")}
    polled = parse_time(rows[0]["timestamp"])
    assert abs((utcnow() - polled).total_seconds()) < 120
    # the poll time itself, not the floor (B-3), and the floor next to it
    assert rows[0]["timestamp"] == iso_ms(polled) and rows[0]["timestamp_floor"] == iso_s(floor_15(polled))

    publish(config)
    root = config.STAKTRAKR_API_DIR
    hourly = load(hourly_file(root, polled))
    assert [list(e) for e in hourly] == [ENTRY_KEYS] * 4
    assert [e["metal"] for e in hourly] == ["Gold", "Palladium", "Platinum", "Silver"]
    assert {e["source"] for e in hourly} == {"hourly"} and {e["provider"] for e in hourly} == {"StakTrakr"}
    assert {e["timestamp"] for e in hourly} == {polled.strftime("%Y-%m-%d %H:%M:%S")}
    assert hourly[0]["spot"] == 5019.58
    quarter = load(quarter_file(root, polled))
    assert [(e["metal"], e["spot"]) for e in quarter] == [("Gold", 5019.58), ("Palladium", 1555.99), ("Platinum", 2022.9), ("Silver", 80.59)]
    assert {e["source"] for e in quarter} == {"seed"}

    [run] = runs(db)
    assert (run["status"], run["total"], run["captured"], run["failures"]) == ("ok", 4, 4, 0)
    assert "spot gold      ok     5019.58 USD/oz" in done.stderr


def test_without_usd_pairs_the_rate_is_inverted(db):
    with MetalPriceServer(MetalPriceConfig(api_key=CANARY, usd_pairs=False)) as api:
        done = crawl(api)
    assert done.returncode == 0, done.stderr[-3000:]
    assert {r["metal"]: r["spot"] for r in spot_rows(db)} == {m: SAMPLE_PRICES[s] for m, s in METALS.items()}


def test_a_second_poll_in_the_same_quarter_is_a_new_row_and_the_15min_file_stays(db, config):
    away_from_quarter_boundary()
    prices = dict(SAMPLE_PRICES)
    with MetalPriceServer(MetalPriceConfig(api_key=CANARY, prices=prices)) as api:
        first = crawl(api)
        publish(config)
        polled = parse_time(spot_rows(db)[0]["timestamp"])
        quarter_path = quarter_file(config.STAKTRAKR_API_DIR, polled)
        before = quarter_path.read_bytes()
        prices["XAU"] = 5031.12  # the market moved
        second = crawl(api)
    assert first.returncode == 0 and second.returncode == 0, second.stderr[-3000:]
    publish(config)

    gold = [r for r in spot_rows(db) if r["metal"] == "gold"]
    assert [r["spot"] for r in gold] == [5019.58, 5031.12]
    assert gold[0]["timestamp_floor"] == gold[1]["timestamp_floor"] and gold[0]["timestamp"] < gold[1]["timestamp"]
    # the hourly file shows both polls, the newest last; the 15-minute file is the first poll's
    hourly = load(hourly_file(config.STAKTRAKR_API_DIR, polled))
    assert len(hourly) == 8 and hourly[-1]["timestamp"] == parse_time(gold[1]["timestamp"]).strftime("%Y-%m-%d %H:%M:%S")
    assert [e["spot"] for e in hourly if e["metal"] == "Gold"] == [5019.58, 5031.12]
    assert quarter_path.read_bytes() == before
    assert len(runs(db)) == 2


def test_a_nul_filled_15min_file_is_written_again(db, config):
    away_from_quarter_boundary()
    path = quarter_file(config.STAKTRAKR_API_DIR, utcnow())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * 573)  # what the live API still publishes as 15min/2026/02/25/2220.json
    with MetalPriceServer(MetalPriceConfig(api_key=CANARY)) as api:
        done = crawl(api)
    assert done.returncode == 0, done.stderr[-3000:]
    publish(config)
    assert [e["metal"] for e in load(path)] == ["Gold", "Palladium", "Platinum", "Silver"]


# -- rejections --------------------------------------------------------------------------------


def test_a_bad_metal_is_rejected_with_its_reason_and_the_others_are_stored(db, config):
    api_config = MetalPriceConfig(api_key=CANARY, rate_overrides={"XPT": 0, "XPD": MISSING, "XAG": "n/a"})
    with MetalPriceServer(api_config) as api:
        done = crawl(api)
    assert done.returncode == 0, done.stderr[-3000:]  # one metal is enough for a useful poll
    assert [(r["metal"], r["spot"]) for r in spot_rows(db)] == [("gold", 5019.58)]
    log = done.stderr
    assert "spot silver    error     XAG rate 'n/a' is not a number" in log
    assert "spot platinum  error     XPT rate is 0: no price can be derived from it" in log
    assert "spot palladium error     XPD is missing from the answer" in log
    [run] = runs(db)
    assert (run["status"], run["total"], run["captured"], run["failures"], run["error_count"]) == ("partial", 4, 1, 3, 3)
    # the files carry what was stored, nothing else
    publish(config)
    polled = parse_time(spot_rows(db)[0]["timestamp"])
    assert [e["metal"] for e in load(hourly_file(config.STAKTRAKR_API_DIR, polled))] == ["Gold"]


def test_values_outside_the_sane_bounds_are_rejected(db):
    # An un-inverted rate read as a price (the live system published gold = 0 on 2026-02-27) and
    # a value the operator's bounds call implausible.
    api_config = MetalPriceConfig(api_key=CANARY, rate_overrides={"XAU": 0.000199})
    with MetalPriceServer(api_config) as api:
        done = crawl(api, "-s", 'STAKTRAKR_SPOT_SANE_BOUNDS={"silver": [5, 60]}')
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(r["metal"] for r in spot_rows(db)) == ["palladium", "platinum"]
    assert "spot gold      error     0.00 USD/oz is outside the sane bounds 500-50,000" in done.stderr
    assert "spot silver    error     80.59 USD/oz is outside the sane bounds 5-60" in done.stderr


@pytest.mark.parametrize(
    ("answer", "args", "reason"),
    [
        (Answer(body=api_error(104, "Your monthly usage limit has been reached.")), (), "API error 104: Your monthly usage limit has been reached."),
        (Answer(status=500, body={"message": "Internal Server Error"}), (), "HTTP 500"),
        (Answer(body={"success": True, "data": {"XAU": 0.0002}}), (), "unexpected answer shape (rates: missing)"),
        (Answer(body={"success": True, "rates": [0.0002, 0.0124]}), (), "unexpected answer shape (rates: Input should be a valid dictionary)"),
        (Answer(body="<html>Service Unavailable</html>"), (), "the answer is not JSON"),
        (Answer(delay_s=3), ("-s", "DOWNLOAD_TIMEOUT=1", "-s", "RETRY_TIMES=0"), "no answer within 1 s (DOWNLOAD_TIMEOUT)"),
    ],
    ids=["success-false", "http-500", "no-rates", "wrong-shape", "not-json", "slow"],
)
def test_an_unusable_answer_fails_every_metal_and_the_run(db, config, answer, args, reason):
    with MetalPriceServer(MetalPriceConfig(api_key=CANARY, latest=answer)) as api:
        done = crawl(api, *args)
    assert done.returncode == 1, done.stderr[-3000:]
    assert spot_rows(db) == []
    assert not (config.STAKTRAKR_API_DIR / "hourly").exists()
    assert f"spot: MetalPriceAPI poll failed for every metal: {reason}" in done.stderr
    for metal in METALS:
        assert f"spot {metal:<9} error     {reason}" in done.stderr
    [run] = runs(db)
    assert (run["status"], run["total"], run["captured"], run["failures"], run["error"]) == ("error", 4, 0, 4, "all targets failed")


def test_a_wrong_key_is_an_api_error(db):
    with MetalPriceServer(MetalPriceConfig(api_key="the-right-key")) as api:
        done = crawl(api, key="a-wrong-key-123")
    assert done.returncode == 1
    assert "API error 101: Invalid API Key." in done.stderr
    assert "a-wrong-key-123" not in done.stderr


def test_without_a_key_nothing_is_requested_and_the_run_says_why(db):
    with MetalPriceServer() as api:
        done = crawl(api, key=None)
        requests = list(api.config.requests)
    assert done.returncode == 2
    assert requests == []
    assert "METAL_PRICE_API_KEY is not set" in done.stderr
    [run] = runs(db)
    assert run["status"] == "error" and run["error"].startswith("METAL_PRICE_API_KEY is not set")


def test_a_bad_backfill_argument_is_a_usage_error(db):
    with MetalPriceServer(MetalPriceConfig(api_key=CANARY)) as api:
        done = crawl(api, "-a", "backfill=forever")
        requests = list(api.config.requests)
    assert done.returncode == 2 and requests == []
    assert "-a backfill='forever': give a duration like 24h or 2d" in done.stderr


# -- the key never leaks -----------------------------------------------------------------------


def _files_under(*roots: Path) -> dict[Path, bytes]:
    """Every file the crawl could have written: data root, database (and its WAL), lock files."""
    return {path: path.read_bytes() for root in roots for path in root.rglob("*") if path.is_file()}


def test_the_api_key_appears_in_no_log_stat_file_or_row(db, config):
    api_config = MetalPriceConfig(api_key=CANARY, timeframe=Answer(delay_s=3))
    with MetalPriceServer(api_config) as api:
        # DEBUG logs every request URL; a slow timeframe answer makes Scrapy quote the URL it
        # downloaded in its timeout error; the key comes as a Scrapy setting this time.
        done = crawl(
            api, "-a", "backfill=24h", "-s", "LOG_LEVEL=DEBUG", "-s", "DOWNLOAD_TIMEOUT=1", "-s", "RETRY_TIMES=1",
            "-s", f"METAL_PRICE_API_KEY={CANARY}", key=None,
        )  # fmt: skip
        requests = list(api.config.requests)
    assert done.returncode == 0, done.stderr[-3000:]
    # the key was used: every request carried it
    assert {r.path for r in requests} == {"/v1/latest", "/v1/timeframe"} and all(r.key_ok for r in requests)
    log = done.stdout + done.stderr
    # the log does show the requests, the retry and the timeout, only without the key
    assert "Crawled (200) <GET http://127.0.0.1:" in log and "/v1/latest?base=USD&currencies=XAU,XAG,XPT,XPD>" in log
    assert "Retrying <GET http://127.0.0.1:" in log and "took longer than 1.0 seconds" in log
    assert "spot backfill: /v1/timeframe failed, no hour filled: no answer within 1 s" in log
    assert "Dumping Scrapy stats" in log and "'staktrakr/spot/backfill_error'" in log
    assert CANARY not in log
    assert len(spot_rows(db)) == 4
    publish(config)
    files = _files_under(config.STAKTRAKR_API_DIR, Path(config.STAKTRAKR_DB).parent)
    assert any(path.suffix == ".json" for path in files) and Path(config.STAKTRAKR_DB) in files
    assert [path for path, data in files.items() if CANARY.encode() in data] == []
    for table in ("spot_prices", "poller_runs"):
        assert CANARY not in json.dumps(db.query(f"SELECT * FROM {table}"))


def test_key_redaction_scrubs_whatever_log_record_still_holds_the_key(caplog):
    # The safety net behind ApiKeyMiddleware is the crawl's log redaction (staktrakr/logs.py):
    # a record from any logger, message or traceback.
    crawler = get_crawler(SpotSpider, settings_dict={"METAL_PRICE_API_KEY": CANARY})
    JsonLogs.from_crawler(crawler)
    with caplog.at_level(logging.INFO):
        logging.getLogger("twisted").error("Unhandled error: GET http://127.0.0.1/v1/latest?api_key=%s&base=USD", CANARY)
        try:
            raise ConnectionError(f"could not reach http://127.0.0.1/v1/latest?api_key={CANARY}")
        except ConnectionError:
            logging.getLogger("scrapy.core.scraper").exception("Error downloading")
    assert "GET http://127.0.0.1/v1/latest?api_key=***&base=USD" in caplog.text
    assert "ConnectionError: could not reach http://127.0.0.1/v1/latest?api_key=***" in caplog.text
    assert CANARY not in caplog.text


# -- backfill ----------------------------------------------------------------------------------


def _reading(metal: str, when: datetime, spot: float, poller: str = "home", source: str = SOURCE_API) -> SpotReading:
    return SpotReading(
        id=f"{poller}-{metal}-{iso_ms(when)}", poller_id=poller, metal=metal, spot=spot, source=source,
        timestamp=iso_ms(when), timestamp_floor=iso_s(floor_15(when)), scraped_at=iso_ms(when),
    )  # fmt: skip


def test_backfill_fills_the_missing_hours_from_daily_rates(db, config):
    now = utcnow()
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    hours = [this_hour - timedelta(hours=n) for n in range(24, 0, -1)]
    covered = hours[20]  # the other poller read every metal in this hour
    insert_spot_readings(db, [_reading(m, covered + timedelta(minutes=15), 1000.0 + i) for i, m in enumerate(METALS)])
    days = sorted({h.date().isoformat() for h in hours})
    daily = {day: {s: p + 10 * i for s, p in SAMPLE_PRICES.items()} for i, day in enumerate(days)}
    with MetalPriceServer(MetalPriceConfig(api_key=CANARY, daily=daily)) as api:
        done = crawl(api, "-a", "backfill=24h")
        timeframe = api.config.hits("/v1/timeframe")
        again = crawl(api, "-a", "backfill=24h")
        timeframe_again = api.config.hits("/v1/timeframe")
    assert done.returncode == 0 and again.returncode == 0, done.stderr[-3000:]
    assert [(r.params["start_date"], r.params["end_date"]) for r in timeframe] == [(days[0], days[-1])]

    filled = [r for r in spot_rows(db) if r["source"] == SOURCE_TIMEFRAME]
    assert len(filled) == 23 * 4
    for row in filled:
        hour = parse_time(row["timestamp"])
        assert hour.minute == hour.second == 0 and row["timestamp"] == iso_ms(hour) and row["timestamp_floor"] == iso_s(hour)
        assert row["spot"] == daily[hour.date().isoformat()][METALS[row["metal"]]]
    assert covered not in {parse_time(r["timestamp"]) for r in filled}
    # every filled hour is published, in the same shape, stamped HH:00:00
    publish(config)
    first = load(hourly_file(config.STAKTRAKR_API_DIR, hours[0]))
    assert [list(e) for e in first] == [ENTRY_KEYS] * 4 and {e["timestamp"] for e in first} == {f"{hours[0]:%Y-%m-%d %H}:00:00"}
    assert "spot backfill: 23 hour(s) of the last 24 lack readings (92 metal-hours)" in done.stderr
    assert "spot backfill: 92 of 92 missing metal-hours filled from daily rates" in done.stderr
    # daily rates are not polls: no 15-minute file for HH:00
    assert not quarter_file(config.STAKTRAKR_API_DIR, hours[0]).exists()
    # nothing is missing any more: no second timeframe call
    assert len(timeframe_again) == 1
    assert "nothing to fill" in again.stderr


def test_a_failed_backfill_is_logged_and_the_poll_still_counts(db):
    api_config = MetalPriceConfig(api_key=CANARY, timeframe=Answer(body=api_error(105, "The timeframe endpoint is not available on your plan.")))
    with MetalPriceServer(api_config) as api:
        done = crawl(api, "-a", "backfill=6h")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "spot backfill: /v1/timeframe failed, no hour filled: API error 105: The timeframe endpoint is not available on your plan." in done.stderr
    assert {r["source"] for r in spot_rows(db)} == {SOURCE_API}
    assert runs(db)[0]["status"] == "ok"


def test_a_day_without_a_daily_rate_leaves_its_hours_empty(db):
    now = utcnow()
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    yesterday = (this_hour - timedelta(hours=24)).date().isoformat()
    with MetalPriceServer(MetalPriceConfig(api_key=CANARY, no_data={yesterday})) as api:
        done = crawl(api, "-a", "backfill=24h")
    assert done.returncode == 0, done.stderr[-3000:]
    filled = [r for r in spot_rows(db) if r["source"] == SOURCE_TIMEFRAME]
    assert all(r["timestamp"][:10] != yesterday for r in filled)
    assert f"spot backfill gold {yesterday}: hours left empty: the answer has no rate for this day" in done.stderr


# -- export ------------------------------------------------------------------------------------


def test_the_export_publishes_the_last_day_of_both_pollers(db, tmp_path):
    as_of = "2026-03-15T20:40:00Z"
    readings = [
        # the cloud poller at :00 and :30, the home poller at :15, a second cloud poll at :31
        *(_reading(m, parse_time("2026-03-15T20:00:04Z"), 100.0 + i, "api") for i, m in enumerate(METALS)),
        *(_reading(m, parse_time("2026-03-15T20:15:03Z"), 200.0 + i, "home") for i, m in enumerate(METALS)),
        *(_reading(m, parse_time("2026-03-15T20:30:02Z"), 300.0 + i, "api") for i, m in enumerate(METALS)),
        *(_reading(m, parse_time("2026-03-15T20:31:40Z"), 310.0 + i, "api") for i, m in enumerate(METALS)),
        _reading("gold", parse_time("2026-03-15T02:00:00Z"), 4990.0, "api", SOURCE_TIMEFRAME),
        _reading("gold", parse_time("2026-03-14T19:59:00Z"), 4000.0, "api"),  # more than 24 h before
        _reading("gold", parse_time("2026-03-15T20:45:00Z"), 9999.0, "api"),  # after the export time
    ]
    insert_spot_readings(db, readings)
    out = tmp_path / "data"
    broken = out / "15min/2026/03/15/2015.json"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"\0" * 100)

    done = staktrakr("export", "--out", str(out), "--as-of", as_of, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)

    hour = load(out / "hourly/2026/03/15/20.json")
    assert len(hour) == 16 and [list(e) for e in hour] == [ENTRY_KEYS] * 16
    assert [e["timestamp"] for e in hour][::4] == ["2026-03-15 20:00:04", "2026-03-15 20:15:03", "2026-03-15 20:30:02", "2026-03-15 20:31:40"]
    assert {e["spot"] for e in hour} >= {200.0, 310.0} and 9999.0 not in {e["spot"] for e in hour}
    assert load(out / "hourly/2026/03/15/02.json") == [
        {"spot": 4990, "metal": "Gold", "source": "hourly", "provider": "StakTrakr", "timestamp": "2026-03-15 02:00:00"}
    ]
    # more than a day before: its hourly file is published (the web app reads 7 days of them),
    # no 15-minute file (those cover the last day)
    assert [e["spot"] for e in load(out / "hourly/2026/03/14/19.json")] == [4000]
    assert not (out / "15min/2026/03/14").exists()
    # one 15-minute file per polled floor, each the floor's first poll; the broken one repaired
    assert sorted(p.name for p in (out / "15min/2026/03/15").iterdir()) == ["2000.json", "2015.json", "2030.json"]
    assert [e["spot"] for e in load(out / "15min/2026/03/15/2030.json")] == [300.0, 303.0, 302.0, 301.0]
    assert [e["metal"] for e in load(broken)] == ["Gold", "Palladium", "Platinum", "Silver"]
    assert {e["source"] for e in load(broken)} == {"seed"}
    assert "15min/2026/03/15/2015.json" in report["written"]

    # a later poll in a published floor changes the hourly file, never the 15-minute file
    insert_spot_readings(db, [_reading("gold", parse_time("2026-03-15T20:33:00Z"), 320.0, "home")])
    quarter = (out / "15min/2026/03/15/2030.json").read_bytes()
    again = json.loads(staktrakr("export", "--out", str(out), "--as-of", "2026-03-15T20:40:00Z", "--json").stdout)
    assert "hourly/2026/03/15/20.json" in again["written"]
    assert not any(path.startswith("15min/") for path in again["written"])
    assert (out / "15min/2026/03/15/2030.json").read_bytes() == quarter


def test_scrapy_list_shows_the_feed_spiders():
    listed = scrapy("list")
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert {"spot", "goldback"} <= set(listed.stdout.split())


@pytest.mark.parametrize(("spider", "variable"), [("spot", "METALPRICE_API_URL"), ("goldback", "GOLDBACK_URL")])
def test_a_bad_url_in_a_feed_plugins_section_is_one_line_before_the_crawl(spider, variable):
    # The variables are the plugins' own sections now (hook staktrakr_config_fields); the crawl
    # command checks them with the core's, as it did when they were core variables.
    done = scrapy("crawl", spider, env={variable: "ftp://example.com", "METAL_PRICE_API_KEY": CANARY}, timeout=120)
    assert done.returncode == 2
    assert f"invalid configuration: {variable}: must be an http:// or https:// URL" in done.stderr
    assert "Traceback" not in done.stderr
