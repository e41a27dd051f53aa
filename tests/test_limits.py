"""Operation limits (depth, aliases, tokens, cost): coded, refused before any SQL, configurable.

Every refusal is checked against the app's own engine: a refused request checks no connection
out of the pool and runs no statement (SQLAlchemy pool and cursor events on the engine the
app built, so nothing that reaches Postgres can go unnoticed). The cost of an accepted
operation is in `extensions.cost.requestedNodes`, GitHub-style: for each connection the
product of the page sizes down to it, summed, and each single object (an article's publisher)
one node per object it is selected on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from graphql import get_introspection_query
from sqlalchemy import event

from app.config import Settings
from app.main import create_app
from app.roles import as_role

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


@dataclasses.dataclass
class Spy:
    """Counts what the app's engine does: connections checked out and statements sent."""

    checkouts: int = 0
    statements: list[str] = dataclasses.field(default_factory=list)

    @classmethod
    def on(cls, app: FastAPI) -> Spy:
        spy = cls()
        engine = app.state.async_engine.sync_engine

        def on_checkout(*_: Any) -> None:
            spy.checkouts += 1

        def on_statement(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            spy.statements.append(statement)

        event.listen(engine, "checkout", on_checkout)
        event.listen(engine, "before_cursor_execute", on_statement)
        return spy

    def reset(self) -> None:
        self.checkouts = 0
        self.statements.clear()


@dataclasses.dataclass
class Served:
    client: TestClient
    spy: Spy
    app: FastAPI

    def post(
        self, query: str, variables: dict[str, Any] | None = None, *, accept: str = GRAPHQL_RESPONSE
    ) -> httpx.Response:
        self.spy.reset()
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        response: httpx.Response = self.client.post("/graphql", json=payload, headers={"accept": accept})
        return response

    def refused(self, query: str, variables: dict[str, Any] | None = None, *, accept: str = GRAPHQL_RESPONSE) -> str:
        """Assert the operation is refused over a limit without touching the database; return the message."""
        response = self.post(query, variables, accept=accept)
        assert response.status_code == (400 if accept == GRAPHQL_RESPONSE else 200), response.text
        assert response.headers["content-type"].startswith(accept)
        body = response.json()
        assert "data" not in body, body
        assert body.get("extensions", {}).get("sqlStatements", 0) == 0, body
        assert [e["extensions"]["code"] for e in body["errors"]] == ["LIMIT_EXCEEDED"], body
        assert self.spy.checkouts == 0, "a refused request checked a connection out of the pool"
        assert self.spy.statements == [], self.spy.statements
        message: str = body["errors"][0]["message"]
        return message

    def accepted(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Assert the operation runs without errors; return the response body."""
        response = self.post(query, variables)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body["errors"]
        return body


@contextlib.contextmanager
def serving(seeded_url: str, **settings: Any) -> Iterator[Served]:
    """The real app on the seeded database (read through the SELECT-only role), with `settings`."""
    app = create_app(
        Settings(database_url=seeded_url, api_database_url=as_role(seeded_url), expose_statement_count=True, **settings)
    )
    with TestClient(app) as client:
        yield Served(client, Spy.on(app), app)


@pytest.fixture(scope="module")
def served(seeded_url: str) -> Iterator[Served]:
    """The app with the default limits."""
    with serving(seeded_url) as s:
        yield s


def nested_parents(depth: int) -> str:
    """`place { parent { parent ... { name } } }` whose selections nest exactly `depth` levels."""
    parents = depth - 2
    return '{ place(slug: "shenyang") { ' + "parent { " * parents + "name" + " }" * parents + " } }"


def aliased(count: int) -> str:
    return "{ " + " ".join(f'a{i}: article(slug: "x{i}") {{ slug }}' for i in range(count)) + " }"


ORGS_ARTICLES = "{ organisations(first: 100) { edges { node { articles(first: 100) { edges { node { slug } } } } } } }"
THREE_LEVELS = (
    "{ organisations(first: 100) { edges { node { articles(first: 100) { edges { node {"
    " publisher { articles(first: 100) { edges { node { slug } } } } } } } } } } }"
)


# --- the spy itself -------------------------------------------------------------------------------


def test_the_spy_sees_every_statement_of_an_accepted_request(served: Served) -> None:
    body = served.accepted('{ place(slug: "shenyang") { name parent { name } } }')
    assert served.spy.checkouts == 1
    assert len(served.spy.statements) == body["extensions"]["sqlStatements"] > 0


# --- depth ---------------------------------------------------------------------------------------------


def test_depth_at_the_limit_is_accepted(served: Served) -> None:
    body = served.accepted(nested_parents(12))
    # Shenyang → Liaoning → China → (none)
    assert body["data"]["place"]["parent"]["parent"] == {"parent": None}


@pytest.mark.parametrize("depth", [13, 40, 150])
def test_deeper_nesting_is_refused_before_any_sql(served: Served, depth: int) -> None:
    message = served.refused(nested_parents(depth))
    assert "12" in message
    assert "deep" in message


def test_depth_counts_through_fragments(served: Served) -> None:
    query = (
        '{ place(slug: "shenyang") { ...P1 } }'
        " fragment P1 on Place { parent { ...P2 } }"
        " fragment P2 on Place { parent { ...P3 } }"
        " fragment P3 on Place { parent { " + "parent { " * 8 + "name" + " }" * 8 + " } }"
    )
    served.refused(query)


# --- aliases ---------------------------------------------------------------------------------------------


def test_thirty_aliases_are_accepted(served: Served) -> None:
    body = served.accepted(aliased(30))
    assert body["data"] == {f"a{i}": None for i in range(30)}


def test_thirty_one_aliases_are_refused_before_any_sql(served: Served) -> None:
    message = served.refused(aliased(31))
    assert "31 aliases" in message
    assert "30" in message


def test_aliases_count_inside_fragments(served: Served) -> None:
    query = "{ ...A ...B } fragment A on Query { " + aliased(16)[1:-1] + " } fragment B on Query { "
    query += " ".join(f'b{i}: article(slug: "y{i}") {{ slug }}' for i in range(16)) + " }"
    served.refused(query)


# --- tokens -----------------------------------------------------------------------------------------------


def test_a_huge_selection_is_refused_by_the_token_limit(served: Served) -> None:
    query = "{ articles { nodes { " + "slug " * 5000 + "} } }"
    message = served.refused(query)
    assert "tokens" in message


def test_a_document_under_the_token_limit_is_accepted(served: Served) -> None:
    query = "{ tradeFigures(filter: { flow: [" + "TOTAL " * 4900 + "] }) { totalCount } }"
    body = served.accepted(query)
    assert body["data"]["tradeFigures"]["totalCount"] > 0


# --- cost -------------------------------------------------------------------------------------------------


def test_github_style_cost_of_a_two_level_nesting(served: Served) -> None:
    body = served.accepted(ORGS_ARTICLES)
    assert body["extensions"]["cost"] == {"requestedNodes": 10_100, "limit": 25_000}


def test_three_levels_of_hundreds_are_refused_before_any_sql(served: Served) -> None:
    message = served.refused(THREE_LEVELS)
    assert "1020100 nodes" in message
    assert "25000" in message


@pytest.mark.parametrize(
    ("query", "variables", "nodes"),
    [
        pytest.param('{ article(slug: "x") { slug } }', None, 1, id="no connection"),
        pytest.param("{ articles { nodes { slug } } }", None, 20, id="default page"),
        pytest.param("{ articles(first: 0) { nodes { slug } } }", None, 0, id="first 0"),
        pytest.param("{ places(last: 7) { edges { node { slug } } } }", None, 7, id="last"),
        pytest.param(
            "query($n: Int) { organisations(first: $n) { nodes { articles { nodes { slug } } } } }",
            {"n": 3},
            3 + 3 * 20,
            id="variable and nested default",
        ),
        pytest.param("query($n: Int = 50) { articles(first: $n) { totalCount } }", None, 50, id="variable default"),
        pytest.param(
            "query($n: Int) { articles(first: $n) { totalCount } }", {"n": 100.0}, 100, id="integral float variable"
        ),
        pytest.param("query($n: Int) { articles(first: $n) { totalCount } }", {"n": None}, 20, id="null variable"),
        pytest.param(
            "{ articles(last: 7) { edges { node { publisher { articles(first: 2) { nodes { slug } } } } } } }",
            None,
            7 + 7 * (1 + 2),  # each node's publisher is a node too
            id="last then first",
        ),
        pytest.param(
            "{ organisations(first: 5) { ...O } } fragment O on OrganisationConnection"
            " { nodes { articles(first: 4) { totalCount } } }",
            None,
            5 + 5 * 4,
            id="fragment",
        ),
        pytest.param(
            '{ nodes(ids: ["a", "b", "c"]) { ... on Organisation { articles(first: 10) { nodes { slug } } } } }',
            None,
            3 + 3 * 10,
            id="inline fragment on an interface",
        ),
        pytest.param(
            '{ node(id: "a") { ... on Organisation { articles(first: 10) { nodes { slug } } } '
            "... on Place { name } } }",
            None,
            1 + 10,
            id="most demanding possible type",
        ),
        pytest.param(
            '{ search(query: "trade", first: 3) { nodes { article { slug } } } tradeSeries { label } }',
            None,
            3 + 3 * 1 + 10,  # each hit's article is a node; the series is a plain list: LIST_ESTIMATE points
            id="search and series",
        ),
        pytest.param(
            "{ a: articles(first: 2) { totalCount } b: places(first: 3) { totalCount } __typename }",
            None,
            5,
            id="sum of root fields",
        ),
        pytest.param(
            "{ organisations(first: 2) { nodes { articles(first: 3) { nodes { slug } } articles(first: 3)"
            " { totalCount } } } }",
            None,
            2 + 2 * 3,
            id="merged fields count once",
        ),
    ],
)
def test_cost_of_accepted_operations(served: Served, query: str, variables: dict[str, Any] | None, nodes: int) -> None:
    response = served.post(query, variables)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "LIMIT_EXCEEDED" not in str(body.get("errors")), body
    assert body["extensions"]["cost"] == {"requestedNodes": nodes, "limit": 25_000}


@pytest.mark.parametrize("size", [101, 1000, 2**31 - 1])
@pytest.mark.parametrize("argument", ["first", "last"])
@pytest.mark.parametrize("written", ["literal", "variable"])
def test_a_page_over_the_maximum_is_refused_by_its_field_not_by_the_cost(
    served: Served, argument: str, size: int, written: str
) -> None:
    # the cost counts such a page as the largest one: the field's own check answers it, in its place
    value, variables = (str(size), None) if written == "literal" else ("$n", {"n": size})
    query = ("query($n: Int) " if variables else "") + (
        f"{{ organisations(first: 2) {{ nodes {{ slug articles(first: {value}) {{ nodes {{ slug }} }}"
        f" }} }} articles({argument}: {value}) {{ totalCount }} places(first: 1) {{ nodes {{ slug }} }} }}"
    )
    response = served.post(query, variables, accept=JSON)
    assert response.status_code == 200, response.text
    body = response.json()
    assert sorted((e["path"], e["extensions"]["code"]) for e in body["errors"]) == [
        (["articles"], "BAD_USER_INPUT"),
        (["organisations", "nodes", 0, "articles"], "BAD_USER_INPUT"),
        (["organisations", "nodes", 1, "articles"], "BAD_USER_INPUT"),
    ], body
    assert body["data"]["articles"] == {"totalCount": 0}
    assert [o["articles"] for o in body["data"]["organisations"]["nodes"]] == [{"nodes": []}] * 2
    assert len(body["data"]["places"]["nodes"]) == 1
    assert body["extensions"]["cost"]["requestedNodes"] == 2 + 2 * 100 + 100 + 1


def test_more_ids_than_nodes_takes_are_refused_by_the_field_not_by_the_cost(served: Served) -> None:
    ids = ", ".join(f'"id{i}"' for i in range(300))
    query = f"{{ nodes(ids: [{ids}]) {{ ... on Organisation {{ articles(first: 100) {{ nodes {{ slug }} }} }} }} }}"
    response = served.post(query, accept=JSON)
    body = response.json()
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["nodes"], "BAD_USER_INPUT")], body
    assert body["data"] == {"nodes": []}
    assert body["extensions"]["cost"]["requestedNodes"] == 100 + 100 * 100


def test_pages_over_the_maximum_still_add_up_to_a_refusal(served: Served) -> None:
    # counted as pages of 100, three levels of them are as unaffordable as before
    assert "1020100 nodes" in served.refused(THREE_LEVELS.replace("100", str(2**31 - 1)))


def test_a_float_variable_does_not_cheapen_the_cost(served: Served) -> None:
    # graphql-core coerces 100.0 to the Int 100: the cost must see 100, not the default page
    query = (
        "query($n: Int) { organisations(first: $n) { edges { node { articles(first: $n) { edges { node {"
        " publisher { articles(first: $n) { edges { node { slug } } } } } } } } } } }"
    )
    assert "1020100 nodes" in served.refused(query, {"n": 100.0})


def test_a_variable_default_does_not_cheapen_the_cost(served: Served) -> None:
    query = (
        "query($n: Int = 100) { organisations(first: $n) { edges { node { articles(first: $n) { edges { node {"
        " publisher { articles(first: $n) { edges { node { slug } } } } } } } } } } }"
    )
    assert "1020100 nodes" in served.refused(query)


def test_an_interface_does_not_hide_the_cost(served: Served) -> None:
    ids = ", ".join(f'"id{i}"' for i in range(100))
    query = (
        f"{{ nodes(ids: [{ids}]) {{ ... on Organisation {{ articles(first: 100) {{ edges {{ node {{"
        " publisher { articles(first: 100) { nodes { slug } } } } } } } } }"
    )
    assert "1020100 nodes" in served.refused(query)


def test_an_exponential_fragment_expansion_is_checked_quickly(served: Served) -> None:
    # 2**40 paths through the fragments, one field once merged (as execution merges them)
    fragments = " ".join(f"fragment F{i} on Place {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40))
    query = '{ place(slug: "shenyang") { ...F0 } } ' + fragments + " fragment F40 on Place { name }"
    started = time.monotonic()
    body = served.accepted(query)
    assert time.monotonic() - started < 2
    assert body["data"] == {"place": {"name": "Shenyang"}}


def test_an_exponential_fragment_tree_is_refused_quickly(served: Served) -> None:
    fragments = " ".join(
        f"fragment F{i} on Article {{ duplicates {{ ...F{i + 1} }} duplicateOf {{ ...F{i + 1} }} }}" for i in range(40)
    )
    query = '{ article(slug: "x") { ...F0 } } ' + fragments + " fragment F40 on Article { slug }"
    started = time.monotonic()
    served.refused(query)
    assert time.monotonic() - started < 2


# --- validation's budget ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "{ " + "__typename " * 999 + "}",
        "{ " + " ".join(f"articles(first: {i % 50}) {{ totalCount }}" for i in range(480)) + " }",
        "{ " + "places(first: 1) { nodes { name } } " * 200 + "}",
        "{ articles(first: 1) { nodes { ...F } } } fragment F on Article { " + "id " * 1001 + "}",
    ],
    ids=["typename-999", "differing-arguments-480", "same-field-200", "fragment-1001"],
)
def test_a_field_asked_for_hundreds_of_times_is_refused_as_a_limit(served: Served, query: str) -> None:
    # comparing every pair of them is quadratic: validation stops early, and says why
    message = served.refused(query)
    assert "too costly to validate" in message and "select each field once" in message


def test_fields_selected_again_by_many_fragments_are_accepted(served: Served) -> None:
    # as a client's components each ask for what they show, the same fields through 25 fragments
    spreads = " ".join(f"...F{i}" for i in range(25))
    fragments = " ".join(f"fragment F{i} on Place {{ name slug parent {{ name }} }}" for i in range(25))
    body = served.accepted('{ place(slug: "shenyang") { ' + spreads + " } } " + fragments)
    assert body["data"]["place"] == {"name": "Shenyang", "slug": "shenyang", "parent": {"name": "Liaoning"}}


def _slugs(value: Any) -> int:
    if isinstance(value, dict):
        return ("slug" in value) + sum(_slugs(v) for v in value.values())
    if isinstance(value, list):
        return sum(_slugs(v) for v in value)
    return 0


def test_nested_plain_lists_are_costed(served: Served) -> None:
    # Lists have no page size, yet nesting them multiplies what comes back (an article's figures,
    # each figure's evidence, each evidence's article...): they are costed, and this is refused.
    deep = (
        "{ articles(first: 100) { nodes { tradeFigures { evidence { article { tradeFigures { evidence { article {"
        " tradeFigures { slug } } } } } } } } } }"
    )
    assert "may return" in served.refused(deep)
    # on this corpus, what a modest nesting of lists returns stays within its estimate
    modest = "{ articles(first: 5) { nodes { slug tradeFigures { slug evidence { article { slug } } } } } }"
    body = served.accepted(modest)
    assert body["extensions"]["cost"]["requestedNodes"] == 5 + 5 * (10 + 10 * (10 + 10 * 1))
    assert _slugs(body["data"]) <= body["extensions"]["cost"]["requestedNodes"]


# --- configuration ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "accepted", "refused", "says"),
    [
        pytest.param(
            {"max_depth": 3},
            '{ place(slug: "shenyang") { parent { name } } }',
            '{ place(slug: "shenyang") { parent { parent { name } } } }',
            "the limit is 3",
            id="depth",
        ),
        pytest.param(
            {"max_aliases": 1},
            '{ a: article(slug: "a") { slug } }',
            '{ a: article(slug: "a") { slug } b: article(slug: "b") { slug } }',
            "2 aliases; the limit is 1",
            id="aliases",
        ),
        pytest.param(
            {"max_tokens": 60},
            "{ articles { nodes { " + "slug " * 40 + "} } }",
            "{ articles { nodes { " + "slug " * 60 + "} } }",
            "tokens",
            id="tokens",
        ),
        pytest.param(
            {"max_cost": 100},
            "{ organisations(first: 4) { nodes { articles(first: 24) { nodes { slug } } } } }",
            "{ organisations(first: 4) { nodes { articles(first: 25) { totalCount } } } }",
            "104 nodes",
            id="cost",
        ),
    ],
)
def test_limits_are_configurable(
    seeded_url: str, settings: dict[str, int], accepted: str, refused: str, says: str
) -> None:
    with serving(seeded_url, **settings) as s:
        body = s.accepted(accepted)
        assert body["extensions"]["cost"]["limit"] == settings.get("max_cost", 25_000)
        assert says in s.refused(refused)


def test_the_default_limits(served: Served) -> None:
    settings = served.app.state.settings
    assert (settings.max_depth, settings.max_aliases, settings.max_tokens, settings.max_cost) == (12, 30, 5000, 25_000)


# --- introspection -------------------------------------------------------------------------------------------


def test_introspection_is_not_limited_by_depth(seeded_url: str) -> None:
    with serving(seeded_url, max_depth=2) as s:
        body = s.accepted(get_introspection_query(descriptions=True))
        assert body["data"]["__schema"]["queryType"]["name"] == "Query"
        assert body["extensions"]["sqlStatements"] == 0
        assert s.spy.checkouts == 0
        s.accepted('{ __typename __type(name: "Article") { fields { type { ofType { ofType { name } } } } } }')
        s.refused("{ articles { nodes { slug } } }")


def test_nested_introspection_is_refused(served: Served) -> None:
    # each `fields { type { fields` multiplies the answer: graphql-core refuses the nesting
    query = "{ __schema { types { fields { type { fields { type { fields { type { name } } } } } } } } }"
    response = served.post(query)
    assert response.status_code == 400, response.text
    body = response.json()
    assert "data" not in body
    assert {e["extensions"]["code"] for e in body["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}
    assert served.spy.checkouts == 0


def test_the_schema_is_introspected_once_per_operation(served: Served) -> None:
    # the rest of introspection costs no node: under aliases it would be free, 100 KB a copy
    whole = "{ types { name fields(includeDeprecated: true) { name args { name } type { name } } } }"
    once = served.post("{ s0: __schema " + whole + " }")
    assert once.status_code == 200, once.text
    twice = served.post("{ " + " ".join(f"s{i}: __schema {whole}" for i in range(2)) + " }")
    assert twice.status_code == 400, twice.text
    (error,) = twice.json()["errors"]
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert "__schema 2 times" in error["message"]
    by_name = "{ " + " ".join(f't{i}: __type(name: "Article") {{ name }}' for i in range(21)) + " }"
    assert served.post(by_name).json()["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
    # nor the schema's types many times over inside one __schema, directly or through a fragment
    inside = "{ __schema { " + " ".join(f"a{i}: types {{ name }}" for i in range(3)) + " } }"
    assert served.post(inside).json()["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
    spread = "query { __schema { ...T } } fragment T on __Schema { types { n: name } }"
    assert served.post(spread).json()["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert served.spy.checkouts == 0


# --- media types -------------------------------------------------------------------------------------------------

REFUSED = [
    pytest.param(nested_parents(13), id="depth"),
    pytest.param(aliased(31), id="aliases"),
    pytest.param("{ articles { nodes { " + "slug " * 5000 + "} } }", id="tokens"),
    pytest.param(THREE_LEVELS, id="cost"),
]


@pytest.mark.parametrize("query", REFUSED)
def test_refused_operations_are_400_without_data_under_graphql_response_json(served: Served, query: str) -> None:
    served.refused(query, accept=GRAPHQL_RESPONSE)


@pytest.mark.parametrize("query", REFUSED)
def test_refused_operations_are_200_with_errors_only_under_json(served: Served, query: str) -> None:
    served.refused(query, accept=JSON)
