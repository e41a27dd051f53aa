"""The seed on the project's corpus: counts, exact values, provenance, idempotence, locking."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from app.cli import _exit_on_sigterm
from app.config import SEEDS_DIR
from app.seed.corpus import build_corpus
from app.seed.pipeline import seed
from tests.conftest import engine_for
from tests.helpers import ROOT, TRADEGRAPH, snapshot

CORPUS = build_corpus([SEEDS_DIR])


def _count(conn: Connection, table: str) -> int:
    return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_every_annotated_entity_is_stored(conn: Connection) -> None:
    assert _count(conn, "articles") == len(CORPUS.articles) == 5
    assert _count(conn, "places") == len(CORPUS.places)
    assert _count(conn, "organisations") == len(CORPUS.organisations)
    assert _count(conn, "people") == len(CORPUS.people)
    assert _count(conn, "trade_figures") == len(CORPUS.figures)
    assert _count(conn, "events") == len(CORPUS.events)
    # evidence: every annotated quote, plus the stated-conversion passages not already cited, as
    # `seed --check` counts them
    assert _count(conn, "evidence") == len(CORPUS.written_evidence()) > len(CORPUS.evidence)


def test_article_bodies_are_verbatim(conn: Connection) -> None:
    for source_file, body, sha in conn.execute(text("SELECT source_file, body, body_sha256 FROM articles")):
        raw = (SEEDS_DIR.parent / source_file).read_bytes()
        assert body == raw.decode("utf-8")
        assert len(sha) == 64


def test_every_stored_quote_equals_its_span(conn: Connection) -> None:
    rows = conn.execute(
        text(
            "SELECT e.quote, e.start_offset, e.end_offset, a.body"
            " FROM evidence e JOIN articles a ON a.id = e.article_id"
        )
    ).all()
    assert rows
    for quote, start, end, body in rows:
        assert body[start:end] == quote


def test_every_figure_and_event_has_evidence(conn: Connection) -> None:
    for table, column in (("trade_figures", "trade_figure_id"), ("events", "event_id")):
        missing = conn.execute(
            text(f"SELECT slug FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM evidence e WHERE e.{column} = t.id)")
        ).all()
        assert missing == []


def test_liaoning_exports_first_nine_months_of_2023(conn: Connection) -> None:
    row = conn.execute(
        text(
            """SELECT f.amount, f.currency, f.period_start, f.period_end, f.change_pct, f.flow,
                      r.code AS reporter, p.code AS partner
                 FROM trade_figures f JOIN places r ON r.id = f.reporter_id
                 LEFT JOIN places p ON p.id = f.partner_id
                WHERE f.amount = 42640000000"""
        )
    ).one()
    assert (row.currency, row.flow, row.reporter, row.partner) == ("CNY", "export", "CN-LN", "RU")
    assert (row.period_start.isoformat(), row.period_end.isoformat()) == ("2023-01-01", "2023-09-30")
    assert row.change_pct == Decimal("82.3")


def test_stated_and_computed_conversions(conn: Connection) -> None:
    rows = {
        (r.kind, r.to_currency): r
        for r in conn.execute(
            text(
                """SELECT c.* FROM currency_conversions c JOIN trade_figures f ON f.id = c.trade_figure_id
                    WHERE f.amount = 42640000000"""
            )
        )
    }
    stated = rows[("stated", "USD")]
    assert stated.amount == Decimal("5830000000")
    assert stated.rate == (Decimal("5.83") / Decimal("42.64")).quantize(Decimal("0.0000000001"))
    assert stated.evidence_id is not None
    computed = rows[("computed", "USD")]
    assert "ECB" in computed.source
    assert computed.rate_date.isoformat() == "2023-09-30"
    # the ECB's mean CNY->USD rate over Jan-Sep 2023 was about 0.14; the article implies 0.137
    assert Decimal("0.13") < computed.rate < Decimal("0.15")


def test_money_in_usd_needs_no_usd_conversion(conn: Connection) -> None:
    usd_to_usd = conn.execute(
        text("SELECT count(*) FROM currency_conversions WHERE from_currency = 'USD' AND to_currency = 'USD'")
    ).scalar_one()
    assert usd_to_usd == 0


def test_quantity_figures_keep_their_unit(conn: Connection) -> None:
    units = {r[0] for r in conn.execute(text("SELECT unit FROM trade_figures WHERE quantity IS NOT NULL"))}
    assert {"tonne", "container"} <= units


def test_places_form_a_hierarchy(conn: Connection) -> None:
    chain = (
        conn.execute(
            text(
                """WITH RECURSIVE up AS (
                   SELECT id, slug, parent_id, 0 AS depth FROM places WHERE name = 'Shenyang'
                   UNION ALL SELECT p.id, p.slug, p.parent_id, up.depth + 1
                               FROM places p JOIN up ON p.id = up.parent_id)
               SELECT slug FROM up ORDER BY depth"""
            )
        )
        .scalars()
        .all()
    )
    codes = (
        conn.execute(text("SELECT code FROM places WHERE slug = ANY(:s) ORDER BY code"), {"s": chain}).scalars().all()
    )
    assert len(chain) == 3
    assert [c for c in codes if c] == ["CN", "CN-LN"]


def test_near_duplicate_is_linked_with_score_and_method(conn: Connection) -> None:
    rows = conn.execute(
        text(
            """SELECT a.source_file, o.source_file AS original, a.duplicate_score, a.duplicate_method
                 FROM articles a JOIN articles o ON o.id = a.duplicate_of_id"""
        )
    ).all()
    assert len(rows) == 1
    dup = rows[0]
    assert dup.source_file.endswith("000_604652380a500ec8.txt")
    assert dup.original.endswith("001_9e9e9a3b68303abd.txt")
    assert Decimal("0.25") <= dup.duplicate_score <= 1
    assert "shingle" in dup.duplicate_method


def test_database_refuses_evidence_that_is_not_the_article_text(conn: Connection) -> None:
    article_id, place_id = conn.execute(
        text("SELECT (SELECT min(id) FROM articles), (SELECT min(id) FROM places)")
    ).one()
    with pytest.raises(IntegrityError, match="evidence quote does not match"), conn.begin_nested():
        conn.execute(
            text(
                "INSERT INTO evidence (article_id, quote, start_offset, end_offset, place_id)"
                " VALUES (:a, 'Xxxxx', 0, 5, :p)"
            ),
            {"a": article_id, "p": place_id},
        )


def test_database_refuses_an_article_edit_that_breaks_evidence(conn: Connection) -> None:
    article_id = conn.execute(text("SELECT article_id FROM evidence WHERE start_offset > 0 LIMIT 1")).scalar_one()
    with pytest.raises(IntegrityError), conn.begin_nested():
        conn.execute(
            text(
                """UPDATE articles SET body = 'X' || body,
                       body_sha256 = encode(sha256(convert_to('X' || body, 'UTF8')), 'hex') WHERE id = :id"""
            ),
            {"id": article_id},
        )


def test_database_refuses_a_body_that_does_not_match_its_hash(conn: Connection) -> None:
    with pytest.raises(IntegrityError, match="body_sha256"), conn.begin_nested():
        conn.execute(
            text("UPDATE articles SET body_sha256 = repeat('0', 64) WHERE id = (SELECT min(id) FROM articles)")
        )


def test_seeding_twice_changes_no_row(fresh_database: Callable[..., str]) -> None:
    url = fresh_database(seeded=True)
    with engine_for(url) as engine:
        with engine.connect() as c:
            before = snapshot(c)
        summary = seed(engine, [SEEDS_DIR])
        with engine.connect() as c:
            after = snapshot(c)
        # and with every file read again, every row compared
        full = seed(engine, [SEEDS_DIR], full=True)
        with engine.connect() as c:
            after_full = snapshot(c)
    assert summary.changed == 0
    assert summary.read_files == 0 and summary.skipped_files > 0  # not a file changed: none read
    assert full.changed == 0
    assert full.skipped_files == 0 and sum(t.unchanged for t in full.tables.values()) > 0
    assert after == before == after_full  # same rows, same xmin: not even rewritten


def test_reset_reloads_from_scratch(fresh_database: Callable[..., str]) -> None:
    url = fresh_database(seeded=True)
    with engine_for(url) as engine:
        with engine.begin() as c:
            c.execute(text("UPDATE places SET note = 'edited by hand' WHERE id = (SELECT min(id) FROM places)"))
        summary = seed(engine, [SEEDS_DIR], reset_first=True)
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM places WHERE note = 'edited by hand'")).scalar_one() == 0
            assert c.execute(text("SELECT min(id) FROM articles")).scalar_one() == 1
    assert summary.reset_rows > 0
    assert sum(t.updated + t.unchanged for t in summary.tables.values()) == 0


def test_a_full_seed_repairs_a_hand_edit(fresh_database: Callable[..., str]) -> None:
    url = fresh_database(seeded=True)
    with engine_for(url) as engine:
        with engine.begin() as c:
            c.execute(text("UPDATE places SET name = 'Wrong' WHERE slug = 'shenyang'"))
        # no file changed: nothing is read, so an edit of the database that no file reveals stays
        unchanged = seed(engine, [SEEDS_DIR])
        with engine.connect() as c:
            assert c.execute(text("SELECT name FROM places WHERE slug = 'shenyang'")).scalar_one() == "Wrong"
        summary = seed(engine, [SEEDS_DIR], full=True)
        with engine.connect() as c:
            assert c.execute(text("SELECT name FROM places WHERE slug = 'shenyang'")).scalar_one() == "Shenyang"
    assert unchanged.changed == 0 and unchanged.read_files == 0
    assert summary.tables["places"].updated == 1
    assert summary.changed == 1


def test_two_concurrent_seeds_equal_one(fresh_database: Callable[..., str]) -> None:
    url = fresh_database()
    procs = [
        subprocess.Popen(
            [str(TRADEGRAPH), "seed"],
            env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    single = fresh_database(seeded=True)
    with engine_for(url) as a, engine_for(single) as b, a.connect() as ca, b.connect() as cb:
        for table in ("places", "articles", "trade_figures", "events", "evidence", "currency_conversions"):
            assert _count(ca, table) == _count(cb, table), table
        slugs = "SELECT slug, id FROM trade_figures ORDER BY slug"
        assert ca.execute(text(slugs)).all() == cb.execute(text(slugs)).all()
    # one of them ran first; the other found everything in place
    assert sum("nothing changed" in out for out, _ in outputs) == 1


@pytest.mark.parametrize("written", ["12345678901234567.89", "&n 12345678901234567.89"])  # fast reader, composer
def test_a_number_with_a_fraction_is_stored_as_written(
    written: str, tmp_path: Path, fresh_database: Callable[..., str]
) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "tests" / "bad_corpus" / "valid", corpus)
    path = corpus / "tiny.yaml"
    path.write_text(path.read_text().replace("amount: 5000000000,", f"amount: {written},"))
    [figure] = build_corpus([corpus]).figures.values()
    assert figure.amount is not None
    # read as a binary float, it was 12345678901234568: stored so, silently
    assert figure.amount.amount == Decimal("12345678901234567.89")
    with engine_for(fresh_database()) as engine:
        seed(engine, [corpus])
        with engine.connect() as c:
            stored = c.execute(text("SELECT amount::text FROM trade_figures")).scalar_one()
    assert stored == "12345678901234567.89"


def test_money_in_a_currency_the_ecb_does_not_quote_is_stored_without_computed_conversions(
    tmp_path: Path, fresh_database: Callable[..., str]
) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "tests" / "bad_corpus" / "valid", corpus)
    path = corpus / "tiny.yaml"
    path.write_text(path.read_text().replace("currency: CNY", "currency: KWD"))  # ISO 4217; no ECB rate
    build_corpus([corpus])
    with engine_for(fresh_database()) as engine:
        seed(engine, [corpus])  # (it once failed: "KWD is not a supported currency")
        with engine.connect() as c:
            assert c.execute(text("SELECT amount, currency FROM trade_figures")).one() == (Decimal(5000000000), "KWD")
            assert _count(c, "currency_conversions") == 0


def test_an_interrupt_as_a_copy_starts_leaves_the_database_as_it_was(
    fresh_database: Callable[..., str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # SIGTERM lands while psycopg starts a COPY, once the server has entered COPY mode (as it did
    # ~0.85 s into `tradegraph seed --reset`): no COPY object exists yet to end it, and the ROLLBACK
    # sent on that connection failed ("another command is already in progress"), logged as an
    # error, the interrupt lost
    url = fresh_database(seeded=True)
    real_start = psycopg.Cursor._start_copy_gen

    def start_then_sigterm(cur: psycopg.Cursor[Any], statement: Any, params: Any = None) -> Any:
        yield from real_start(cur, statement, params)  # the server waits for rows now
        if 'COPY "evidence"' in statement.as_string(cur.connection):
            os.kill(os.getpid(), signal.SIGTERM)  # its handler raises at the next line, inside psycopg's wait

    monkeypatch.setattr(psycopg.Cursor, "_start_copy_gen", start_then_sigterm)
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)  # the command's own handler
    try:
        with engine_for(url) as engine:
            with engine.connect() as c:
                before = snapshot(c)
            with pytest.raises(SystemExit) as stopped:
                seed(engine, [SEEDS_DIR], reset_first=True)
            with engine.connect() as c:  # a working connection from the pool, and every row as it was
                c.execute(text("SET lock_timeout = '10s'"))  # (a seed still holding its locks: an error)
                assert snapshot(c) == before
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert stopped.value.code == 128 + signal.SIGTERM
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


def _wait_for_a_copy_waiting_on_a_lock(url: str, table: str, timeout: float = 60) -> None:
    """Return once the seed's session waits for a lock in its COPY into `table`."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as watch:
        while time.monotonic() < deadline:
            waiting = watch.execute(
                "SELECT 1 FROM pg_stat_activity WHERE application_name = 'tradegraph-seed'"
                " AND wait_event_type = 'Lock' AND query LIKE %s",
                (f'COPY "{table}"%',),
            ).fetchone()
            if waiting:
                return
            time.sleep(0.05)
    pytest.fail(f"the seed never waited in its COPY into {table}")


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_seed_stopped_during_a_copy_says_nothing_was_written(
    signum: int, code: int, fresh_database: Callable[..., str]
) -> None:
    url = fresh_database()
    with psycopg.connect(url) as lock:
        # the seed's COPY into evidence waits for this lock: the signal arrives during that COPY
        lock.execute("LOCK TABLE evidence IN SHARE MODE")
        proc = subprocess.Popen(
            [str(TRADEGRAPH), "seed"],
            env={**os.environ, "DATABASE_URL": url},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _wait_for_a_copy_waiting_on_a_lock(url, "evidence")
            proc.send_signal(signum)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == code, out + err
    assert "error: interrupted, nothing was written" in err
    assert "Traceback" not in out + err and "Exception" not in out + err
    with engine_for(url) as engine, engine.connect() as c:
        for table in ("places", "articles", "trade_figures", "evidence", "seed_manifest"):
            assert _count(c, table) == 0, table
