"""`staktrakr demo`: crawl the bundled sample dealer sites with the real spiders and show the result.

Nothing here is special-cased for the demo: it serves the sample pages on 127.0.0.1, writes
a providers file pointing at them, and runs `scrapy crawl retail` into a fresh database.
"""

from __future__ import annotations

import json
import os
import re
from contextlib import ExitStack
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from staktrakr.config import load_config
from staktrakr.export import export_api, export_cache_path
from staktrakr.plugin_manager import get_plugin_manager
from staktrakr.providers import resolve_providers
from .gemini import GeminiStandIn
from .goldback_site import GoldbackSite
from .metalprice import MetalPriceServer
from .server import SampleSites, load_truth, providers_for
from staktrakr.store import Database
from staktrakr.store.reports import recent_runs
from staktrakr.store.render_modes import learned_render_modes
from staktrakr.store.snapshots import count_by_source, newest_per_target

CHROMIUM = (Path("/usr/bin/chromium-headless-shell"), Path("/usr/bin/chromium"))
_STATUS_STYLE = {"ok": "green", "out_of_stock": "yellow", "wrong_product": "magenta", "blocked": "red", "no_price": "red", "error": "red"}


def crawl_env(workdir: Path, providers_file: Path, poller_id: str = "demo") -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "SCRAPY_SETTINGS_MODULE": "staktrakr.settings",
            "STAKTRAKR_PROVIDERS": str(providers_file),
            "STAKTRAKR_DB": str(workdir / "staktrakr.db"),
            "STAKTRAKR_API_DIR": str(workdir / "api"),
            "POLLER_ID": poller_id,
        }
    )
    return env


def browser_summary(rows: Any, modes: dict[str, dict[str, Any]]) -> str:
    """How many pages were read in the browser, how long they took to settle, and which dealers
    the crawl learned to need it."""
    read = [r for r in rows if (r["method"] or "").startswith("browser")]
    waits = [float(m.group(1)) for r in read if (m := re.search(r"browser read after ([\d.]+) s", r["reason"] or ""))]
    learned = sorted(vendor for vendor, row in modes.items() if row["mode"] == "browser")
    average = f", settled after {sum(waits) / len(waits):.1f} s on average (longest {max(waits):.1f} s)" if waits else ""
    return f"read in the browser: {len(read)} pages{average}; dealers learned to need the browser: {', '.join(learned) or 'none'}"


def run_crawl(spider: str, env: dict[str, str], total: int, console: Console, extra: list[str] | None = None) -> int:
    """Run `scrapy crawl SPIDER` and show one progress bar fed by its per-target log lines."""
    command = [sys.executable, "-m", "scrapy", "crawl", spider, *(extra or [])]
    log_path = Path(env["STAKTRAKR_DB"]).with_name(f"{spider}.log")
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=False,
    ) as progress, log_path.open("w", encoding="utf-8") as log:  # fmt: skip
        task = progress.add_task(f"scrapy crawl {spider}", total=total)
        process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=log, text=True)
        assert process.stderr is not None
        for line in process.stderr:
            log.write(line)
            if "[staktrakr.targets]" in line:
                progress.advance(task)
        code = process.wait()
    if code not in (0,):
        console.print(f"[red]scrapy crawl {spider} exited {code}; log: {log_path}")
    return code


TERMINAL_WIDTH = 100  # the tables are laid out to fit this many columns, never cutting a price or name


def _price_cell(row: dict[str, Any] | None) -> tuple[str, int]:
    """(markup, printed width) of one coin at one dealer."""
    if row is None:
        return "", 0
    price = f"${row['price']:,.2f}" if row["price"] is not None else "—"
    label = {"ok": "", "out_of_stock": " oos", "wrong_product": " wrong", "no_price": " no price"}.get(row["status"], f" {row['status']}")
    return f"[{_STATUS_STYLE.get(row['status'], 'white')}]{price}{label}[/]", len(price + label)


def _column_groups(widths: dict[str, int], fixed: int, width: int) -> list[list[str]]:
    """Columns in order, in as few groups as fit `width` beside the `fixed` ones (a rich column
    takes its text, one space each side and one border)."""
    groups: list[list[str]] = [[]]
    used = fixed
    for name, w in widths.items():
        if groups[-1] and used + w + 3 > width:
            groups.append([])
            used = fixed
        groups[-1].append(name)
        used += w + 3
    # As many columns in each table as the others (the last one not a lone column), when they fit.
    names, size = list(widths), -(-len(widths) // len(groups))
    even = [names[i : i + size] for i in range(0, len(names), size)]
    if len(even) == len(groups) and all(fixed + sum(widths[n] + 3 for n in g) <= width for g in even):
        return even
    return groups


def result_tables(cells: dict[tuple[str, str], dict[str, Any]], coins: list[str], dealers: list[str], width: int = TERMINAL_WIDTH) -> list[Table]:
    """Prices found per coin and dealer; the dealers spread over as many tables as it takes
    for each to fit `width` with every price and name whole."""
    coin_width = max([len("coin"), *map(len, coins)])
    widths = {d: max([len(d), *(_price_cell(cells.get((c, d)))[1] for c in coins)]) for d in dealers}
    groups = _column_groups(widths, coin_width + 4, width)
    tables = []
    for i, group in enumerate(groups, 1):
        part = f" ({i} of {len(groups)})" if len(groups) > 1 else ""
        table = Table(title=f"retail prices found (1 unit, check/wire){part}", show_lines=False)
        table.add_column("coin", style="bold", no_wrap=True, min_width=coin_width)
        for dealer in group:
            table.add_column(dealer, justify="right", no_wrap=True, min_width=widths[dealer])
        for coin in coins:
            table.add_row(coin, *(_price_cell(cells.get((coin, dealer)))[0] for dealer in group))
        tables.append(table)
    return tables


def premium_table(api_dir: Path, coins: list[str]) -> Table:
    """What the published API now says per coin, premiums over spot included."""
    latest = json.loads((api_dir / "api/latest.json").read_text(encoding="utf-8"))["coins"]
    return premium_rows_table(latest, coins)


def premium_rows_table(latest: dict[str, Any], coins: list[str]) -> Table:
    table = Table(title="published: api/latest.json (check/wire, 1 unit)")
    for column in ("coin", "median", "lowest", "dealers", "melt value", "lowest premium"):
        table.add_column(column, justify="left" if column == "coin" else "right", no_wrap=True)
    for coin in coins:
        entry = latest.get(coin)
        if entry is None:
            table.add_row(coin, "—", "—", "0", "", "")
            continue
        melt = entry.get("melt_value")
        premium = entry.get("lowest_premium_pct")
        table.add_row(
            coin, f"${entry['median_price']:,.2f}", f"${entry['lowest_price']:,.2f}", str(entry["vendor_count"]),
            f"${melt:,.2f}" if melt is not None else "—", f"{premium:+.1f} %" if premium is not None else "—",
        )  # fmt: skip
    return table


def run_demo(workdir: Path, *, browser: bool = True, vision: bool = False, console: Console | None = None) -> int:
    console = console or Console()
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    if browser and not any(path.exists() for path in CHROMIUM):
        console.print("[yellow]no Chromium in /usr/bin: skipping the pages that need a browser")
        browser = False
    truth = [e for e in load_truth() if browser or not e.get("needs_browser")]
    with SampleSites() as sites, MetalPriceServer() as spot_api, GoldbackSite() as goldback, ExitStack() as extra:
        providers_file = workdir / "providers.json"
        providers_file.write_text(json.dumps(providers_for(sites, truth), indent=2), encoding="utf-8")
        console.print(f"sample dealer sites on {sites.base_url}: {len(truth)} product pages, {len({e['dealer'] for e in truth})} dealers")
        console.print(f"stand-in spot API on {spot_api.base_url}, Goldback rate page on {goldback.rate_url()}")
        env = crawl_env(workdir, providers_file)
        env.update(
            METALPRICE_API_URL=spot_api.base_url,
            METAL_PRICE_API_KEY=spot_api.config.api_key,
            GOLDBACK_URL=goldback.rate_url("table"),
        )
        if vision:
            gemini = extra.enter_context(GeminiStandIn())
            env.update(VISION_ENABLED="1", GEMINI_API_KEY=gemini.config.api_key, GEMINI_BASE_URL=gemini.base_url)
            console.print(f"vision cross-check on, with the stand-in Gemini server on {gemini.base_url}")
        # Spot first: retail prices are then judged against melt value, not static ranges.
        for feed in ("spot", "goldback"):
            done = subprocess.run([sys.executable, "-m", "scrapy", "crawl", feed], env=env, capture_output=True, text=True)
            (workdir / f"{feed}.log").write_text(done.stderr, encoding="utf-8")
            console.print(f"scrapy crawl {feed}: {'ok' if done.returncode == 0 else f'exit {done.returncode}, see {workdir / feed}.log'}")
        code = run_crawl("retail", env, len(truth), console)
    config = load_config(environ=env)
    with Database.open_local(config.STAKTRAKR_DB) as db:
        report = export_api(
            db,
            resolve_providers(config, db),
            config.STAKTRAKR_API_DIR,
            pm=get_plugin_manager(config),
            cache_path=export_cache_path(config),
        )
        console.print(
            f"exported the JSON API to {report.out_dir}: {len(report.written)} files "
            f"(try: staktrakr serve --dir {report.out_dir})"
        )
        coins = sorted({e["coin"] for e in truth})
        dealers = sorted({e["dealer"] for e in truth})
        stored = newest_per_target(db)
        for table in result_tables(stored, coins, dealers):
            console.print(table)
        console.print(premium_table(config.STAKTRAKR_API_DIR, coins))
        run = recent_runs(db, limit=1)
        if run:
            r = run[0]
            console.print(
                f"run {r['run_id']}: {r['status']} in {r['duration_s']:.1f} s — {r['total']} targets: "
                f"{r['ok_count']} ok, {r['out_of_stock_count']} out of stock, {r['wrong_product_count']} wrong product, "
                f"{r['blocked_count']} blocked, {r['no_price_count']} no price, {r['error_count']} error"
            )
        console.print(browser_summary(stored.values(), learned_render_modes(db)))
        if vision:
            summary = ", ".join(f"{source or 'no vision answer'}: {n}" for source, n in count_by_source(db).items())
            calls = run[0].get("vision_calls") if run else None
            console.print(f"vision: {calls} Gemini calls; rows by source: {summary}")
        correct = 0
        for entry in truth:
            row = stored.get((entry["coin"], entry["dealer"]))
            if row and row["status"] == entry["expected"]["status"] and row["price"] == entry["expected"]["price"]:
                correct += 1
        console.print(f"agreement with the sample sites' known answers: {correct}/{len(truth)}")
    console.print(f"database: {config.STAKTRAKR_DB}   (try: STAKTRAKR_DB={config.STAKTRAKR_DB} staktrakr db status)")
    return code
