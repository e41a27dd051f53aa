"""What Postgres does with each operation's compiled statement: EXPLAIN ANALYZE per operation.

    python -m bench.plans --size M                       # database bench_m, as bench.run loaded it
    python -m bench.plans --size L --json bench/results/plans-L.json

For every operation of the benchmark (schema/operations and bench/operations, with the variables
`bench.run` picks from the data) it compiles the request as tradegraph does, runs the statement
once to warm the cache, then `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` of it, and prints the
planning and execution time, the shared buffers it touched, and every sequential scan with the
table's size. A sequential scan of a table of at least --large rows (default 10,000) is what the
target forbids for paginated and filtered operations: it grows with the data. Nothing here
asserts; `bench.report` prints the JSON as a table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from graphql import OperationDefinitionNode, parse

from app.db import session_options
from app.graphql.compiler import compile_operation
from app.graphql.schema import schema
from bench.generate import SIZES
from bench.run import DEFAULT_SERVER, _with_db, adapt_variables, install_functions, load_operations


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def explain(conn: psycopg.Connection[Any], statement: str, params: dict[str, Any], large: int) -> dict[str, Any]:
    """Return planning and execution ms, shared buffers, and the sequential scans of one statement."""
    conn.execute(statement.encode(), params).fetchall()  # warm: the measured run reads from the cache
    row = conn.execute(b"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement.encode(), params).fetchone()
    assert row is not None
    result = row[0][0]
    sizes = dict(conn.execute("SELECT relname, reltuples::bigint FROM pg_class WHERE relkind = 'r'").fetchall())
    scans = sorted(
        {
            (n["Relation Name"], int(sizes.get(n["Relation Name"], 0)))
            for n in _nodes(result["Plan"])
            if n["Node Type"] == "Seq Scan"
        }
    )
    top = result["Plan"]
    return {
        "planning_ms": round(result["Planning Time"], 3),
        "execution_ms": round(result["Execution Time"], 3),
        "shared_buffers": int(top.get("Shared Hit Blocks", 0)) + int(top.get("Shared Read Blocks", 0)),
        "seq_scans": [{"table": t, "rows": n} for t, n in scans],
        "large_seq_scans": [t for t, n in scans if n >= large],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.plans", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=list(SIZES), default="S")
    parser.add_argument("--database-url", help="default: bench_<size> on " + DEFAULT_SERVER.rsplit("/", 1)[0])
    parser.add_argument("--large", type=int, default=10_000, help="a table of at least this many rows is large")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    url = args.database_url or _with_db(DEFAULT_SERVER, f"bench_{args.size.lower()}")
    ops = load_operations()
    install_functions(url)  # adapt_variables reads the data through them
    variables = adapt_variables(url, ops)
    results: dict[str, Any] = {}
    # the API's session settings, without its time limit: the slowest statements are measured too
    with psycopg.connect(url, autocommit=True, options=session_options(statement_timeout_ms=0)) as conn:
        for op in ops:
            document = parse(op.document)
            operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
            plan = compile_operation(schema, document, operation, variables[op.name])
            if plan is None:
                results[op.name] = {"compiled": False}
                print(f"{op.name:18} not compiled: the resolvers answer it", file=sys.stderr)
                continue
            results[op.name] = {"compiled": True, **explain(conn, plan.sql, plan.params, args.large)}
            r = results[op.name]
            scans = ", ".join(f"{s['table']} ({s['rows']:,} rows)" for s in r["seq_scans"]) or "none"
            print(
                f"{op.name:18} planning {r['planning_ms']:7.2f} ms  execution {r['execution_ms']:8.2f} ms"
                f"  buffers {r['shared_buffers']:7,}  seq scans: {scans}",
                file=sys.stderr,
            )
    out = {
        "kind": "plans",
        "size": args.size,
        "database": url.rsplit("/", 1)[-1],
        "large": args.large,
        "measured": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.plans " + " ".join(argv if argv is not None else sys.argv[1:]),
        "operations": results,
    }
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
