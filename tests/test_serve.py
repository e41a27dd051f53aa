"""The real `tradegraph serve` and `tradegraph up` processes, started and stopped by signals.

Each test has a DATA_DIR and a port of its own. Without DATABASE_URL the command runs an
embedded PostgreSQL under `$DATA_DIR/pg`; whatever happens, that server must be gone once the
command has exited. "Its" postgres is a live process named postgres whose command line names
that data dir; zombies do not count (PID 1 of a container may never reap them).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import pytest

from tests.helpers import TRADEGRAPH

HEALTHY_TIMEOUT = 60.0  # serve: start (or reuse) the embedded server, then answer /healthz
UP_HEALTHY_TIMEOUT = 180.0  # up: initdb, migrate and seed first
EXIT_TIMEOUT = 20.0  # from the signal to the process's exit, embedded server stopped
GONE_TIMEOUT = 10.0  # for a stopped postmaster to disappear from the process table
CLI_TIMEOUT = 180.0  # one-shot commands (migrate)
HANDLE_FILE = ".handle_pids.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """The environment for a `tradegraph` process: no database URL unless given."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "TEST_DATABASE_URL"}}
    env["DATA_DIR"] = str(data_dir)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def pgdata_of(data_dir: Path) -> Path:
    return (data_dir / "pg").resolve()


def own_postgres(data_dir: Path) -> list[psutil.Process]:
    """Live (not zombie) postgres processes whose command line names `data_dir`'s server."""
    pgdata = str(pgdata_of(data_dir))
    found = []
    for proc in psutil.process_iter(["name", "cmdline", "status"]):
        info = proc.info
        if info["name"] != "postgres" or info["status"] == psutil.STATUS_ZOMBIE:
            continue
        if any(pgdata in arg for arg in info["cmdline"] or []):
            found.append(proc)
    return found


def describe(procs: list[psutil.Process]) -> str:
    lines = []
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            lines.append(f"pid {proc.pid} [{proc.status()}]: {' '.join(proc.cmdline())}")
    return "\n".join(lines)


def assert_no_postgres_left(data_dir: Path) -> None:
    """Fail unless `data_dir`'s postgres is gone (allowing a stopped postmaster to vanish)."""
    deadline = time.monotonic() + GONE_TIMEOUT
    while (left := own_postgres(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"embedded postgres left running:\n{describe(left)}"


def kill_postgres(data_dir: Path) -> None:
    """Stop whatever postgres of `data_dir` is still running: immediate shutdown, then SIGKILL."""
    procs = own_postgres(data_dir)
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.send_signal(signal.SIGQUIT)
    _, alive = psutil.wait_procs(procs, timeout=5)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(alive, timeout=5)


def handle_pids(data_dir: Path) -> list[int]:
    path = pgdata_of(data_dir) / HANDLE_FILE
    pids: list[int] = json.loads(path.read_text()) if path.exists() else []
    return pids


@dataclass
class Run:
    """A running `tradegraph` process whose output goes to files."""

    proc: subprocess.Popen[bytes]
    port: int
    stdout: Path
    stderr: Path
    started: float = field(default_factory=time.monotonic)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def output(self) -> str:
        return f"--- stdout\n{self.stdout.read_text()}\n--- stderr\n{self.stderr.read_text()}"

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url(path), timeout=5)

    def wait_healthy(self, timeout: float = HEALTHY_TIMEOUT) -> float:
        """Poll /healthz until it answers 200; return the seconds since the process started."""
        deadline = time.monotonic() + timeout
        while True:
            code = self.proc.poll()
            if code is not None:
                pytest.fail(f"exited with {code} before answering /healthz\n{self.output()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(self.url("/healthz"), timeout=2).status_code == 200:
                    return time.monotonic() - self.started
            if time.monotonic() > deadline:
                pytest.fail(f"/healthz did not answer 200 within {timeout:.0f}s\n{self.output()}")
            time.sleep(0.2)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        """Send `sig`; return the exit code, failing if the process outlives EXIT_TIMEOUT."""
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {EXIT_TIMEOUT:.0f}s after {sig.name}\n{self.output()}")


@contextlib.contextmanager
def tradegraph(tmp_path: Path, data_dir: Path, *args: str, name: str, database_url: str | None = None) -> Iterator[Run]:
    """Start `tradegraph <args> --port P` on a free port; SIGKILL it at the end if it still runs."""
    port = free_port()
    stdout, stderr = tmp_path / f"{name}.stdout", tmp_path / f"{name}.stderr"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = subprocess.Popen(
            [str(TRADEGRAPH), *args, "--port", str(port)],
            cwd=tmp_path,  # away from the project: no .env, no ./.data
            env=cli_env(data_dir, database_url),
            stdout=out,
            stderr=err,
        )
    try:
        yield Run(proc, port, stdout, stderr)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """The test's own DATA_DIR; any postgres still running on it is killed afterwards."""
    path = tmp_path / "data"
    try:
        yield path
    finally:
        kill_postgres(path)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_serve_embedded_stops_its_database_on_signal(tmp_path: Path, data_dir: Path, sig: signal.Signals) -> None:
    migrated = subprocess.run(
        [str(TRADEGRAPH), "migrate"],
        cwd=tmp_path,
        env=cli_env(data_dir),
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
    )
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert (data_dir / "pg" / "PG_VERSION").exists()
    assert_no_postgres_left(data_dir)  # migrate stops the server it started

    with tradegraph(tmp_path, data_dir, "serve", name="serve") as run:
        run.wait_healthy()
        assert own_postgres(data_dir), "serve without DATABASE_URL runs an embedded postgres"
        ready = run.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert run.stop(sig) == 0, run.output()

    assert f"stopped by {sig.name}" in run.stdout.read_text()
    assert_no_postgres_left(data_dir)
    assert handle_pids(data_dir) == []


@pytest.mark.parametrize("reaped", [True, False], ids=["reaped", "zombie"])
def test_serve_prunes_the_handle_of_a_sigkilled_run(tmp_path: Path, data_dir: Path, reaped: bool) -> None:
    with tradegraph(tmp_path, data_dir, "serve", name="killed") as killed:
        killed.wait_healthy()
        killed.proc.kill()
        if reaped:
            killed.proc.wait(timeout=10)
        else:  # left unreaped, as under a PID 1 that never calls wait()
            deadline = time.monotonic() + 10
            while psutil.Process(killed.proc.pid).status() != psutil.STATUS_ZOMBIE:
                assert time.monotonic() < deadline, "the killed process never became a zombie"
                time.sleep(0.05)
        orphaned = own_postgres(data_dir)
        assert orphaned, "the embedded postgres outlives a SIGKILLed serve"
        assert killed.proc.pid in handle_pids(data_dir), "the killed process's handle stays behind"

        with tradegraph(tmp_path, data_dir, "serve", name="second") as second:
            second.wait_healthy()
            assert own_postgres(data_dir) == orphaned, "the second run reuses the running server"
            assert second.stop(signal.SIGTERM) == 0, second.output()

        assert_no_postgres_left(data_dir)
        assert handle_pids(data_dir) == []


def test_serve_with_database_url_embeds_nothing(tmp_path: Path, data_dir: Path, server_url: str) -> None:
    with tradegraph(tmp_path, data_dir, "serve", name="serve", database_url=server_url) as run:
        run.wait_healthy()
        ready = run.get("/readyz")
        # it reached the given server: ready, or at worst not migrated, never unreachable
        assert ready.status_code == 200 or ready.json()["database"] == "migrations pending", ready.text
        assert not (data_dir / "pg").exists()
        assert own_postgres(data_dir) == []
        assert run.stop(signal.SIGTERM) == 0, run.output()
    assert "embedded database" not in run.stderr.read_text()
    assert not (data_dir / "pg").exists()


def test_serve_on_a_busy_port_fails_and_stops_its_database(tmp_path: Path, data_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [str(TRADEGRAPH), "serve", "--port", str(port)],
            cwd=tmp_path,
            env=cli_env(data_dir),
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
        )
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert (data_dir / "pg" / "PG_VERSION").exists(), "the embedded server was started"
    assert_no_postgres_left(data_dir)
    assert handle_pids(data_dir) == []


def test_up_migrates_seeds_serves_and_stops(tmp_path: Path, data_dir: Path) -> None:
    with tradegraph(tmp_path, data_dir, "up", name="up") as run:
        elapsed = run.wait_healthy(UP_HEALTHY_TIMEOUT)
        print(f"\n`tradegraph up` on an empty DATA_DIR answered /healthz after {elapsed:.1f}s")
        ready = run.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert run.stop(signal.SIGTERM) == 0, run.output()

    assert f"http://127.0.0.1:{run.port}/graphql" in run.stdout.read_text()
    assert "stopped by SIGTERM" in run.stdout.read_text()
    assert_no_postgres_left(data_dir)
    assert handle_pids(data_dir) == []
