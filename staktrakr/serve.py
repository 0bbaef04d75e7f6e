"""`staktrakr serve`: serve a data root (api/, hourly/, 15min/, ...) over HTTP.

The successor of the live `serve.js` redundancy server (LIVE-SYSTEM §7): same CORS and cache
headers, plus HEAD, ETag/Last-Modified with 304 answers, byte ranges (206/416) and a `/health`
endpoint. Every request path is decoded exactly once and checked segment by segment before it
touches the filesystem, so no spelling of `..`, backslash, NUL or symlink leads outside the root.
A request the HTTP parser rejects (a 10,000-byte path, a raw NUL, garbage) gets a 400 and one
log line, never a traceback: anyone can send those, and the log must not be theirs to flood.

Other features add routes with `make_app(root, extra_routes=[web.get("/metrics", handler)])`,
or with `app.router.add_get(...)` on the returned app: the file route is a catch-all that the
router only tries after every more specific path.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import click
from aiohttp import hdrs, web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler
from aiohttp.web_request import BaseRequest

from .api import layout

log = logging.getLogger(__name__)

ROOT_KEY = web.AppKey("staktrakr_serve_root", Path)
"""The served data root (absolute, not resolved) — for handlers added by other features."""

ALLOWED_METHODS = ("GET", "HEAD", "OPTIONS")
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": ", ".join(ALLOWED_METHODS),
    "Access-Control-Allow-Headers": "Content-Type",
}
CACHE_CONTROL = "public, max-age=300"  # what the live server and GitHub Pages send
CONTENT_TYPES = {
    ".json": "application/json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"
# SQLite databases (and their journals) may sit next to the export; they are never public.
PRIVATE_SUFFIXES = (".db", ".db-wal", ".db-shm", ".db-journal", ".sqlite", ".sqlite3")

_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


# -- the application ----------------------------------------------------------------------------


def make_app(root: Path, extra_routes: Iterable[web.AbstractRouteDef] = ()) -> web.Application:
    """Build the application serving `root`; `extra_routes` (e.g. `web.get("/metrics", h)`) win
    over files of the same path. Handlers find the root in `request.app[ROOT_KEY]`."""
    app = web.Application(middlewares=[_method_guard])
    # Kept unresolved on purpose: a deploy may swap a `current -> release-N` symlink, and each
    # request must follow the link as it is now.
    app[ROOT_KEY] = Path(root).absolute()
    app.on_response_prepare.append(_add_cors_headers)
    app.router.add_get("/health", _health)
    app.add_routes(extra_routes)
    # Registered last and indexed under "/": the router tries it after every specific path.
    app.router.add_get("/{path:.*}", _serve_file)
    return app


@web.middleware
async def _method_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """OPTIONS (CORS preflight) is always 200; the server is read-only, so anything but GET/HEAD is 405."""
    if request.method == "OPTIONS":
        return web.Response(status=200)
    if request.method not in ("GET", "HEAD"):
        return web.Response(status=405, text="405: Method Not Allowed", headers={"Allow": ", ".join(ALLOWED_METHODS)})
    return await handler(request)


async def _add_cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    # A signal rather than a middleware so error responses (404, 400, 405) carry them too:
    # browsers hide the status of a cross-origin response without them.
    response.headers.update(CORS_HEADERS)


async def _health(request: web.Request) -> web.Response:
    generated_at = await asyncio.to_thread(_manifest_generated_at, request.app[ROOT_KEY])
    # no-store: a cached "ok" would hide an outage from the monitor asking.
    return web.json_response({"status": "ok", "generated_at": generated_at}, headers={"Cache-Control": "no-store"})


def _manifest_generated_at(root: Path) -> str | None:
    """`generated_at` of the manifest, read fresh on every call; None when absent or unreadable."""
    try:
        manifest = json.loads((root / layout.MANIFEST).read_bytes())
    except (OSError, ValueError):
        return None
    value = manifest.get("generated_at") if isinstance(manifest, dict) else None
    return value if isinstance(value, str) else None


# -- files --------------------------------------------------------------------------------------


async def _serve_file(request: web.Request) -> web.StreamResponse:
    root = request.app[ROOT_KEY]
    # raw_path, not match_info: aiohttp has already decoded the latter, and a second decode
    # (or none) is exactly how `%252e%252e` and `%2e%2e` traversals get through.
    relative = request_segments(request.rel_url.raw_path)
    path = await asyncio.to_thread(resolve_inside, root, relative)
    info = await asyncio.to_thread(_regular_file_stat, path)
    headers = {
        "Cache-Control": CACHE_CONTROL,
        "Content-Type": CONTENT_TYPES.get(path.suffix.lower(), DEFAULT_CONTENT_TYPE),
    }
    # aiohttp's FileResponse answers from one open file (its ETag and length come from fstat of
    # that file, so they agree with the body even when the exporter renames a new version into
    # place meanwhile) and does the conditional requests, Range (206/416) and sendfile.
    if _range_must_be_ignored(request, info):
        return _WholeFile(path, headers=headers)
    return web.FileResponse(path, headers=headers)


def _regular_file_stat(path: Path) -> os.stat_result:
    """Directories, FIFOs, sockets and devices are 404 (FileResponse would say 403, and opening
    a FIFO someone left in the root would hang)."""
    try:
        info = os.stat(path)
    except OSError:
        raise web.HTTPNotFound() from None
    if not stat.S_ISREG(info.st_mode):
        raise web.HTTPNotFound()
    return info


def _etag_value(info: os.stat_result) -> str:
    return f"{info.st_mtime_ns:x}-{info.st_size:x}"  # what web.FileResponse sends


def _range_must_be_ignored(request: BaseRequest, info: os.stat_result) -> bool:
    """RFC 9110 §13.1.5 and §14.2: a Range is ignored (whole file, 200) when its If-Range entity
    tag is not the file's current one (aiohttp only evaluates If-Range dates, and would mix bytes
    of two versions), and when it is not a single `bytes=` range (aiohttp would answer 416)."""
    value = request.headers.get(hdrs.RANGE)
    if value is None:
        return False
    unit, _, ranges = value.partition("=")
    if unit.strip().lower() != "bytes" or "," in ranges:
        return True
    if_range = request.headers.get(hdrs.IF_RANGE, "").strip()
    if if_range.startswith(('"', "W/")):
        return if_range != f'"{_etag_value(info)}"'  # strong comparison; a weak tag never matches
    return False


class _WholeFile(web.FileResponse):
    """A FileResponse that answers as if the request had no Range header."""

    async def prepare(self, request: BaseRequest) -> Any:
        headers = request.headers.copy()
        headers.popall(hdrs.RANGE, None)
        return await super().prepare(request.clone(headers=headers))


def request_segments(raw_path: str) -> list[str]:
    """Decode a raw URL path once into safe path segments.

    Raises HTTPBadRequest for malformed escapes, invalid UTF-8, NUL, backslashes or `.`/`..`
    segments, and HTTPNotFound for dotfiles and databases. Empty segments (`//`) are dropped,
    so an "absolute" path still lands under the root.
    """
    if _BAD_ESCAPE.search(raw_path):
        raise web.HTTPBadRequest(text="400: malformed percent escape")
    try:
        decoded = unquote_to_bytes(raw_path).decode("utf-8")
    except UnicodeDecodeError:
        raise web.HTTPBadRequest(text="400: path is not UTF-8") from None
    if "\x00" in decoded or "\\" in decoded:
        raise web.HTTPBadRequest(text="400: bad character in path")
    segments = [part for part in decoded.split("/") if part]
    if any(part in (".", "..") for part in segments):
        raise web.HTTPBadRequest(text="400: relative path segment")
    if any(_is_private(part) for part in segments):
        raise web.HTTPNotFound()
    return segments


def _is_private(name: str) -> bool:
    return name.startswith(".") or name.lower().endswith(PRIVATE_SUFFIXES)


def resolve_inside(root: Path, segments: list[str]) -> Path:
    """The real path of a regular file under `root`, or HTTPNotFound.

    Symlinks are followed, then the target must still be under the root and must not be a
    dotfile or database either (a link `x.json -> ../staktrakr.db` would otherwise leak it).
    """
    try:
        real_root = root.resolve(strict=True)
        target = real_root.joinpath(*segments).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):  # missing, symlink loop, name too long, ...
        raise web.HTTPNotFound() from None
    if not target.is_relative_to(real_root):
        raise web.HTTPNotFound()
    if any(_is_private(part) for part in target.relative_to(real_root).parts):
        raise web.HTTPNotFound()
    return target


# -- logging ------------------------------------------------------------------------------------


class RequestLogger(AbstractAccessLogger):
    """One INFO line per request: method, path (without query string, which may carry tokens), status."""

    def log(self, request: BaseRequest, response: web.StreamResponse, time: float) -> None:
        if _is_parser_error_placeholder(request, response):
            return  # the request could not be parsed: ServerErrorLog already wrote its one line
        self.logger.info("%s %s %s %.1fms", request.method, request.rel_url.raw_path, response.status, time * 1000)


def _is_parser_error_placeholder(request: BaseRequest, response: web.StreamResponse) -> bool:
    # aiohttp answers an unparsable request through a stand-in request whose method is UNKNOWN;
    # a real request with that method never gets a 400 here (_method_guard answers it 405).
    return request.method == "UNKNOWN" and response.status == 400


class ServerErrorLog(logging.LoggerAdapter):
    """The `logger` of aiohttp's request handler, which logs every request its HTTP parser
    rejects with a full traceback (at ERROR, or DEBUG for a bad method). Those become one INFO
    line on our logger, with the peer and a short, escaped reason; every other error (a bug in
    a handler) keeps its traceback."""

    def __init__(self, lines: logging.Logger, errors: logging.Logger | None = None):
        super().__init__(errors or logging.getLogger("aiohttp.server"), {})
        self.lines = lines

    def log(self, level: int, msg: Any, *args: Any, exc_info: Any = None, **kwargs: Any) -> None:
        if isinstance(exc_info, HttpProcessingError):
            peer = args[0] if args else "?"
            self.lines.info("bad request from %s: %s %s", peer, exc_info.code, _one_line(exc_info))
            return
        super().log(level, msg, *args, exc_info=exc_info, **kwargs)


def _one_line(exc: HttpProcessingError) -> str:
    """`LineTooLong: Got more than 8190 bytes when reading: b'/aaaa…'` — the first line of the
    parser's message, control characters escaped, at most 120 characters."""
    lines = [line.strip() for line in str(exc.message or "").splitlines() if line.strip()]
    text = lines[0] if lines else ""
    text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    if len(text) > 120:
        text = text[:119] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# -- running ------------------------------------------------------------------------------------


async def _start(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(
        app, access_log_class=RequestLogger, access_log=log, logger=ServerErrorLog(log), handle_signals=False
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


def _base_url(runner: web.AppRunner) -> str:
    host, port = runner.addresses[0][:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def run_server(app: web.Application, host: str, port: int, on_ready: Callable[[str], None] = lambda url: None) -> None:
    """Serve until SIGINT (KeyboardInterrupt) or SIGTERM; `on_ready` gets the base URL once bound."""

    async def serve() -> None:
        runner = await _start(app, host, port)
        stop = asyncio.Event()
        # SIGTERM is how Fly, systemd and docker stop a process: shut down cleanly as for Ctrl-C.
        with suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        try:
            on_ready(_base_url(runner))
            await stop.wait()
        finally:
            await runner.cleanup()

    asyncio.run(serve())


@contextmanager
def serve_in_thread(app: web.Application, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run `app` in a background thread (tests, demo); yields the base URL, stops on exit."""
    loop = asyncio.new_event_loop()
    try:
        runner = loop.run_until_complete(_start(app, host, port))
    except BaseException:
        loop.close()
        raise
    thread = threading.Thread(target=loop.run_forever, name="staktrakr-serve", daemon=True)
    thread.start()
    try:
        yield _base_url(runner)
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


# -- command ------------------------------------------------------------------------------------


@click.command("serve")
@click.option("--dir", "root", type=click.Path(path_type=Path), help="Data root to serve (holds api/, hourly/, 15min/); default STAKTRAKR_API_DIR.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="TCP port (0 picks a free one).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for every interface).")
def serve_command(root: Path | None, port: int, host: str) -> None:
    """Serve the published API directory over HTTP until Ctrl-C."""
    if root is None:
        from .config import load_config

        root = load_config().STAKTRAKR_API_DIR
    if not root.is_dir():
        raise click.BadParameter(f"{root} is not a directory (pass --dir or set STAKTRAKR_API_DIR)", param_hint="--dir")
    # The group configures logging at WARNING unless -v; the request lines are this command's output.
    if log.getEffectiveLevel() > logging.INFO:
        log.setLevel(logging.INFO)
    from .metrics import metrics_routes  # /metrics: Prometheus figures of STAKTRAKR_DB, read per request

    from .status.page import status_routes  # /status: the operator page of the served folder

    app = make_app(root, extra_routes=[*metrics_routes(), *status_routes()])
    try:
        run_server(app, host, port, on_ready=lambda url: click.echo(f"serving {root} on {url}/ (Ctrl-C to stop)"))
    except KeyboardInterrupt:
        pass
    except OSError as exc:  # address in use, permission denied, unknown host
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    click.echo("stopped")
