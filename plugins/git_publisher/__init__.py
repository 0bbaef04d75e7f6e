"""Git publisher plugin: commit the exported data root as `data/` of a working clone and push it.

It plugs in through two hooks: `staktrakr_config_fields` (its variables API_GIT_*, in
settings.py) and `staktrakr_publish` (called by `staktrakr publish` after the export).

    settings.py   the API_GIT_* variables
    publisher.py  one publish: mirror, commit, push (a failed push goes out with the next one)
    clone.py      the working clone and the git commands run in it
    remote.py     the remote, and its credentials kept out of .git/config, argv and logs
    mirror.py     make data/ hold exactly the API files of the export
    results.py    PublishResult, PublishError
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from staktrakr.config import load_section
from staktrakr.hookspecs import hookimpl

from .mirror import mirror_tree
from .publisher import publish
from .results import PublishError, PublishResult
from .settings import GitPublisherSettings

__all__ = ["GitPublisherSettings", "PublishError", "PublishResult", "mirror_tree", "publish"]

logger = logging.getLogger(__name__)


@hookimpl
def staktrakr_config_fields() -> type[GitPublisherSettings]:
    return GitPublisherSettings


@hookimpl
def staktrakr_publish(data_dir: str, manifest: dict[str, Any], config: Any) -> str | None:
    settings = load_section(GitPublisherSettings)
    if settings.API_GIT_REMOTE is None:
        logger.info("git publishing off (API_GIT_REMOTE is not set)")
        return None
    retail = manifest.get("generated_at") if isinstance(manifest, dict) else None
    return publish(Path(data_dir), settings, retail).message
