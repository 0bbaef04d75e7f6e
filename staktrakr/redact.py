"""Keep credentials out of logs, messages and exceptions.

Remote URLs may embed a token (`https://x-access-token:TOKEN@github.com/...`) and tools echo
them back: GitPython puts the whole command line into its errors, git and curl quote the URL in
theirs. Everything that leaves the process as text goes through these helpers first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

REDACTED = "***"

# scheme://userinfo@ — userinfo cannot contain '/', '?', '#', '@' or whitespace unescaped.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#@\s'\"]+)@")


def redact_url(url: str) -> str:
    """`https://user:token@host/x.git` -> `https://***@host/x.git`; URLs without userinfo unchanged."""
    return _USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", url)


def url_secrets(url: str) -> tuple[str, ...]:
    """The userinfo parts of a URL (raw and percent-decoded), to scrub from any text."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ()
    found: list[str] = []
    for value in (parts.username, parts.password):
        if value:
            found.extend({value, unquote(value)})
    return tuple(found)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Redact userinfo of every URL in `text`, then every literal secret value (longest first)."""
    text = redact_url(text)
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text
