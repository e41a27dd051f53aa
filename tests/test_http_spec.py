"""The /graphql endpoint against the GraphQL-over-HTTP specification, MUSTs and SHOULDs.

Through the real ASGI app (`api`), then through a real `tradegraph serve` process with the
official conformance audit of the `graphql-http` npm package (tests/http_audit/).

Status codes, as the spec asks: `application/graphql-response+json` answers every request error
(unparsable document, invalid document, undeterminable operation, variables that do not coerce)
with 400 and no `data`; `application/json` answers those with 200 and `errors`. A request that is
not well-formed GraphQL-over-HTTP (JSON that does not parse, parameters of the wrong type) is a
400 under both. A field error during execution is a 200 with `data` and `errors` under both.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests import servers
from tests.helpers import ROOT

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
BOTH = [GRAPHQL_RESPONSE, JSON]
AUDIT_DIR = ROOT / "tests" / "http_audit"
ERROR_KEYS = {"message", "locations", "path", "extensions"}

# Status of a GraphQL request error (nothing executed) under each response media type.
REQUEST_ERROR_STATUS = {GRAPHQL_RESPONSE: 400, JSON: 200}

_UNSET: Any = object()


def send(
    api: TestClient,
    method: str = "POST",
    *,
    body: Any = _UNSET,
    content: bytes | None = None,
    accept: str | None = JSON,
    content_type: str | None = JSON,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    """Send one request with exactly the given Accept and Content-Type headers (None: no header)."""
    if body is not _UNSET:
        content = json.dumps(body).encode()
    request = api.build_request(method, "/graphql", content=content, params=params)
    for name, value in (("accept", accept), ("content-type", content_type)):
        if value is None:
            request.headers.pop(name, None)
        else:
            request.headers[name] = value
    response: httpx.Response = api.send(request)
    return response


def get(api: TestClient, *, accept: str | None = JSON, **params: str) -> httpx.Response:
    return send(api, "GET", accept=accept, content_type=None, params=params)


def media_type(response: httpx.Response) -> tuple[str, dict[str, str]]:
    """The response's media type, lower case, and its parameters."""
    media, *params = (part.strip() for part in response.headers["content-type"].split(";"))
    pairs = (param.partition("=") for param in params)
    return media.lower(), {name.strip().lower(): value.strip().strip('"').lower() for name, _, value in pairs}


def assert_media(response: httpx.Response, expected: str) -> None:
    media, params = media_type(response)
    assert media == expected, response.headers["content-type"]
    assert params.get("charset") == "utf-8", response.headers["content-type"]


def assert_errors_shaped(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Check `body` is a spec-shaped response with a non-empty `errors`; return them."""
    assert set(body) <= {"data", "errors", "extensions"}, body
    errors = body["errors"]
    assert isinstance(errors, list), body
    assert errors, body
    for error in errors:
        assert set(error) <= ERROR_KEYS, error
        assert isinstance(error["message"], str), error
        assert error["message"], error
        assert "Traceback" not in error["message"], error
        assert isinstance(error["extensions"]["code"], str), error
        for location in error.get("locations", []):
            assert set(location) == {"line", "column"}, error
    return errors


def request_error(response: httpx.Response, *, media: str, status: int) -> list[dict[str, Any]]:
    """Check a response that refuses the request: status, media type, `errors`, no `data`."""
    assert response.status_code == status, response.text
    assert_media(response, media)
    body: dict[str, Any] = response.json()
    assert "data" not in body, body
    return assert_errors_shaped(body)


def success(response: httpx.Response, *, media: str = JSON) -> dict[str, Any]:
    """Check a 200 with `data` and no `errors`; return `data`."""
    assert response.status_code == 200, response.text
    assert_media(response, media)
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


# --- media types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (JSON, JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (None, JSON),
        (f"{GRAPHQL_RESPONSE}; charset=utf-8", GRAPHQL_RESPONSE),
        (f"{JSON}, {GRAPHQL_RESPONSE}", JSON),  # equal q: the first listed wins
        (f"{GRAPHQL_RESPONSE}, {JSON}", GRAPHQL_RESPONSE),
        (f"{JSON};q=0.5, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0.1, {JSON}", JSON),
        (f"{GRAPHQL_RESPONSE};q=0, */*", JSON),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", JSON),  # a browser
    ],
)
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_response_media_type_follows_accept(api: TestClient, method: str, accept: str | None, expected: str) -> None:
    query = "{ articles(first: 1) { totalCount } }"
    if method == "POST":
        response = send(api, body={"query": query}, accept=accept)
    else:
        response = get(api, accept=accept, query=query)
    data = success(response, media=expected)
    assert data["articles"]["totalCount"] >= 1


@pytest.mark.parametrize(
    "accept",
    [
        "text/plain",
        "application/xml",
        "*/*;q=0",
        "text/html;q=1, image/png",
        f"{JSON};q=0, {GRAPHQL_RESPONSE};q=0",
    ],
)
@pytest.mark.parametrize("method", ["POST", "GET", "HEAD"])
def test_unsupported_accept_is_a_coded_json_406(api: TestClient, method: str, accept: str) -> None:
    if method == "POST":
        response = send(api, body={"query": "{ __typename }"}, accept=accept)
    else:
        response = send(api, method, accept=accept, content_type=None, params={"query": "{ __typename }"})
    assert response.status_code == 406, response.text
    # coded JSON like every other error; the client accepts nothing we speak: plain application/json
    assert_media(response, JSON)
    if method == "HEAD":
        return
    (error,) = request_error(response, media=JSON, status=406)
    assert error["extensions"]["code"] == "NOT_ACCEPTABLE"
    assert GRAPHQL_RESPONSE in error["message"] and JSON in error["message"]


def test_utf8_in_both_directions(api: TestClient) -> None:
    response = send(
        api, body={"query": '{ __type(name: "Run🏃Swim🏊") { name } }'}, content_type=f"{JSON}; charset=utf-8"
    )
    assert success(response) == {"__type": None}

    # a name with an en dash, sent as raw UTF-8 (not \\u escapes) and declared as such
    response = send(api, body={"query": "{ events(first: 100) { nodes { name } } }"})
    assert_media(response, JSON)
    text = response.content.decode("utf-8")
    names = [node["name"] for node in json.loads(text)["data"]["events"]["nodes"]]
    assert any(not name.isascii() for name in names), names
    assert "–" in text


# --- POST ------------------------------------------------------------------------------------


def test_post_json_executes_with_variables_and_operation_name(api: TestClient) -> None:
    document = """
        query Liaoning($code: String!) { place(code: $code) { name children { name } } }
        query Count { articles { totalCount } }
    """
    for accept in BOTH:
        response = send(
            api, body={"query": document, "variables": {"code": "CN-LN"}, "operationName": "Liaoning"}, accept=accept
        )
        place = success(response, media=accept)["place"]
        assert place["name"] == "Liaoning"
        assert {"Shenyang", "Dalian"} <= {child["name"] for child in place["children"]}
    assert success(send(api, body={"query": document, "operationName": "Count"}))["articles"]["totalCount"] >= 1


@pytest.mark.parametrize("parameter", ["variables", "operationName", "extensions"])
@pytest.mark.parametrize("accept", BOTH)
def test_null_parameters_are_allowed(api: TestClient, accept: str, parameter: str) -> None:
    response = send(api, body={"query": "{ __typename }", parameter: None}, accept=accept)
    assert success(response, media=accept) == {"__typename": "Query"}


@pytest.mark.parametrize("accept", BOTH)
def test_map_extensions_are_allowed(api: TestClient, accept: str) -> None:
    response = send(api, body={"query": "{ __typename }", "extensions": {"some": "value"}}, accept=accept)
    assert success(response, media=accept) == {"__typename": "Query"}


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/graphql"]
)
def test_post_needs_a_json_content_type(api: TestClient, content_type: str | None) -> None:
    response = send(api, body={"query": "{ __typename }"}, content_type=content_type)
    errors = request_error(response, media=JSON, status=415)
    assert errors[0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.parametrize("charset", ["utf-16", "latin-1", "UTF-32"])
def test_post_needs_json_in_utf_8(api: TestClient, charset: str) -> None:
    response = send(api, body={"query": "{ __typename }"}, content_type=f"application/json; charset={charset}")
    errors = request_error(response, media=JSON, status=415)
    assert errors[0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE" and "UTF-8" in errors[0]["message"]
    for same in [
        "application/json; charset=UTF-8",
        'application/json;charset="utf-8"',
        "application/json; charset=utf8",
    ]:
        assert success(send(api, body={"query": "{ __typename }"}, content_type=same)) == {"__typename": "Query"}


@pytest.mark.parametrize(
    ("content", "says"),
    [(b'{"query": "{ __typename }", "variables": {"a": 1e999}}', "infinity"), (b'{"query": ', "end of data")],
)
def test_json_that_cannot_be_read_says_why(api: TestClient, content: bytes, says: str) -> None:
    errors = request_error(send(api, content=content), media=JSON, status=400)
    assert "not valid JSON" in errors[0]["message"] and says in errors[0]["message"]


def test_a_subscription_over_get_is_405_pointing_to_the_websocket(api: TestClient) -> None:
    response = get(api, query="subscription { corpusChanged { version } }")
    assert response.status_code == 405
    assert "WebSocket" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("accept", BOTH)
def test_empty_body_is_400(api: TestClient, accept: str) -> None:
    errors = request_error(send(api, content=b"", accept=accept), media=accept, status=400)
    assert errors[0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("content", [b'{ "not a JSON', b"NONSENSE", b'{"query":', b"\xff\xfe{}"])
@pytest.mark.parametrize("accept", BOTH)
def test_invalid_json_is_400(api: TestClient, accept: str, content: bytes) -> None:
    # spec, "JSON parsing failure": SHOULD be 400 under either media type (audit BCF8, B7N8)
    errors = request_error(send(api, content=content, accept=accept), media=accept, status=400)
    assert errors[0]["extensions"]["code"] == "BAD_REQUEST"


INVALID_PARAMETERS = [
    pytest.param({"notquery": "{ __typename }"}, id="missing-query"),
    pytest.param({"query": ""}, id="empty-query"),
    pytest.param({"query": None}, id="null-query"),
    pytest.param({"query": {"obj": "ect"}}, id="object-query"),
    pytest.param({"query": 0}, id="number-query"),
    pytest.param({"query": False}, id="boolean-query"),
    pytest.param({"query": ["array"]}, id="array-query"),
    *(
        pytest.param({"query": "{ __typename }", name: value}, id=f"{kind}-{name}")
        for name, values in {
            "operationName": [("object", {"obj": "ect"}), ("number", 0), ("boolean", False), ("array", ["array"])],
            "variables": [("string", "string"), ("number", 0), ("boolean", False), ("array", ["array"])],
            "extensions": [("string", "string"), ("number", 0), ("boolean", False), ("array", ["array"])],
        }.items()
        for kind, value in values
    ),
    pytest.param({"query": "{ __typename }", "variables": '{"a": 1}'}, id="json-string-variables-on-post"),
]


@pytest.mark.parametrize("body", INVALID_PARAMETERS)
@pytest.mark.parametrize("accept", BOTH)
def test_invalid_parameters_are_400(api: TestClient, accept: str, body: dict[str, Any]) -> None:
    # spec, "Invalid parameters": not a well-formed GraphQL-over-HTTP request, SHOULD be 400
    errors = request_error(send(api, body=body, accept=accept), media=accept, status=400)
    assert errors[0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("body", [[], "{ __typename }", 42, None])
@pytest.mark.parametrize("accept", BOTH)
def test_a_body_that_is_not_an_object_is_400(api: TestClient, accept: str, body: Any) -> None:
    # an array is a batch (tests/test_frontend.py); an empty one, or anything else, is refused
    request_error(send(api, body=body, accept=accept), media=accept, status=400)


# --- GraphQL request errors: 400 under graphql-response+json, 200 under json -------------------


@pytest.mark.parametrize("accept", BOTH)
def test_document_parse_failure(api: TestClient, accept: str) -> None:
    response = send(api, body={"query": "{"}, accept=accept)
    errors = request_error(response, media=accept, status=REQUEST_ERROR_STATUS[accept])
    assert errors[0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert errors[0]["locations"] == [{"line": 1, "column": 2}]


@pytest.mark.parametrize("accept", BOTH)
def test_document_validation_failure(api: TestClient, accept: str) -> None:
    for query in (
        "{ f8f31403dfe404bccbb0e835f2629c6a7 }",  # no such field
        "{ articles }",  # a selection set is required
        "query($n: Int) { __typename }",  # unused variable
        "mutation { __typename }",  # the schema has no mutations
        "subscription { __typename }",
    ):
        response = send(api, body={"query": query}, accept=accept)
        errors = request_error(response, media=accept, status=REQUEST_ERROR_STATUS[accept])
        assert {e["extensions"]["code"] for e in errors} == {"GRAPHQL_VALIDATION_FAILED"}, query


@pytest.mark.parametrize("accept", BOTH)
def test_operation_cannot_be_determined(api: TestClient, accept: str) -> None:
    two = "query A { __typename } query B { __typename }"
    for body in (
        {"query": "query A { __typename }", "operationName": "B"},
        {"query": "{ __typename }", "operationName": "A"},
        {"query": two},
        {"query": two, "operationName": "C"},
    ):
        response = send(api, body=body, accept=accept)
        errors = request_error(response, media=accept, status=REQUEST_ERROR_STATUS[accept])
        assert errors[0]["extensions"]["code"] == "BAD_REQUEST", body


VARIABLES_THAT_DO_NOT_COERCE = [
    pytest.param("query($n: Int) { articles(first: $n) { totalCount } }", {"n": "x"}, id="string-for-int"),
    pytest.param("query($n: Int) { articles(first: $n) { totalCount } }", {"n": 1.5}, id="float-for-int"),
    pytest.param("query($id: ID!) { node(id: $id) { id } }", {"id": None}, id="null-for-non-null"),
    pytest.param("query($id: ID!) { node(id: $id) { id } }", {}, id="missing-non-null"),
    pytest.param(
        "query($f: ArticleFilter) { articles(filter: $f) { totalCount } }", {"f": {"x": 1}}, id="unknown-field"
    ),
    pytest.param("query($o: ArticleOrder!) { articles(orderBy: $o) { totalCount } }", {"o": "NOPE"}, id="bad-enum"),
]


@pytest.mark.parametrize(("query", "variables"), VARIABLES_THAT_DO_NOT_COERCE)
@pytest.mark.parametrize("accept", BOTH)
def test_variable_coercion_failure(api: TestClient, accept: str, query: str, variables: dict[str, Any]) -> None:
    response = send(api, body={"query": query, "variables": variables}, accept=accept)
    errors = request_error(response, media=accept, status=REQUEST_ERROR_STATUS[accept])
    assert "path" not in errors[0]


@pytest.mark.parametrize(("query", "variables"), VARIABLES_THAT_DO_NOT_COERCE)
def test_variable_coercion_failure_says_why(api: TestClient, query: str, variables: dict[str, Any]) -> None:
    response = send(api, body={"query": query, "variables": variables}, accept=GRAPHQL_RESPONSE)
    (error,) = request_error(response, media=GRAPHQL_RESPONSE, status=400)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith("Variable '$"), error


@pytest.mark.parametrize("accept", BOTH)
def test_field_error_during_execution_is_200_with_data(api: TestClient, accept: str) -> None:
    response = send(api, body={"query": "{ articles(first: 1000) { totalCount } }"}, accept=accept)
    assert response.status_code == 200, response.text
    assert_media(response, accept)
    body = response.json()
    (error,) = assert_errors_shaped(body)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["path"] == ["articles"]
    assert body["data"] == {"articles": {"totalCount": 0}}  # answered empty in its place

    # a partial response: the connection is empty, its parent and the rest are there
    query = """
        { place(code: "CN-LN") { name }
          organisation(slug: "asia-financial") { articles(first: 1000) { totalCount } } }
    """
    response = send(api, body={"query": query}, accept=accept)
    assert response.status_code == 200, response.text
    body = response.json()
    (error,) = assert_errors_shaped(body)
    assert error["path"] == ["organisation", "articles"]
    assert body["data"] == {"place": {"name": "Liaoning"}, "organisation": {"articles": {"totalCount": 0}}}


# --- GET ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", BOTH)
def test_get_executes_queries(api: TestClient, accept: str) -> None:
    assert success(get(api, accept=accept, query="{ __typename }"), media=accept) == {"__typename": "Query"}

    document = "query A { __typename } query Place($code: String) { place(code: $code) { name } }"
    response = get(api, accept=accept, query=document, variables=json.dumps({"code": "CN-LN"}), operationName="Place")
    assert success(response, media=accept) == {"place": {"name": "Liaoning"}}

    response = get(api, accept=accept, query="{ __typename }", variables="null", extensions='{"some": "value"}')
    assert success(response, media=accept) == {"__typename": "Query"}


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({}, id="no-query"),
        pytest.param({"qeury": "{ __typename }"}, id="typo"),
        pytest.param({"query": "{ __typename }", "variables": "{not json"}, id="unparsable-variables"),
        pytest.param({"query": "{ __typename }", "variables": "[1]"}, id="array-variables"),
        pytest.param({"query": "{ __typename }", "extensions": "{not json"}, id="unparsable-extensions"),
        pytest.param({"query": "{ __typename }", "extensions": '"string"'}, id="string-extensions"),
    ],
)
@pytest.mark.parametrize("accept", BOTH)
def test_get_with_invalid_parameters_is_400(api: TestClient, accept: str, params: dict[str, str]) -> None:
    request_error(get(api, accept=accept, **params), media=accept, status=400)


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"query": "mutation { __typename }"}, id="mutation"),
        pytest.param({"query": "mutation M { anything(x: 1) }"}, id="invalid-mutation"),
        pytest.param({"query": "subscription { __typename }"}, id="subscription"),
        pytest.param({"query": "query Q { __typename } mutation M { __typename }", "operationName": "M"}, id="named"),
    ],
)
@pytest.mark.parametrize("accept", BOTH)
def test_get_mutation_is_405(api: TestClient, accept: str, params: dict[str, str]) -> None:
    # spec: a GET whose query and operationName select a mutation MUST be 405, before validation
    # (this schema has no Mutation type, so every such document is also invalid)
    response = get(api, accept=accept, **params)
    assert response.headers["allow"] == "POST"
    errors = request_error(response, media=accept, status=405)
    assert errors[0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


def test_get_selecting_the_query_of_a_document_with_a_mutation_is_not_405(api: TestClient) -> None:
    response = get(
        api, accept=GRAPHQL_RESPONSE, query="query Q { __typename } mutation M { __typename }", operationName="Q"
    )
    errors = request_error(response, media=GRAPHQL_RESPONSE, status=400)  # invalid: no mutations here
    assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_get_without_query_from_a_browser_is_graphiql(api: TestClient) -> None:
    response = get(api, accept="text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    assert response.status_code == 200, response.text
    media, params = media_type(response)
    assert media == "text/html"
    assert params.get("charset") == "utf-8"
    assert response.text.lstrip().lower().startswith("<!doctype html>")
    assert "/static/graphiql/" in response.text


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND"])
def test_other_methods_are_405_naming_get_and_post(api: TestClient, method: str) -> None:
    response = send(api, method, body={"query": "{ __typename }"})
    assert response.status_code == 405, response.text
    assert {m.strip() for m in response.headers["allow"].split(",")} == {"GET", "HEAD", "POST"}
    # coded like every other error, whatever method routing did not know
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "METHOD_NOT_ALLOWED" and method in error["message"]


def test_a_path_nothing_serves_is_a_coded_404(api: TestClient) -> None:
    response = api.get("/graphq1")
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    long = api.get("/" + "x" * 5000)
    assert long.status_code == 404 and len(long.content) < 400  # the path is not echoed whole
    for path in ("/healthz", "/readyz"):  # monitors ask with HEAD
        assert api.head(path).status_code == 200
    response = api.post("/healthz")
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} == {"GET", "HEAD"}
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
@pytest.mark.parametrize("path", ["/graphql/", "/healthz/", "/readyz/", "/metrics/"])
def test_a_trailing_slash_is_a_coded_404_not_a_redirect(api: TestClient, path: str, method: str) -> None:
    # a redirect would be built from the Host header, which the client chooses
    response = api.request(
        method,
        path,
        params={"query": "{ __typename }"},
        json={"query": "{ __typename }"} if method == "POST" else None,
        headers={"Host": "evil.test", "Accept": JSON},
        follow_redirects=False,
    )
    assert response.status_code == 404, response.headers
    assert "location" not in response.headers
    assert media_type(response)[0] == JSON
    if method != "HEAD":
        (error,) = response.json()["errors"]
        assert error["extensions"]["code"] == "NOT_FOUND" and path in error["message"]


def test_head_answers_as_get_does(api: TestClient) -> None:
    # HTTP asks every server to support HEAD wherever it supports GET: same status, same headers
    params = {"query": "{ articles(first: 1) { totalCount } }"}
    got = api.get("/graphql", params=params, headers={"Accept": "application/json"})
    head = api.head("/graphql", params=params, headers={"Accept": "application/json"})
    assert got.status_code == head.status_code == 200, head.text
    for name in ("content-type", "etag", "cache-control"):
        assert head.headers[name] == got.headers[name], name
    html = api.head("/graphql", headers={"Accept": "text/html"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    # GraphiQL's page and a JSON answer share the URL: caches must key on Accept, and keep no page
    assert "accept" in html.headers["vary"].lower() and html.headers["cache-control"] == "no-cache"
    mutation = api.head("/graphql", params={"query": "mutation { __typename }"}, headers={"Accept": "application/json"})
    assert mutation.status_code == 405


# --- CORS ------------------------------------------------------------------------------------------

ORIGIN = "http://example.test"
PREFLIGHT = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}


def test_no_cors_headers_unless_configured(api: TestClient, seeded_url: str) -> None:
    # in production nothing is allowed unless CORS_ORIGINS says so
    with TestClient(create_app(Settings(database_url=seeded_url, production=True))) as production:
        preflight = production.options("/graphql", headers=PREFLIGHT)
        assert not any(name.startswith("access-control-") for name in preflight.headers), preflight.headers
        response = production.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": ORIGIN})
        assert response.status_code == 200
        assert not any(name.startswith("access-control-") for name in response.headers), response.headers
    # in development only this machine's origins are (tests/test_frontend.py): not this one
    preflight = api.options("/graphql", headers=PREFLIGHT)
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    response = api.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_cors_for_configured_origins(seeded_url: str) -> None:
    app = create_app(Settings(database_url=seeded_url, cors_origins=[ORIGIN]))
    with TestClient(app) as client:
        preflight = client.options("/graphql", headers=PREFLIGHT)
        assert preflight.status_code == 200, preflight.text
        assert preflight.headers["access-control-allow-origin"] == ORIGIN
        assert "POST" in preflight.headers["access-control-allow-methods"]
        assert "content-type" in preflight.headers["access-control-allow-headers"].lower()

        response = client.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": ORIGIN})
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == ORIGIN
        assert response.json()["data"] == {"__typename": "Query"}

        other = client.options("/graphql", headers={**PREFLIGHT, "Origin": "http://elsewhere.test"})
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers


# --- the graphql-http conformance audit, against a real server ----------------------------------

# Audits (by id) allowed to fail, with the reason. MUSTs may never be listed here.
ACCEPTED_AUDIT_FAILURES: dict[str, str] = {}


@contextlib.contextmanager
def served(database_url: str, workdir: Path, timeout: float = 60) -> Iterator[str]:
    """Run `tradegraph serve` on `database_url`; yield its /graphql URL; SIGTERM it afterwards."""
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    env["DATABASE_URL"] = database_url
    # away from the project: no .env
    with servers.serving(env, logs=workdir, cwd=workdir, ready="/healthz", timeout=timeout) as server:
        yield f"{server.base}/graphql"


def _node_and_npm() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("the graphql-http audit needs Node.js ≥ 18 and npm on PATH")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 18:
        pytest.skip(f"the graphql-http audit needs Node.js ≥ 18 (global fetch); found {version}")
    return node, npm


def _describe(result: dict[str, Any]) -> str:
    line = f"{result['id']} {result['name']}: {result.get('reason', '')}"
    response = result.get("response")
    if response:
        line += f"\n    got {response['status']} {response['contentType']}: {str(response['body'])[:300]}"
    return line


def test_graphql_http_audit(seeded_url: str, tmp_path: Path) -> None:
    node, npm = _node_and_npm()
    installed = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund"], cwd=AUDIT_DIR, capture_output=True, text=True, timeout=300
    )
    assert installed.returncode == 0, f"npm install failed:\n{installed.stdout}\n{installed.stderr}"

    with served(seeded_url, tmp_path) as url:
        audit = subprocess.run([node, "audit.mjs", url], cwd=AUDIT_DIR, capture_output=True, text=True, timeout=120)
    assert audit.returncode == 0, f"the audit did not run:\n{audit.stdout}\n{audit.stderr}"
    results: list[dict[str, Any]] = json.loads(audit.stdout)

    ids = [r["id"] for r in results]
    assert len(ids) == len(set(ids)), ids
    by_level = {level: [r for r in results if r["level"] == level] for level in ("MUST", "SHOULD", "MAY")}
    assert sum(map(len, by_level.values())) == len(results), [r["name"] for r in results]
    assert by_level["MUST"], results
    assert by_level["SHOULD"], results
    for level, rs in by_level.items():
        passed = sum(r["status"] == "ok" for r in rs)
        print(f"graphql-http audit: {level}: {passed}/{len(rs)} pass")

    assert not [i for i in ACCEPTED_AUDIT_FAILURES if i in {r["id"] for r in by_level["MUST"]}]
    failing = [r for r in by_level["MUST"] + by_level["SHOULD"] if r["status"] != "ok"]
    unexpected = [r for r in failing if r["id"] not in ACCEPTED_AUDIT_FAILURES]
    assert not unexpected, "failing MUST/SHOULD audits:\n" + "\n".join(map(_describe, unexpected))
    stale = set(ACCEPTED_AUDIT_FAILURES) - {r["id"] for r in failing}
    assert not stale, f"accepted failures that now pass (remove them): {sorted(stale)}"

    # the optional audits pass too, as this endpoint implements every MAY the audit checks
    notices = [r for r in by_level["MAY"] if r["status"] != "ok"]
    assert not notices, "failing MAY audits:\n" + "\n".join(map(_describe, notices))
