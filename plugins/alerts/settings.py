"""The alert plugin's environment variables (its section of the configuration)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class AlertSettings(BaseModel):
    """Where `staktrakr alert` sends incidents, and when a condition counts as one."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    ALERT_URLS: SecretStr | None = Field(
        None, description="Apprise destinations, separated by spaces or commas (mailtos://, ntfys://, discord://, json://...); they embed tokens."
    )
    ALERT_DEALER_MIN_SUCCESS: float = Field(0.5, ge=0, le=1, description="A dealer broke when its share of captured attempts in 24 h falls under this (at least 4 attempts).")
    ALERT_DEALER_FAILURES_IN_A_ROW: int = Field(3, ge=1, description="...or when its newest attempts failed this many times in a row.")
    ALERT_POLLER_SILENT_MINUTES: float = Field(150.0, gt=0, description="A poller's job is silent when its newest run started longer ago than this.")
    ALERT_PRICE_MOVE: float = Field(0.2, gt=0, description="A dealer's price moved when its newest price is this share away from its 7-day median.")

    def urls(self) -> list[str]:
        if self.ALERT_URLS is None:
            return []
        return [u for u in self.ALERT_URLS.get_secret_value().replace(",", " ").split() if u]
