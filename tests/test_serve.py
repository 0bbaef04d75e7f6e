"""`staktrakr serve`: the real aiohttp server on 127.0.0.1, asked by real HTTP clients."""

from __future__ import annotations

import http.client
import json
import logging
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from click.testing import CliRunner

from staktrakr.serve import make_app, serve_command, serve_in_thread

from .conftest import FIXTURES, ROOT

LIVE_API = FIXTURES / "live-api"
SECRET = "TOP SECRET - must never be served"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of the published files, plus every kind of thing that must stay private."""
    data = tmp_path / "data"
    shutil.copytree(LIVE_API, data)
    (tmp_path / "secret.txt").write_text(SECRET)  # the root's sibling: where `..` would land
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    (data / "staktrakr.db").write_bytes(b"SQLite format 3\x00" + SECRET.encode())
    (data / ".env").write_text(f"TOKEN={SECRET}")
    (data / "api" / ".hidden.json").write_text(SECRET)
    (data / "escape").symlink_to(outside, target_is_directory=True)
    (data / "api" / "leak.json").symlink_to(tmp_path / "secret.txt")
    (data / "api" / "db-alias.json").symlink_to(data / "staktrakr.db")
    (data / "api" / "alias.json").symlink_to("manifest.json")  # inside the root: allowed
    return data


@pytest.fixture
def base(root: Path) -> Iterator[str]:
    with serve_in_thread(make_app(root)) as url:
        yield url


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def fetch(base: str, path: str, method: str = "GET", headers: dict[str, str] | None = None) -> Reply:
    """http.client sends `path` byte for byte; urllib would normalise `..` and escapes away."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        conn.close()


def raw_request(base: str, request_line: bytes) -> bytes:
    """Send a request line http.client refuses to build (NUL, raw non-ASCII) and return the reply."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request_line + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def assert_cors(headers: http.client.HTTPMessage) -> None:
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert headers["Access-Control-Allow-Headers"] == "Content-Type"


# -- files ----------------------------------------------------------------------------------------


def test_get_serves_the_file_with_cors_cache_and_validators(base: str, root: Path) -> None:
    manifest = root / "api" / "manifest.json"
    with urllib.request.urlopen(f"{base}/api/manifest.json", timeout=10) as response:
        body = response.read()
        headers = response.headers
        assert response.status == 200
    assert body == manifest.read_bytes()
    assert_cors(headers)
    assert headers["Cache-Control"] == "public, max-age=300"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert int(headers["Content-Length"]) == manifest.stat().st_size
    assert headers["ETag"].startswith('"') and headers["ETag"].endswith('"')  # strong, not W/
    # Whole seconds, rounded up (aiohttp's FileResponse), so this date sent back as
    # If-Modified-Since gives a 304.
    assert 0 <= parsedate_to_datetime(headers["Last-Modified"]).timestamp() - manifest.stat().st_mtime < 1
    assert headers["Accept-Ranges"] == "bytes"


def test_nested_data_files_are_served(base: str, root: Path) -> None:
    reply = fetch(base, "/hourly/2026/03/15/20.json")
    assert reply.status == 200 and reply.body == (root / "hourly/2026/03/15/20.json").read_bytes()


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("notes.txt", "text/plain; charset=utf-8"),
        ("feed.csv", "application/octet-stream"),
        ("DATA.JSON", "application/json; charset=utf-8"),
    ],
)
def test_content_type_by_extension(base: str, root: Path, name: str, content_type: str) -> None:
    (root / name).write_text("hello")
    reply = fetch(base, f"/{name}")
    assert reply.status == 200 and reply.headers["Content-Type"] == content_type and reply.body == b"hello"


def test_head_has_the_get_headers_and_no_body(base: str, root: Path) -> None:
    get = fetch(base, "/api/goldback-spot.json")
    head = fetch(base, "/api/goldback-spot.json", method="HEAD")
    assert head.status == 200 and head.body == b""
    for name in ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Cache-Control"):
        assert head.headers[name] == get.headers[name], name
    assert int(head.headers["Content-Length"]) == (root / "api/goldback-spot.json").stat().st_size
    assert_cors(head.headers)


def test_if_none_match_gives_304_without_body(base: str) -> None:
    etag = fetch(base, "/api/manifest.json").headers["ETag"]
    for header in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        reply = fetch(base, "/api/manifest.json", headers={"If-None-Match": header})
        assert reply.status == 304 and reply.body == b"", header
        assert reply.headers["ETag"] == etag and reply.headers["Cache-Control"] == "public, max-age=300"
        assert_cors(reply.headers)
    assert fetch(base, "/api/manifest.json", headers={"If-None-Match": '"other"'}).status == 200
    assert fetch(base, "/api/manifest.json", method="HEAD", headers={"If-None-Match": etag}).status == 304


def test_if_modified_since_gives_304_until_the_file_changes(base: str, root: Path) -> None:
    last_modified = fetch(base, "/api/manifest.json").headers["Last-Modified"]
    assert fetch(base, "/api/manifest.json", headers={"If-Modified-Since": last_modified}).status == 304
    an_hour_before = formatdate(parsedate_to_datetime(last_modified).timestamp() - 3600, usegmt=True)
    older = fetch(base, "/api/manifest.json", headers={"If-Modified-Since": an_hour_before})
    assert older.status == 200 and older.body
    # If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
    both = fetch(base, "/api/manifest.json", headers={"If-None-Match": '"other"', "If-Modified-Since": last_modified})
    assert both.status == 200


def test_a_new_version_of_a_file_gets_a_new_etag(base: str, root: Path) -> None:
    manifest = root / "api" / "manifest.json"
    old = fetch(base, "/api/manifest.json").headers["ETag"]
    manifest.write_text('{"generated_at": "2026-03-15T20:38:00.000Z"}')
    later = manifest.stat().st_mtime + 60
    os.utime(manifest, (later, later))
    reply = fetch(base, "/api/manifest.json", headers={"If-None-Match": old})
    assert reply.status == 200 and reply.headers["ETag"] != old and b"20:38" in reply.body


def test_symlink_inside_the_root_is_followed(base: str, root: Path) -> None:
    reply = fetch(base, "/api/alias.json")
    assert reply.status == 200 and reply.body == (root / "api/manifest.json").read_bytes()


# -- byte ranges ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("range_header", "first", "last"),
    [("bytes=0-9", 0, 9), ("bytes=100-", 100, None), ("bytes=-25", -25, None), ("bytes=0-999999", 0, None)],
)
def test_a_range_gets_206_with_just_those_bytes(base: str, root: Path, range_header: str, first: int, last: int | None) -> None:
    whole = (root / "api/manifest.json").read_bytes()
    expected = whole[first:] if last is None else whole[first : last + 1]
    reply = fetch(base, "/api/manifest.json", headers={"Range": range_header})
    assert reply.status == 206 and reply.body == expected
    start = first % len(whole)
    assert reply.headers["Content-Range"] == f"bytes {start}-{start + len(expected) - 1}/{len(whole)}"
    assert int(reply.headers["Content-Length"]) == len(expected)
    assert reply.headers["Cache-Control"] == "public, max-age=300"
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    assert_cors(reply.headers)


def test_an_unsatisfiable_range_gets_416_with_the_length(base: str, root: Path) -> None:
    size = (root / "api/manifest.json").stat().st_size
    for header in (f"bytes={size}-", f"bytes={size + 100}-{size + 200}", "bytes=9-3"):
        reply = fetch(base, "/api/manifest.json", headers={"Range": header})
        assert reply.status == 416 and reply.body == b"", header
        assert reply.headers["Content-Range"] == f"bytes */{size}"
        assert_cors(reply.headers)


def test_a_range_is_ignored_when_it_cannot_be_served_as_asked(base: str, root: Path) -> None:
    whole = (root / "api/manifest.json").read_bytes()
    etag = fetch(base, "/api/manifest.json").headers["ETag"]
    resumed = fetch(base, "/api/manifest.json", headers={"Range": "bytes=10-19", "If-Range": etag})
    assert resumed.status == 206 and resumed.body == whole[10:20]
    # A client resuming an older version must get the whole new file, not a mix of the two.
    for headers in (
        {"Range": "bytes=10-19", "If-Range": '"an-older-version"'},
        {"Range": "bytes=0-1,5-6"},  # several ranges: the whole file is the simple answer
        {"Range": "items=0-1"},  # a unit we do not know
    ):
        reply = fetch(base, "/api/manifest.json", headers=headers)
        assert reply.status == 200 and reply.body == whole, headers
    assert fetch(base, "/no/such.json", headers={"Range": "bytes=0-1"}).status == 404
    assert fetch(base, "/staktrakr.db", headers={"Range": "bytes=0-15"}).status == 404


def test_a_range_of_head_and_conditional_requests_still_work(base: str, root: Path) -> None:
    etag = fetch(base, "/api/manifest.json").headers["ETag"]
    assert fetch(base, "/api/manifest.json", headers={"Range": "bytes=0-9", "If-None-Match": etag}).status == 304
    head = fetch(base, "/api/manifest.json", method="HEAD", headers={"Range": "bytes=0-9"})
    assert head.status == 206 and head.body == b"" and head.headers["Content-Length"] == "10"


# -- methods --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/manifest.json", "/no/such/file.json", "/health"])
def test_options_is_an_empty_200_with_cors(base: str, path: str) -> None:
    reply = fetch(base, path, method="OPTIONS", headers={"Origin": "https://www.staktrakr.com", "Access-Control-Request-Method": "GET"})
    assert reply.status == 200 and reply.body == b""
    assert_cors(reply.headers)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_405_with_allow(base: str, root: Path, method: str) -> None:
    before = (root / "api/manifest.json").read_bytes()
    reply = fetch(base, "/api/manifest.json", method=method)
    assert reply.status == 405 and reply.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert_cors(reply.headers)
    assert (root / "api/manifest.json").read_bytes() == before


# -- /health --------------------------------------------------------------------------------------


def test_health_reports_the_manifest_generated_at_read_fresh_each_time(base: str, root: Path) -> None:
    reply = fetch(base, "/health")
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("application/json")
    assert reply.headers["Cache-Control"] == "no-store"
    assert_cors(reply.headers)
    assert json.loads(reply.body) == {"status": "ok", "generated_at": "2026-03-15T20:23:02.057Z"}
    (root / "api/manifest.json").write_text('{"generated_at": "2026-03-15T20:38:01.000Z"}')
    assert json.loads(fetch(base, "/health").body)["generated_at"] == "2026-03-15T20:38:01.000Z"
    (root / "api/manifest.json").write_text("{truncated")
    assert json.loads(fetch(base, "/health").body) == {"status": "ok", "generated_at": None}
    (root / "api/manifest.json").unlink()
    assert json.loads(fetch(base, "/health").body) == {"status": "ok", "generated_at": None}


# -- what must not be served ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/api", "/api/", "/hourly/2026/03", "/escape/"])
def test_directories_are_404_without_a_listing(base: str, path: str) -> None:
    reply = fetch(base, path)
    assert reply.status == 404 and b"manifest" not in reply.body and b"secret" not in reply.body
    assert_cors(reply.headers)


def _traversals(tmp_secret: str) -> list[str]:
    return [
        "/../secret.txt",
        "/api/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/%2e%2e/etc/passwd",
        "/..%2fsecret.txt",
        "/api%2f..%2f..%2fsecret.txt",
        "/%252e%252e/secret.txt",
        "/%252e%252e%252fsecret.txt",
        "/..\\secret.txt",
        "/%5c..%5csecret.txt",
        "/api/%00.json",
        "/api/manifest.json%00.txt",
        "/api/%ZZ",
        "/api/%",
        "/api/%e2%82",  # truncated UTF-8
        f"/{tmp_secret}",
        f"//{tmp_secret}",
        f"/%2f{tmp_secret[1:]}",
        "/etc/passwd",
        "/escape/secret.txt",
        "/api/leak.json",
        "/staktrakr.db",
        "/STAKTRAKR.DB",
        "/api/db-alias.json",
        "/x.db",
        "/.env",
        "/api/.hidden.json",
        "/%2eenv",
        "/api/./manifest.json",
    ]


def test_no_path_escapes_the_root_or_reaches_private_files(base: str, tmp_path: Path) -> None:
    secret = str(tmp_path / "secret.txt")
    for path in _traversals(secret):
        reply = fetch(base, path)
        assert reply.status in (400, 404), (path, reply.status)
        assert SECRET.encode() not in reply.body, path
        assert_cors(reply.headers)
    # Still healthy after all of that.
    assert fetch(base, "/api/manifest.json").status == 200


@pytest.mark.parametrize("request_line", [b"GET /api/\x00manifest.json HTTP/1.1", b"GET /\xff\xfe/../secret.txt HTTP/1.1", b"GET ../secret.txt HTTP/1.1"])
def test_raw_malformed_request_lines_are_rejected(base: str, request_line: bytes) -> None:
    reply = raw_request(base, request_line)
    status = int(reply.split(b" ", 2)[1])
    assert status in (400, 404) and SECRET.encode() not in reply
    assert fetch(base, "/api/manifest.json").status == 200


def raw_send(base: str, data: bytes) -> bytes:
    """Send bytes exactly as given and read the reply until the server closes."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


MALFORMED = {
    "10,000-character path": b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "raw NUL": b"GET /api/\x00manifest.json HTTP/1.1\r\nHost: x\r\n\r\n",
    "garbage request line": b"\x16\x03\x01\x02\x00 hello there\r\n\r\n",
    "not HTTP at all": b"HELLO WORLD\r\n\r\n",
    "header too large": b"GET /api/manifest.json HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20_000 + b"\r\n\r\n",
    "newline in a header name": b"GET / HTTP/1.1\r\nHost: x\r\nBad\nName: 1\r\n\r\n",
}


def _log_lines(caplog: pytest.LogCaptureFixture, wait_for: int = 1) -> list[str]:
    """Every line the logging system would print, tracebacks included (one record can be many)."""
    deadline = time.monotonic() + 2
    while len(caplog.records) < wait_for and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)  # anything a second record would add
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    return [line for record in caplog.records for line in formatter.format(record).splitlines()]


@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_malformed_request_gets_400_and_one_log_line(base: str, caplog: pytest.LogCaptureFixture, name: str) -> None:
    caplog.set_level(logging.DEBUG)  # everything, from every logger
    caplog.clear()
    reply = raw_send(base, MALFORMED[name])
    assert reply.startswith(b"HTTP/1.0 400 ") or reply.startswith(b"HTTP/1.1 400 "), reply[:100]
    lines = _log_lines(caplog)
    assert len(lines) == 1, lines
    assert lines[0].startswith("INFO staktrakr.serve: bad request from 127.0.0.1: 400 ") and len(lines[0]) < 250
    assert fetch(base, "/api/manifest.json").status == 200


def test_a_flood_of_malformed_requests_cannot_flood_the_log(base: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.clear()
    for _ in range(10):
        for data in MALFORMED.values():
            raw_send(base, data)
    lines = _log_lines(caplog, wait_for=10 * len(MALFORMED))
    assert len(lines) == 10 * len(MALFORMED)
    assert not any("Traceback" in line for line in lines)


def test_a_bug_in_a_handler_still_logs_its_traceback(root: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("a bug worth a traceback")

    caplog.set_level(logging.INFO)
    with serve_in_thread(make_app(root, extra_routes=[web.get("/broken", broken)])) as url:
        assert fetch(url, "/broken").status == 500
        lines = _log_lines(caplog, wait_for=2)
    assert any(line.startswith("Traceback") for line in lines) and any("a bug worth a traceback" in line for line in lines)


@pytest.mark.timeout(60)
def test_the_serve_command_prints_one_line_per_malformed_request(root: Path) -> None:
    exe = shutil.which("staktrakr", path=str(Path(sys.executable).parent)) or "staktrakr"
    proc = subprocess.Popen([exe, "serve", "--dir", str(root), "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        url = _read_line(proc, timeout=20).split(" on ", 1)[1].split("/ ", 1)[0]
        for data in MALFORMED.values():
            raw_send(url, data)
        assert fetch(url, "/api/manifest.json").status == 200
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines = err.splitlines()
    assert len([line for line in lines if "bad request from 127.0.0.1: 400" in line]) == len(MALFORMED), err
    assert len(lines) == len(MALFORMED) + 1, err  # and the one access line of the good request
    assert "Traceback" not in err


def test_a_fifo_in_the_root_does_not_hang_the_server(base: str, root: Path) -> None:
    os.mkfifo(root / "api" / "pipe.json")
    assert fetch(base, "/api/pipe.json").status == 404
    assert fetch(base, "/api/manifest.json").status == 200


# -- extension points and logging -----------------------------------------------------------------


def test_extra_routes_win_over_files_and_get_the_same_headers(root: Path) -> None:
    async def metrics(request: web.Request) -> web.Response:
        return web.Response(text="staktrakr_up 1\n")

    async def late(request: web.Request) -> web.Response:
        return web.Response(text="added after make_app")

    (root / "metrics").write_text("a file of the same name")
    app = make_app(root, extra_routes=[web.get("/metrics", metrics)])
    app.router.add_get("/late", late)
    with serve_in_thread(app) as url:
        reply = fetch(url, "/metrics")
        assert reply.status == 200 and reply.body == b"staktrakr_up 1\n"
        assert_cors(reply.headers)
        assert fetch(url, "/late").body == b"added after make_app"
        assert fetch(url, "/metrics", method="POST").status == 405
        assert fetch(url, "/api/manifest.json").status == 200


def test_each_request_is_logged_once_without_query_string(base: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="staktrakr.serve")
    fetch(base, "/api/manifest.json?token=hunter2")
    fetch(base, "/nope.json")
    # The access log is written after the response went out: give the server thread a moment.
    deadline = time.monotonic() + 5
    while len(caplog.records) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    lines = [r.getMessage() for r in caplog.records if r.name == "staktrakr.serve"]
    assert any(line.startswith("GET /api/manifest.json 200 ") for line in lines), lines
    assert any(line.startswith("GET /nope.json 404 ") for line in lines), lines
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "staktrakr.serve")
    assert not any("hunter2" in line for line in lines)


# -- the command ----------------------------------------------------------------------------------


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise AssertionError("the server printed nothing")
    return proc.stdout.readline()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_serve_command_serves_until_stopped(root: Path, stop_signal: signal.Signals) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from staktrakr.serve import serve_command; serve_command()", "--dir", str(root), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        line = _read_line(proc, timeout=20)
        assert line.startswith(f"serving {root} on http://127.0.0.1:"), line
        url = line.split(" on ", 1)[1].split("/ ", 1)[0]
        assert fetch(url, "/api/manifest.json").status == 200
        proc.send_signal(stop_signal)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err


def test_serve_command_rejects_a_missing_dir(tmp_path: Path) -> None:
    result = CliRunner().invoke(serve_command, ["--dir", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "is not a directory" in result.output


def test_serve_command_defaults_to_the_configured_api_dir(tmp_path: Path) -> None:
    # conftest points STAKTRAKR_API_DIR at tmp_path/api, which does not exist yet.
    result = CliRunner().invoke(serve_command, [])
    assert result.exit_code == 2 and str(tmp_path / "api") in result.output


@pytest.mark.timeout(30)
def test_serve_command_reports_a_busy_port_without_traceback(root: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(serve_command, ["--dir", str(root), "--port", str(port)])
    assert result.exit_code == 1 and f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output


def _manifest_folder(folder: Path, generated_at: str) -> Path:
    (folder / "api").mkdir(parents=True)
    (folder / "api/manifest.json").write_text(json.dumps({"generated_at": generated_at}))
    return folder


def _metric(text: str, name: str, feed: str) -> float | None:
    prefix = f'{name}{{feed="{feed}"}} '
    return next((float(line[len(prefix):]) for line in text.splitlines() if line.startswith(prefix)), None)


@pytest.mark.timeout(60)
def test_metrics_and_health_judge_the_served_folder_not_the_configured_one(tmp_path: Path) -> None:
    from staktrakr.timeutil import iso_ms, utcnow

    fresh = iso_ms(utcnow())
    served = _manifest_folder(tmp_path / "served", fresh)
    configured = _manifest_folder(tmp_path / "configured", "2026-03-15T20:23:02.057Z")  # months old
    env = {**os.environ, "STAKTRAKR_API_DIR": str(configured), "STAKTRAKR_DB": str(tmp_path / "none.db")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "staktrakr.cli", "serve", "--dir", str(served), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        line = _read_line(proc, timeout=30)
        assert line.startswith(f"serving {served} on http://127.0.0.1:"), line
        url = line.split(" on ", 1)[1].split("/ ", 1)[0]
        assert json.loads(fetch(url, "/health").body)["generated_at"] == fresh
        metrics = fetch(url, "/metrics").body.decode()
        assert _metric(metrics, "staktrakr_published_fresh", "market") == 1
        assert _metric(metrics, "staktrakr_published_age_seconds", "market") < 600
        # the configured folder going fresh or missing changes nothing: it is not the one served
        shutil.rmtree(configured)
        assert _metric(fetch(url, "/metrics").body.decode(), "staktrakr_published_fresh", "market") == 1
        # the served folder going stale shows at once
        (served / "api/manifest.json").write_text(json.dumps({"generated_at": "2026-03-15T20:23:02.057Z"}))
        assert json.loads(fetch(url, "/health").body)["generated_at"] == "2026-03-15T20:23:02.057Z"
        assert _metric(fetch(url, "/metrics").body.decode(), "staktrakr_published_fresh", "market") == 0
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
