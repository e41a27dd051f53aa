"""Small helpers shared by tests."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
from sqlalchemy import ClauseElement, Connection, func, select, text

from app.queries import search
from app.seed.load import ALL_TABLES
from tests.servers import ROOT as ROOT  # re-exported: many tests import it from here
from tests.servers import TRADEGRAPH as TRADEGRAPH


def snapshot(conn: Connection) -> dict[str, list[tuple[object, ...]]]:
    """Return every row of every table as (id-ish key, xmin, md5 of the row), sorted."""
    out: dict[str, list[tuple[object, ...]]] = {}
    for table in ALL_TABLES:
        rows = conn.execute(text(f"SELECT xmin::text, md5(t::text) FROM {table.name} t ORDER BY 2")).all()
        out[table.name] = [tuple(r) for r in rows]
    return out


def run_cli(*args: str, database_url: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the real `tradegraph` command against `database_url`; return its result."""
    environ = {**os.environ, "DATABASE_URL": database_url, **env}
    return subprocess.run(
        [str(TRADEGRAPH), *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=timeout
    )


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _decoded(raw: bytes | str) -> str:
    """`raw` with the strings of any JSON in it unescaped."""
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
    try:
        return text + "\n" + "\n".join(_strings(json.loads(text)))
    except ValueError:
        return text


def shown(response: httpx.Response) -> str:
    """Everything the response shows a client, JSON strings unescaped."""
    return _decoded(response.content)


def sent(response: httpx.Response) -> str:
    """Everything the request sent, URL and JSON strings decoded."""
    return urllib.parse.unquote_plus(str(response.request.url)) + "\n" + _decoded(response.request.content)


def executed_plan(conn: Connection, stmt: ClauseElement) -> list[dict[str, Any]]:
    """Return every node of the plan `stmt` ran with (EXPLAIN ANALYZE), depth first."""
    compiled = stmt.compile(dialect=conn.dialect)
    [plan] = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + str(compiled), compiled.params).scalar_one()

    def nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
        return [node, *(n for child in node.get("Plans", ()) for n in nodes(child))]

    return nodes(plan["Plan"])


def search_matches_newest_first(conn: Connection, word: str) -> list[int]:
    """Return the ids of the articles a search for `word` matches, newest first."""
    ids = [i for (i,) in conn.execute(search.matches_query(word))]
    order = text("SELECT id FROM articles WHERE id = ANY(:ids) ORDER BY published_on DESC NULLS LAST, id DESC")
    return [i for (i,) in conn.execute(order, {"ids": ids})]


def a_word_naming_no_entity(conn: Connection) -> tuple[str, int]:
    """Return a word of several articles' text that names no organisation, place or person, and its matches."""
    lexemes = conn.execute(text("SELECT word FROM ts_stat('SELECT search FROM articles') WHERE ndoc > 3 ORDER BY word"))
    for (word,) in lexemes:
        if not word.isalpha():
            continue
        named = select(func.count()).select_from(search._entities_named(search._tsquery(word)))
        if conn.execute(named).scalar_one() == 0 and (matches := len(search_matches_newest_first(conn, word))) > 3:
            return word, matches
    raise AssertionError("no such word in the corpus")
