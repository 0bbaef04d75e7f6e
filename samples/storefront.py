"""Sample pages turned into client-rendered storefronts, for the benchmarks and the scale tests."""

from __future__ import annotations

import json
import re


def script_rendered(html: str, delay_ms: int) -> str:
    """The page as a client-rendered storefront: its body is built by a script `delay_ms` after
    `load` (an empty app root with a skeleton until then)."""
    body = re.search(r"(<body[^>]*>)(.*)(</body>)", html, re.DOTALL)
    assert body is not None
    content = re.sub(r"<script\b.*?</script>", "", body.group(2), flags=re.DOTALL)
    script = (
        "<script>window.addEventListener('load', function () { setTimeout(function () {"
        f"document.getElementById('app').innerHTML = {json.dumps(content)};"
        f"}}, {delay_ms}); }});</script>"
    )
    app = '<div id="app"><div class="skeleton">Loading&hellip;</div></div>'
    return html[: body.start()] + body.group(1) + app + script + body.group(3) + html[body.end() :]
