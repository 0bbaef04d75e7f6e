"""`staktrakr alert` against real crawls of the sample sites: a dealer breaks (its pages answer
500) and recovers, the retail feed goes stale and recovers; each incident is announced once
through Apprise's json:// to a receiver on 127.0.0.1, and once on recovery."""

from __future__ import annotations

from datetime import timedelta

from staktrakr_samples.server import Rule, SampleSites, SiteConfig, load_truth, providers_for
from staktrakr.timeutil import iso_ms, utcnow

from ..conftest import scrapy, staktrakr, write_json
from .receiver import Receiver

PAGES = ("apmex/ase.html", "apmex/age.html")


def _crawl(providers_file) -> None:
    done = scrapy("crawl", "retail", "-s", "RETRY_TIMES=0", env={"STAKTRAKR_PROVIDERS": str(providers_file)})
    assert done.returncode in (0, 1), done.stderr[-3000:]


def test_each_incident_is_announced_once_and_once_on_recovery(tmp_path, config):
    site = SiteConfig()
    entries = [e for e in load_truth() if e["path"] in PAGES]
    with SampleSites(site) as sites, Receiver() as receiver:
        env = {"ALERT_URLS": receiver.alert_url, "ALERT_DEALER_FAILURES_IN_A_ROW": "3"}
        providers_file = write_json(tmp_path / "providers.json", providers_for(sites, entries))
        _crawl(providers_file)
        quiet = staktrakr("alert", env=env)
        assert quiet.returncode == 0, quiet.stderr
        assert receiver.posts == [] and "0 new incident(s)" in quiet.stdout

        # The dealer breaks: its pages answer 500 in two crawls (4 failed attempts after 2 good).
        site.rules.update({f"/{p}": Rule(status=500) for p in PAGES})
        _crawl(providers_file)
        _crawl(providers_file)
        broke = staktrakr("alert", env=env)
        again = staktrakr("alert", env=env)
        assert broke.returncode == 0 and again.returncode == 0, broke.stderr + again.stderr
        assert receiver.titles() == ["[staktrakr] dealer apmex: problem"]
        message = receiver.posts[0]["message"]
        assert message.startswith("dealer apmex is failing (error since ") and "its last 3 attempts failed" in message
        assert "33% of 6 attempts in 24 h captured" in message

        # Three hours on, nothing good came in: the retail feed is stale, the poller silent.
        later = iso_ms(utcnow() + timedelta(hours=3))
        stale = staktrakr("alert", "--now", later, env=env)
        assert stale.returncode == 0, stale.stderr
        assert sorted(receiver.titles()[1:]) == ["[staktrakr] feed retail: problem", "[staktrakr] poller test/retail: problem"]

        # Fixed: the pages answer again and a crawl captures them; everything recovers, once.
        site.rules.clear()
        _crawl(providers_file)
        recovered = staktrakr("alert", env=env)
        quiet_again = staktrakr("alert", env=env)
        assert recovered.returncode == 0 and quiet_again.returncode == 0, recovered.stderr + quiet_again.stderr
        assert sorted(receiver.titles()[3:]) == [
            "[staktrakr] dealer apmex: recovered", "[staktrakr] feed retail: recovered", "[staktrakr] poller test/retail: recovered",
        ]  # fmt: skip
        assert len(receiver.posts) == 6
    assert receiver.alert_url.split("//")[1] not in broke.stdout + broke.stderr  # destinations are never printed
