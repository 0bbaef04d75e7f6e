"""Providers kept in the database (`provider_coins`, `provider_vendors`), editable without a redeploy."""

from __future__ import annotations

import json
from typing import Any

from ..timeutil import iso_s, utcnow
from .db import Database


def save_providers(db: Database, rich: dict[str, Any]) -> tuple[int, int]:
    """Upsert a validated rich-form provider set; returns (coins, listings) written."""
    now = iso_s(utcnow())
    coins = listings = 0
    with db.transaction():
        for slug, coin in rich["coins"].items():
            db.execute(
                """INSERT INTO provider_coins (slug, name, metal, weight_oz, fbp_url, notes, enabled, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(slug) DO UPDATE SET name = excluded.name, metal = excluded.metal,
                       weight_oz = excluded.weight_oz, fbp_url = excluded.fbp_url, notes = excluded.notes,
                       enabled = excluded.enabled, updated_at = excluded.updated_at""",
                (
                    slug, coin["name"], coin["metal"], coin["weight_oz"], coin.get("fbp_url"), coin.get("notes"),
                    int(coin.get("enabled", True)), now, now,
                ),  # fmt: skip
            )
            coins += 1
            for provider in coin["providers"]:
                urls = provider.get("urls") or ([provider["url"]] if provider.get("url") else [])
                db.execute(
                    """INSERT INTO provider_vendors
                           (id, coin_slug, vendor_id, vendor_name, url, urls, enabled, created_at, updated_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT(id) DO UPDATE SET vendor_name = excluded.vendor_name, url = excluded.url,
                           urls = excluded.urls, enabled = excluded.enabled, updated_at = excluded.updated_at""",
                    (
                        f"{slug}:{provider['id']}", slug, provider["id"], provider.get("name"),
                        urls[0] if urls else None, json.dumps(urls), int(provider.get("enabled", True)), now, now,
                    ),
                )  # fmt: skip
                listings += 1
    return coins, listings


def load_providers_rich(db: Database) -> dict[str, Any] | None:
    """The stored provider set in rich form, or None when the tables are empty."""
    coin_rows = db.query("SELECT * FROM provider_coins ORDER BY slug")
    if not coin_rows:
        return None
    vendor_rows = db.query("SELECT * FROM provider_vendors ORDER BY coin_slug, vendor_id")
    by_coin: dict[str, list[dict[str, Any]]] = {}
    for row in vendor_rows:
        urls = json.loads(row["urls"]) if row.get("urls") else ([row["url"]] if row["url"] else [])
        entry: dict[str, Any] = {"id": row["vendor_id"], "enabled": bool(row["enabled"])}
        if row["vendor_name"]:
            entry["name"] = row["vendor_name"]
        if len(urls) == 1:
            entry["url"] = urls[0]
        elif urls:
            entry["urls"] = urls
        by_coin.setdefault(row["coin_slug"], []).append(entry)
    coins: dict[str, Any] = {}
    for row in coin_rows:
        entry = {"name": row["name"], "metal": row["metal"], "weight_oz": row["weight_oz"], "enabled": bool(row["enabled"])}
        for optional in ("fbp_url", "notes"):
            if row.get(optional):
                entry[optional] = row[optional]
        entry["providers"] = by_coin.get(row["slug"], [])
        coins[row["slug"]] = entry
    return {"coins": coins}
