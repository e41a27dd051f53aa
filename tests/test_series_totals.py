"""The series' rollup: what the writers keep equals the series computed from the figures.

After seeds that add, change and remove figures (the row-by-row path), after a bulk load, and
after a write outside the seed, trade_series_totals, _kept and _covers (and trade_figure_counts)
equal a rebuild from scratch, and the points read from them — totals, counts, the figures each sums and leaves out,
and what covers each — equal tradeSeries computed figure by figure (series.points_query).
"""

from __future__ import annotations

import random
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Connection, text

from app.queries import series
from app.queries.figures import FigureFilter
from app.queries.series import Granularity
from app.seed.bulk import bulk_load
from app.seed.convert import TARGET_CURRENCIES
from app.seed.pipeline import seed
from bench.generate import bulk_sources, synthesize, write_corpus_dir
from tests.conftest import engine_for
from tests.test_article_pages import assert_pairs_hold
from tests.test_event_pages import assert_starts_hold
from tests.test_figure_counts import assert_counts_hold

TOTALS = "SELECT * FROM trade_series_totals ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9"


# the rollup: the totals, the figures each point sums, what covers each figure
ROLLUP = [
    TOTALS,
    "SELECT * FROM trade_series_kept ORDER BY 1, 2, 3, 4, 5, 6, 7, 8",
    "SELECT * FROM trade_series_covers ORDER BY 1, 2",
]


def _table_and_rebuild(conn: Connection) -> tuple[list[Any], list[Any]]:
    """Return the rollup's tables as kept, and as a rebuild of every period computes them (rolled back)."""
    kept = [list(conn.execute(text(q))) for q in ROLLUP]
    conn.execute(text("INSERT INTO trade_series_dirty VALUES ('-infinity', '-infinity')"))
    conn.execute(text("SELECT trade_series_refresh()"))
    rebuilt = [list(conn.execute(text(q))) for q in ROLLUP]
    conn.rollback()
    return kept, rebuilt


def _points(rows: Any) -> list[tuple[Any, ...]]:
    # (start, end, value or None when incomplete, complete)
    return [(r[0], r[1], None if r[3] else r[2], not r[3]) for r in rows]


def _check_pages(conn: Connection, where: FigureFilter, granularity: Granularity, currency: str) -> None:
    """Assert each point's figures read from the rollup (counts, kept, left out and covers) equal the figures'."""
    counts = {r[0]: (r[4], r[5]) for r in conn.execute(series.totals_query(where, granularity, currency))}
    for start, end, _total, kept, dropped, covering, _missing in conn.execute(
        series.points_query(where, granularity, currency)
    ):
        everything = 10**6
        pages = series.kept_page_query(where, granularity, start=start, limit=everything)
        assert [fid for (fid,) in conn.execute(pages)] == sorted(kept or []), (where, start)
        left_out = series.excluded_page_query(where, granularity, start=start, end=end, limit=everything)
        assert list(map(tuple, conn.execute(left_out))) == sorted(zip(dropped or [], covering or [], strict=True))
        assert counts[start] == (len(kept or []), len(kept or []) + len(dropped or []))
        first = series.kept_page_query(where, granularity, start=start, limit=2)
        assert [fid for (fid,) in conn.execute(first)] == sorted(kept or [])[:2]


def _check(conn: Connection, *, pairs: int = 12) -> int:
    """Assert the table equals its rebuild and the series from the figures; return the points compared."""
    kept, rebuilt = _table_and_rebuild(conn)
    assert all(kept), "the corpus has money figures, some covered: the rollup is not empty"
    assert kept == rebuilt
    assert conn.execute(text("SELECT count(*) FROM trade_series_dirty")).scalar_one() == 0
    assert_counts_hold(conn)  # the figure counts, kept by the same writers
    assert assert_pairs_hold(conn) > 0  # and the places of articles and events, by theirs
    assert_starts_hold(conn)
    # places the figures name, the places around them, and none
    slugs = [
        s
        for (s,) in conn.execute(
            text(
                "WITH RECURSIVE up (id) AS (SELECT reporter_id FROM trade_figures UNION SELECT partner_id "
                "FROM trade_figures WHERE partner_id IS NOT NULL UNION SELECT p.parent_id FROM places p "
                "JOIN up ON p.id = up.id WHERE p.parent_id IS NOT NULL) "
                "SELECT slug FROM places WHERE id IN (SELECT id FROM up) ORDER BY slug"
            )
        )
    ]
    refs: list[str | None] = [None, *slugs]
    draw = random.Random(20261202)
    chosen = [(None, None)] + [(draw.choice(refs), draw.choice(refs)) for _ in range(pairs)]
    compared = 0
    for reporter, partner in chosen:
        for subregions in (True, False):
            for granularity in Granularity:
                for currency in ("USD", "CNY"):
                    for statuses, reviews in (
                        (None, ("accepted",)),
                        (["estimate"], ("accepted",)),
                        (None, ("pending",)),
                    ):
                        where = FigureFilter(
                            reporter=reporter,
                            partner=partner,
                            include_subregions=subregions,
                            statuses=statuses,
                            reviews=reviews,
                        )
                        assert series.from_totals(where, currency)
                        from_totals = _points(conn.execute(series.totals_query(where, granularity, currency)))
                        from_figures = [
                            (r[0], r[1], r[2], r[6] is None)
                            for r in conn.execute(series.points_query(where, granularity, currency))
                        ]
                        assert from_totals == [(s, e, v if c else None, c) for s, e, v, c in from_figures], (
                            reporter,
                            partner,
                            subregions,
                            granularity,
                            currency,
                            statuses,
                            reviews,
                        )
                        if currency == "USD":  # (the figures of a point are those of every currency)
                            _check_pages(conn, where, granularity, currency)
                        compared += len(from_totals)
    return compared


def test_totals_follow_seeds_that_add_change_and_remove(fresh_database: Callable[..., str], tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_corpus_dir(synthesize("T"), corpus)
    annotations = sorted(corpus.glob("0*.yaml"))
    held = tmp_path / "held"
    held.mkdir()
    for yaml_file in annotations[8:]:
        for f in (yaml_file, yaml_file.with_suffix(".txt")):
            shutil.move(f, held / f.name)
    url = fresh_database()
    with engine_for(url) as engine:
        seed(engine, [corpus])
        with engine.connect() as c:
            assert _check(c) > 0
            before = c.execute(text(TOTALS)).all()

        for f in held.iterdir():  # add four articles
            shutil.move(f, corpus / f.name)
        seed(engine, [corpus])
        with engine.connect() as c:
            _check(c)
            assert c.execute(text(TOTALS)).all() != before

        # change: one figure's amount, another's status
        changed = annotations[2]
        body = changed.read_text(encoding="utf-8")
        amounts = re.findall(r"amount: '(\d+)'", body)
        body = body.replace(f"amount: '{amounts[0]}'", f"amount: '{int(amounts[0]) * 3}'", 1)
        body = body.replace("status: actual", "status: estimate", 1)
        body = body.replace("status: actual", "status: actual\n  review: pending", 1)
        changed.write_text(body, encoding="utf-8")
        summary = seed(engine, [corpus])
        assert summary.tables["trade_figures"].updated >= 1
        with engine.connect() as c:
            _check(c)

        with engine.connect() as c:
            figures = c.execute(text("SELECT count(*) FROM trade_figures")).scalar_one()
        for f in (annotations[-1], annotations[-1].with_suffix(".txt")):  # remove an article
            f.unlink()
        # the seed keeps rows of articles no longer in the corpus; --reset reloads without them
        seed(engine, [corpus], reset_first=True)
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM trade_figures")).scalar_one() < figures
            _check(c)


def test_totals_after_a_bulk_load_and_a_write_outside_the_seed(fresh_database: Callable[..., str]) -> None:
    url = fresh_database()
    with psycopg.connect(url) as conn:
        report = bulk_load(conn, **bulk_sources(synthesize("T")))
    assert "series totals" in report.phases
    with engine_for(url) as engine:
        with engine.connect() as c:
            _check(c, pairs=10)
        # a writer that does not call the refresh: the deferred trigger does, at its commit
        with engine.begin() as c:
            c.execute(
                text("UPDATE trade_figures SET amount = amount * 2 WHERE id IN (SELECT min(id) FROM trade_figures)")
            )
            c.execute(text("DELETE FROM trade_figures WHERE id = (SELECT max(id) FROM trade_figures)"))
            c.execute(text("UPDATE places SET parent_id = NULL WHERE id = (SELECT max(parent_id) FROM places)"))
        with engine.connect() as c:
            _check(c, pairs=10)
        # a part of a whole that restates an earlier total: both cover the part, the whole first
        with engine.begin() as c:
            c.execute(text(WHOLE_AND_PART))
        with engine.connect() as c:
            _check(c, pairs=10)
            later = (
                "SELECT count(*) FROM trade_series_covers c WHERE part_of "
                "AND y_id > (SELECT min(y_id) FROM trade_series_covers o WHERE o.x_id = c.x_id)"
            )
            assert c.execute(text(later)).scalar_one() >= 1, "a part whose whole is not its first cover by id"


_COPIED = (
    "reporter_id, partner_id, commodity, currency, quantity, unit, period_start, period_end, period_type, "
    "period_label, period_basis, period_inference, change_pct, change_multiple, change_basis, approximation, "
    "status, source_id, note, review"
)
WHOLE_AND_PART = f"""
WITH y AS (
    SELECT * FROM trade_figures
    WHERE flow = 'total' AND amount IS NOT NULL AND status = 'actual' AND review = 'accepted'
      AND period_start = date_trunc('year', period_start)
      AND period_end = (period_start + interval '1 year' - interval '1 day')::date
    ORDER BY id LIMIT 1
), whole AS (
    INSERT INTO trade_figures (slug, flow, amount, part_of_id, {_COPIED})
    SELECT slug || '-restated', flow, amount, NULL, {_COPIED} FROM y RETURNING id
)
INSERT INTO trade_figures (slug, flow, amount, part_of_id, {_COPIED})
SELECT slug || '-imports', 'import', amount / 2, (SELECT id FROM whole), {_COPIED} FROM y
"""


def test_totals_hold_the_currencies_the_seed_converts_into(conn: Connection) -> None:
    assert series.TOTALS_CURRENCIES == TARGET_CURRENCIES
    held = {c for (c,) in conn.execute(text("SELECT DISTINCT currency FROM trade_series_totals"))}
    assert held == set(TARGET_CURRENCIES)
