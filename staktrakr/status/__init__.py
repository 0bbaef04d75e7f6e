"""How each dealer, feed and poller is doing: `api/status.json` (model, the reads behind it,
building it) and the operator page `/status` of `staktrakr serve`."""

from .build import FEED_THRESHOLDS, build_status, configured_targets
from .model import DealerStatus, FeedStatus, PollerStatus, Shares, StatusFile

__all__ = ["FEED_THRESHOLDS", "DealerStatus", "FeedStatus", "PollerStatus", "Shares", "StatusFile", "build_status", "configured_targets"]
