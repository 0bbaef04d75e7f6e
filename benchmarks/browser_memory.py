"""Browser memory over a run: many pages through headless Chromium, memory sampled throughout.

    python benchmarks/browser_memory.py [--pages 120]

The farm's only dealer renders its prices with JavaScript, so every page goes through
scrapy-playwright. Prints the crawl's total RSS (Python + every Chromium process) at the first
quarter, half, three quarters and end of the run: flat figures mean pages and contexts are
closed and bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from staktrakr.catalogue import catalogue_coin
from staktrakr_samples.server import SITES, SampleSites, SiteConfig


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
        stack.extend(children.get(current, []))
    return total / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=120)
    args = parser.parse_args()
    html = (SITES / "bullionexchanges/ase.html").read_text(encoding="utf-8")
    pages = {f"/bullionexchanges/p{i}.html": html for i in range(args.pages)}
    coin = catalogue_coin("ase")
    assert coin is not None
    with tempfile.TemporaryDirectory() as tmp, SampleSites(SiteConfig(pages=pages)) as sites:
        coins = {
            f"bench-{i}": {"name": coin.name, "metal": "silver", "weight_oz": 1,
                           "providers": [{"id": "bullionexchanges", "url": sites.url(f"bullionexchanges/p{i}.html")}]}
            for i in range(args.pages)
        }
        providers = Path(tmp) / "providers.json"
        providers.write_text(json.dumps({"coins": coins}), encoding="utf-8")
        env = dict(os.environ, SCRAPY_SETTINGS_MODULE="staktrakr.settings", STAKTRAKR_PROVIDERS=str(providers),
                   STAKTRAKR_DB=str(Path(tmp) / "bench.db"), POLLER_ID="bench")
        command = [sys.executable, "-m", "scrapy", "crawl", "retail", "-s", "LOG_LEVEL=INFO",
                   "-s", "STAKTRAKR_DEALER_CONCURRENCY=4", "-s", "STAKTRAKR_DEALER_DELAY=0"]
        started = time.monotonic()
        process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        samples: list[tuple[int, float]] = []
        done = [0]

        def count_targets() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                if "[staktrakr.targets]" in line:
                    done[0] += 1

        reader = threading.Thread(target=count_targets, daemon=True)
        reader.start()
        while process.poll() is None:
            samples.append((done[0], tree_rss_mb(process.pid)))
            time.sleep(0.5)
        reader.join(timeout=5)
        wall = time.monotonic() - started
    print(f"{args.pages} browser pages in {wall:.1f} s (exit {process.returncode})")
    for share in (0.25, 0.5, 0.75, 1.0):
        target = int(args.pages * share)
        rss = max((mb for n, mb in samples if n <= target), default=0.0)
        print(f"  peak RSS up to page {target:4d}: {rss:7.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
