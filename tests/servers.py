"""A real `tradegraph serve` process on a free loopback port, for tests and scripts/ alike.

Started with the environment the caller gives (nothing added), its output in a log file,
ready once a probe path answers 200; stopped with SIGTERM, then killed if it does not end.
Only the standard library and httpx: scripts import it without the test suite's fixtures.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
TRADEGRAPH = Path(sys.executable).parent / "tradegraph"


class ServerFailed(RuntimeError):
    """The server exited, or did not become ready in time; the message ends with its log."""


def free_port() -> int:
    """Return a TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclasses.dataclass
class Served:
    """A running `tradegraph serve`."""

    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        """Return its base URL, e.g. http://127.0.0.1:8123."""
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        """Return what it has logged so far."""
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def serving(
    env: Mapping[str, str],
    *,
    logs: Path,
    args: tuple[str, ...] = (),
    cwd: Path = ROOT,
    ready: str = "/readyz",
    timeout: float = 60,
    poll: float = 0.2,
    stop_timeout: float = 30,
) -> Iterator[Served]:
    """Run `tradegraph serve` (and `args`) with `env` in `cwd`, logging to `logs`/serve-PORT.log; yield it once
    `ready` answers 200 (raise ServerFailed if it exits first or takes over `timeout` s); SIGTERM it
    afterwards, and kill it if it has not ended `stop_timeout` s later."""
    port = free_port()
    log = logs / f"serve-{port}.log"
    with log.open("wb") as out:
        command = [str(TRADEGRAPH), "serve", "--host", "127.0.0.1", "--port", str(port), *args]
        proc = subprocess.Popen(command, cwd=cwd, env=dict(env), stdout=out, stderr=subprocess.STDOUT)
    served = Served(port, proc, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise ServerFailed(f"tradegraph serve exited with {proc.returncode}:\n{served.output()[-3000:]}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(served.base + ready, timeout=2, trust_env=False).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise ServerFailed(
                    f"tradegraph serve did not answer {ready} within {timeout:.0f}s:\n{served.output()[-3000:]}"
                )
            time.sleep(poll)
        yield served
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=stop_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
