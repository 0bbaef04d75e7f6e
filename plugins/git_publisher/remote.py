"""The remote of the API branch, and how git gets its credentials without storing them.

Credentials embedded in API_GIT_REMOTE never reach the clone's `.git/config`, the command line,
logs, results or exceptions: git gets them through an `http.extraHeader` in its environment
(the way actions/checkout hands a token to git), and all text that leaves goes through `scrub`.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

from staktrakr.redact import redact_text, redact_url, url_secrets

from .results import PublishError


@dataclass(frozen=True)
class Remote:
    url: str  # what .git/config stores and git is told: no userinfo for http(s)
    shown: str  # for logs
    secrets: tuple[str, ...] = ()
    auth_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: str) -> Remote:
        secrets = url_secrets(raw)
        try:
            parts = urlsplit(raw)
            port = parts.port
        except ValueError:
            raise PublishError(f"API_GIT_REMOTE is not a valid git remote: {redact_text(raw, secrets)}") from None
        if parts.scheme not in ("http", "https") or not (parts.username or parts.password):
            return cls(url=raw, shown=redact_url(raw), secrets=secrets)
        host = parts.hostname or ""
        netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
        url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
        basic = base64.b64encode(f"{unquote(parts.username or '')}:{unquote(parts.password or '')}".encode()).decode()
        # Scoped to this scheme://host:port so a redirect elsewhere never receives the token.
        env = git_config_env({f"http.{parts.scheme}://{netloc}/.extraHeader": f"Authorization: Basic {basic}"})
        return cls(url=url, shown=url, secrets=secrets + (basic,), auth_env=env)

    def scrub(self, text: str) -> str:
        return redact_text(text, self.secrets)


def git_config_env(pairs: dict[str, str]) -> dict[str, str]:
    """Config for one git process via GIT_CONFIG_COUNT (git >= 2.31): not on disk, not in argv."""
    base = int(os.environ.get("GIT_CONFIG_COUNT") or 0)
    env = {"GIT_CONFIG_COUNT": str(base + len(pairs))}
    for i, (key, value) in enumerate(pairs.items(), start=base):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    return env
