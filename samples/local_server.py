"""The one way our stand-in servers run: a threaded HTTP server on 127.0.0.1 in a daemon thread,
usable as a context manager, that stops itself when the block ends."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up mid-answer (a cancelled oversized download, a closed browser page)
    is normal here, not a traceback on the console."""

    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class LocalHttpServer:
    name = "local-http"

    def __init__(self, handler: type[BaseHTTPRequestHandler], port: int = 0):
        self.server = _QuietServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name=self.name, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
