"""Numbered schema migrations. Append only; never edit one that has shipped.

Every shared table has a TEXT primary key that embeds the poller id (see store/ids.py): two
pollers sync into one Turso database where equal keys overwrite each other.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

CORE = "core"


@dataclass(frozen=True)
class Migration:
    """One step of one component's schema. The core's are below; each plugin numbers its own
    from 1 (hook `staktrakr_migrations`) and may only add tables, indexes and columns of its own
    (CREATE ... IF NOT EXISTS; ADD COLUMN is skipped when a synced peer already added it)."""

    component: str
    version: int
    name: str
    statements: tuple[str, ...]


MIGRATIONS: list[tuple[int, str, tuple[str, ...]]] = [
    (
        1,
        "initial tables",
        (
            """CREATE TABLE IF NOT EXISTS price_snapshots (
                id TEXT PRIMARY KEY,
                run_id TEXT,
                poller_id TEXT NOT NULL,
                scraped_at TEXT NOT NULL,
                window_start TEXT NOT NULL,
                coin_slug TEXT NOT NULL,
                vendor TEXT NOT NULL,
                url TEXT,
                price REAL,
                in_stock INTEGER,
                status TEXT NOT NULL,
                method TEXT,
                reason TEXT,
                confidence REAL
            )""",
            "CREATE INDEX IF NOT EXISTS idx_snapshots_coin_vendor_time ON price_snapshots (coin_slug, vendor, scraped_at)",
            "CREATE INDEX IF NOT EXISTS idx_snapshots_time ON price_snapshots (scraped_at)",
            "CREATE INDEX IF NOT EXISTS idx_snapshots_run ON price_snapshots (run_id)",
            """CREATE TABLE IF NOT EXISTS poller_runs (
                run_id TEXT PRIMARY KEY,
                poller_id TEXT NOT NULL,
                job TEXT NOT NULL,
                started_at TEXT NOT NULL,
                finished_at TEXT,
                status TEXT NOT NULL,
                finish_reason TEXT,
                total INTEGER NOT NULL DEFAULT 0,
                captured INTEGER NOT NULL DEFAULT 0,
                failures INTEGER NOT NULL DEFAULT 0,
                ok_count INTEGER NOT NULL DEFAULT 0,
                out_of_stock_count INTEGER NOT NULL DEFAULT 0,
                wrong_product_count INTEGER NOT NULL DEFAULT 0,
                blocked_count INTEGER NOT NULL DEFAULT 0,
                no_price_count INTEGER NOT NULL DEFAULT 0,
                error_count INTEGER NOT NULL DEFAULT 0,
                duration_s REAL,
                error TEXT
            )""",
            "CREATE INDEX IF NOT EXISTS idx_runs_poller_started ON poller_runs (poller_id, started_at)",
            """CREATE TABLE IF NOT EXISTS provider_failures (
                id TEXT PRIMARY KEY,
                run_id TEXT,
                poller_id TEXT NOT NULL,
                coin_slug TEXT NOT NULL,
                vendor TEXT NOT NULL,
                url TEXT,
                status TEXT NOT NULL,
                reason TEXT,
                failed_at TEXT NOT NULL
            )""",
            "CREATE INDEX IF NOT EXISTS idx_failures_pair_time ON provider_failures (coin_slug, vendor, failed_at)",
            # spot_prices and goldback_rates (and their indexes) were created here; they are the
            # spot and Goldback plugins' own tables now, created by their migrations
            # (plugins/spot/store.py, plugins/goldback/store.py) with the same statements.
            """CREATE TABLE IF NOT EXISTS provider_coins (
                slug TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                metal TEXT NOT NULL,
                weight_oz REAL NOT NULL DEFAULT 1.0,
                fbp_url TEXT,
                notes TEXT,
                enabled INTEGER NOT NULL DEFAULT 1,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            """CREATE TABLE IF NOT EXISTS provider_vendors (
                id TEXT PRIMARY KEY,
                coin_slug TEXT NOT NULL,
                vendor_id TEXT NOT NULL,
                vendor_name TEXT,
                url TEXT,
                enabled INTEGER NOT NULL DEFAULT 1,
                selector TEXT,
                hints TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            "CREATE INDEX IF NOT EXISTS idx_vendors_coin ON provider_vendors (coin_slug)",
        ),
    ),
    (
        2,
        "diagnostics on snapshots, ordered URL lists for listings",
        (
            # Why a page took long or failed is the first question an operator asks.
            "ALTER TABLE price_snapshots ADD COLUMN http_status INTEGER",
            "ALTER TABLE price_snapshots ADD COLUMN elapsed_ms INTEGER",
            # The live system kept one `url` column and lost every fallback list (B-12).
            "ALTER TABLE provider_vendors ADD COLUMN urls TEXT",
            "CREATE INDEX IF NOT EXISTS idx_snapshots_poller_status ON price_snapshots (poller_id, status, scraped_at)",
        ),
    ),
]

MIGRATIONS.append(
    (
        3,
        "vision cross-check: both readings on the row, figures on the run",
        (
            # `price` is the decision and `source` says how it was made (firecrawl, or what a
            # cross-checking plugin decided); the export reads it, so it is the core's column.
            # The vision readings and figures this migration also added once (scraped_price,
            # vision_* on price_snapshots and poller_runs) are now the vision plugin's own
            # migration 1 (plugins/vision/store.py), which skips them on databases that have them.
            "ALTER TABLE price_snapshots ADD COLUMN source TEXT",
        ),
    )
)

MIGRATIONS.append(
    (
        4,
        "index for the latest spot reading of a metal",
        # The index (idx_spot_metal_time) is the spot plugin's now: its migration 1 creates it
        # (plugins/spot/store.py). The version stays so that the numbering of later ones holds.
        (),
    )
)

MIGRATIONS.append(
    (
        5,
        "which dealers need the browser, as learned by each poller",
        (
            # One row per dealer and poller (the key embeds the poller: two pollers sync into
            # one database); readers take the newest row of any poller.
            """CREATE TABLE IF NOT EXISTS dealer_render_modes (
                id TEXT PRIMARY KEY,
                vendor TEXT NOT NULL,
                poller_id TEXT NOT NULL,
                mode TEXT NOT NULL,
                learned_at TEXT NOT NULL,
                reason TEXT
            )""",
            "CREATE INDEX IF NOT EXISTS idx_render_modes_vendor ON dealer_render_modes (vendor, learned_at)",
        ),
    )
)

MIGRATIONS.append(
    (
        6,
        "the dealer shard of each run",
        (
            # `1/3` when the poller group runs as shards (staktrakr/shards.py), NULL otherwise: the
            # shards of a group share its POLLER_ID, and an operator must see which one went silent.
            "ALTER TABLE poller_runs ADD COLUMN shard TEXT",
        ),
    )
)

LATEST_VERSION = MIGRATIONS[-1][0]
CORE_MIGRATIONS: tuple[Migration, ...] = tuple(Migration(CORE, v, name, statements) for v, name, statements in MIGRATIONS)

# Where plugin migrations come from: set by the plugin manager when it is built, so that the
# store layer never imports the layer above it.
_plugin_source: Callable[[], list[Migration]] = list


def set_plugin_migrations(source: Callable[[], list[Migration]]) -> None:
    global _plugin_source
    _plugin_source = source


def plugin_migrations() -> list[Migration]:
    return list(_plugin_source())


def core_columns(table: str) -> frozenset[str]:
    """The columns the core's migrations give `table` (a plugin's migration may add more)."""
    found: set[str] = set()
    create = re.compile(rf"CREATE TABLE IF NOT EXISTS {table} \((.*)\)", re.DOTALL)
    add = re.compile(rf"ALTER TABLE {table} ADD COLUMN (\w+)")
    for migration in CORE_MIGRATIONS:
        for statement in migration.statements:
            if match := create.match(statement.strip()):
                found.update(line.split()[0] for line in match.group(1).split(",") if line.split())
            elif match := add.match(statement.strip()):
                found.add(match.group(1))
    return frozenset(found)
