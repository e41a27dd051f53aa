#!/usr/bin/env python3
"""Soak test: drive every operation of schema/operations/ at the real server for a bounded time.

    .venv/bin/python scripts/soak.py --seconds 300 --clients 32 --database-url postgresql://...
    .venv/bin/python scripts/soak.py --url http://127.0.0.1:8000 --seconds 60

Without --url it starts `tradegraph serve --host 127.0.0.1 --port P` (on DATABASE_URL from
--database-url or the environment, else the embedded default; --up runs `tradegraph up`, which
migrates and seeds first), waits for /readyz, and stops it with SIGTERM at the end. This process
is only the load generator: N concurrent clients (asyncio + httpx) POST the operations, with their
example variables, in turn until the time is up. Only loopback addresses are ever contacted.

It prints a table — requests, errors and p50/p95/p99 latency per operation and overall, the
server's RSS at start and end — then one JSON line with the same numbers. An error is a
transport failure, a status other than 200, or a body with `errors`. Exit status: 0 when every
request succeeded, 1 when any failed (or none completed), 2 when the server could not be started
or reached.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil
from graphql import OperationDefinitionNode, parse

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS_DIR = ROOT / "schema" / "operations"
TRADEGRAPH = Path(sys.executable).parent / "tradegraph"
READY_TIMEOUT = 180.0  # the embedded default may have to initialise (and `up` to seed) first
REQUEST_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
RSS_EVERY = 5.0
HEADERS = {"content-type": "application/json", "accept": "application/graphql-response+json"}


class SetupError(Exception):
    """The server could not be started or reached."""


# --- operations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    name: str
    body: bytes  # the JSON request, encoded once


def load_operations(directory: Path = OPERATIONS_DIR) -> list[Operation]:
    """Return each `*.graphql` of `directory` with its `.variables.json` (if any) as a request body."""
    operations = []
    for path in sorted(directory.glob("*.graphql")):
        query = path.read_text()
        names = [
            d.name.value
            for d in parse(query).definitions
            if isinstance(d, OperationDefinitionNode) and d.name is not None
        ]
        variables_path = path.with_suffix(".variables.json")
        variables = json.loads(variables_path.read_text()) if variables_path.exists() else {}
        request: dict[str, Any] = {"query": query, "variables": variables}
        if len(names) == 1:
            request["operationName"] = names[0]
        operations.append(Operation(names[0] if len(names) == 1 else path.stem, json.dumps(request).encode()))
    if not operations:
        raise SetupError(f"no operations in {directory}")
    return operations


# --- the target ------------------------------------------------------------------------------


def loopback_base_url(url: str) -> str:
    """Return the server's base URL (no /graphql) if `url` is plain HTTP(S) to a loopback address."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise SetupError(f"not an http(s) URL: {url!r}")
    if host == "localhost":
        host = "127.0.0.1"
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SetupError(f"refusing {url!r}: the soak test only targets loopback addresses (127.0.0.1, ::1)")
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    path = parts.path.rstrip("/")
    path = path.removesuffix("/graphql")
    return f"{parts.scheme}://{netloc}{path}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def listening_pid(port: int) -> int | None:
    """Return the pid listening on loopback `port`, when the system lets us see it."""
    with contextlib.suppress(psutil.Error, OSError):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
                return conn.pid
    return None


@dataclass
class Server:
    """The server under test: its base URL, and its process when we know it (or started it)."""

    base_url: str
    pid: int | None = None
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    def rss(self) -> int | None:
        """Return the server's resident memory in bytes: its pid's, else what /metrics reports."""
        if self.pid is not None:
            with contextlib.suppress(psutil.Error):
                return int(psutil.Process(self.pid).memory_info().rss)
        value = scrape(self.base_url).get("process_resident_memory_bytes")
        return int(value) if value is not None else None

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def scrape(base_url: str) -> dict[str, float]:
    """Return the unlabelled samples of the server's /metrics ({} when it has none)."""
    samples: dict[str, float] = {}
    with contextlib.suppress(httpx.HTTPError, ValueError):
        response = httpx.get(f"{base_url}/metrics", timeout=5, trust_env=False)
        if response.status_code == 200:
            for line in response.text.splitlines():
                name, _, value = line.partition(" ")
                if line and not line.startswith("#") and "{" not in name:
                    samples[name] = float(value)
    return samples


def wait_ready(server: Server, timeout: float) -> None:
    """Return once /readyz answers 200; raise SetupError if the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if server.proc is not None and server.proc.poll() is not None:
            raise SetupError(f"the server exited with {server.proc.returncode}:\n{server.log_tail()}")
        try:
            response = httpx.get(f"{server.base_url}/readyz", timeout=3, trust_env=False)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:200]}"
        except httpx.HTTPError as exc:
            last = exc.__class__.__name__
        time.sleep(0.25)
    raise SetupError(f"/readyz did not answer 200 within {timeout:.0f}s (last: {last})\n{server.log_tail()}")


@contextlib.contextmanager
def started_server(args: argparse.Namespace) -> Iterator[Server]:
    """Start `tradegraph serve` (or `up`) on 127.0.0.1; yield it once ready; SIGTERM it at the end."""
    port = args.port or free_port()
    env = dict(os.environ)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    env.setdefault("LOG_FORMAT", "json")  # the production log path, one access line per request
    if not env.get("DATABASE_URL"):
        print("no DATABASE_URL: the server uses the embedded database in .data/", file=sys.stderr)
    with contextlib.ExitStack() as stack:
        if args.server_log:
            log_path = Path(args.server_log)
        else:
            log_path = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tradegraph-soak-"))) / "server.log"
        command = [str(TRADEGRAPH), "up" if args.up else "serve", "--host", "127.0.0.1", "--port", str(port)]
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        server = Server(f"http://127.0.0.1:{port}", pid=proc.pid, proc=proc, log_path=log_path)
        try:
            wait_ready(server, READY_TIMEOUT)
            yield server
        finally:
            stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server and wait for it; SIGKILL it if it outlives STOP_TIMEOUT."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        print(f"the server outlived SIGTERM by {STOP_TIMEOUT:.0f}s: killing it", file=sys.stderr)
        proc.kill()
        proc.wait(timeout=10)


@contextlib.contextmanager
def given_server(args: argparse.Namespace) -> Iterator[Server]:
    base_url = loopback_base_url(args.url)
    port = urlsplit(base_url).port or (443 if base_url.startswith("https") else 80)
    server = Server(base_url, pid=args.server_pid or listening_pid(port))
    wait_ready(server, 10)
    yield server


# --- the load ------------------------------------------------------------------------------


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)

    def record(self, name: str, seconds: float, problem: str | None) -> None:
        self.latencies.setdefault(name, []).append(seconds)
        if problem is not None:
            self.errors[name] = self.errors.get(name, 0) + 1
            if len(self.error_samples) < 5:
                self.error_samples.append(f"{name}: {problem}")

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def problem_of(response: httpx.Response) -> str | None:
    """Return why a response counts as an error, or None if it does not."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    try:
        body = response.json()
    except ValueError:
        return "the body is not JSON"
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    if body.get("errors"):
        return f"errors: {json.dumps(body['errors'])[:300]}"
    return None


async def client(
    worker: int, http: httpx.AsyncClient, url: str, operations: list[Operation], deadline: float, stats: Stats
) -> None:
    """Send the operations in turn (each client starting at another one) until the deadline."""
    turn = worker
    while time.monotonic() < deadline:
        operation = operations[turn % len(operations)]
        turn += 1
        started = time.perf_counter()
        try:
            response = await http.post(url, content=operation.body, headers=HEADERS)
            problem = problem_of(response)
        except httpx.HTTPError as exc:
            problem = f"{exc.__class__.__name__}: {exc}"
        stats.record(operation.name, time.perf_counter() - started, problem)


async def sample_rss(server: Server, stop_at: float, samples: list[int]) -> None:
    while time.monotonic() < stop_at:
        await asyncio.sleep(min(RSS_EVERY, max(stop_at - time.monotonic(), 0)))
        rss = await asyncio.to_thread(server.rss)
        if rss is not None:
            samples.append(rss)


async def drive(
    server: Server, operations: list[Operation], clients: int, seconds: float
) -> tuple[Stats, float, list[int]]:
    """Run `clients` concurrent clients for `seconds`; return the stats, the elapsed time and the server's RSS
    every RSS_EVERY seconds."""
    stats = Stats()
    samples: list[int] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        limits=limits, timeout=REQUEST_TIMEOUT, trust_env=False, follow_redirects=False
    ) as http:
        started = time.monotonic()
        deadline = started + seconds
        tasks = [client(w, http, f"{server.base_url}/graphql", operations, deadline, stats) for w in range(clients)]
        # each client stops at the deadline; a request in flight then has REQUEST_TIMEOUT at most
        await asyncio.wait_for(
            asyncio.gather(*tasks, sample_rss(server, deadline, samples)), timeout=seconds + REQUEST_TIMEOUT + 15
        )
        elapsed = time.monotonic() - started
    return stats, elapsed, samples


# --- the report ----------------------------------------------------------------------------


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(math.ceil(p / 100 * len(sorted_values)), 1)
    return sorted_values[rank - 1]


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(percentile(ordered, 50) * 1000, 2),
        "p95_ms": round(percentile(ordered, 95) * 1000, 2),
        "p99_ms": round(percentile(ordered, 99) * 1000, 2),
        "max_ms": round((ordered[-1] if ordered else 0.0) * 1000, 2),
    }


def report(
    stats: Stats,
    *,
    elapsed: float,
    clients: int,
    rss_start: int | None,
    rss_end: int | None,
    rss_samples: list[int],
    client_cpu: float,
    server_end: dict[str, float],
) -> dict[str, Any]:
    everything = [v for values in stats.latencies.values() for v in values]
    per_operation = {
        name: {"requests": len(values), "errors": stats.errors.get(name, 0), **summary(values)}
        for name, values in sorted(stats.latencies.items())
    }
    pool = {
        key.removeprefix("tradegraph_db_pool_"): int(value)
        for key, value in server_end.items()
        if key.startswith("tradegraph_db_pool_")
    }
    return {
        "duration_s": round(elapsed, 2),
        "clients": clients,
        "requests": stats.requests,
        "req_per_s": round(stats.requests / elapsed, 1) if elapsed > 0 else 0.0,
        "errors": stats.error_count,
        **summary(everything),
        "operations": per_operation,
        "rss_start_bytes": rss_start,
        "rss_end_bytes": rss_end,
        "rss_max_bytes": max([*rss_samples, rss_start or 0, rss_end or 0]) or None,
        "rss_samples_mib": [round(v / 2**20, 1) for v in rss_samples],  # during the run, every RSS_EVERY s
        "pool_at_end": pool,
        "client_cpu_pct": round(client_cpu / elapsed * 100, 1) if elapsed > 0 else 0.0,
        "error_samples": stats.error_samples,
    }


def _mib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:.1f} MiB"


def print_table(result: dict[str, Any], write: Callable[[str], None] = print) -> None:
    write(
        f"soak: {result['duration_s']:.1f} s, {result['clients']} clients, {result['requests']} requests, "
        f"{result['req_per_s']} req/s, {result['errors']} errors"
    )
    header = f"{'operation':<20} {'requests':>9} {'errors':>7} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'max ms':>9}"
    write(header)
    write("-" * len(header))
    rows = [*result["operations"].items(), ("all", result)]
    for name, row in rows:
        write(
            f"{name:<20} {row['requests']:>9} {row['errors']:>7} {row['p50_ms']:>9.2f} "
            f"{row['p95_ms']:>9.2f} {row['p99_ms']:>9.2f} {row['max_ms']:>9.2f}"
        )
    write(
        f"server RSS: {_mib(result['rss_start_bytes'])} at start, {_mib(result['rss_end_bytes'])} at end, "
        f"{_mib(result['rss_max_bytes'])} at most"
    )
    trend = result["rss_samples_mib"]
    if trend:
        step = max(len(trend) // 12, 1)
        write(f"server RSS every {RSS_EVERY * step:.0f} s (MiB): " + " ".join(f"{v:.0f}" for v in trend[::step]))
    if result["pool_at_end"]:
        write("DB pool at end: " + ", ".join(f"{k} {v}" for k, v in sorted(result["pool_at_end"].items())))
    write(f"load generator CPU: {result['client_cpu_pct']}% of one core")
    for sample in result["error_samples"]:
        write(f"error: {sample}")


# --- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=300.0, help="how long to drive load (default 300)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (default 32)")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--url", help="a running server on a loopback address, e.g. http://127.0.0.1:8000")
    target.add_argument("--database-url", help="DATABASE_URL for the server this script starts")
    parser.add_argument("--port", type=int, default=0, help="port for the server it starts (default: a free one)")
    parser.add_argument("--up", action="store_true", help="start it with `tradegraph up` (migrate and seed first)")
    parser.add_argument("--server-log", help="keep the started server's output in this file")
    parser.add_argument("--server-pid", type=int, help="pid of the --url server, for its RSS (default: found)")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.clients < 1:
        parser.error("--seconds must be > 0 and --clients ≥ 1")
    if args.url and (args.up or args.port or args.server_log):
        parser.error("--up, --port and --server-log apply only to a server this script starts")
    return args


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through `finally`: the started server is stopped


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        operations = load_operations()
        with given_server(args) if args.url else started_server(args) as server:
            rss_start = server.rss()
            cpu_start = time.process_time()
            stats, elapsed, rss_samples = asyncio.run(drive(server, operations, args.clients, args.seconds))
            client_cpu = time.process_time() - cpu_start
            rss_end = server.rss()
            server_end = scrape(server.base_url)
    except SetupError as exc:
        print(f"soak: {exc}", file=sys.stderr)
        return 2
    result = report(
        stats,
        elapsed=elapsed,
        clients=args.clients,
        rss_start=rss_start,
        rss_end=rss_end,
        rss_samples=rss_samples,
        client_cpu=client_cpu,
        server_end=server_end,
    )
    print_table(result)
    print(json.dumps(result, separators=(",", ":")), flush=True)
    return 1 if result["errors"] or not result["requests"] else 0


if __name__ == "__main__":
    sys.exit(main())
