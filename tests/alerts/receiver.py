"""A stand-in alert destination on 127.0.0.1: keeps every JSON body Apprise's json:// posts."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

from staktrakr_samples.local_server import LocalHttpServer


class Receiver(LocalHttpServer):
    name = "alert-receiver"

    def __init__(self, fail: bool = False) -> None:
        self.posts: list[dict[str, Any]] = []
        self.fail = fail  # answer 500 (a destination that is down)
        lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                pass

            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not owner.fail:
                    with lock:
                        owner.posts.append(json.loads(body))
                self.send_response(500 if owner.fail else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        super().__init__(Handler)

    @property
    def alert_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"json://{host}:{port}/hook"

    def titles(self) -> list[str]:
        return [p["title"] for p in self.posts]
