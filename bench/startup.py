"""How long `tradegraph serve` and `tradegraph up` take to answer, from process start.

    python -m bench.startup                                # both commands, embedded and server, 5 runs each
    python -m bench.startup --command serve --database embedded --runs 9
    python -m bench.startup --database-url postgresql://postgres@127.0.0.1:5432/postgres

For each case it starts the command, polls GET /healthz and then GET /readyz every 10 ms until
each answers 200, and records the seconds from `Popen` to each first 200 and the CPU seconds the
process had used by then (steadier than wall time on a busy machine; the embedded PostgreSQL, a
daemon, is not counted); then it stops the process with SIGTERM and records how long the exit
took. It prints every run and the medians. The first run of each case is a warm-up that is not
counted: `tradegraph up` creates (or reuses) the data directory or database, migrates and seeds
it, so the counted runs start on a warm data dir, as `tradegraph up` leaves it.

Embedded: a data directory of its own (default: a temporary one, removed at the end; `--data-dir`
to keep one). Server: a database of its own on `--database-url`'s server
(`tradegraph_startup`, dropped at the end). Nothing here asserts a time; the target is in
bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE = "tradegraph_startup"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _first_200(client: httpx.Client, url: str, process: subprocess.Popen[bytes], deadline: float) -> bool:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with contextlib.suppress(httpx.HTTPError):
            if client.get(url, timeout=1).status_code == 200:
                return True
        time.sleep(0.01)
    return False


def one_run(command: str, env: dict[str, str], log: Path, timeout: float) -> dict[str, float]:
    """Start `tradegraph <command>`; return seconds to /healthz 200, to /readyz 200, and to exit after SIGTERM."""
    port = _free_port()
    cmd = [str(BIN / "tradegraph"), command, "--host", "127.0.0.1", "--port", str(port)]
    with log.open("ab") as out:
        started = time.monotonic()
        process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True)
    result: dict[str, float] = {}
    try:
        with httpx.Client() as client:
            deadline = started + timeout
            if not _first_200(client, f"http://127.0.0.1:{port}/healthz", process, deadline):
                raise RuntimeError(f"`tradegraph {command}` did not answer /healthz: see {log}")
            result["healthz"] = time.monotonic() - started
            if not _first_200(client, f"http://127.0.0.1:{port}/readyz", process, deadline):
                raise RuntimeError(f"`tradegraph {command}` did not answer /readyz with 200: see {log}")
            result["readyz"] = time.monotonic() - started
            # CPU seconds the command (and its uvicorn workers, if any) used until then: the wall
            # times move with the machine's load, this much less
            with contextlib.suppress(psutil.Error):
                procs = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
                result["cpu"] = sum(sum(p.cpu_times()[:2]) for p in procs)
    finally:
        stopping = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        result["stop"] = time.monotonic() - stopping
    return result


@contextlib.contextmanager
def server_database(server_url: str) -> Iterator[str]:
    """A database of our own on the server, created empty and dropped at the end."""
    admin = make_url(server_url).set(database="postgres").render_as_string(hide_password=False)
    url = make_url(server_url).set(database=DATABASE).render_as_string(hide_password=False)
    name = sql.Identifier(DATABASE)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="counted runs per case (after one warm-up)")
    parser.add_argument("--command", choices=["serve", "up", "both"], default="both")
    parser.add_argument("--database", choices=["embedded", "server", "both"], default="both")
    parser.add_argument("--database-url", default=DEFAULT_SERVER, help="the server for --database server")
    parser.add_argument("--data-dir", type=Path, help="embedded: keep the data here (default: a temporary dir)")
    parser.add_argument("--timeout", type=float, default=120.0, help="give up on a run after this many seconds")
    args = parser.parse_args(argv)
    commands = ["serve", "up"] if args.command == "both" else [args.command]
    databases = ["embedded", "server"] if args.database == "both" else [args.database]

    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "API_DATABASE_URL", "DATA_DIR")}
    base["LOG_LEVEL"] = "warning"
    scratch = Path(tempfile.mkdtemp(prefix="tradegraph-startup-"))
    log = scratch / "server.log"
    rows: list[tuple[str, str, dict[str, float]]] = []
    try:
        with contextlib.ExitStack() as stack:
            for database in databases:
                env = dict(base)
                if database == "embedded":
                    env["DATA_DIR"] = str(args.data_dir or scratch / "data")
                else:
                    env["DATABASE_URL"] = stack.enter_context(server_database(args.database_url))
                # warm-up, not counted: `up` migrates and seeds, so `serve` then finds a ready database
                print(f"warm-up: tradegraph up ({database})", file=sys.stderr, flush=True)
                one_run("up", env, log, args.timeout)
                for command in commands:
                    runs = []
                    for i in range(args.runs):
                        r = one_run(command, env, log, args.timeout)
                        runs.append(r)
                        print(
                            f"{command:<5} {database:<8} run {i + 1}: /healthz {r['healthz']:.2f}s"
                            f"  /readyz {r['readyz']:.2f}s  cpu {r.get('cpu', float('nan')):.2f}s"
                            f"  stop {r['stop']:.2f}s",
                            flush=True,
                        )
                    keys = ("healthz", "readyz", "cpu", "stop")
                    rows.append(
                        (command, database, {k: statistics.median(r.get(k, float("nan")) for r in runs) for k in keys})
                    )
    except RuntimeError as exc:  # keep the log (and a temporary data dir) to look at
        print(f"error: {exc}", file=sys.stderr)
        print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
        return 1
    shutil.rmtree(scratch, ignore_errors=True)
    print(f"\nmedians of {args.runs} runs (seconds from process start):")
    print(f"{'command':<8} {'database':<9} {'/healthz':>9} {'/readyz':>9} {'cpu':>6} {'stop':>7}")
    for command, database, m in rows:
        print(f"{command:<8} {database:<9} {m['healthz']:>9.2f} {m['readyz']:>9.2f} {m['cpu']:>6.2f} {m['stop']:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
