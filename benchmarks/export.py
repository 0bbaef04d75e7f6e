"""Export benchmark: a database with the live volume over 30 days, exported twice.

    python benchmarks/export.py [--slugs 29] [--dealers 9] [--per-day 48] [--days 30]

29 slugs x 9 dealers x 48 observations a day x 30 days ~ 375 000 rows. Prints the full
export time and peak RSS, then a re-export with nothing changed (time, files rewritten).
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from staktrakr.export import export_api
from staktrakr.providers import parse_providers
from staktrakr.store import Database
from staktrakr.store.snapshots import CORE_COLUMNS

_SNAPSHOT_COLUMNS = CORE_COLUMNS[:16]  # the columns the rows below fill (no `source`)
from staktrakr.timeutil import floor_15, iso_ms, iso_s, parse_time


def fill(db: Database, slugs: list[str], dealers: list[str], per_day: int, days: int, end) -> int:
    rng = random.Random(7)
    step = timedelta(days=1) / per_day
    start = end - timedelta(days=days)
    placeholders = ", ".join("?" for _ in _SNAPSHOT_COLUMNS)
    rows, n = [], 0
    base = {slug: 80 + 40 * i for i, slug in enumerate(slugs)}
    at = start
    while at < end:
        for slug in slugs:
            for j, dealer in enumerate(dealers):
                n += 1
                when = at + timedelta(seconds=j * 7)
                status = "ok" if rng.random() > 0.05 else rng.choice(["out_of_stock", "blocked", "no_price"])
                price = None if status in ("blocked", "no_price") else round(base[slug] * (1 + rng.uniform(-0.05, 0.05)), 2)
                if rng.random() < 0.01 and price:
                    price = round(price / 2, 2)  # a wrong product now and then
                rows.append((f"{'api' if n % 2 else 'home'}-{n:08d}", None, "api" if n % 2 else "home", iso_ms(when),
                             iso_s(floor_15(when)), slug, dealer, None, price,
                             None if status in ("blocked", "no_price") else int(status == "ok"), status, "table", None, None, 200, 900))
        at += step
        if len(rows) > 50_000:
            db.executemany(f"INSERT INTO price_snapshots ({', '.join(_SNAPSHOT_COLUMNS)}) VALUES ({placeholders})", rows)
            rows.clear()
    if rows:
        db.executemany(f"INSERT INTO price_snapshots ({', '.join(_SNAPSHOT_COLUMNS)}) VALUES ({placeholders})", rows)
    return n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slugs", type=int, default=29)
    parser.add_argument("--dealers", type=int, default=9)
    parser.add_argument("--per-day", type=int, default=48)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--fill-only", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args()
    slugs = [f"coin-{i:02d}" for i in range(args.slugs)]
    dealers = [f"dealer{i}" for i in range(args.dealers)]
    providers = parse_providers(
        {"coins": {s: {"name": s, "metal": "silver", "weight_oz": 1,
                       "providers": [{"id": d, "url": f"https://{d}.example/{s}"} for d in dealers]} for s in slugs}},
        "benchmark",
    )
    end = parse_time("2026-03-15T20:20:00Z")
    if args.fill_only:
        fill(Database.open_local(args.fill_only), slugs, dealers, args.per_day, args.days, end)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        # Filled by a separate process so that the peak RSS below is the export's own.
        subprocess.run([sys.executable, __file__, "--fill-only", str(Path(tmp) / "bench.db"), "--slugs", str(args.slugs),
                        "--dealers", str(args.dealers), "--per-day", str(args.per_day), "--days", str(args.days)], check=True)
        db = Database.open_local(Path(tmp) / "bench.db")
        n = db.query_value("SELECT COUNT(*) FROM price_snapshots")
        print(f"filled {n} rows in {time.monotonic() - started:.1f} s")
        out = Path(tmp) / "api"
        cache = Path(tmp) / "bench.db.export-cache.json"
        first = export_api(db, providers, out, as_of=end, cache_path=cache)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"full export:  {first.seconds:6.2f} s, {len(first.written)} files written, {first.rows} observations read")
        print(f"peak RSS:     {rss:6.0f} MB")
        again = export_api(db, providers, out, as_of=end + timedelta(minutes=1), cache_path=cache)
        print(f"re-export:    {again.seconds:6.2f} s, {len(again.written)} files rewritten, {again.unchanged} unchanged, "
              f"{again.history_days_computed} history days recomputed")
        cold = export_api(db, providers, Path(tmp) / "api2", as_of=end, cache_path=None)
        print(f"full export without the history cache: {cold.seconds:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
