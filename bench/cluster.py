"""A primary, a streaming hot standby and PgBouncer on loopback, in a temporary directory.

    with local_cluster() as cluster:
        cluster.url(cluster.primary_port)                      # the primary, as postgres
        cluster.url(cluster.standby_port, cluster.primary_port, target_session_attrs="prefer-standby")
        cluster.url(cluster.bouncer_port)                      # PgBouncer, transaction pooling

Made with the PostgreSQL server binaries found on PATH (`initdb`, `pg_ctl`, and `pg_basebackup`
from the same directory) and `pgbouncer`. As root, every server runs as the OS user `postgres`
(`runuser -u postgres --`), which owns the directory. Used by the scale-out tests and by
`python -m bench.scale`. `missing()` names what is absent, so callers can skip with a reason.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

PG_USER = "postgres"
TIMEOUT = 60
# databases of PgBouncer: the primary's under its own name, the standby's as <name>_standby
STANDBY_SUFFIX = "_standby"


def _bindir() -> Path | None:
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def missing(*, bouncer: bool = True) -> str | None:
    """Return why a local cluster cannot be made here (what is absent), or None when it can."""
    bindir = _bindir()
    if bindir is None:
        return "the PostgreSQL server binaries (initdb) are not on PATH"
    absent = [name for name in ("pg_ctl", "postgres", "pg_basebackup") if not (bindir / name).exists()]
    if absent:
        return f"{', '.join(absent)} not beside {bindir / 'initdb'}"
    if bouncer and shutil.which("pgbouncer") is None:
        return "pgbouncer is not installed (apt-get install pgbouncer)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(PG_USER)
        except KeyError:
            return f"running as root and there is no OS user {PG_USER!r} to run the servers as"
        if shutil.which("runuser") is None:
            return "running as root without runuser"
    return None


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_pg(cmd: list[str]) -> list[str]:
    # the server binaries refuse to run as root
    return ["runuser", "-u", PG_USER, "--", *cmd] if os.geteuid() == 0 else cmd


def _run(cmd: list[str], log: Path) -> None:
    # output to a file, never a pipe: a server started by pg_ctl inherits it and would hold it open
    with log.open("a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        done = subprocess.run(_as_pg(cmd), stdout=out, stderr=subprocess.STDOUT, timeout=TIMEOUT + 30)
    if done.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({done.returncode}):\n{log.read_text()[-3000:]}")


@dataclasses.dataclass
class LocalCluster:
    """Where the servers of a local cluster live and listen."""

    base: Path
    bindir: Path
    database: str
    primary_port: int
    standby_port: int
    bouncer_port: int | None = None
    bouncer_pid: int | None = None

    @property
    def primary_dir(self) -> Path:
        return self.base / "primary"

    @property
    def standby_dir(self) -> Path:
        return self.base / "standby"

    @property
    def log(self) -> Path:
        return self.base / "commands.log"

    def url(self, *ports: int, user: str = PG_USER, database: str | None = None, **query: str) -> str:
        """Return a libpq URL of these servers (in this order), as `user`, with `query` parameters."""
        hosts = ",".join(f"127.0.0.1:{port}" for port in ports)
        params = "&".join(f"{k}={v}" for k, v in query.items())
        return f"postgresql://{user}@{hosts}/{database or self.database}" + (f"?{params}" if params else "")

    def pg_ctl(self, data: Path, *args: str) -> None:
        """Run pg_ctl on the server in `data` (as the servers' user), waiting for it to finish."""
        _run([str(self.bindir / "pg_ctl"), "-D", str(data), "-t", str(TIMEOUT), "-w", *args], self.log)

    def start(self, data: Path, port: int) -> None:
        """Start the server in `data` on 127.0.0.1:`port`, its socket in the cluster's directory."""
        self.pg_ctl(data, "-l", str(data / "server.log"), "-o", f"-p {port}", "start")

    def stop(self, data: Path, mode: str = "fast") -> None:
        """Stop the server in `data`: `fast` ends its sessions; it is gone when this returns."""
        self.pg_ctl(data, "-m", mode, "stop")

    def running(self, data: Path) -> bool:
        """Return whether the server in `data` runs."""
        return (data / "postmaster.pid").exists()

    def stop_standby(self) -> None:
        self.stop(self.standby_dir)

    def start_standby(self) -> None:
        self.start(self.standby_dir, self.standby_port)

    def replay_lag_bytes(self) -> int:
        """Return how many bytes of WAL the standby has still to replay (0: it is caught up)."""
        with psycopg.connect(self.url(self.primary_port), autocommit=True) as primary:
            row = primary.execute("SELECT pg_current_wal_lsn()::text").fetchone()
        assert row is not None
        with psycopg.connect(self.url(self.standby_port), autocommit=True) as standby:
            lag = standby.execute(
                "SELECT greatest(0, pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn()))", (row[0],)
            ).fetchone()
        assert lag is not None
        return int(lag[0])

    def wait_caught_up(self, timeout: float = TIMEOUT) -> float:
        """Return the seconds it took the standby to replay everything the primary had written."""
        started = time.monotonic()
        while self.replay_lag_bytes() > 0:
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"the standby did not catch up within {timeout}s")
            time.sleep(0.05)
        return time.monotonic() - started


def _configure(data: Path, socket_dir: Path, settings: dict[str, Any]) -> None:
    lines = [f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in settings.items()]
    with (data / "postgresql.conf").open("a") as conf:
        conf.write("\n# local cluster\n" + "\n".join(lines) + "\n")
        conf.write(f"unix_socket_directories = '{socket_dir}'\n")


def _start_bouncer(cluster: LocalCluster, pool_size: int) -> None:
    port = free_port()
    ini = cluster.base / "pgbouncer.ini"
    users = cluster.base / "userlist.txt"
    users.write_text(f'"{PG_USER}" ""\n"tradegraph_reader" ""\n')
    db = cluster.database
    ini.write_text(
        "[databases]\n"
        f"{db} = host=127.0.0.1 port={cluster.primary_port} dbname={db}\n"
        f"{db}{STANDBY_SUFFIX} = host=127.0.0.1 port={cluster.standby_port} dbname={db}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {users}\n"
        "pool_mode = transaction\n"
        f"default_pool_size = {pool_size}\nmax_client_conn = 500\n"
        # clients (the API's pool) keep their connections; PgBouncer needs no admin console here
        f"logfile = {cluster.base / 'pgbouncer.log'}\npidfile = {cluster.base / 'pgbouncer.pid'}\n"
    )
    if os.geteuid() == 0:
        for path in (ini, users):
            shutil.chown(path, PG_USER)
    _run(["pgbouncer", "-d", str(ini)], cluster.log)  # -d: daemon, once it listens
    pidfile = cluster.base / "pgbouncer.pid"
    deadline = time.monotonic() + TIMEOUT
    while not pidfile.exists() or not pidfile.read_text().strip():
        if time.monotonic() > deadline:
            raise RuntimeError("pgbouncer wrote no pid file")
        time.sleep(0.05)
    cluster.bouncer_pid = int(pidfile.read_text().strip())
    cluster.bouncer_port = port
    deadline = time.monotonic() + TIMEOUT
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"pgbouncer does not listen on {port}")
        time.sleep(0.05)


def _stop_bouncer(cluster: LocalCluster) -> None:
    pid = cluster.bouncer_pid
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        # gone when its pid file is: a daemon is not our child, and where PID 1 does not reap,
        # its pid would stay taken by a zombie
        pidfile = cluster.base / "pgbouncer.pid"
        deadline = time.monotonic() + 10
        while pidfile.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    cluster.bouncer_pid = None


@contextlib.contextmanager
def local_cluster(
    *, database: str = "tradegraph", bouncer: bool = True, bouncer_pool_size: int = 20
) -> Iterator[LocalCluster]:
    """Yield a primary with `database` (empty), its streaming standby and, if `bouncer`, PgBouncer.

    Everything runs on 127.0.0.1 on free ports, in a temporary directory removed at the end;
    the servers are stopped (immediately) whatever happened."""
    reason = missing(bouncer=bouncer)
    if reason:
        raise RuntimeError(reason)
    bindir = _bindir()
    assert bindir is not None
    base = Path(tempfile.mkdtemp(prefix="tradegraph-cluster-"))
    if os.geteuid() == 0:
        shutil.chown(base, PG_USER, PG_USER)
    cluster = LocalCluster(base, bindir, database, primary_port=free_port(), standby_port=free_port())
    try:
        _run(
            [str(bindir / "initdb"), "-D", str(cluster.primary_dir), "-U", PG_USER, "--auth=trust", "-E", "UTF8"],
            cluster.log,
        )
        _configure(
            cluster.primary_dir,
            base,
            {
                "listen_addresses": "127.0.0.1",
                "max_connections": 60,
                "shared_buffers": "64MB",
                # a throwaway cluster: durability is not what is tested, and fsync is slow here
                "fsync": "off",
                "synchronous_commit": "off",
                "full_page_writes": "off",
                "wal_level": "replica",
                "max_wal_senders": 4,
                "wal_keep_size": "256MB",
                "hot_standby_feedback": "on",
            },
        )
        (cluster.primary_dir / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n"
        )
        cluster.start(cluster.primary_dir, cluster.primary_port)
        with psycopg.connect(cluster.url(cluster.primary_port, database="postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        _run(
            [
                str(bindir / "pg_basebackup"),
                *("-h", "127.0.0.1", "-p", str(cluster.primary_port), "-U", PG_USER),
                *("-D", str(cluster.standby_dir), "-R", "-X", "stream", "-c", "fast"),
            ],
            cluster.log,
        )
        cluster.start_standby()
        cluster.wait_caught_up()
        if bouncer:
            _start_bouncer(cluster, bouncer_pool_size)
        yield cluster
    finally:
        _stop_bouncer(cluster)
        for data in (cluster.standby_dir, cluster.primary_dir):
            if cluster.running(data):
                with contextlib.suppress(Exception):
                    cluster.stop(data, "immediate")
        shutil.rmtree(base, ignore_errors=True)
