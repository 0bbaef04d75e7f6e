"""Reading a published data root — a folder or its http(s) URL — for health, backfill and tests.

One size cap, one set of reasons: a file that is missing says so (`not_found`), any other
problem (unreadable, too big, HTTP error, host unreachable, not JSON) is a `FileProblem` whose
message a person can act on. A URL's query string (e.g. an access token) is sent with every
request but never shown: `label` and `where()` leave it out, and credentials in the URL too.
"""

from __future__ import annotations

import base64
import http.client
import json
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from .. import __version__
from . import layout

# Far above any published file (the largest, a coin's latest.json, is well under 1 MB); stops a
# runaway response or a file that is not what it claims to be.
MAX_FILE_BYTES = 32 * 1024 * 1024
DEFAULT_TIMEOUT_S = 30.0


class FileProblem(Exception):
    """A file of the data root cannot be used; the message says why."""

    def __init__(self, reason: str, location: str | None = None, *, not_found: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.location = location
        self.not_found = not_found


class DataRoot(ABC):
    """The folder holding api/, hourly/, 15min/ and the yearly files, wherever it is."""

    label: str  # for reports and logs (never a secret)

    @abstractmethod
    def where(self, relative: str) -> str:
        """Path or URL of one file, for reports."""

    @abstractmethod
    def read(self, relative: str) -> bytes:
        """The file's bytes; raises FileProblem (`not_found` when it does not exist)."""

    def read_json(self, relative: str) -> Any:
        """The file's JSON; raises FileProblem saying why it cannot be had."""
        try:
            return decode_json(self.read(relative))
        except FileProblem as exc:
            exc.location = exc.location or self.where(relative)
            raise

    def read_optional(self, relative: str) -> bytes | None:
        """The file's bytes, or None when it does not exist."""
        try:
            return self.read(relative)
        except FileProblem as exc:
            if exc.not_found:
                return None
            raise


class FolderRoot(DataRoot):
    def __init__(self, root: Path):
        self.root = Path(root)
        self.label = str(self.root)

    def where(self, relative: str) -> str:
        return str(self.root / relative)

    def read(self, relative: str) -> bytes:
        path = self.root / relative
        if not self.root.is_dir():
            raise FileProblem(f"data root {self.root} does not exist", str(path), not_found=True)
        try:
            if not path.is_file():
                raise FileProblem("not found", str(path), not_found=True)
            if path.stat().st_size > MAX_FILE_BYTES:
                raise FileProblem(f"larger than {MAX_FILE_BYTES} bytes", str(path))
            return path.read_bytes()
        except OSError as exc:
            raise FileProblem(f"cannot read: {exc.strerror or exc}", str(path)) from None

    def slug_folders(self) -> list[str]:
        """Folders of api/ that hold a coin's files (whether or not the manifest lists them)."""
        api = self.root / layout.API_DIR
        if not api.is_dir():
            return []
        return sorted(
            p.name for p in api.iterdir()
            if p.is_dir() and p.name not in layout.NOT_SLUG_DIRS and layout.is_api_file(f"{layout.API_DIR}/{p.name}/latest.json")
            and any((p / name).is_file() for name in ("latest.json", "history-30d.json"))
        )  # fmt: skip

    def files_under(self, folder: str) -> list[str]:
        """Every .json file below `folder`, relative to the root, sorted."""
        base = self.root / folder
        if not base.is_dir():
            return []
        return sorted(p.relative_to(self.root).as_posix() for p in base.rglob("*.json") if p.is_file())

    def files_named(self, pattern: str) -> list[str]:
        """Files at the top of the root whose name matches `pattern` (a glob)."""
        return sorted(p.name for p in self.root.glob(pattern) if p.is_file())


class UrlRoot(DataRoot):
    """A data root served over http(s), e.g. https://api.staktrakr.com/data."""

    def __init__(self, url: str, timeout_s: float = DEFAULT_TIMEOUT_S, *, no_cache: bool = False):
        parts = urlsplit(url.strip())
        path = parts.path.rstrip("/")
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        port = f":{parts.port}" if parts.port else ""
        self.label = urlunsplit((parts.scheme, host + port, path, "", ""))  # no user:password@, no query
        self._base = self.label
        self._query = parts.query
        # user:password@ in the URL goes as Basic authentication (urllib would take it for the host).
        self._auth = None
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            self._auth = "Basic " + base64.b64encode(pair).decode("ascii")
        self._netloc = parts.netloc
        self.timeout_s = timeout_s
        self.no_cache = no_cache
        # After one connection failure the others would fail the same way, each after the full
        # timeout: remember it and answer at once.
        self._unreachable: str | None = None

    def below(self, folder: str) -> UrlRoot:
        """The same server, one folder down (`data` when given the repository root)."""
        parts = urlsplit(self._base)
        query = f"?{self._query}" if self._query else ""
        return UrlRoot(urlunsplit((parts.scheme, self._netloc, f"{parts.path}/{folder.strip('/')}", "", "")) + query, self.timeout_s, no_cache=self.no_cache)

    def where(self, relative: str) -> str:
        return f"{self.label}/{relative}"

    def read(self, relative: str) -> bytes:
        where = self.where(relative)
        if self._unreachable:
            raise FileProblem(self._unreachable, where)
        url = f"{self._base}/{quote(relative)}" + (f"?{self._query}" if self._query else "")
        headers = {"User-Agent": f"staktrakr/{__version__}", "Accept": "application/json"}
        if self._auth:
            headers["Authorization"] = self._auth
        if self.no_cache:  # a CDN copy up to max-age old would make a stale feed look fresh
            headers["Cache-Control"] = "no-cache"
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=self.timeout_s) as response:  # noqa: S310 - scheme checked by open_data_root
                body: bytes = response.read(MAX_FILE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            exc.close()
            raise FileProblem(f"HTTP {exc.code}", where, not_found=exc.code in (404, 410)) from None
        except TimeoutError:
            raise FileProblem(f"timed out after {self.timeout_s:g} s", where) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            self._unreachable = f"cannot reach {self.label}: {_reason_text(reason)}"
            raise FileProblem(self._unreachable, where) from None
        if len(body) > MAX_FILE_BYTES:
            raise FileProblem(f"larger than {MAX_FILE_BYTES} bytes", where)
        return body


def _reason_text(reason: Any) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, OSError):
        return reason.strerror or type(reason).__name__
    return str(reason) or type(reason).__name__


def open_data_root(source: str | Path, timeout_s: float = DEFAULT_TIMEOUT_S, *, no_cache: bool = False) -> DataRoot:
    """The data root `source` names (a folder or an http(s) URL); ValueError says why it is not one.

    A repository folder or URL whose `data/` holds the API (what serve.js serves) is accepted
    for that `data/` folder.
    """
    text = str(source)
    parts = urlsplit(text)
    if parts.scheme.lower() in ("http", "https"):
        try:
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError:
            raise ValueError("malformed URL (bad port)") from None
        if not parts.hostname:
            raise ValueError("malformed URL (no host)")
        root = UrlRoot(text, timeout_s, no_cache=no_cache)
        try:
            if root.read_optional(layout.MANIFEST) is None:
                inner = root.below("data")
                if inner.read_optional(layout.MANIFEST) is not None:
                    return inner
        except FileProblem:
            pass  # reported when the files are read for real
        return root
    if "://" in text:
        raise ValueError(f"unsupported URL scheme {parts.scheme!r}: give a folder or an http(s) URL")
    path = Path(text).expanduser()
    if not path.exists():
        raise ValueError("no such folder")
    if not path.is_dir():
        raise ValueError("not a folder")
    if not (path / layout.API_DIR).is_dir() and (path / "data" / layout.API_DIR).is_dir():
        path = path / "data"
    return FolderRoot(path)


def decode_json(raw: bytes) -> Any:
    """Bytes to JSON, with a reason a person can act on when that fails."""
    if not raw.strip():
        raise FileProblem("empty file")
    nuls = raw.count(b"\x00")
    if nuls == len(raw):
        raise FileProblem(f"{nuls} NUL bytes and nothing else (interrupted write)")
    if nuls:
        raise FileProblem(f"malformed JSON: contains {nuls} NUL bytes (interrupted write)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FileProblem("malformed JSON: not UTF-8 text") from None
    try:
        return json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()):
            raise FileProblem(f"malformed JSON: truncated ({len(raw)} bytes, ends inside a value)") from None
        raise FileProblem(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def _no_constants(name: str) -> Any:
    raise FileProblem(f"malformed JSON: {name} is not a JSON number")
