"""Operations: the image, the crontabs, locking, run reports, metrics and logs."""

from __future__ import annotations

from pathlib import Path

from ..conftest import ENV_VARIABLES


def isolated_env(tmp: Path, poller: str, **extra: str) -> dict[str, str]:
    """A full environment for a subprocess: every staktrakr variable cleared, then this test's.

    For fixtures wider than one test, which run before the per-test `clean_env` applies."""
    env = {name: "" for name in ENV_VARIABLES}
    env.update(
        STAKTRAKR_DB=str(tmp / "staktrakr.db"),
        STAKTRAKR_API_DIR=str(tmp / "api"),
        POLLER_ID=poller,
        LOG_FORMAT="",
        SCRAPY_SETTINGS_MODULE="staktrakr.settings",
    )
    env.update(extra)
    return env
