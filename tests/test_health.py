"""`staktrakr health`: freshness of the published feeds in a folder or at a URL."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from staktrakr.api.reader import FolderRoot, UrlRoot
from staktrakr.health import FeedStatus, HealthCheck, HealthReport, check_health, collect_checks, health_command
from staktrakr.plugin_manager import get_plugin_manager
from staktrakr.serve import make_app, serve_in_thread
from staktrakr.timeutil import iso_ms, space_ts, utcnow

from .conftest import FIXTURES, write_json

# The market feed is the core's; spot and Goldback are the plugins' (their staktrakr_health_checks).
MARKET, SPOT, GOLDBACK = "market", "spot", "goldback"


def all_checks() -> list[HealthCheck]:
    """The checks `staktrakr health` runs: the core's and the built-in plugins' (through the hook)."""
    return collect_checks(get_plugin_manager())


CHECKS = all_checks()


def test_the_plugins_add_their_feeds_through_the_hook() -> None:
    assert [c.name for c in CHECKS] == ["market", "goldback", "spot"]


LIVE_API = FIXTURES / "live-api"
NOW = datetime(2026, 3, 15, 20, 30, tzinfo=UTC)


def publish(
    root: Path,
    now: datetime,
    *,
    market: timedelta | None = timedelta(minutes=10),
    spot: timedelta | None = timedelta(minutes=15),
    goldback: timedelta | None = timedelta(hours=20),
) -> Path:
    """Write the three feeds as the exporter would, each `age` old at `now` (None: not written).

    The spot entry lands in the hourly file of its own hour, so an age reaching into the previous
    hour exercises the fallback just as it happens live at the start of an hour.
    """
    if market is not None:
        write_json(root / "api/manifest.json", {"generated_at": iso_ms(now - market), "window_count": 96})
    if spot is not None:
        stamp = now - spot
        hour = stamp.replace(minute=0, second=0, microsecond=0)
        write_json(
            root / f"hourly/{stamp:%Y/%m/%d/%H}.json",
            [
                {"spot": 5019.58, "metal": "Gold", "source": "hourly", "provider": "StakTrakr", "timestamp": space_ts(hour)},
                {"spot": 78.1, "metal": "Silver", "source": "hourly", "provider": "StakTrakr", "timestamp": space_ts(stamp)},
            ],
        )
    if goldback is not None:
        write_json(root / "api/goldback-spot.json", {"date": f"{now - goldback:%Y-%m-%d}", "scraped_at": iso_ms(now - goldback), "g1_usd": 10.06})
    return root


def statuses(report: HealthReport) -> dict[str, str]:
    return {feed: health.status.value for feed, health in report.feeds.items()}


# -- check_health ---------------------------------------------------------------------------------


def test_the_live_sample_was_fresh_when_it_was_published() -> None:
    report = check_health(FolderRoot(LIVE_API), CHECKS, NOW)
    assert report.ok and statuses(report) == {"market": "fresh", "spot": "fresh", "goldback": "fresh"}
    market, spot, goldback = (report.feeds[f] for f in (MARKET, SPOT, GOLDBACK))
    assert market.source_timestamp == "2026-03-15T20:23:02.057Z" and market.age_seconds == pytest.approx(417.943)
    # The last entry of the 20:00 file is 20:15 (the file holds 20:00 and 20:15 for each metal).
    assert spot.source_timestamp == "2026-03-15 20:15:00" and spot.age_seconds == 900
    assert spot.location is not None and spot.location.endswith("hourly/2026/03/15/20.json")
    assert goldback.source_timestamp == "2026-03-15T00:01:01.596Z" and goldback.threshold_seconds == 25 * 3600


def test_the_live_sample_a_day_later_is_stale_and_the_spot_file_missing() -> None:
    report = check_health(FolderRoot(LIVE_API), CHECKS, NOW + timedelta(days=1))
    assert not report.ok
    assert statuses(report) == {"market": "stale", "spot": "missing", "goldback": "stale"}
    assert "hourly/2026/03/16/20.json: not found" in (report.feeds[SPOT].reason or "")
    assert "hourly/2026/03/16/19.json: not found" in (report.feeds[SPOT].reason or "")


def test_all_fresh(tmp_path: Path) -> None:
    report = check_health(FolderRoot(publish(tmp_path, NOW)), CHECKS, NOW)
    assert report.ok and report.checked_at == "2026-03-15T20:30:00Z"
    assert {f: h.age_seconds for f, h in report.feeds.items()} == {"market": 600, "spot": 900, "goldback": 72000}
    assert all(h.reason is None for h in report.feeds.values())


@pytest.mark.parametrize(
    ("ages", "stale_feed", "limit"),
    [
        ({"market": timedelta(minutes=31)}, "market", "limit 30m"),
        ({"spot": timedelta(minutes=76)}, "spot", "limit 1h 15m"),
        ({"goldback": timedelta(hours=26)}, "goldback", "limit 25h"),
    ],
)
def test_one_stale_feed_makes_the_report_not_ok(tmp_path: Path, ages: dict[str, timedelta], stale_feed: str, limit: str) -> None:
    report = check_health(FolderRoot(publish(tmp_path, NOW, **ages)), CHECKS, NOW)
    assert not report.ok
    assert statuses(report) == {feed: ("stale" if feed == stale_feed else "fresh") for feed in ("market", "spot", "goldback")}
    assert limit in (report.feeds[stale_feed].reason or "")


def test_exactly_at_the_threshold_is_still_fresh(tmp_path: Path) -> None:
    publish(tmp_path, NOW, market=timedelta(minutes=30), spot=timedelta(minutes=75), goldback=timedelta(hours=25))
    assert check_health(FolderRoot(tmp_path), CHECKS, NOW).ok
    assert statuses(check_health(FolderRoot(tmp_path), CHECKS, NOW + timedelta(seconds=1))) == {"market": "stale", "spot": "stale", "goldback": "stale"}


def test_thresholds_are_configurable(tmp_path: Path) -> None:
    publish(tmp_path, NOW)  # 10 min, 15 min, 20 h old
    strict = {"market": timedelta(minutes=5), "spot": timedelta(minutes=20), "goldback": timedelta(hours=12)}
    assert statuses(check_health(FolderRoot(tmp_path), CHECKS, NOW, max_age=strict)) == {"market": "stale", "spot": "fresh", "goldback": "stale"}


def test_spot_falls_back_to_the_previous_hour_early_in_the_hour(tmp_path: Path) -> None:
    now = datetime(2026, 3, 15, 20, 5, tzinfo=UTC)
    publish(tmp_path, now, spot=timedelta(minutes=20))  # last entry 19:45, no 20.json yet
    spot = check_health(FolderRoot(tmp_path), CHECKS, now).feeds[SPOT]
    assert spot.status is FeedStatus.FRESH and spot.source_timestamp == "2026-03-15 19:45:00"
    assert spot.location is not None and spot.location.endswith("hourly/2026/03/15/19.json")


def test_spot_fallback_across_midnight_and_still_judged_by_age(tmp_path: Path) -> None:
    now = datetime(2026, 3, 16, 0, 10, tzinfo=UTC)
    publish(tmp_path, now, spot=timedelta(minutes=80))  # 22:50 on the 15th, in the 22.json file
    spot = check_health(FolderRoot(tmp_path), CHECKS, now).feeds[SPOT]
    assert spot.status is FeedStatus.MISSING  # neither 16/00.json nor 15/23.json exists
    publish(tmp_path, now, spot=timedelta(minutes=70))  # 23:00 on the 15th, in 15/23.json
    spot = check_health(FolderRoot(tmp_path), CHECKS, now).feeds[SPOT]
    assert spot.status is FeedStatus.FRESH and spot.location is not None and spot.location.endswith("hourly/2026/03/15/23.json")


def test_spot_prefers_the_current_hour_and_skips_an_empty_one(tmp_path: Path) -> None:
    publish(tmp_path, NOW, spot=timedelta(minutes=45))  # 19:45 in 19.json
    publish(tmp_path, NOW, spot=timedelta(minutes=5))  # 20:25 in 20.json
    assert check_health(FolderRoot(tmp_path), CHECKS, NOW).feeds[SPOT].source_timestamp == "2026-03-15 20:25:00"
    write_json(tmp_path / "hourly/2026/03/15/20.json", [])
    assert check_health(FolderRoot(tmp_path), CHECKS, NOW).feeds[SPOT].source_timestamp == "2026-03-15 19:45:00"


def test_a_corrupt_current_spot_file_is_reported_not_hidden_by_the_fallback(tmp_path: Path) -> None:
    publish(tmp_path, NOW, spot=timedelta(minutes=45))  # a fresh 19.json
    (tmp_path / "hourly/2026/03/15/20.json").write_text('[{"spot": 1, "timest')
    spot = check_health(FolderRoot(tmp_path), CHECKS, NOW).feeds[SPOT]
    assert spot.status is FeedStatus.MISSING and "malformed JSON" in (spot.reason or "")
    assert spot.location is not None and spot.location.endswith("20.json")


def test_an_empty_root_is_all_missing(tmp_path: Path) -> None:
    report = check_health(FolderRoot(tmp_path), CHECKS, NOW)
    assert statuses(report) == {"market": "missing", "spot": "missing", "goldback": "missing"}
    assert all(h.age_seconds is None and h.source_timestamp is None for h in report.feeds.values())
    assert report.feeds[MARKET].reason == "not found"
    nowhere = check_health(FolderRoot(tmp_path / "nowhere"), CHECKS, NOW)
    assert f"data root {tmp_path / 'nowhere'} does not exist" == nowhere.feeds[GOLDBACK].reason


@pytest.mark.parametrize(
    ("path", "content", "feed", "reason"),
    [
        ("api/manifest.json", "{not json", MARKET, "malformed JSON"),
        ("api/manifest.json", '["generated_at"]', MARKET, "no 'generated_at' timestamp"),
        ("api/manifest.json", '{"generated_at": 1773606182}', MARKET, "no 'generated_at' timestamp"),
        ("api/manifest.json", '{"generated_at": "yesterday"}', MARKET, "unreadable timestamp 'yesterday'"),
        ("api/goldback-spot.json", '{"date": "2026-03-15", "g1_usd": 10.06}', GOLDBACK, "no 'scraped_at' timestamp"),
        ("api/goldback-spot.json", b"\xff\xfe\x00garbage", GOLDBACK, "malformed JSON"),
        ("hourly/2026/03/15/20.json", '{"timestamp": "2026-03-15 20:15:00"}', SPOT, "expected a list"),
        ("hourly/2026/03/15/20.json", '[{"spot": 5019.58, "metal": "Gold"}]', SPOT, "last entry has no 'timestamp'"),
    ],
)
def test_malformed_files_make_that_feed_missing(tmp_path: Path, path: str, content: str | bytes, feed: str, reason: str) -> None:
    publish(tmp_path, NOW)
    target = tmp_path / path
    target.write_bytes(content if isinstance(content, bytes) else content.encode())
    report = check_health(FolderRoot(tmp_path), CHECKS, NOW)
    assert report.feeds[feed].status is FeedStatus.MISSING and reason in (report.feeds[feed].reason or "")
    assert all(h.status is FeedStatus.FRESH for f, h in report.feeds.items() if f is not feed)


def test_a_timestamp_from_the_future_is_suspect(tmp_path: Path) -> None:
    publish(tmp_path, NOW, market=-timedelta(hours=2), goldback=-timedelta(minutes=3))
    report = check_health(FolderRoot(tmp_path), CHECKS, NOW)
    assert report.feeds[MARKET].status is FeedStatus.STALE and "in the future" in (report.feeds[MARKET].reason or "")
    assert report.feeds[GOLDBACK].status is FeedStatus.FRESH  # within the allowed clock skew


# -- URL source -----------------------------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    root = tmp_path / "published"
    root.mkdir()
    with serve_in_thread(make_app(root)) as url:
        yield root, url


def test_url_source_reads_the_same_files_over_http(served: tuple[Path, str]) -> None:
    root, url = served
    publish(root, NOW)
    report = check_health(UrlRoot(url + "/"), CHECKS, NOW)
    assert report.ok and report.source == url
    assert report.feeds[MARKET].location == f"{url}/api/manifest.json"
    (root / "api/goldback-spot.json").unlink()
    goldback = check_health(UrlRoot(url), CHECKS, NOW).feeds[GOLDBACK]
    assert goldback.status is FeedStatus.MISSING and goldback.reason == "HTTP 404"


def test_an_unresponsive_host_reports_every_feed_missing() -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        report = check_health(UrlRoot(f"http://127.0.0.1:{silent.getsockname()[1]}", 0.5), CHECKS, NOW)
    assert statuses(report) == {"market": "missing", "spot": "missing", "goldback": "missing"}
    assert all("timed out" in (h.reason or "") for h in report.feeds.values())


# -- the command ----------------------------------------------------------------------------------


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(health_command, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_command_exits_0_when_fresh_and_prints_a_table(tmp_path: Path) -> None:
    publish(tmp_path, utcnow())
    code, output = invoke("--dir", str(tmp_path))
    assert code == 0 and "all feeds fresh" in output
    for word in ("market", "spot", "goldback", "fresh", "threshold", "1h 15m"):
        assert word in output


def test_command_json_output(tmp_path: Path) -> None:
    publish(tmp_path, utcnow(), goldback=timedelta(hours=30))
    code, output = invoke("--dir", str(tmp_path), "--json")
    data = json.loads(output)
    assert code == 1 and data["ok"] is False and data["source"] == str(tmp_path)
    assert set(data["feeds"]) == {"market", "spot", "goldback"}
    assert data["feeds"]["goldback"]["status"] == "stale" and data["feeds"]["goldback"]["threshold_seconds"] == 90000
    assert data["feeds"]["market"]["status"] == "fresh" and 590 <= data["feeds"]["market"]["age_seconds"] <= 660


def test_command_exits_1_and_names_the_unhealthy_feeds(tmp_path: Path) -> None:
    publish(tmp_path, utcnow(), spot=None)
    code, output = invoke("--dir", str(tmp_path))
    assert code == 1 and "NOT healthy: spot missing" in output


def test_command_threshold_options(tmp_path: Path) -> None:
    publish(tmp_path, utcnow())  # manifest 10 min old
    assert invoke("--dir", str(tmp_path), "--market-minutes", "5")[0] == 1
    assert invoke("--dir", str(tmp_path), "--market-minutes", "15", "--spot-minutes", "20", "--goldback-hours", "21")[0] == 0
    code, output = invoke("--dir", str(tmp_path), "--spot-minutes", "0")
    assert code == 2 and "--spot-minutes" in output


def test_command_defaults_to_the_configured_api_dir(tmp_path: Path) -> None:
    # conftest points STAKTRAKR_API_DIR at tmp_path/api.
    publish(tmp_path / "api", utcnow())
    code, output = invoke("--json")
    assert code == 0 and json.loads(output)["source"] == str(tmp_path / "api")


def test_command_checks_a_url(served: tuple[Path, str]) -> None:
    root, url = served
    publish(root, utcnow())
    code, output = invoke("--url", url, "--json")
    assert code == 0 and json.loads(output)["feeds"]["spot"]["location"].startswith(f"{url}/hourly/")


def test_command_unreachable_url_is_missing_not_a_traceback() -> None:
    with socket.socket() as probe:  # a port nobody listens on any more
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, output = invoke("--url", f"http://127.0.0.1:{port}/data", "--json")
    data = json.loads(output)
    assert code == 1 and {h["status"] for h in data["feeds"].values()} == {"missing"}
    assert all("cannot reach" in h["reason"] for h in data["feeds"].values())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "ftp://api.example/data"], "must be an http:// or https:// URL"),
        (["--url", "api.example/data"], "must be an http:// or https:// URL"),
        (["--url", "https://user:token@api.example/data"], "must not contain credentials"),
        (["--url", "https://api.example:http/data"], "invalid port"),
        (["--dir", "/tmp", "--url", "https://api.example/data"], "at most one of --dir or --url"),
    ],
)
def test_command_usage_errors(args: list[str], message: str) -> None:
    code, output = invoke(*args)
    assert code == 2 and message in output
    assert "user:token" not in output  # a credential is never echoed back


def test_command_max_age_option_sets_any_feeds_threshold(tmp_path: Path) -> None:
    publish(tmp_path, utcnow())  # spot 15 min old
    assert invoke("--dir", str(tmp_path), "--max-age", "spot=10")[0] == 1
    code, output = invoke("--dir", str(tmp_path), "--max-age", "spot=20", "--max-age", "market=11", "--json")
    assert code == 0 and json.loads(output)["feeds"]["spot"]["threshold_seconds"] == 1200
    code, output = invoke("--dir", str(tmp_path), "--max-age", "spot")
    assert code == 2 and "NAME=MINUTES" in output


def test_a_third_party_plugin_adds_a_feed(tmp_path: Path) -> None:
    """A package's own feed comes in through `staktrakr_health_checks`, judged like the core's."""
    import pluggy

    from staktrakr import hookspecs
    from staktrakr.health import TimestampField

    class SilverFixPlugin:
        @hookspecs.hookimpl
        def staktrakr_health_checks(self) -> list[HealthCheck]:
            return [TimestampField("silver-fix", "api/silver-fix.json", "as_of", timedelta(hours=2))]

    pm = pluggy.PluginManager("staktrakr")
    pm.add_hookspecs(hookspecs)
    pm.register(SilverFixPlugin())
    publish(tmp_path, NOW)
    write_json(tmp_path / "api/silver-fix.json", {"as_of": iso_ms(NOW - timedelta(hours=3))})
    report = check_health(FolderRoot(tmp_path), collect_checks(pm), NOW)
    assert statuses(report) == {"market": "fresh", "silver-fix": "stale"}
    assert report.feeds["silver-fix"].reason == "3h old, limit 2h"


def test_a_plugin_returning_something_else_is_one_clear_error() -> None:
    import pluggy

    from staktrakr import hookspecs
    from staktrakr.errors import PluginError

    class Confused:
        @hookspecs.hookimpl
        def staktrakr_health_checks(self) -> list[object]:
            return [{"name": "spot"}]

    pm = pluggy.PluginManager("staktrakr")
    pm.add_hookspecs(hookspecs)
    pm.register(Confused())
    with pytest.raises(PluginError, match="returned a dict, not a HealthCheck"):
        collect_checks(pm)
