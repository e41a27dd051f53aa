"""How fast `tradegraph seed` loads the synthetic corpus, and re-seeds it after small changes.

    python -m bench.seed_speed --size S                 # corpus generated into a temporary directory
    python -m bench.seed_speed --size M --corpus DIR    # reuse (or write once) a corpus directory

On a scratch database (created on --server, migrated, dropped at the end) it runs the real
command, `tradegraph seed DIR`, as an operator would, and times:

1. the first load (every file read and validated, every row written);
2. a no-op re-seed (nothing changed on disk);
3. one article removed (its two files moved aside), then the same article added back;
4. `--full` (every file read again, every row compared);

then the physical limit: the very rows the seed stored, dumped with COPY and loaded back with
COPY into an empty migrated database in one transaction (constraints, indexes and triggers as
the schema has them), i.e. what Postgres needs to store them, with no YAML, validation or Python.

For each run: wall seconds (process start to exit, Python start-up included), rows/s over the
rows in the database, the CPU seconds the seed process used (the rest is the database, or
waiting for the machine), the machine's load average as the run ended (on a shared machine,
wall times mean little without it), and the seed's own per-step lines (each with its wall
and CPU seconds).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from app.seed.load import ALL_TABLES
from bench.generate import SIZES, synthesize, write_corpus_dir

TRADEGRAPH = Path(sys.executable).parent / "tradegraph"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def _url(server: str, database: str) -> str:
    return server.rsplit("/", 1)[0] + "/" + database


@contextlib.contextmanager
def scratch_database(server: str, name: str) -> Iterator[str]:
    """Yield the URL of a new, migrated database; drop it afterwards."""
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _url(server, name)
    try:
        subprocess.run(
            [str(TRADEGRAPH), "migrate"], env={**os.environ, "DATABASE_URL": url}, check=True, stdout=subprocess.DEVNULL
        )
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def rows_in(url: str) -> int:
    """Return the rows of the knowledge base's tables."""
    total = 0
    with psycopg.connect(url) as conn:
        for table in ALL_TABLES:
            row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table.name))).fetchone()
            total += int(row[0]) if row else 0
    return total


def run_seed(url: str, corpus: Path, *extra: str) -> dict[str, Any]:
    """Run `tradegraph seed`; return its wall and CPU seconds and what it printed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [str(TRADEGRAPH), "seed", *extra, str(corpus)],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"tradegraph seed failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    lines = [line for line in done.stdout.splitlines() if line.startswith(("seed:", "files:", "seeded in"))]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "load_1min": round(os.getloadavg()[0], 2), "lines": lines}


def unreferenced_article(url: str) -> str:
    """Return the path of an article file whose figures and events no other file refers to (relative to the corpus)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT path, defines, refers FROM seed_manifest WHERE kind = 'article' ORDER BY path DESC"
        ).fetchall()
    referred: dict[str, int] = {}
    for _, _, refers in rows:
        for ref in refers:
            referred[ref] = referred.get(ref, 0) + 1
    for path, defines, refers in rows:
        own = set(refers)
        if all(referred.get(d, 0) == (1 if d in own else 0) for d in defines):
            return str(path)
    raise SystemExit("every article is referred to by another")


def raw_copy(source: str, target: str) -> dict[str, Any]:
    """COPY every row of `source` into the empty `target` in one transaction; return seconds and rows."""
    dumps: dict[str, bytes] = {}
    with psycopg.connect(source) as src:
        for table in reversed(ALL_TABLES):  # parents first
            columns = [c.name for c in table.columns if c.computed is None]
            statement = sql.SQL("COPY {} ({}) TO STDOUT").format(
                sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            with src.cursor() as cur, cur.copy(statement) as copy:
                dumps[table.name] = b"".join(bytes(chunk) for chunk in copy)
    started = time.perf_counter()
    with psycopg.connect(target) as dst, dst.transaction(), dst.cursor() as cur:
        for table in reversed(ALL_TABLES):
            columns = [c.name for c in table.columns if c.computed is None]
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            with cur.copy(statement) as copy:
                copy.write(dumps[table.name])
    return {
        "wall_s": round(time.perf_counter() - started, 3),
        "bytes": sum(map(len, dumps.values())),
        "load_1min": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seed_speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=[s for s in SIZES if s != "L"], default="S")
    parser.add_argument("--corpus", type=Path, help="corpus directory (written there when missing)")
    parser.add_argument("--server", default=DEFAULT_SERVER, help="a server where scratch databases may be created")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)

    with contextlib.ExitStack() as stack:
        corpus = args.corpus
        if corpus is None:
            corpus = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="seed-speed-"))) / "corpus"
        if not (corpus / "places.yaml").exists():
            print(f"writing the {args.size} corpus to {corpus} ...", file=sys.stderr, flush=True)
            write_corpus_dir(synthesize(args.size), corpus)
        aside = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="seed-speed-aside-")))
        url = stack.enter_context(scratch_database(args.server, f"seed_speed_{args.size.lower()}"))
        results: dict[str, Any] = {"size": args.size, "articles": SIZES[args.size].articles}

        results["first load"] = run_seed(url, corpus)
        total = rows_in(url)
        results["rows"] = total
        results["no-op"] = run_seed(url, corpus)
        victim = corpus / unreferenced_article(url)
        moved = [victim, victim.with_suffix(".txt")]
        for path in moved:
            shutil.move(path, aside / path.name)
        try:
            results["one removed"] = run_seed(url, corpus)
        finally:
            for path in moved:
                shutil.move(aside / path.name, path)
        results["one added"] = run_seed(url, corpus)
        results["--full"] = run_seed(url, corpus, "--full")
        limit_db = stack.enter_context(scratch_database(args.server, f"seed_speed_{args.size.lower()}_copy"))
        results["raw COPY"] = raw_copy(url, limit_db)

    first = results["first load"]["wall_s"]
    print(f"size {args.size}: {results['articles']:,} articles, {total:,} rows")
    print(f"{'run':<14}{'wall s':>9}{'rows/s':>11}{'seed CPU s':>12}{'of first load':>15}{'load (1 min)':>14}")
    for name in ("first load", "no-op", "one removed", "one added", "--full", "raw COPY"):
        r = results[name]
        rate = f"{total / r['wall_s']:,.0f}" if name in ("first load", "--full", "raw COPY") else ""
        cpu = f"{r['cpu_s']:.2f}" if "cpu_s" in r else ""
        print(f"{name:<14}{r['wall_s']:>9.2f}{rate:>11}{cpu:>12}{r['wall_s'] / first:>14.1%}{r['load_1min']:>14.2f}")
    print(f"machine: {os.cpu_count()} CPUs; load (1 min) is the machine's, other work included")
    for name in ("first load", "no-op", "one removed", "one added"):
        print(f"\n{name}:")
        for line in results[name]["lines"]:
            print(f"  {line}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
