"""The benchmark's own checks: the synthetic corpus loads the same through both load paths.

The seed pipeline (YAML files, validation, row-by-row sync) and the bulk COPY path must store the
same rows for the same generator seed. `bench/run.py --quick` runs end to end only when
TRADEGRAPH_BENCH_SMOKE=1 (it starts servers and takes a few minutes); no timing is asserted.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from app.models import metadata
from app.seed import format as fmt
from app.seed.bulk import ArticleSource, EvidenceMismatch, bulk_load
from app.seed.load import ALL_TABLES
from app.seed.pipeline import seed
from bench.generate import bulk_sources, synthesize, write_corpus_dir
from tests import servers
from tests.conftest import engine_for

ROOT = Path(__file__).resolve().parent.parent


def _expression(table: str, column: Any) -> str:
    """SQL for one column with ids replaced by natural keys, so two loads can be compared."""
    name = column.name
    fks = list(column.foreign_keys)
    if fks:
        target = fks[0].column.table.name
        if target == "evidence":
            return (
                f"(SELECT a.slug || ':' || e.start_offset || ':' || e.end_offset FROM evidence e"
                f" JOIN articles a ON a.id = e.article_id WHERE e.id = t.{name})"
            )
        return f"(SELECT r.slug FROM {target} r WHERE r.id = t.{name})"
    if name == "source_file":
        return "regexp_replace(t.source_file, '^.*/', '')"  # where the files were differs
    return f"t.{name}::text"


def canonical(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Return every row of every table with surrogate ids replaced by what they point at."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with psycopg.connect(url) as conn:
        for table in ALL_TABLES:
            cols = [c for c in metadata.tables[table.name].columns if c.name != "id"]
            select = ", ".join(_expression(table.name, c) for c in cols)
            rows = conn.execute(f"SELECT {select} FROM {table.name} t").fetchall()  # names from the models
            out[table.name] = sorted(rows, key=repr)
    return out


def test_generator_is_deterministic() -> None:
    first = [(a.stem, a.body, a.annotation) for a in synthesize("T").articles()]
    second = [(a.stem, a.body, a.annotation) for a in synthesize("T").articles()]
    assert first == second
    assert synthesize("T").registries.places == synthesize("T").registries.places
    assert any(a.duplicate for a in synthesize("T").articles()), "the tiny size plants a near-duplicate"


@pytest.mark.parametrize(
    ("fast", "chunk"),
    [(True, 500), (False, 500), (True, 2), (False, 3)],
    ids=["deferred-constraints", "row-by-row-checks", "deferred-constraints-small-chunks", "row-by-row-small-chunks"],
)
def test_seed_and_bulk_paths_store_the_same_rows(
    fresh_database: Callable[..., str], tmp_path: Path, fast: bool, chunk: int
) -> None:
    corpus = synthesize("T")
    via_seed, via_bulk = fresh_database(), fresh_database()
    write_corpus_dir(corpus, tmp_path / "corpus")
    with engine_for(via_seed) as engine:
        seed(engine, [tmp_path / "corpus"])
    with psycopg.connect(via_bulk) as conn:
        report = bulk_load(
            conn,
            **bulk_sources(synthesize("T")),
            defer_constraints=fast,
            verify_evidence_in_sql=fast,
            chunk_articles=chunk,
        )
    seeded, bulked = canonical(via_seed), canonical(via_bulk)
    assert report.rows == {name: len(rows) for name, rows in bulked.items() if name in report.rows}
    for table in seeded:
        assert seeded[table] == bulked[table], f"{table} differs between the two load paths"
    assert len(seeded["articles"]) == 12
    duplicate_of = [c.name for c in metadata.tables["articles"].columns if c.name != "id"].index("duplicate_of_id")
    assert any(row[duplicate_of] is not None for row in seeded["articles"]), "a near-duplicate was detected"
    # a second bulk load of the same slugs is refused whole (it is an insert-only path)
    with psycopg.connect(via_bulk) as conn, pytest.raises(psycopg.errors.UniqueViolation):
        bulk_load(conn, **bulk_sources(synthesize("T")))
    assert canonical(via_bulk) == bulked


def test_bulk_refuses_evidence_that_is_not_the_text(fresh_database: Callable[..., str]) -> None:
    url = fresh_database()
    sources = bulk_sources(synthesize("T"))
    first: ArticleSource = next(sources["articles"])
    figure = first.annotation.trade_figures[0]
    assert isinstance(figure, fmt.TradeFigure)
    moved = fmt.Quote(quote=figure.evidence[0].quote, start=(figure.evidence[0].start or 0) + 1)
    bad_figure = figure.model_copy(update={"evidence": [moved]})
    annotation = first.annotation.model_copy(update={"trade_figures": [bad_figure]})
    sources["articles"] = iter([dataclasses.replace(first, annotation=annotation)])
    with psycopg.connect(url) as conn, pytest.raises(EvidenceMismatch):
        bulk_load(conn, **sources)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM places").fetchone() == (0,)
        # the trigger is back on: the database itself refuses such a row again
        trigger = conn.execute(
            "SELECT tgenabled FROM pg_trigger WHERE tgname = 'evidence_quote_matches_body'"
        ).fetchone()
        assert trigger == ("O",)


@pytest.mark.parametrize("shift", [1, -1, 1000], ids=["one-later", "one-earlier", "past-the-end"])
def test_bulk_refuses_bad_evidence_in_a_later_chunk(fresh_database: Callable[..., str], shift: int) -> None:
    """The evidence check runs per chunk of articles: a bad quote in the last chunk fails the whole load."""
    url = fresh_database()
    sources = bulk_sources(synthesize("T"))
    articles: list[ArticleSource] = list(sources["articles"])
    last = articles[-1]
    mention = last.annotation.mentions[-1]
    quote = mention.evidence[0]
    moved = fmt.Quote(quote=quote.quote, start=(quote.start or 0) + shift)
    bad = mention.model_copy(update={"evidence": [moved]})
    annotation = last.annotation.model_copy(update={"mentions": [*last.annotation.mentions[:-1], bad]})
    sources["articles"] = iter([*articles[:-1], dataclasses.replace(last, annotation=annotation)])
    with psycopg.connect(url) as conn, pytest.raises(EvidenceMismatch):
        bulk_load(conn, **sources, chunk_articles=2)
    with psycopg.connect(url) as conn:
        for table in ("places", "articles", "evidence"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
        trigger = conn.execute(
            "SELECT tgenabled FROM pg_trigger WHERE tgname = 'evidence_quote_matches_body'"
        ).fetchone()
        assert trigger == ("O",)


def test_bulk_load_failing_while_preparing_rows_writes_nothing(fresh_database: Callable[..., str]) -> None:
    """An error in the article stream (after chunks were already written) rolls everything back."""
    url = fresh_database()
    sources = bulk_sources(synthesize("T"))
    originals = sources["articles"]

    def articles() -> Any:
        for n, article in enumerate(originals):
            if n == 7:
                raise RuntimeError("the source broke")
            yield article

    sources["articles"] = articles()
    with psycopg.connect(url) as conn, pytest.raises(RuntimeError, match="the source broke"):
        bulk_load(conn, **sources, chunk_articles=2)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone() == (0,)
        assert conn.execute(
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_evidence_article_id'"
        ).fetchone() == (1,)


@pytest.mark.skipif(os.environ.get("TRADEGRAPH_BENCH_SMOKE") != "1", reason="set TRADEGRAPH_BENCH_SMOKE=1 to run")
def test_bench_quick_run_prints_every_operation(server_url: str, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    database = make_url(server_url).set(database="tg_bench_smoke").render_as_string(hide_password=False)
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--database-url", database, "--json", str(out), "--drop"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    operations = sorted(p.stem for p in (ROOT / "schema" / "operations").glob("*.graphql"))
    operations += sorted(p.stem for p in (ROOT / "bench" / "operations").glob("*.graphql"))
    for name in operations:
        assert name in result.stdout, f"{name} missing from the table"
    assert out.exists()


def test_serve_with_two_workers_answers_and_stops(fresh_database: Callable[..., str], tmp_path: Path) -> None:
    """`tradegraph serve --workers 2` (the benchmark's second configuration) serves, then stops on SIGTERM."""
    import httpx

    url = fresh_database(seeded=True)
    env = {**os.environ, "DATABASE_URL": url, "EXPOSE_STATEMENT_COUNT": "true", "LOG_LEVEL": "warning"}
    env.pop("API_DATABASE_URL", None)
    with servers.serving(env, logs=tmp_path, args=("--workers", "2"), ready="/healthz", timeout=120) as served:
        answers = [
            httpx.post(f"{served.base}/graphql", json={"query": "{ articles(first: 1) { totalCount } }"})
            for _ in range(4)
        ]
        assert all(a.status_code == 200 and a.json()["data"]["articles"]["totalCount"] == 5 for a in answers)
    assert served.proc.returncode == 0, served.output()
    assert "with 2 workers" in served.output()


def test_plans_explain_every_compiled_operation(fresh_database: Callable[..., str], tmp_path: Path) -> None:
    from bench import plans, report

    url = fresh_database()
    with psycopg.connect(url) as conn:
        bulk_load(conn, **bulk_sources(synthesize("T")))
        conn.execute("ANALYZE")
    out = tmp_path / "plans.json"
    assert plans.main(["--database-url", url, "--size", "T", "--large", "50", "--json", str(out)]) == 0
    explained = json.loads(out.read_text())
    operations = {p.stem for p in (ROOT / "schema" / "operations").glob("*.graphql")}
    operations |= {p.stem for p in (ROOT / "bench" / "operations").glob("*.graphql")}
    assert set(explained["operations"]) == operations
    for name, result in explained["operations"].items():
        assert result["compiled"], name
        assert result["execution_ms"] > 0 and result["shared_buffers"] > 0, name
        # a scan is large by the table's size: those listed are the scans of tables of >= 50 rows
        for scan in result["seq_scans"]:
            assert (scan["table"] in result["large_seq_scans"]) == (scan["rows"] >= 50), (name, scan)
    table = "\n".join(report.plans([explained]))
    assert "| operation | T exec ms | T buffers | T large seq scans |" in table
    assert all(f"| {name} | " in table for name in operations)


def test_report_compares_p95_across_sizes() -> None:
    from bench.report import scaling

    def run(size: str, cells: list[tuple[str, str, int, float | None]]) -> dict[str, Any]:
        return {
            "size": size,
            "cells": [
                {"operation": op, "target": t, "concurrency": c, "median": {} if p95 is None else {"p95_ms": p95}}
                for op, t, c, p95 in cells
            ],
        }

    small = run("S", [("ArticleList", "tradegraph x1", 1, 4.0), ("ArticleList", "limit x1", 1, 1.0)])
    large = run("L", [("ArticleList", "tradegraph x1", 1, 5.0), ("ArticleList", "tradegraph x1", 32, 90.0)])
    older = run("M", [("ArticleList", "tradegraph x1", 1, None)])  # a run from before p95 was measured
    table = "\n".join(scaling([large, older, small]))
    assert "| operation | S | L | L ÷ S |" in table
    assert "| ArticleList | 4.0 | 5.0 | 1.25 |" in table
    assert scaling([small]) == []


def test_report_marks_the_throughput_targets() -> None:
    from bench.report import targets

    def cell(op: str, target: str, conns: int, rps: float) -> dict[str, Any]:
        return {"operation": op, "target": target, "concurrency": conns, "median": {"rps": rps}}

    names = ["tradegraph x1", "tradegraph x2", "limit x1", "limit x2", "postgraphile x1", "postgraphile x2"]
    run = {
        "size": "S",
        "operations": [{"name": "A"}, {"name": "B"}],
        "targets": [{"name": n, "kind": n.split()[0]} for n in names],
        "cells": [
            # A: 1.5 x PostGraphile everywhere; 0.6 x the limit with two workers at c=32 only
            *(cell("A", f"tradegraph x{w}", c, 60) for w, c in ((1, 1), (1, 32), (2, 32))),
            *(cell("A", f"postgraphile x{w}", c, 40) for w, c in ((1, 1), (1, 32), (2, 32))),
            cell("A", "limit x1", 1, 50),
            cell("A", "limit x1", 32, 50),
            cell("A", "limit x2", 32, 100),
            # B: only c=1 measured (no request completed at c=32)
            cell("B", "tradegraph x1", 1, 10),
            cell("B", "postgraphile x1", 1, 10),
            cell("B", "limit x1", 1, 20),
        ],
    }
    table = "\n".join(targets([run]))
    assert "| A | 1.50 ✓ | 0.60 ✗ |" in table
    assert "| B | 1.00 ✓ | 0.50 ✗ |" in table
    assert targets([{**run, "targets": [{"name": "tradegraph x1", "kind": "tradegraph"}]}]) == []


def test_report_tells_two_runs_of_one_size_apart_by_their_files() -> None:
    from bench.report import targets

    def run(path: str) -> dict[str, Any]:
        return {
            "size": "S",
            "_path": path,
            "operations": [{"name": "A"}],
            "targets": [{"name": "limit x1", "kind": "limit"}],
            "cells": [],
        }

    header = targets([run("bench/results/S.json"), run("bench/results/same-sql-S.json")])[5]
    assert "| S ÷ postgraphile | S ÷ limit | S (same-sql-S) ÷ postgraphile | S (same-sql-S) ÷ limit |" in header
    assert "| S ÷ postgraphile | S ÷ limit |" in targets([run("bench/results/same-sql-S.json")])[5]


def test_report_compares_with_postgraphile_v5_where_measured() -> None:
    from bench.report import tables, targets

    def cell(target: str, conns: int, rps: float) -> dict[str, Any]:
        return {"operation": "A", "target": target, "concurrency": conns, "median": {"rps": rps}}

    names = ["tradegraph x1", "limit x1", "postgraphile x1", "postgraphile5 x1"]
    run = {
        "size": "S",
        "seconds": 1,
        "rounds": [],
        "operations": [{"name": "A"}],
        "targets": [{"name": n, "kind": n.split()[0]} for n in names],
        "cells": [
            cell("tradegraph x1", 1, 60),
            cell("limit x1", 1, 60),
            cell("postgraphile x1", 1, 40),
            cell("postgraphile5 x1", 1, 120),
        ],
        "checks": {},
        "statements": {"A": {"postgraphile5": 3}},
    }
    table = "\n".join(targets([run]))
    assert "S ÷ postgraphile | S ÷ postgraphile5 | S ÷ limit |" in table
    assert "| A | 1.50 ✓ | 0.50 ✗ | 1.00 ✓ |" in table
    assert "| A | postgraphile5 x1 | 3 |" in tables(run)
    assert "tradegraph x1 ÷ postgraphile5 x1 c=1" in tables(run)
