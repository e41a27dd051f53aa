"""Hostile values, work before execution, caches, lost connections, metrics labels, slow clients.

What an attacker's requests tried, each through the real app (or the real part it attacks) on a
real Postgres: values that once reached a 5xx or INTERNAL_SERVER_ERROR (cursors nesting JSON
thousands deep, runs of `-` in a search, a 240 KB filter text), small documents that expand into
megabytes of SQL, documents that fill the caches, backends terminated under a request, junk
operation names, and sockets that never finish a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from graphql import Lexer, Source, TokenKind
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError

from app.config import PROJECT_ROOT, Settings
from app.db import Reader, make_async_engine, positional
from app.errors import BadUserInput, DatabaseUnavailable
from app.graphql import plan_workers as planner_module
from app.graphql.compiler import PlanTooLarge, _Compiler
from app.graphql.executor import DOCUMENT_BYTES_PER_CHAR, Executor, RequestError
from app.graphql.limits import Limits
from app.graphql.schema import schema
from app.main import create_app
from app.observability import Metrics, known_operation_names
from app.roles import as_role
from tests import servers
from tests.hostile_documents import b64, big_document, connection_tree, single_object_tree
from tests.test_hostile import assert_spec_error, serving

JSON = "application/json"


@pytest.fixture(scope="module")
def client(seeded_url: str) -> Iterator[TestClient]:
    with serving(seeded_url, expose_statement_count=True) as (client, _):
        yield client


def answer(client: TestClient, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST; assert no 5xx and no INTERNAL_SERVER_ERROR; return the body."""
    response = client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code < 500, response.text
    assert response.headers["content-type"].startswith(JSON), response.headers
    body: dict[str, Any] = response.json()
    codes = {e["extensions"]["code"] for e in body.get("errors", [])}
    assert "INTERNAL_SERVER_ERROR" not in codes, body
    assert not codes & {"SERVICE_UNAVAILABLE", "DATABASE_UNAVAILABLE"}, body
    return body


def codes(body: dict[str, Any]) -> set[str]:
    return {e["extensions"]["code"] for e in body.get("errors", [])}


# --- hostile values ------------------------------------------------------------------------------------

NESTED_CURSORS = [
    pytest.param(b64(b"[" * 2000), id="2000 brackets"),
    pytest.param(b64(b"[" * 740), id="740 brackets (under the length cap)"),
    pytest.param(b64(b"[" * 700 + b"]" * 700), id="balanced nesting"),
    pytest.param(b64(b'{"a":' * 300 + b"1" + b"}" * 300), id="nested objects"),
    pytest.param("A" * 5000, id="long"),
    pytest.param(b64(b"offset:" + b"9" * 5000), id="huge offset"),
    pytest.param(b64(b"[" + b"1" * 5000 + b"]"), id="huge integer"),
]


@pytest.mark.parametrize("cursor", NESTED_CURSORS)
@pytest.mark.parametrize(
    "query",
    [
        "query($c: String) { articles(after: $c) { nodes { slug } } }",
        "query($c: String) { places(before: $c) { nodes { slug } } }",
        'query($c: String) { search(query: "trade", after: $c) { nodes { rank } } }',
        "query($c: String) { organisations(first: 2) { nodes { articles(after: $c) { totalCount } } } }",
    ],
)
def test_hostile_cursors_are_bad_user_input(client: TestClient, query: str, cursor: str) -> None:
    body = answer(client, query, {"c": cursor})
    assert codes(body) == {"BAD_USER_INPUT"}, body


@pytest.mark.parametrize(
    "node_id",
    [b64(b"Article:" + b"9" * 5000), "A" * 5000, b64(b"[" * 2000), b64("Place:١٢".encode()), b64(b"Place:-1")],
)
def test_hostile_ids_are_refused_or_null(client: TestClient, node_id: str) -> None:
    body = answer(client, "query($i: ID!) { node(id: $i) { id } nodes(ids: [$i, $i]) { id } }", {"i": node_id})
    assert codes(body) <= {"BAD_USER_INPUT"}, body


NODES = "query($i: [ID!]!) { nodes(ids: $i) { __typename } }"


@pytest.mark.parametrize("length", [101, 500, 1001, 5000, 50_000])
@pytest.mark.parametrize("written", ["variable", "literal"])
def test_an_over_long_id_is_an_error_at_its_own_index(client: TestClient, length: int, written: str) -> None:
    valid = answer(client, "{ articles(first: 1) { nodes { id } } }")["data"]["articles"]["nodes"][0]["id"]
    ids = [valid, "x" * length, valid]
    if written == "variable":
        body = answer(client, NODES, {"i": ids})
    else:
        body = answer(client, f"{{ nodes(ids: {json.dumps(ids)}) {{ __typename }} }}")
    # as any malformed id (README: the one rule): null in its place, the others answer
    assert body["data"]["nodes"] == [{"__typename": "Article"}, None, {"__typename": "Article"}], body
    (error,) = body["errors"]
    assert error["path"] == ["nodes", 1] and error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert len(error["message"]) < 100  # the id is not echoed whole


def test_ids_over_their_total_length_are_refused_at_the_list(client: TestClient) -> None:
    # each id is checked at its own index; all of them together stay within 100 ids of the string cap
    body = answer(client, NODES, {"i": ["x" * 60_000, "y" * 60_000]})
    assert body["data"]["nodes"] == [] and codes(body) == {"BAD_USER_INPUT"}, body
    assert body["errors"][0]["path"] == ["nodes"] and "in all" in body["errors"][0]["message"]
    assert body["extensions"]["sqlStatements"] == 0


TSQUERY_TEXTS = [
    "-" * 40 + "a",
    " ".join(["-"] * 40) + " a",
    "-!" * 40 + "a",
    "-" * 40 + "!!",
    "- " * 100 + "trade",
    '-"' * 100 + "trade",
    " or ".join(["-"] * 60) + " trade",
    "(" * 200 + "trade" + ")" * 200,
    "trade <-> " * 50,
    ":*" * 100,
    "!" * 300 + "trade",
    "&|" * 200,
    "a-" * 200,
]


@pytest.mark.parametrize("text", TSQUERY_TEXTS)
def test_tsquery_syntax_in_a_search_never_fails_inside_postgres(client: TestClient, text: str) -> None:
    for query in (
        "query($q: String!) { search(query: $q) { totalCount nodes { rank } } }",
        "query($q: String) { articles(filter: { text: $q }) { totalCount nodes { slug } } }",
    ):
        body = answer(client, query, {"q": text})
        assert codes(body) <= {"BAD_USER_INPUT"}, body


def test_exclusions_still_exclude(client: TestClient) -> None:
    # folding runs of bare `-` must not change what one `-word` means
    query = "query($q: String) { articles(filter: { text: $q }) { totalCount } }"
    every = answer(client, query, {"q": "trade"})["data"]["articles"]["totalCount"]
    without = answer(client, query, {"q": "trade -export"})["data"]["articles"]["totalCount"]
    twice = answer(client, query, {"q": "trade - - -export"})["data"]["articles"]["totalCount"]
    assert 0 < without < every
    assert twice == without  # three dashes are one


@pytest.mark.parametrize(
    ("query", "value"),
    [
        ("query($v: String) { articles(filter: { text: $v }) { totalCount } }", "ab " * 80_000),
        ("query($v: String) { places(filter: { name: $v }) { totalCount } }", "x" * 240_000),
        ("query($v: String!) { article(slug: $v) { slug } }", "s" * 5000),
        ("query($v: String) { tradeFigures(filter: { commodity: $v }) { totalCount } }", "%_" * 20_000),
    ],
)
def test_long_strings_are_refused_before_any_sql(client: TestClient, query: str, value: str) -> None:
    body = answer(client, query, {"v": value})
    assert codes(body) == {"BAD_USER_INPUT"}, body
    assert "longer than 1000 characters" in body["errors"][0]["message"]
    assert body["extensions"]["sqlStatements"] == 0  # was a statement Postgres gave up on after seconds


def test_a_long_string_literal_is_refused_in_place(client: TestClient) -> None:
    body = answer(client, '{ a: article(slug: "%s") { slug } b: places { totalCount } }' % ("x" * 1500))
    assert codes(body) == {"BAD_USER_INPUT"}
    assert body["data"]["a"] is None
    assert body["data"]["b"]["totalCount"] > 0  # the other root field is answered


def test_deeply_nested_list_variables_are_refused(client: TestClient) -> None:
    value: Any = "x"
    for _ in range(500):
        value = [value]
    response = client.post(
        "/graphql", json={"query": "query($i: [ID!]!) { nodes(ids: $i) { id } }", "variables": {"i": value}}
    )
    assert response.status_code < 500
    assert_spec_error(response, "BAD_USER_INPUT")


def test_an_exception_outside_execution_is_a_json_500(seeded_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.graphql import http

    def explode(*_: Any, **__: Any) -> Any:
        raise RuntimeError("secret detail")

    with serving(seeded_url, production=True) as (client, _):
        monkeypatch.setattr(http, "_params", explode)
        response = client.post("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith(JSON)
    assert response.json() == {
        "errors": [{"message": "Internal server error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]
    }
    assert "secret" not in response.text


# --- database errors the input caused -------------------------------------------------------------------


@pytest.fixture
def reader(seeded_url: str) -> Iterator[tuple[Reader, Any]]:
    engine = make_async_engine(as_role(seeded_url), pool_size=1, statement_timeout_ms=5000)
    loop = asyncio.new_event_loop()
    db = Reader(engine)
    try:
        yield db, loop
    finally:
        loop.run_until_complete(db.close())
        loop.run_until_complete(engine.dispose())
        loop.close()


@pytest.mark.parametrize(
    ("statement", "sqlstate"),
    [
        ("SELECT repeat('[', 100000)::jsonb", "54001"),  # stack depth limit exceeded
        ("SELECT 1 / 0", "22012"),
        ("SELECT 'x'::int", "22P02"),
        ("SELECT repeat('x', 2000000000)", "54000"),
    ],
)
def test_database_errors_caused_by_values_are_bad_user_input(
    reader: tuple[Reader, Any], statement: str, sqlstate: str
) -> None:
    db, loop = reader
    with pytest.raises(BadUserInput) as caught:
        loop.run_until_complete(db.one_sql(statement, {}))
    assert caught.value.__cause__ is not None
    assert getattr(caught.value.__cause__.orig, "sqlstate", None) == sqlstate  # type: ignore[attr-defined]
    # and the connection serves the next statement
    assert loop.run_until_complete(db.one_sql("SELECT 1", {}))[0] == 1


def _terminate(url: str, pid: int) -> None:
    with psycopg.connect(url, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
        for _ in range(100):  # gone from pg_stat_activity: terminated for certain
            if admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone() is None:
                return
            time.sleep(0.02)


def test_a_statement_run_unprepared_is_never_prepared(reader: tuple[Reader, Any]) -> None:
    db, loop = reader
    prepared = "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %(text)s"
    for _ in range(8):  # psycopg prepares a statement at its fifth run, unless told not to
        loop.run_until_complete(db.one_sql("SELECT 1 WHERE %(x)s::int = 1", {"x": 1}, prepare=False))
        loop.run_until_complete(db.one_sql("SELECT 2 WHERE %(x)s::int = 1", {"x": 1}))
    assert loop.run_until_complete(db.one_sql(prepared, {"text": "SELECT 1 WHERE%"}, prepare=False)) == (0,)
    assert loop.run_until_complete(db.one_sql(prepared, {"text": "SELECT 2 WHERE%"}, prepare=False)) == (1,)


def test_statements_run_with_positional_parameters_as_psycopg_would_bind_them(reader: tuple[Reader, Any]) -> None:
    db, loop = reader
    # a repeated name is one parameter; %% is a percent sign; longer than psycopg's 4 kB cache
    sql = "SELECT %(a)s::int + %(b)s::int + %(a)s::int, '50%%' LIKE %(pattern)s /*" + "x" * 5000 + "*/"
    query, names = positional(sql) or ("", ())
    assert names == ("a", "b", "pattern")
    assert query.startswith("SELECT $1::int + $2::int + $1::int, '50%' LIKE $3")
    assert loop.run_until_complete(db.one_sql(sql, {"a": 2, "b": 3, "pattern": "50%", "unused": 1})) == (7, True)
    # psycopg's own error for a missing value, wrapped as for any other
    with pytest.raises(DBAPIError, match="query parameter missing: b"):
        loop.run_until_complete(db.one_sql(sql, {"a": 2, "pattern": "x"}))
    # other placeholders are left to psycopg, which answers them as before
    assert positional("SELECT %(a)b") is None
    assert positional("SELECT 1 %s") is None
    assert loop.run_until_complete(db.one_sql("SELECT %(a)t::text", {"a": "t"})) == ("t",)
    with pytest.raises(TypeError, match="positional placeholders"):
        loop.run_until_complete(db.one_sql("SELECT %s", {"a": 1}))
    assert loop.run_until_complete(db.one_sql("SELECT 1", {}))[0] == 1


def test_a_backend_terminated_mid_request_is_replaced(reader: tuple[Reader, Any], seeded_url: str) -> None:
    db, loop = reader
    [first_pid] = loop.run_until_complete(db.one_sql("SELECT pg_backend_pid()", {}))
    _terminate(seeded_url, first_pid)
    # the request's next statements run on a new connection: no PendingRollbackError, no 5xx
    [second_pid] = loop.run_until_complete(db.one_sql("SELECT pg_backend_pid()", {}))
    assert second_pid != first_pid
    # once per request it runs again; a second loss is a coded error for that statement alone
    _terminate(seeded_url, second_pid)
    with pytest.raises(DatabaseUnavailable) as lost:
        loop.run_until_complete(db.one_sql("SELECT count(*) FROM articles", {}))
    assert lost.value.extensions == {"code": "DATABASE_UNAVAILABLE"}
    # and the dead connection is not reused: the next statement has a new one
    [count] = loop.run_until_complete(db.one_sql("SELECT count(*) FROM articles", {}))
    assert count > 0


def test_a_lost_connection_renews_every_pooled_one(seeded_url: str) -> None:
    # a restarted server drops every pooled connection at once: the first request to find its
    # connection dead renews them all, so the next requests do not each fail on one first
    engine = make_async_engine(as_role(seeded_url), pool_size=3, statement_timeout_ms=5000)
    found_dead: list[object] = []
    event.listen(engine.sync_engine, "invalidate", lambda *_: found_dead.append(1))
    loop = asyncio.new_event_loop()

    async def pids_of_three() -> list[int]:
        readers = [Reader(engine) for _ in range(3)]
        try:
            # each holds its connection until all three have one: all of the pool's connections
            return [int((await db.one_sql("SELECT pg_backend_pid()", {}))[0]) for db in readers]
        finally:
            for db in readers:
                await db.close()

    try:
        pooled = loop.run_until_complete(pids_of_three())
        assert len(set(pooled)) == 3
        for pid in pooled:
            _terminate(seeded_url, pid)
        renewed = loop.run_until_complete(pids_of_three())
        assert not set(renewed) & set(pooled)
        assert len(found_dead) == 1  # the first one; the other two were replaced at checkout
    finally:
        loop.run_until_complete(engine.dispose())
        loop.close()


def test_the_api_answers_every_root_field_after_its_backends_were_terminated(seeded_url: str) -> None:
    settings = Settings(database_url=seeded_url, api_database_url=as_role(seeded_url), compile_queries=False)
    query = "{ a: articles { totalCount } p: places { totalCount } o: organisations { totalCount } }"
    with psycopg.connect(seeded_url, autocommit=True) as admin:
        # the backends of the other apps of the session (fixtures) are left alone: only this app's
        others = [pid for (pid,) in admin.execute("SELECT pid FROM pg_stat_activity")]
    with TestClient(create_app(settings)) as client:
        assert "errors" not in client.post("/graphql", json={"query": query}).json()
        for _ in range(3):
            with psycopg.connect(seeded_url, autocommit=True) as admin:
                killed = admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'tradegraph-api' AND datname = current_database()"
                    " AND pid <> ALL(%s)",
                    (others,),
                ).fetchall()
                assert killed, "the app's backends were terminated"
            body = client.post("/graphql", json={"query": query}).json()
            assert "errors" not in body, body
            assert all(v["totalCount"] > 0 for v in body["data"].values())


def test_a_compiled_statement_that_times_out_is_answered_without_running_again(fresh_database: Any) -> None:
    # a lock held on `places` holds every read of it back: the compiled statement runs out of time
    url: str = fresh_database(seeded=True)
    query = '{ __typename one: place(slug: "shenyang") { name } all: places(first: 2) { nodes { slug } } }'
    answers = {}
    with psycopg.connect(url) as locker:
        locker.execute("LOCK TABLE places IN ACCESS EXCLUSIVE MODE")
        for compiled in (True, False):
            with serving(url, statement_timeout_ms=100, expose_statement_count=True, compile_queries=compiled) as (
                client,
                _,
            ):
                response = client.post("/graphql", json={"query": query}, headers={"x-tradegraph-sql": "1"})
                assert response.status_code == 200, response.text
                answers[compiled] = response.json()
        locker.rollback()
    compiled_answer, resolvers_answer = answers[True], answers[False]
    # one statement, the compiled one, cancelled once: not run again through the resolvers
    assert compiled_answer["extensions"]["sqlStatements"] == 1, compiled_answer
    assert compiled_answer["extensions"]["sql"]["compiled"] is True
    assert resolvers_answer["extensions"]["sqlStatements"] >= 2, resolvers_answer  # one per root field
    # and the answer the resolvers give: the error at each root field, nulls propagated alike
    assert {e["extensions"]["code"] for e in compiled_answer["errors"]} == {"QUERY_TIMEOUT"}
    assert compiled_answer["data"] == resolvers_answer["data"] is None
    paths = sorted(e["path"] for e in compiled_answer["errors"])
    assert paths == sorted(e["path"] for e in resolvers_answer["errors"]) == [["all"], ["one"]]


# --- work before execution ---------------------------------------------------------------------------------


SHAPES = [
    *(pytest.param(single_object_tree(levels, roots), id=f"objects-{levels}x{roots}") for levels in (2, 4, 5, 6, 8)
      for roots in (1, 3, 10, 30)),
    *(pytest.param(connection_tree(levels, roots), id=f"connections-{levels}x{roots}") for levels in (1, 2, 3)
      for roots in (1, 5)),
]  # fmt: skip


@pytest.mark.parametrize("query", SHAPES)
def test_planning_work_is_bounded_by_the_limits(query: str) -> None:
    """Every document of 8 KB or less is refused, or compiles within `max_sql_bytes`: the bytes the
    compiler writes are counted as it writes them, and it stops at the limit."""
    assert len(query) <= 8 * 1024
    limits = Limits()
    executor = Executor(limits=limits)
    refused: RequestError | None = None
    try:
        prepared = executor.prepare(query, None)
        executor.cost(prepared, None)
    except RequestError as exc:
        refused = exc
    if refused is not None:
        assert refused.code == "LIMIT_EXCEEDED", refused
        return
    compiler = _Compiler(schema, prepared.document, prepared.operation, None, max_bytes=limits.max_sql_bytes)
    try:
        plan = compiler.compile()
    except PlanTooLarge:
        # it stopped once over: at most one inlined query (a few KB) beyond the limit
        assert compiler.spent <= limits.max_sql_bytes + 8 * 1024
        return
    assert len(plan.sql) <= limits.max_sql_bytes
    # the running count, which stops compiling, follows the bytes written
    assert 0.7 <= compiler.spent / len(plan.sql) <= 1.3


def test_the_measured_attack_is_refused_without_sql(client: TestClient) -> None:
    # ~3 KB, once ~3,000 nodes and 1.4 MB of SQL: now refused before planning
    for query in (single_object_tree(10, 30), single_object_tree(4, 30), single_object_tree(5, 10)):
        body = answer(client, query)
        assert codes(body) == {"LIMIT_EXCEEDED"}, body
        assert "data" not in body


def test_single_objects_are_costed(client: TestClient) -> None:
    body = answer(client, single_object_tree(2, 1, first=3))
    # F1: partOf, reporter, partner 1 each, source 1 + its country 1 = 5
    # F0: partOf 1 + F1's 5, reporter and partner 1 + their parent 1 each, source 1 + country (1 + parent 1) = 13
    assert body["extensions"]["cost"]["requestedNodes"] == 3 + 3 * 13


def tokens(query: str) -> int:
    lexer = Lexer(Source(query))
    count = 0
    while lexer.advance().kind is not TokenKind.EOF:
        count += 1
    return count


# what the serving process may spend on a new document, whatever its size: HTTP, routing, the
# planner's answers, the response; validating, costing and compiling are not in it, and a document
# answered by its compiled statement (or refused by the planner) is not even parsed there
LOOP_CALLS_BOUND = 10_000
LOOP_SHAPES = [
    *(single_object_tree(levels, roots) for levels in (2, 5, 8, 10) for roots in (1, 10, 30)),
    *(connection_tree(levels, roots) for levels in (1, 3) for roots in (1, 5)),
    "{ " + " ".join(f"a{i}: __typename" for i in range(480)) + " }",
    "{ " + " ".join(f"a{i}: articles(first: 0) {{ totalCount }}" for i in range(30)) + " }",
]


def serving_process_calls(seeded_url: str, planner_processes: int, queries: list[str]) -> list[tuple[int, set[str]]]:
    """Return the Python function calls the serving process makes to answer each query, a new
    document each time, counted in every thread it runs (they all share one interpreter lock)."""
    calls = [0]

    def count(_frame: Any, event: str, _arg: Any) -> None:
        if event == "call":
            calls[0] += 1

    settings = Settings(
        database_url=seeded_url, api_database_url=as_role(seeded_url), planner_processes=planner_processes
    )
    counted = []
    # threads started from now on (the app's event loop, the planning thread) are counted: a new
    # planner, so that its thread starts now; the test's own thread is not counted
    threading.setprofile(count)
    with mock.patch.dict(planner_module._PLANNERS, clear=True):
        try:
            with TestClient(create_app(settings)) as client:
                deadline = time.monotonic() + 60
                while planner_processes and not planner_module.planner(planner_processes).ready():
                    assert time.monotonic() < deadline, "the planning processes did not start within 60 s"
                    time.sleep(0.1)
                client.post("/graphql", json={"query": "{ __typename }"})  # what runs once per process
                for i, query in enumerate(queries):
                    calls[0] = 0
                    body = {"query": f"# {planner_processes}-{i}-{time.time_ns()}\n{query}"}
                    response = client.post("/graphql", json=body)
                    assert response.status_code == 200, response.text
                    counted.append((calls[0], codes(response.json())))
        finally:
            threading.setprofile(None)
            planner_module.planner(planner_processes).shutdown()
    return counted


def test_the_serving_process_does_work_bounded_whatever_the_document(seeded_url: str) -> None:
    """Validating, costing and compiling a new document run in a planning process, and the serving
    process (its event loop, and /healthz with it) does not parse a document the compiled statement
    answers: what it spends on a request does not grow with the document's tokens, nor with what
    its fragments expand into. Counted in function calls, not time, so the machine's load does not
    matter."""
    answered = serving_process_calls(seeded_url, 1, LOOP_SHAPES)
    for query, (calls, _) in zip(LOOP_SHAPES, answered, strict=True):
        assert calls <= LOOP_CALLS_BOUND, (query[:80], len(query), tokens(query), calls)
    assert sum(refused == {"LIMIT_EXCEEDED"} for _, refused in answered) >= 4, answered
    assert sum(not refused for _, refused in answered) >= 4, answered  # answered, by compiled statements
    counted = [calls for calls, _ in answered]
    # the same requests planned in a thread of the serving process: over the bound, as once on the loop
    in_thread = [calls for calls, _ in serving_process_calls(seeded_url, 0, LOOP_SHAPES)]
    assert sum(1 for calls in in_thread if calls > LOOP_CALLS_BOUND) >= len(LOOP_SHAPES) // 2, (counted, in_thread)
    print(
        f"\nfunction calls in the serving process per new document: planned in a process "
        f"{min(counted):,}-{max(counted):,}, in a thread {min(in_thread):,}-{max(in_thread):,}"
    )


def test_the_example_operations_stay_within_every_limit() -> None:
    executor = Executor()
    for directory in ("schema/operations", "bench/operations"):
        for path in sorted((PROJECT_ROOT / directory).glob("*.graphql")):
            variables_file = path.with_suffix(".variables.json")
            variables = __import__("json").loads(variables_file.read_text()) if variables_file.exists() else {}
            prepared = executor.prepare(path.read_text(), None)
            assert executor.cost(prepared, variables) <= executor.limits.max_cost
            plan = asyncio.run(executor.plan(prepared, variables))
            assert plan is not None and len(plan.sql) <= executor.limits.max_sql_bytes / 2, path.name


# --- caches ------------------------------------------------------------------------------------------------


def test_large_documents_are_not_kept() -> None:
    executor = Executor()
    for i in range(20):  # scripts/hostile_load.py measures the memory of 300 of them
        prepared = executor.prepare(big_document(i), None)
        with contextlib.suppress(RequestError):  # 1,601 fields: over the limit, refused after parsing
            executor.cost(prepared, None)
    assert len(big_document(0)) > 150_000
    held = executor.cache_bytes()
    assert held["documents"] == 0, held
    assert sum(held.values()) < 1024 * 1024, held


def test_the_caches_stay_within_their_byte_budget() -> None:
    budget = 512 * 1024
    executor = Executor(cache_bytes=budget, max_cached_document=4096)
    for i in range(600):
        query = "{ " + " ".join(f"a{j}: __typename" for j in range(i % 29 + 1)) + f" b{i}: __typename }}"
        prepared = executor.prepare(query, None)
        executor.cost(prepared, None)
        asyncio.run(executor.plan(prepared, None))
        held = executor.cache_bytes()
        assert all(v <= budget for v in held.values()), held
    assert executor.cache_bytes()["documents"] >= budget - 4096 * DOCUMENT_BYTES_PER_CHAR  # kept up to the budget
    # the most recent document is kept, the first one long gone
    assert executor._documents.get(executor.prepare("{ a0: __typename b599: __typename }", None).key) is not None


# --- production: nothing about the schema ----------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "{ articls { totalCount } }",
        "{ articles(frst: 1) { totalCount } }",
        "{ articles { totalCont } }",
        "query($f: ArticleFiltr) { articles(filter: $f) { totalCount } }",
        '{ articles(filter: { txt: "a" }) { totalCount } }',
        '{ article(slug: "x") { publsher { slug } } }',
    ],
)
def test_production_gives_no_suggestions(seeded_url: str, query: str) -> None:
    with serving(seeded_url) as (development, _):
        assert "Did you mean" in development.post("/graphql", json={"query": query}).text
    with serving(seeded_url, production=True) as (production, _):
        response = production.post("/graphql", json={"query": query})
        assert_spec_error(response, "GRAPHQL_VALIDATION_FAILED")
        assert "Did you mean" not in response.text
        assert "title" not in response.text and "totalCount'" not in response.text


def test_production_gives_no_suggestions_for_variables(seeded_url: str) -> None:
    query = "query($f: ArticleFilter) { articles(filter: $f) { totalCount } }"
    with serving(seeded_url, production=True) as (production, _):
        response = production.post("/graphql", json={"query": query, "variables": {"f": {"txt": "a"}}})
    assert_spec_error(response, "BAD_USER_INPUT")
    assert "Did you mean" not in response.text


# --- metrics labels ---------------------------------------------------------------------------------------


def test_junk_operation_names_never_take_a_known_label() -> None:
    known = known_operation_names(PROJECT_ROOT / "schema" / "operations", PROJECT_ROOT / "bench" / "operations")
    assert {"ArticleList", "TradeChart", "ArticleFeed50"} <= known
    metrics = Metrics(max_operations=50, known_operations=known)
    for i in range(500):
        metrics.observe(method="POST", path="/graphql", status=200, seconds=0.01, graphql=True, operation=f"Junk{i}")
    for name in sorted(known):
        metrics.observe(method="POST", path="/graphql", status=200, seconds=0.01, graphql=True, operation=name)
    labels = set(metrics.operations)
    assert known <= labels
    assert len(labels - known) == 50 + 1  # the first 50 junk names, then "other"
    assert "other" in labels


def test_the_app_labels_its_example_operations(seeded_url: str) -> None:
    with serving(seeded_url) as (client, _):
        for i in range(300):
            client.post("/graphql", json={"query": f"query Junk{i} {{ __typename }}"})
        query = (PROJECT_ROOT / "schema" / "operations" / "ArticleList.graphql").read_text()
        client.post("/graphql", json={"query": query})
        text = client.get("/metrics").text
    assert 'operation="ArticleList"' in text
    assert 'operation="Junk299"' not in text


# --- slow clients, on a real server ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(seeded_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """`tradegraph serve` on loopback, with a request deadline of 1 s and keep-alive of 1 s."""
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL",)},
        "DATABASE_URL": seeded_url,
        "API_DATABASE_URL": as_role(seeded_url),
        "HTTP_REQUEST_TIMEOUT_S": "1",
        "HTTP_KEEP_ALIVE_S": "1",
        "DATA_DIR": str(tmp_path_factory.mktemp("data")),
    }
    with servers.serving(env, logs=tmp_path_factory.mktemp("serve"), ready="/healthz", stop_timeout=20) as served:
        yield served.port


def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Return how long until the server closed `sock` (None if it did not within `seconds`)."""
    started = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass  # a response (a 408 or 400 would do too): read until the server closes
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - started


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param(b"", id="nothing"),
        pytest.param(b"GET /healthz HT", id="half a request line"),
        pytest.param(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ", id="half the headers"),
        pytest.param(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
            id="half the body",
        ),
    ],
)
def test_a_connection_that_never_completes_a_request_is_closed(server: int, sent: bytes) -> None:
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(sent)
        waited = closed_within(sock, 10)
    assert waited is not None, "the server kept the connection open"


def test_a_slowloris_trickle_does_not_keep_a_connection(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server)) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        closed = False
        for i in range(40):  # one header byte every 0.1 s: each one resets no deadline
            try:
                sock.sendall(b"X-%d: y\r\n" % i)
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            time.sleep(0.1)
        closed = closed or closed_within(sock, 5) is not None
    assert closed
    assert time.monotonic() - started < 6


def test_complete_requests_are_served_and_idle_keep_alive_is_closed(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server)) as sock:
        for _ in range(2):  # two requests on one connection, each well within the deadline
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.settimeout(5)
            response = b""
            while b'"ok"' not in response:
                chunk = sock.recv(65536)
                assert chunk, response
                response += chunk
            assert response.startswith(b"HTTP/1.1 200")
        assert closed_within(sock, 10) is not None  # then idle: closed


def test_a_slow_answer_is_not_cut_by_the_request_deadline(server: int) -> None:
    # the deadline is for receiving the request; the answer may take longer (here: several requests in a row)
    with httpx.Client(base_url=f"http://127.0.0.1:{server}", timeout=10) as http:
        for _ in range(3):
            response = http.post("/graphql", json={"query": "{ articles(first: 50) { nodes { slug body } } }"})
            assert response.status_code == 200
            time.sleep(0.5)
