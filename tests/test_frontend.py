"""What a browser frontend relies on: CORS in development, persisted operations (Apollo's APQ and
trusted documents), batches, HTTP caching of GET queries, partial results, and the SQL an
operation ran, shown in development only. Through the real app on the seeded database.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app.config import Settings
from app.graphql.persisted import QueryStore, sha256_hex
from app.main import create_app
from app.roles import as_role
from tests.helpers import ROOT
from tests.hostile_documents import single_object_tree

OPERATIONS = ROOT / "schema" / "operations"
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
ARTICLES = "{ articles(first: 2) { edges { node { id slug } } } }"


def client_for(seeded_url: str, **settings: Any) -> TestClient:
    return TestClient(create_app(Settings(database_url=seeded_url, api_database_url=as_role(seeded_url), **settings)))


@pytest.fixture(scope="module")
def trusted_api(seeded_url: str) -> Iterator[TestClient]:
    with client_for(seeded_url, persisted_operations_only=True) as client:
        yield client


@pytest.fixture(scope="module")
def production_api(seeded_url: str) -> Iterator[TestClient]:
    with client_for(seeded_url, production=True) as client:
        yield client


def apq(digest: str, query: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}, **extra}
    if query is not None:
        body["query"] = query
    return body


def operation(name: str) -> tuple[str, dict[str, Any]]:
    return (OPERATIONS / f"{name}.graphql").read_text(), json.loads((OPERATIONS / f"{name}.variables.json").read_text())


# --- CORS ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:3000", "http://localhost"])
def test_a_local_dev_server_may_call_the_api_outside_production(api: TestClient, origin: str) -> None:
    preflight = api.options("/graphql", headers={**PREFLIGHT, "Origin": origin})
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == origin
    response = api.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": origin})
    assert response.headers["access-control-allow-origin"] == origin


@pytest.mark.parametrize(
    "origin", ["http://localhost.evil.test", "http://example.test:5173", "https://127.0.0.1.nip.io"]
)
def test_other_origins_stay_closed(api: TestClient, origin: str) -> None:
    preflight = api.options("/graphql", headers={**PREFLIGHT, "Origin": origin})
    assert "access-control-allow-origin" not in preflight.headers


def test_answers_vary_by_origin_whether_or_not_the_request_sent_one(api: TestClient) -> None:
    # a shared cache keeps a GET's answer (ETag, Cache-Control) by URL and Accept: it must not hand
    # an answer without CORS headers, kept for a script, to a browser whose page sent an Origin
    query = {"query": "{ articles(first: 1) { totalCount } }"}
    plain = api.get("/graphql", params=query, headers={"Accept": "application/json"})
    browser = api.get(
        "/graphql", params=query, headers={"Accept": "application/json", "Origin": "http://localhost:5173"}
    )
    for response in (plain, browser):
        assert response.status_code == 200, response.text
        assert response.headers.get_list("vary") == ["Accept, Origin"]
    assert "access-control-allow-origin" not in plain.headers
    assert browser.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert api.post("/graphql", json=query).headers.get_list("vary") == ["Origin"]


def test_production_does_not_allow_localhost(production_api: TestClient) -> None:
    preflight = production_api.options("/graphql", headers={**PREFLIGHT, "Origin": "http://localhost:5173"})
    assert "access-control-allow-origin" not in preflight.headers


# --- automatic persisted queries -------------------------------------------------------------------


def test_apq_not_found_then_registered_then_by_hash_alone(seeded_url: str) -> None:
    query = "query Apq { articles(first: 3) { totalCount edges { node { id title } } } }"
    digest = sha256_hex(query)
    with client_for(seeded_url) as client:
        first = client.post("/graphql", json=apq(digest))
        assert first.status_code == 200, first.text
        (error,) = first.json()["errors"]
        assert error == {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
        assert "data" not in first.json()

        registered = client.post("/graphql", json=apq(digest, query))
        assert registered.status_code == 200, registered.text
        assert registered.json()["data"]["articles"]["totalCount"] > 0

        by_hash = client.post("/graphql", json=apq(digest))
        assert by_hash.status_code == 200
        assert by_hash.json()["data"] == registered.json()["data"]

        # GET with the hash alone: what a CDN caches
        params = {"extensions": json.dumps(apq(digest)["extensions"])}
        got = client.get("/graphql", params=params, headers={"Accept": "application/json"})
        assert got.status_code == 200, got.text
        assert got.json()["data"] == registered.json()["data"]


@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
def test_a_hash_that_is_not_the_querys_is_bad_request(api: TestClient, accept: str) -> None:
    response = api.post("/graphql", json=apq(sha256_hex("{ __typename }"), ARTICLES), headers={"Accept": accept})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    "extensions",
    [
        {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}},
        {"persistedQuery": {"version": 1, "sha256Hash": "not-hex"}},
        {"persistedQuery": {"version": 1}},
        {"persistedQuery": "abc"},
        {"persistedQuery": {"version": True, "sha256Hash": "0" * 64}},
        {"persistedQuery": {"version": 1.0, "sha256Hash": "0" * 64}},
    ],
)
def test_a_malformed_persisted_query_is_bad_request(api: TestClient, extensions: dict[str, Any]) -> None:
    response = api.post("/graphql", json={"extensions": extensions})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_the_store_is_bounded_in_entries_and_bytes() -> None:
    store = QueryStore(max_entries=3, max_bytes=100)
    for i in range(5):
        store.put(f"h{i}", f"query{i}")
    assert len(store) == 3 and store.get("h0") is None and store.get("h4") == "query4"
    store.get("h2")  # recently used: kept
    store.put("big", "x" * 90)
    # the least recently used go until the text fits: h3, then h4; h2 was used since
    assert store.bytes == 96
    assert (store.get("h3"), store.get("h4"), store.get("h2"), store.get("big")) == (None, None, "query2", "x" * 90)
    store.put("huge", "y" * 101)  # larger than the whole store: not kept
    assert store.get("huge") is None
    assert store.bytes == sum(len(q) for q in store._queries.values())


def test_the_apq_store_of_the_app_drops_the_oldest(seeded_url: str) -> None:
    with client_for(seeded_url, apq_max_entries=2) as client:
        queries = [f"{{ a{i}: articles(first: 1) {{ totalCount }} }}" for i in range(3)]
        for query in queries:
            assert client.post("/graphql", json=apq(sha256_hex(query), query)).status_code == 200
        codes = [
            (client.post("/graphql", json=apq(sha256_hex(q))).json().get("errors") or [{}])[0].get("extensions")
            for q in queries
        ]
        assert codes == [{"code": "PERSISTED_QUERY_NOT_FOUND"}, None, None]


UNRUNNABLE = [
    pytest.param("{ ", "GRAPHQL_PARSE_FAILED", id="does not parse"),
    pytest.param("{ nope }", "GRAPHQL_VALIDATION_FAILED", id="does not validate"),
    pytest.param("query { ...F } fragment F on Query { nope }", "GRAPHQL_VALIDATION_FAILED", id="planner validates"),
    pytest.param(single_object_tree(4, 30), "LIMIT_EXCEEDED", id="over the cost limit"),
]


@pytest.mark.parametrize(("query", "code"), UNRUNNABLE)
def test_a_query_that_cannot_run_is_never_registered(seeded_url: str, query: str, code: str) -> None:
    kept = "{ articles(first: 1) { totalCount } }"
    with client_for(seeded_url, apq_max_entries=1) as client:
        assert "errors" not in client.post("/graphql", json=apq(sha256_hex(kept), kept)).json()
        sent = client.post("/graphql", json=apq(sha256_hex(query), query))
        assert [e["extensions"]["code"] for e in sent.json()["errors"]] == [code], sent.text
        # the hash alone is unknown, as it was before: no stored error stands for it
        by_hash = client.post("/graphql", json=apq(sha256_hex(query)))
        assert by_hash.status_code == 200, by_hash.text
        assert by_hash.json() == {
            "errors": [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
        }
        # and the store's one entry is still the query that runs
        assert client.post("/graphql", json=apq(sha256_hex(kept))).json()["data"]["articles"]["totalCount"] > 0


def _drain(ws: Any) -> None:
    while True:
        ws.receive_json()


def test_a_query_over_the_websocket_is_registered_only_once_it_validates(seeded_url: str) -> None:
    good, junk = "{ __typename }", "{ nope }"
    with (
        client_for(seeded_url) as client,
        client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json()["type"] == "connection_ack"
        for op_id, query, last in (("j", junk, "error"), ("g", good, "complete")):
            ws.send_json({"id": op_id, "type": "subscribe", "payload": apq(sha256_hex(query), query)})
            while (message := ws.receive_json()).get("id") != op_id or message["type"] == "next":
                pass
            assert message["type"] == last, message
        ws.send_text("{}")  # not a message of the protocol: the server closes the socket (its handler returns)
        with pytest.raises(WebSocketDisconnect):
            _drain(ws)
        not_found = client.post("/graphql", json=apq(sha256_hex(junk))).json()
        assert not_found["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        assert client.post("/graphql", json=apq(sha256_hex(good))).json()["data"] == {"__typename": "Query"}


def test_a_query_over_the_sql_bound_is_not_registered_over_the_websocket_either(seeded_url: str) -> None:
    # what HTTP refuses for its compiled statement's length, the socket does not register for it
    query = "{ articles(first: 5) { nodes { slug title organisations { slug name } places { slug name } } } }"
    with (
        client_for(seeded_url, max_sql_bytes=1024) as client,
        client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        over_http = client.post("/graphql", json={"query": query}).json()
        assert [e["extensions"]["code"] for e in over_http["errors"]] == ["LIMIT_EXCEEDED"]
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json({"id": "q", "type": "subscribe", "payload": apq(sha256_hex(query), query)})
        message = ws.receive_json()
        assert message["type"] == "error", message
        assert [e["extensions"]["code"] for e in message["payload"]] == ["LIMIT_EXCEEDED"]
        ws.send_text("{}")
        with pytest.raises(WebSocketDisconnect):
            _drain(ws)
        not_found = client.post("/graphql", json=apq(sha256_hex(query))).json()
        assert not_found["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


# --- trusted documents -----------------------------------------------------------------------------


def test_trusted_documents_answer_by_hash_or_text(trusted_api: TestClient, api: TestClient) -> None:
    query, variables = operation("ArticleList")
    expected = api.post("/graphql", json={"query": query, "variables": variables}).json()["data"]
    by_hash = trusted_api.post("/graphql", json=apq(sha256_hex(query), variables=variables))
    assert by_hash.status_code == 200, by_hash.text
    assert by_hash.json()["data"] == expected
    by_document_id = trusted_api.post(
        "/graphql", json={"documentId": f"sha256:{sha256_hex(query)}", "variables": variables}
    )
    assert by_document_id.json()["data"] == expected
    by_text = trusted_api.post("/graphql", json={"query": query, "variables": variables})
    assert by_text.json()["data"] == expected


def test_every_example_operation_is_a_trusted_document(trusted_api: TestClient) -> None:
    for path in sorted(OPERATIONS.glob("*.graphql")):
        query, variables = operation(path.stem)
        body = trusted_api.post("/graphql", json=apq(sha256_hex(query), variables=variables)).json()
        assert "errors" not in body, (path.name, body)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"query": ARTICLES}, id="any query"),
        pytest.param(apq(sha256_hex(ARTICLES), ARTICLES), id="a query registering itself"),
    ],
)
def test_trusted_mode_refuses_anything_else(trusted_api: TestClient, body: dict[str, Any]) -> None:
    response = trusted_api.post("/graphql", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"


def test_trusted_mode_does_not_know_other_hashes(trusted_api: TestClient) -> None:
    response = trusted_api.post("/graphql", json=apq(sha256_hex(ARTICLES)))
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


# --- batches ---------------------------------------------------------------------------------------


def test_a_batch_is_answered_in_order(api: TestClient) -> None:
    query, variables = operation("Search")
    batch = [
        {"query": ARTICLES},
        {"query": query, "variables": variables},
        {"query": "{ nope }"},
        {"query": '{ article(slug: "no-such-article") { id } }'},
    ]
    response = api.post("/graphql", json=batch)
    assert response.status_code == 200, response.text
    answers = response.json()
    assert isinstance(answers, list) and len(answers) == 4
    assert len(answers[0]["data"]["articles"]["edges"]) == 2
    assert answers[1]["data"]["search"]["edges"]
    assert answers[2]["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert answers[3]["data"] == {"article": None}


@pytest.mark.parametrize("size", [0, 11])
def test_a_batch_is_bounded(api: TestClient, size: int) -> None:
    response = api.post("/graphql", json=[{"query": "{ __typename }"}] * size)
    assert response.status_code == 400
    assert "batch holds 1 to 10" in response.json()["errors"][0]["message"]


# --- HTTP caching ----------------------------------------------------------------------------------


def test_get_answers_carry_an_etag_and_304_when_unchanged(api: TestClient) -> None:
    accept = {"Accept": "application/json"}
    first = api.get("/graphql", params={"query": ARTICLES}, headers=accept)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=60"
    again = api.get("/graphql", params={"query": ARTICLES}, headers={**accept, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    other = api.get("/graphql", params={"query": ARTICLES}, headers={**accept, "If-None-Match": '"other"'})
    assert other.status_code == 200 and other.json() == first.json()
    different = api.get("/graphql", params={"query": "{ articles(first: 1) { totalCount } }"}, headers=accept)
    assert different.headers["etag"] != etag


def test_answers_with_errors_are_not_cached(api: TestClient) -> None:
    params = {"query": '{ node(id: "!!") { id } }'}
    response = api.get("/graphql", params=params, headers={"Accept": "application/json"})
    assert response.json()["errors"]
    assert response.headers["cache-control"] == "no-store"
    assert "etag" not in response.headers


def test_cache_max_age_is_a_setting(seeded_url: str) -> None:
    with client_for(seeded_url, cache_max_age=5) as client:
        response = client.get("/graphql", params={"query": "{ __typename }"}, headers={"Accept": "application/json"})
        assert response.headers["cache-control"] == "public, max-age=5"


# --- partial results -------------------------------------------------------------------------------


def _ids(api: TestClient) -> list[str]:
    body = api.post("/graphql", json={"query": ARTICLES}).json()
    return [edge["node"]["id"] for edge in body["data"]["articles"]["edges"]]


@pytest.mark.parametrize("client_name", ["api", "resolver_api"])
def test_nodes_answers_null_with_an_error_only_where_an_id_is_bad(
    request: pytest.FixtureRequest, client_name: str
) -> None:
    client: TestClient = request.getfixturevalue(client_name)
    good, other = _ids(client)
    missing = base64.urlsafe_b64encode(b"Article:987654321").decode().rstrip("=")
    query = "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Article { slug } } }"
    body = client.post("/graphql", json={"query": query, "variables": {"ids": [good, "!!", missing, other]}}).json()
    nodes = body["data"]["nodes"]
    assert [n and n["id"] for n in nodes] == [good, None, None, other]
    errors = {tuple(e["path"]): e["extensions"]["code"] for e in body["errors"]}
    assert errors == {("nodes", 1): "BAD_USER_INPUT", ("nodes", 2): "NOT_FOUND"}


FILTER_PAGE = """query($f: ArticleFilter) {
  bad: articles(first: 5, filter: $f) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } }
  good: articles(first: 2) { edges { node { id slug } } }
  org: organisation(slug: "no-such-organisation") { id }
}"""


def test_a_filter_naming_nothing_is_an_empty_connection_beside_the_rest(
    api: TestClient, resolver_api: TestClient
) -> None:
    variables = {"f": {"place": "atlantis"}}
    compiled = api.post("/graphql", json={"query": FILTER_PAGE, "variables": variables}).json()
    reference = resolver_api.post("/graphql", json={"query": FILTER_PAGE, "variables": variables}).json()
    assert (compiled["data"], compiled["errors"]) == (reference["data"], reference["errors"])
    data = compiled["data"]
    assert data["bad"] == {"totalCount": 0, "edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}
    assert len(data["good"]["edges"]) == 2
    assert data["org"] is None  # a missing slug is null, without an error
    (error,) = compiled["errors"]
    assert error["path"] == ["bad"]
    assert error["extensions"] == {"code": "NOT_FOUND", "references": ["place 'atlantis'"]}


@pytest.mark.parametrize(
    ("field", "path"),
    [
        ("articles(first: -1) { totalCount edges { node { id } } }", ["bad"]),
        ('articles(after: "zzz") { totalCount edges { node { id } } }', ["bad"]),
        ("places(first: 1, last: 1) { totalCount nodes { slug } }", ["bad"]),
        ('search(query: "trade", first: 500) { totalCount edges { node { rank } } }', ["bad"]),
        ('search(query: "trade", after: "' + "x" * 300 + '") { edges { node { rank } } }', ["bad"]),
        ('search(query: "' + "trade " * 100 + '") { totalCount edges { node { rank } } }', ["bad"]),
        ('articles(after: "' + "x" * 1001 + '") { totalCount edges { node { id } } }', ["bad"]),
        (
            "organisations(first: 1) { nodes { articles(first: 101) { totalCount nodes { slug } } } }",
            ["bad", "nodes", 0, "articles"],
        ),
    ],
)
def test_a_connection_asked_for_badly_is_an_empty_connection_beside_the_rest(
    api: TestClient, resolver_api: TestClient, field: str, path: list[str | int]
) -> None:
    # the one rule (README): an argument a connection cannot use answers it empty, the error at its
    # path, and the other fields keep their data, on both answer paths
    query = "{ bad: " + field + " good: articles(first: 2) { edges { node { id slug } } } }"
    compiled = api.post("/graphql", json={"query": query}).json()
    reference = resolver_api.post("/graphql", json={"query": query}).json()
    assert (compiled["data"], compiled["errors"]) == (reference["data"], reference["errors"])
    assert len(compiled["data"]["good"]["edges"]) == 2
    empty = compiled["data"]["bad"]
    for key in path[1:]:
        empty = empty[key]
    assert all(value in ([], 0) for value in empty.values()), empty
    (error,) = compiled["errors"]
    assert error["path"] == path and error["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_trade_series_of_a_filter_naming_nothing_is_empty_with_not_found(api: TestClient) -> None:
    query = '{ tradeSeries(filter: {reporter: "atlantis"}) { label } articles(first: 1) { totalCount } }'
    body = api.post("/graphql", json={"query": query}).json()
    assert body["data"]["tradeSeries"] == []
    assert body["data"]["articles"]["totalCount"] > 0
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["tradeSeries"], "NOT_FOUND")]


# --- the SQL an operation ran, in development --------------------------------------------------------


def test_development_shows_the_compiled_sql_when_asked(api: TestClient, production_api: TestClient) -> None:
    query, variables = operation("ArticleList")
    plain = api.post("/graphql", json={"query": query, "variables": variables}).json()
    assert "sql" not in plain["extensions"]
    shown = api.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"X-Tradegraph-SQL": "1"}
    ).json()
    assert shown["data"] == plain["data"]
    sql = shown["extensions"]["sql"]
    assert sql["compiled"] is True
    (statement,) = sql["statements"]
    assert statement["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
    hidden = production_api.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"X-Tradegraph-SQL": "1"}
    ).json()
    assert "sql" not in hidden["extensions"]


def test_the_resolver_path_shows_each_statement(resolver_api: TestClient) -> None:
    query, variables = operation("ArticlePage")
    body = resolver_api.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"X-Tradegraph-SQL": "1"}
    ).json()
    assert body["extensions"]["sql"]["compiled"] is False
    assert len(body["extensions"]["sql"]["statements"]) == body["extensions"]["sqlStatements"] > 1
