"""The shape of `api/status.json`: how each dealer, feed and poller is doing.

Public: it names dealers, feeds and pollers, never a secret, a proxy address or a URL.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Shares(BaseModel):
    """Shares (0..1) of a dealer's outcomes in a period; `attempts` is their count."""

    model_config = ConfigDict(extra="forbid")

    attempts: int
    ok: float
    out_of_stock: float
    blocked: float
    failed: float = Field(description="wrong product, no price or error")


class DealerStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dealer: str
    targets: int = Field(description="coins this dealer is polled for")
    last_24h: Shares
    last_7d: Shares
    last_success: str | None = Field(None, description="newest in-stock price read (ISO-8601 UTC)")
    failure: str | None = Field(None, description="status of the newest attempt when it failed, else null")
    failing_since: str | None = Field(None, description="first failed attempt after the last captured one")
    needs_browser: bool | None = Field(None, description="as the crawl learned it; null when not known")
    median_response_ms: int | None = Field(None, description="median download time of the last 24 h")
    success_by_day: dict[str, float | None] = Field(default_factory=dict, description="share ok per UTC day, 7 days")


class FeedStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feed: str = Field(description="retail, spot, goldback (the crawl job)")
    last_good: str | None = Field(None, description="end of the newest run that captured something")
    threshold_seconds: float
    fresh: bool = Field(description="last_good no older than threshold_seconds at generated_at")


class PollerStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")

    poller: str
    job: str
    shard: str | None = None
    started_at: str
    finished_at: str | None = None
    status: str = Field(description="running, ok, partial or error")
    total: int = 0
    captured: int = 0


class StatusFile(BaseModel):
    """`api/status.json`."""

    model_config = ConfigDict(extra="forbid")

    generated_at: str
    dealers: list[DealerStatus]
    feeds: list[FeedStatus]
    pollers: list[PollerStatus]
    recent_runs: list[PollerStatus] = Field(default_factory=list, description="the newest runs, newest first")
