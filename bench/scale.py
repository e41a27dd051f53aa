"""The API through PgBouncer and against a standby, beside the direct path: same operations, same machine.

    python -m bench.scale --json bench/results/scale-out-S.json     # size S, ~6 minutes
    python -m bench.report ... bench/results/scale-out-S.json ... > BENCHMARKS.md   # a section of its own

It makes a local cluster of its own (bench/cluster.py: a primary, a streaming standby and
PgBouncer in transaction pooling mode in front of both, on loopback, in a temporary directory),
bulk-loads the synthetic corpus of size S into the primary (as bench/run.py does), waits for
the standby to replay it, starts every path, and then drives each operation on each path in
turn with wrk:

- `primary`: `tradegraph serve` (one process) straight to the primary, settings at connect time;
- `primary-per-tx`: the same with DATABASE_POOLER=transaction: the settings per transaction,
  nothing prepared (what the API does behind PgBouncer, without PgBouncer);
- `standby`: straight to the standby;
- `pgbouncer-primary` / `pgbouncer-standby`: through PgBouncer (detected: settings per
  transaction, nothing prepared);
- `limit-standby`: the limit (bench/limit_app.py, 2 workers, one hand-written statement per
  operation, no GraphQL) on the standby: what the standby itself serves on this machine.

Every answer is checked first (no errors; the same slugs as the primary's), then each operation
runs at c=1 and c=32 for --seconds. /readyz says where each API process reads. The exit status
is 1 when an answer was wrong or a cell failed a request; speed is reported, never judged.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from app.roles import READER_ROLE, ensure_reader_role
from bench.cluster import STANDBY_SUFFIX, local_cluster
from bench.run import (
    Check,
    Target,
    adapt_variables,
    check,
    first_cursor,
    install_functions,
    load_operations,
    machine_notes,
    prepare_database,
    running,
    wrk,
)

DATABASE = "bench_scale"
CONCURRENCY = (1, 32)
PATHS = ("primary", "primary-per-tx", "standby", "pgbouncer-primary", "pgbouncer-standby", "limit-standby")
# DATABASE_POOLER of each API path (auto: detected; PgBouncer refuses the start-up settings)
POOLER = {"primary": "none", "primary-per-tx": "transaction", "standby": "none"}


def _path_url(name: str, cluster: Any) -> tuple[Target, str]:
    """Return the target and the URL it reads through for one path."""
    reader = {"user": READER_ROLE}
    if name in ("primary", "primary-per-tx"):
        return Target(name, "tradegraph", 1), cluster.url(cluster.primary_port, **reader)
    if name == "standby":
        return Target(name, "tradegraph", 1), cluster.url(cluster.standby_port, **reader)
    if name == "pgbouncer-primary":
        return Target(name, "tradegraph", 1), cluster.url(cluster.bouncer_port, **reader)
    if name == "pgbouncer-standby":
        url = cluster.url(cluster.bouncer_port, database=DATABASE + STANDBY_SUFFIX, **reader)
        return Target(name, "tradegraph", 1), url
    return Target(name, "limit", 2), cluster.url(cluster.standby_port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds per cell (default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over every cell; medians (default 3)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--conditions", default="", help="a sentence on the conditions of the run")
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C: the servers and the cluster are stopped on the way out
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    started = dt.datetime.now(dt.UTC)
    load_before = [round(x, 2) for x in os.getloadavg()]
    ops = load_operations()
    problems: list[str] = []
    cells: dict[str, dict[str, list[dict[str, Any]]]] = {}
    where: dict[str, dict[str, Any]] = {}
    with local_cluster(database=DATABASE) as cluster, tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        primary = cluster.url(cluster.primary_port)
        log(
            f"cluster: primary :{cluster.primary_port}, standby :{cluster.standby_port},"
            f" pgbouncer :{cluster.bouncer_port}"
        )
        load = prepare_database(primary, "S", reload=True, log=log)
        install_functions(primary)
        ensure_reader_role(primary)
        caught_up = cluster.wait_caught_up(timeout=600)
        log(f"standby caught up {caught_up:.1f}s after the load")
        variables = adapt_variables(primary, ops)
        reference: dict[str, Counter[str]] = {}

        def _measure(
            op: Any, name: str, server: Any, v: dict[str, Any], first: bool, seconds: float, tmp: Path
        ) -> None:
            if op.name == "FigureFilterPage":
                with contextlib.suppress(httpx.HTTPError):
                    v["after"] = first_cursor(server, op, v)
            if first:  # every answer checked once, against the primary's
                try:
                    c = check(server, op, v)
                except httpx.HTTPError as exc:
                    c = Check(False, 0, None, Counter(), repr(exc))
                reference.setdefault(op.name, c.slugs)
                if not c.ok:
                    problems.append(f"{op.name} on {name}: {c.error}")
                elif c.slugs != reference[op.name]:
                    problems.append(f"{op.name} on {name}: other slugs than on the primary")
                wrk(server, op, v, connections=4, seconds=1, scripts=tmp)  # warm-up
            for conns in CONCURRENCY:
                sample = wrk(server, op, v, connections=conns, seconds=seconds, scripts=tmp)
                cells.setdefault(op.name, {}).setdefault(f"{name}@{conns}", []).append(sample)
                if sample.get("wrk_error") or sample["failures"]:
                    problems.append(f"{op.name} on {name} c={conns}: {sample.get('wrk_error') or sample}")
                log(
                    f"  {op.name:<18} {name:<18} c={conns:<3} {sample['rps']:>8.1f} req/s"
                    f"  p50 {sample['p50_ms']:.1f} ms  p99 {sample['p99_ms']:.1f} ms"
                    + (f"  failures {sample['failures']}" if sample["failures"] else "")
                )

        with contextlib.ExitStack() as stack:
            # every path serves at once, and each operation is measured on each path in turn: a
            # change in the machine's load over the run falls on every path alike
            servers = {}
            for name in PATHS:
                target, url = _path_url(name, cluster)
                os.environ["DATABASE_POOLER"] = POOLER.get(name, "auto")  # read by the server it starts
                servers[name] = stack.enter_context(running(target, url, Path(tmp)))
                if target.kind == "tradegraph":
                    where[name] = httpx.get(f"http://127.0.0.1:{servers[name].port}/readyz", timeout=10).json()
                    log(f"{name}: /readyz {where[name]}")
            for rnd in range(1, args.rounds + 1):
                log(f"round {rnd}/{args.rounds}")
                for op in ops:
                    for name, server in servers.items():
                        _measure(op, name, server, dict(variables[op.name]), rnd == 1, args.seconds, Path(tmp))
    results = {
        "kind": "scale-out",
        "size": "S",
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": f"python -m bench.scale --seconds {args.seconds:g} --rounds {args.rounds}"
        + (f" --json {args.json}" if args.json else ""),
        "rounds": args.rounds,
        "conditions": args.conditions,
        "loadavg_before": load_before,
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "machine": {**machine_notes(), "pgbouncer": _pgbouncer_version()},
        "load": {k: v for k, v in load.items() if isinstance(v, int | float | str)},
        "standby_caught_up_s": round(caught_up, 1),
        "paths": list(PATHS),
        "readyz": where,
        "cells": cells,
        "problems": problems,
    }
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    sys.stdout.write(render(results))
    for problem in problems:
        log(f"PROBLEM: {problem}")
    return 1 if problems else 0


def _pgbouncer_version() -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["pgbouncer", "--version"], capture_output=True, text=True, timeout=10).stdout
        return out.splitlines()[0].split()[-1] if out else ""
    return ""


def _n(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def render(results: dict[str, Any]) -> str:
    """Return the Markdown section of BENCHMARKS.md for a scale-out run."""
    paths = results["paths"]
    out = [
        "## Scale-out paths at size S: through PgBouncer and against a standby",
        "",
        f"Command: `{results['command']}`, {results['started']} → {results['finished']} UTC."
        + (f" Conditions: {results['conditions']}." if results.get("conditions") else "")
        + (
            f" Load average before/after: {results['loadavg_before']} / {results['loadavg_after']}."
            if "loadavg_before" in results
            else ""
        )
        + " A local primary, a streaming standby"
        " (`pg_basebackup -R`) and PgBouncer "
        f"{results['machine'].get('pgbouncer', '')} in transaction pooling mode, all on this machine"
        " (bench/cluster.py); the corpus bulk-loaded into the primary, replayed by the standby in "
        f"{results['standby_caught_up_s']} s. One `tradegraph serve` process per path; the limit with"
        " 2 workers. Medians over the rounds of req/s (p99 ms in brackets); `fail` sums non-200 or"
        " `errors` answers over the row's cells and rounds.",
        "",
        "| operation | "
        + " | ".join(f"{p} c=1" for p in paths)
        + " | "
        + " | ".join(f"{p} c=32" for p in paths)
        + " | fail |",
        "|---|" + "--:|" * (2 * len(paths)) + "--:|",
    ]
    totals: dict[str, list[float]] = {}
    for op, row in sorted(results["cells"].items()):
        values = []
        fails = 0
        for conns in CONCURRENCY:
            for p in paths:
                samples = row.get(f"{p}@{conns}")
                if not samples:
                    values.append("–")
                    continue
                cell = {
                    "rps": statistics.median(x["rps"] for x in samples),
                    "p99_ms": statistics.median(x["p99_ms"] for x in samples),
                }
                fails += sum(int(x["failures"]) for x in samples)
                totals.setdefault(f"{p}@{conns}", []).append(cell["rps"])
                values.append(f"{_n(cell['rps'])} ({_n(cell['p99_ms'])})")
        out.append(f"| {op} | " + " | ".join(values) + f" | {fails} |")
    out += ["", "Per path, the mean over the operations of req/s:", ""]
    out += ["| path | c=1 | c=32 | c=32 vs primary |", "|---|--:|--:|--:|"]
    base = sum(totals.get(f"primary@{CONCURRENCY[-1]}", [0])) or 1.0
    for p in paths:
        c1, c32 = totals.get(f"{p}@1", []), totals.get(f"{p}@{CONCURRENCY[-1]}", [])
        if not c32:
            continue
        out.append(f"| {p} | {_n(sum(c1) / len(c1))} | {_n(sum(c32) / len(c32))} | {sum(c32) / base:.2f} × |")
    where = results.get("readyz", {})
    if where:
        out += ["", "Where each API process read, by its `/readyz`:", ""]
        for p, body in where.items():
            pool = (body.get("pools") or {}).get("api", {})
            out.append(
                f"- {p}: {pool.get('role')} at {pool.get('server')}, pooler {pool.get('pooler')}"
                + (f", replay lag {pool['replay_lag_s']} s" if pool.get("replay_lag_s") is not None else "")
            )
    if results.get("problems"):
        out += ["", "Problems: " + "; ".join(results["problems"])]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
