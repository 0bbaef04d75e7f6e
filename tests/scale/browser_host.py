"""A real shared browser host for tests and benchmarks: `playwright run-server` on 127.0.0.1.

`--unsafe` lets the pollers send their launch options (Debian's Chromium, the lean flags):
`playwright install` cannot download a browser here, and the host's own default would be one.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PLAYWRIGHT = Path(sys.executable).parent / "playwright"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class BrowserHost:
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        """The server and every Chromium it launched (one process group, started by us)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        try:  # Chromium children may outlive the server by a moment
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@contextmanager
def browser_host(workdir: Path) -> Iterator[BrowserHost]:
    port = free_port()
    log = workdir / "browser-host.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(PLAYWRIGHT), "run-server", "--unsafe", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    host = BrowserHost(process, port, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"browser host did not start: {log.read_text(errors='replace')[-2000:]}") from None
                time.sleep(0.1)
        yield host
    finally:
        host.stop()


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants now (Linux /proc), in MB."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            status = (entry / "status").read_text()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        line = next((x for x in status.splitlines() if x.startswith("VmRSS:")), "VmRSS: 0 kB")
        rss[int(entry.name)] = int(line.split()[1])
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo.extend(children.get(current, []))
    return total / 1024
