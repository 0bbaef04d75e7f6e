"""Bot walls, captchas and access-denied pages: "blocked", never "out of stock".

The patterns are lower case and searched in lower-cased text (10x faster than IGNORECASE on a
2 MB page)."""

from __future__ import annotations

import re

from .page import Page

_WALL_TITLE = re.compile(
    r"just a moment|attention required|access denied|access to this page has been denied|security check|"
    r"are you a (robot|human)|pardon our interruption|request unsuccessful|verify(ing)? you are (a )?human|"
    r"captcha|bot (verification|protection|detection)|ddos protection|forbidden|checking your browser|"
    r"please wait while we verify|one more step",
)
_WALL_MARKUP = re.compile(
    r"cf-browser-verification|cf_chl_|/cdn-cgi/challenge-platform|challenge-form|g-recaptcha|h-captcha|hcaptcha|"
    r"px-captcha|_incapsula_resource|datadome|perimeterx|distil_r_captcha|cf-turnstile|captcha-delivery",
)
_WALL_TEXT = re.compile(
    r"checking (if the site connection is secure|your browser)|verify you are (a )?human|"
    r"enable javascript and cookies to continue|access to this page has been denied|"
    r"you (don't|do not) have permission to access|request (was )?blocked|unusual traffic|"
    r"press (&|and) hold|complete the security check|automated (access|requests)|ray id",
)

BLOCKING_HTTP_STATUSES = {401, 403, 407, 429, 503}


def blocked_reason(page: Page) -> str | None:
    """Why the page is a bot wall, or None when it looks like a real page."""
    if page.http_status in (403, 429, 401, 407):
        return f"HTTP {page.http_status}"
    if page.tree is None:
        return None
    text = page.visible_text_lower
    short = len(page.visible_text) < 2500
    if _WALL_TITLE.search(page.title.lower()) and (short or _WALL_TEXT.search(text)):
        return f"bot wall (title: {page.title[:60]!r})"
    text_hit = _WALL_TEXT.search(text)
    if text_hit and short:
        return f"bot wall ({text_hit.group(0).lower()!r})"
    markup_hit = _WALL_MARKUP.search(page.html_lower)
    if markup_hit and len(text) < 800:
        return f"bot wall ({markup_hit.group(0).lower()!r} challenge)"
    if page.http_status == 503 and short and markup_hit:
        return "HTTP 503 challenge"
    return None
