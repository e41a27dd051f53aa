"""Malformed HTTP and hostile input: a 4xx with a spec-shaped body, never a 5xx, never a traceback.

Request errors are checked under `application/graphql-response+json`, where the GraphQL-over-HTTP
specification makes them 400 (under `application/json` the same requests are 200 with `errors` and
no `data`). Field errors raised while executing (a negative `first`, a search text over 500
characters) are, per the specification, 200 with `data` and a coded error under both.

Then a statement slower than `statement_timeout_ms`, and production mode.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Message

from app.config import Settings
from app.main import create_app
from app.roles import as_role
from tests.helpers import sent, shown
from tests.test_observability import metric, scrape

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
LEAKS = ("Traceback", 'File "', "sqlalchemy", "psycopg", "SELECT ", "site-packages")


def assert_spec_error(response: httpx.Response, *codes: str) -> list[dict[str, Any]]:
    """Assert a JSON body `{"errors": [{"message", "extensions": {"code"}}]}` that leaks nothing."""
    assert response.status_code < 500, response.text
    for leak in LEAKS:
        # an error message may quote the input back: only what the request did not contain is a leak
        assert leak not in shown(response) or leak in sent(response), response.text
    assert response.headers["content-type"].split(";")[0] in (GRAPHQL_RESPONSE, JSON), response.headers
    body = response.json()
    assert isinstance(body, dict), body
    errors: list[dict[str, Any]] = body["errors"]
    assert isinstance(errors, list)
    assert errors
    for error in errors:
        assert isinstance(error["message"], str)
        assert error["message"]
        assert isinstance(error["extensions"]["code"], str)
    if codes:
        assert {e["extensions"]["code"] for e in errors} <= set(codes), errors
    return errors


def request_error(response: httpx.Response, *codes: str) -> list[dict[str, Any]]:
    """Assert a request error: 4xx, no `data`, a coded spec-shaped body."""
    assert 400 <= response.status_code < 500, response.text
    assert "data" not in response.json()
    return assert_spec_error(response, *codes)


@contextlib.contextmanager
def serving(url: str, **settings: Any) -> Iterator[tuple[TestClient, FastAPI]]:
    app = create_app(Settings(database_url=url, api_database_url=as_role(url), **settings))
    # server exceptions become the 500 a real server would send, so the tests can assert there is none
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, app


@pytest.fixture(scope="module")
def served(seeded_url: str) -> Iterator[tuple[TestClient, FastAPI]]:
    with serving(seeded_url, expose_statement_count=True) as pair:
        yield pair


@pytest.fixture(scope="module")
def client(served: tuple[TestClient, FastAPI]) -> TestClient:
    return served[0]


def post(
    client: TestClient,
    content: bytes | str,
    *,
    accept: str = GRAPHQL_RESPONSE,
    content_type: str = JSON,
    **headers: str,
) -> httpx.Response:
    body = content.encode() if isinstance(content, str) else content
    response: httpx.Response = client.post(
        "/graphql", content=body, headers={"accept": accept, "content-type": content_type, **headers}
    )
    return response


def post_json(client: TestClient, payload: Any, **kwargs: Any) -> httpx.Response:
    return post(client, json.dumps(payload), **kwargs)


# --- malformed requests ----------------------------------------------------------------------------


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"query": ', id="truncated"),
        pytest.param(b"{'query': '{ __typename }'}", id="single quotes"),
        pytest.param(b'{"query": "{ __typename }",}', id="trailing comma"),
        pytest.param(b"\xef\xbb\xbf", id="only a BOM"),
        pytest.param(b"NaN", id="NaN"),
        pytest.param(b"\x00\x00\x00", id="NUL bytes"),
    ],
)
def test_invalid_json_is_400(client: TestClient, body: bytes, accept: str) -> None:
    errors = request_error(post(client, body, accept=accept), "BAD_REQUEST")
    assert "JSON" in errors[0]["message"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"query": "{ __typename }", "x": "\xff\xfe"}', id="invalid bytes"),
        pytest.param(b'{"query": "{ __typename \xc3\x28 }"}', id="invalid continuation"),
        pytest.param(b'{"query": "{ __typename }", "x": "\xed\xa0\x80"}', id="encoded surrogate"),
        pytest.param(b'{"query": "{ __typename }", "x": "\xc0\xaf"}', id="overlong"),
        pytest.param('{"query": "{ article(slug: \\"é\\") { slug } }"}'.encode("latin-1"), id="latin-1"),
    ],
)
@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
def test_invalid_utf8_is_400(client: TestClient, body: bytes, accept: str) -> None:
    request_error(post(client, body, accept=accept), "BAD_REQUEST")


def test_a_lone_surrogate_escape_is_refused_or_harmless(client: TestClient) -> None:
    # "\ud800" is valid JSON syntax for a string no UTF-8 can carry
    response = post(client, b'{"query": "{ article(slug: \\"x\\") { slug } }", "variables": {"s": "\\ud800"}}')
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert_spec_error(response)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param([], id="empty batch"),
        pytest.param([{"query": "{ __typename }"}] * 11, id="batch over the limit"),
        pytest.param(None, id="null"),
        pytest.param("{ __typename }", id="a string"),
        pytest.param(42, id="a number"),
        pytest.param({}, id="no query"),
        pytest.param({"query": 5}, id="query not a string"),
        pytest.param({"query": ["{ __typename }"]}, id="query a list"),
        pytest.param({"query": "   "}, id="blank query"),
        pytest.param({"query": "{ __typename }", "variables": [1]}, id="variables a list"),
        pytest.param({"query": "{ __typename }", "variables": "{}"}, id="variables a string"),
        pytest.param({"query": "{ __typename }", "operationName": 1}, id="operationName a number"),
        pytest.param({"query": "{ __typename }", "extensions": []}, id="extensions a list"),
    ],
)
def test_malformed_parameters_are_400(client: TestClient, payload: Any) -> None:
    request_error(post_json(client, payload), "BAD_REQUEST")


def test_an_empty_body_is_400(client: TestClient) -> None:
    request_error(post(client, b""), "BAD_REQUEST")


@pytest.mark.parametrize(
    ("query", "operation_name"),
    [
        pytest.param("query A { __typename }", "B", id="no such name"),
        pytest.param("query A { __typename } query B { __typename }", None, id="several, none named"),
        pytest.param("{ __typename }", "A", id="anonymous"),
        pytest.param("query A { __typename }", "", id="empty name"),
        pytest.param("query A { __typename }", "A" * 10_000, id="long name"),
    ],
)
def test_unknown_operation_names_are_400(client: TestClient, query: str, operation_name: str | None) -> None:
    request_error(post_json(client, {"query": query, "operationName": operation_name}), "BAD_REQUEST")


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("{", id="unclosed"),
        pytest.param("{ articles(first: ) { totalCount } }", id="missing value"),
        pytest.param('{ article(slug: "unterminated) { slug } }', id="unterminated string"),
        pytest.param("{ __typename } \u200b", id="zero-width space"),
        pytest.param("{ " + "[" * 10_000 + " }", id="brackets"),
        pytest.param("query" * 10_000, id="keywords"),
    ],
)
def test_syntax_errors_are_400(client: TestClient, query: str) -> None:
    request_error(post_json(client, {"query": query}), "GRAPHQL_PARSE_FAILED", "LIMIT_EXCEEDED")


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        pytest.param("query($n: Int) { articles(first: $n) { totalCount } }", {"n": "ten"}, id="string for Int"),
        pytest.param("query($n: Int) { articles(first: $n) { totalCount } }", {"n": 1.5}, id="float for Int"),
        pytest.param("query($n: Int) { articles(first: $n) { totalCount } }", {"n": True}, id="bool for Int"),
        pytest.param("query($n: Int) { articles(first: $n) { totalCount } }", {"n": [1]}, id="list for Int"),
        pytest.param("query($s: String!) { article(slug: $s) { slug } }", {}, id="missing non-null"),
        pytest.param("query($s: String!) { article(slug: $s) { slug } }", {"s": None}, id="null for non-null"),
        pytest.param("query($s: String!) { article(slug: $s) { slug } }", {"s": {"a": 1}}, id="object for String"),
        pytest.param(
            "query($f: ArticleFilter) { articles(filter: $f) { totalCount } }",
            {"f": {"nope": 1}},
            id="unknown input field",
        ),
        pytest.param(
            "query($f: ArticleFilter) { articles(filter: $f) { totalCount } }",
            {"f": {"publishedFrom": "2023-02-30"}},
            id="impossible date",
        ),
        pytest.param(
            "query($f: TradeFigureFilter) { tradeFigures(filter: $f) { totalCount } }",
            {"f": {"usdMin": "lots"}},
            id="not a decimal",
        ),
        pytest.param(
            "query($f: TradeFigureFilter) { tradeFigures(filter: $f) { totalCount } }",
            {"f": {"flow": ["SIDEWAYS"]}},
            id="unknown enum value",
        ),
        pytest.param(
            "query($o: ArticleOrder!) { articles(orderBy: $o) { totalCount } }", {"o": 0}, id="number for enum"
        ),
    ],
)
def test_wrong_variable_types_are_400(client: TestClient, query: str, variables: dict[str, Any]) -> None:
    errors = request_error(post_json(client, {"query": query, "variables": variables}), "BAD_USER_INPUT")
    assert "$" in errors[0]["message"]


@pytest.mark.parametrize("first", [2**31, 2**40, 2**63, 10**30, -(2**40)])
def test_huge_integers_for_first_are_int_coercion_errors(client: TestClient, first: int) -> None:
    query = "query($n: Int) { articles(first: $n) { totalCount } }"
    errors = request_error(post_json(client, {"query": query, "variables": {"n": first}}), "BAD_USER_INPUT")
    assert "Int cannot represent" in errors[0]["message"]
    # written in the document, the same number fails validation
    inline = f"{{ articles(first: {first}) {{ totalCount }} }}"
    request_error(post_json(client, {"query": inline}), "GRAPHQL_VALIDATION_FAILED")


@pytest.mark.parametrize(
    "written", ["20240101", "2024-W01-1", "2024-001", "２０２４-01-01", "2024-01-01T00:00", "2024-02-30"]
)
def test_a_date_is_only_ever_yyyy_mm_dd(client: TestClient, written: str) -> None:
    # other ISO 8601 forms Python would read are refused: the documented form only, as a variable
    query = "query($d: Date) { articles(filter: { publishedFrom: $d }) { totalCount } }"
    errors = request_error(post_json(client, {"query": query, "variables": {"d": written}}), "BAD_USER_INPUT")
    assert "$d" in errors[0]["message"]
    # and written in the document
    inline = '{ articles(filter: { publishedFrom: "' + written + '" }) { totalCount } }'
    request_error(post_json(client, {"query": inline}), "GRAPHQL_VALIDATION_FAILED")
    # the same date as documented is read
    body = post_json(client, {"query": query, "variables": {"d": "2024-01-01"}}).json()
    assert isinstance(body["data"]["articles"]["totalCount"], int)


@pytest.mark.parametrize(
    "written",
    [
        lambda e: base64.urlsafe_b64encode(e).decode().rstrip("=") + "==",  # padded
        lambda e: base64.urlsafe_b64encode(e.replace(b":", b":0")).decode().rstrip("="),  # a leading zero
        lambda e: base64.urlsafe_b64encode(e.split(b":")[0] + ":٤".encode()).decode().rstrip("="),  # not ASCII
        lambda e: " " + base64.urlsafe_b64encode(e).decode().rstrip("=") + " ",
    ],
    ids=["padded", "leading-zero", "arabic-indic-digit", "spaces"],
)
def test_an_id_is_only_ever_as_the_api_wrote_it(client: TestClient, written: Any) -> None:
    query = "query($id: ID!) { node(id: $id) { id } }"
    first = post_json(client, {"query": "{ articles(first: 1) { nodes { id } } }"}).json()
    good = first["data"]["articles"]["nodes"][0]["id"]
    raw = base64.urlsafe_b64decode(good + "=" * (-len(good) % 4))
    assert post_json(client, {"query": query, "variables": {"id": good}}).json()["data"]["node"]["id"] == good
    body = post_json(client, {"query": query, "variables": {"id": written(raw)}}).json()
    assert body["data"]["node"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


def test_a_search_cursor_is_only_ever_as_the_api_wrote_it(client: TestClient) -> None:
    query = 'query($a: String) { search(query: "trade", first: 1, after: $a) { edges { cursor node { rank } } } }'
    real = post_json(client, {"query": query}).json()["data"]["search"]["edges"][0]["cursor"]
    mark, _, position = base64.urlsafe_b64decode(real + "=" * (-len(real) % 4)).decode().partition(":")
    assert position == "0"
    for cursor in [f"{mark}:٣", f"{mark}:03", f"{mark}: 3", f"{mark}:3 ", f"{mark}:-1"]:
        written = base64.urlsafe_b64encode(cursor.encode()).decode().rstrip("=")
        body = post_json(client, {"query": query, "variables": {"a": written}}).json()
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], cursor
    written = base64.urlsafe_b64encode(f"{mark}:3".encode()).decode().rstrip("=")
    assert "errors" not in post_json(client, {"query": query, "variables": {"a": written}}).json()


def _variants(cursor: str) -> Iterator[str]:
    """Yield spellings of a keyset cursor's values that decode alike but that the API never writes."""
    plain = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    values = json.loads(plain)

    def written(raw: list[Any] | bytes) -> str:
        text = raw if isinstance(raw, bytes) else json.dumps(raw, ensure_ascii=False).encode()
        return base64.urlsafe_b64encode(text).decode().rstrip("=")

    yield cursor + "=" * (4 - len(cursor) % 4)  # padded
    yield cursor[:2] + "!" + cursor[2:]  # a stray character, which a lenient base64 decoder skips
    if "-" in cursor or "_" in cursor or len(cursor) % 4:
        yield base64.b64encode(plain).decode()  # the other alphabet, with padding
    yield written(values)  # JSON spaced out
    yield written(b"\n" + plain)
    key = values[0]
    if key[:4].isdigit() and key[4] == "-":  # a date
        yield written([key.replace("-", ""), *values[1:]])  # 20240101
        yield written([key + "T00:00", *values[1:]])
    else:  # a decimal
        yield written([f" {key}", *values[1:]])
        yield written([f"{float(key):e}", *values[1:]])
        yield written([key[0] + "_" + key[1:], *values[1:]])
        yield written([float(key), *values[1:]])
        yield written(["0" + key.lstrip("-"), *values[1:]])  # a leading zero
        yield written(["-0", *values[1:]])


@pytest.mark.parametrize(
    "field",
    [
        "articles(orderBy: PUBLISHED_ON_DESC",
        "tradeFigures(orderBy: AMOUNT_USD_DESC",
        "tradeFigures(orderBy: PERIOD_END_DESC",
    ],
)
def test_a_keyset_cursor_is_only_ever_as_the_api_wrote_it(client: TestClient, field: str) -> None:
    query = f"query($a: String) {{ {field}, first: 1, after: $a) {{ edges {{ cursor }} }} }}"
    first = post_json(client, {"query": query}).json()
    good = first["data"][field.partition("(")[0]]["edges"][0]["cursor"]
    assert "errors" not in post_json(client, {"query": query, "variables": {"a": good}}).json()
    for cursor in _variants(good):
        assert cursor != good
        body = post_json(client, {"query": query, "variables": {"a": cursor}}).json()
        assert [e["extensions"]["code"] for e in body.get("errors", [])] == ["BAD_USER_INPUT"], cursor


@pytest.mark.parametrize("first", [-1, -(2**31), 101, 2**31 - 1])
def test_out_of_range_first_is_a_coded_field_error(client: TestClient, first: int) -> None:
    # a field error during execution: 200 with `data` (the specification's partial result), the
    # connection answered empty in its place (README: the one rule)
    response = post_json(client, {"query": f"{{ articles(first: {first}) {{ totalCount }} }}"})
    assert response.status_code == 200, response.text
    errors = assert_spec_error(response, "BAD_USER_INPUT")
    assert errors[0]["path"] == ["articles"]
    assert response.json()["data"] == {"articles": {"totalCount": 0}}
    assert response.json()["extensions"]["sqlStatements"] == 0


# --- NUL ---------------------------------------------------------------------------------------------

NUL_REQUESTS = [
    pytest.param({"query": "{ __typename }\x00"}, id="query text"),
    pytest.param({"query": '{ article(slug: "a\x00b") { slug } }'}, id="raw NUL in a string literal"),
    pytest.param(
        {"query": "query($s: String!) { article(slug: $s) { slug } }", "variables": {"s": "a\x00b"}}, id="variable"
    ),
    pytest.param(
        {"query": "query($q: String!) { search(query: $q) { totalCount } }", "variables": {"q": "trade\x00"}},
        id="search",
    ),
    pytest.param(
        {"query": "query($f: PlaceFilter) { places(filter: $f) { totalCount } }", "variables": {"f": {"name": "\x00"}}},
        id="nested variable",
    ),
    pytest.param({"query": "{ __typename }", "variables": {"\x00": 1}}, id="variable name"),
    pytest.param({"query": "query A { __typename }", "operationName": "A\x00"}, id="operation name"),
    pytest.param({"query": "{ __typename }", "extensions": {"x": "\x00"}}, id="extensions"),
]


@pytest.mark.parametrize("payload", NUL_REQUESTS)
def test_nul_characters_are_refused(client: TestClient, payload: dict[str, Any]) -> None:
    errors = request_error(post_json(client, payload), "BAD_USER_INPUT", "GRAPHQL_PARSE_FAILED")
    assert errors


def test_nul_over_get_is_refused(client: TestClient) -> None:
    response = client.get("/graphql", params={"query": "{ __typename }\x00"}, headers={"accept": GRAPHQL_RESPONSE})
    request_error(response, "BAD_USER_INPUT")


def test_a_nul_escape_in_the_search_text_is_a_coded_error(client: TestClient) -> None:
    response = post_json(client, {"query": '{ search(query: "trade\\u0000") { totalCount } }'})
    assert_spec_error(response, "BAD_USER_INPUT")


NUL_ESCAPES = [
    pytest.param('{ article(slug: "a\\u0000b") { slug } }', id="article slug"),
    pytest.param('{ place(code: "\\u0000") { slug } }', id="place code"),
    pytest.param('{ places(filter: { name: "\\u0000" }) { totalCount } }', id="place name filter"),
    pytest.param('{ organisations(filter: { name: "\\u0000" }) { totalCount } }', id="organisation name filter"),
    pytest.param('{ articles(filter: { text: "\\u0000" }) { totalCount } }', id="article text filter"),
    pytest.param('{ tradeFigures(filter: { commodity: "\\u0000" }) { totalCount } }', id="commodity filter"),
]


@pytest.mark.parametrize("query", NUL_ESCAPES)
def test_a_nul_escape_in_a_string_literal_is_bad_user_input(client: TestClient, query: str) -> None:
    response = post_json(client, {"query": query})
    assert_spec_error(response, "BAD_USER_INPUT")


# --- sizes -------------------------------------------------------------------------------------------------


def test_a_1mb_search_string_is_413(client: TestClient) -> None:
    payload = {"query": "query($q: String!) { search(query: $q) { totalCount } }", "variables": {"q": "a" * 1_000_000}}
    response = post_json(client, payload)
    assert response.status_code == 413
    assert_spec_error(response, "PAYLOAD_TOO_LARGE")


def test_a_200kb_search_string_is_bad_user_input(client: TestClient) -> None:
    text = "trade " * 34_000  # about 200 KB, under the body limit
    payload = {"query": "query($q: String!) { search(query: $q) { totalCount } }", "variables": {"q": text}}
    response = post_json(client, payload)
    assert response.status_code == 200, response.text
    errors = assert_spec_error(response, "BAD_USER_INPUT")
    assert "500 characters" in errors[0]["message"]
    assert response.json()["extensions"]["sqlStatements"] == 0


def test_a_body_over_the_limit_with_a_lying_content_length_is_413(client: TestClient) -> None:
    body = json.dumps({"query": "{ __typename }", "padding": "x" * 400_000}).encode()
    response = post(client, body, **{"content-length": "20"})
    assert response.status_code == 413
    assert_spec_error(response, "PAYLOAD_TOO_LARGE")


def test_a_declared_content_length_over_the_limit_is_413_before_reading(client: TestClient) -> None:
    response = post(client, b'{"query": "{ __typename }"}', **{"content-length": str(10**12)})
    assert response.status_code == 413
    assert_spec_error(response, "PAYLOAD_TOO_LARGE")


def _stream(
    client: TestClient, app: FastAPI, chunks: list[bytes], headers: dict[str, str], *, disconnect: bool = False
) -> tuple[int, bytes, int]:
    """Send `chunks` to the app as one streamed (chunked) request body (`disconnect`: the client goes away
    after them, the body unfinished); return (status, body, chunks read)."""
    pulled = 0

    async def run() -> list[Message]:
        nonlocal pulled
        remaining = iter(chunks)
        done = False
        sent: list[Message] = []

        async def receive() -> Message:
            nonlocal pulled, done
            if done:
                return {"type": "http.disconnect"}
            chunk = next(remaining, None)
            if chunk is None:
                done = True
                if disconnect:
                    return {"type": "http.disconnect"}
                return {"type": "http.request", "body": b"", "more_body": False}
            pulled += 1
            return {"type": "http.request", "body": chunk, "more_body": True}

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "root_path": "",
            "query_string": b"",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "state": {},
        }
        await app(scope, receive, send)
        return sent

    assert client.portal is not None
    messages = client.portal.call(run)
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return start["status"], body, pulled


CHUNK = 16 * 1024


@pytest.mark.parametrize("declared", [None, "100"], ids=["chunked", "lying content-length"])
def test_a_streamed_body_over_the_limit_is_413_without_reading_it_all(
    served: tuple[TestClient, FastAPI], declared: str | None
) -> None:
    client, app = served
    limit = app.state.settings.max_body_bytes
    chunks = [b'{"query": "{ __typename }", "padding": "'] + [b"x" * CHUNK] * 64 + [b'"}']  # about 1 MB
    headers = {"content-type": JSON, "accept": GRAPHQL_RESPONSE, "transfer-encoding": "chunked"}
    if declared:
        headers = {"content-type": JSON, "accept": GRAPHQL_RESPONSE, "content-length": declared}
    status, body, pulled = _stream(client, app, chunks, headers)
    assert status == 413
    assert json.loads(body)["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert pulled <= limit // CHUNK + 2, f"read {pulled} chunks of a body over the limit"


def test_a_client_gone_before_its_body_arrived_is_no_server_error(
    served: tuple[TestClient, FastAPI], caplog: pytest.LogCaptureFixture
) -> None:
    # a dropped connection, or a slow client cut off by the request timeout: not the server's fault,
    # so no traceback in the log and no 5xx in the metrics (nginx's 499: the client closed the request)
    client, app = served
    before = scrape(client)
    with caplog.at_level(logging.INFO):
        status, _, _ = _stream(
            client,
            app,
            [b'{"query": '],
            {"content-type": JSON, "accept": GRAPHQL_RESPONSE, "content-length": "100"},
            disconnect=True,
        )
    assert status == 499
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    after = scrape(client)
    requests = "tradegraph_http_requests_total"
    labels = {"method": "POST", "path": "/graphql"}
    assert metric(after, requests, **labels, status="499") - metric(before, requests, **labels, status="499") == 1
    assert metric(after, requests, **labels, status="500") == metric(before, requests, **labels, status="500")


@pytest.mark.parametrize("encoding", ["gzip", "br", "deflate"])
def test_a_compressed_body_is_refused_not_read_as_json(client: TestClient, encoding: str) -> None:
    response = client.post(
        "/graphql",
        content=json.dumps({"query": "{ __typename }"}).encode(),
        headers={"content-type": JSON, "accept": GRAPHQL_RESPONSE, "content-encoding": encoding},
    )
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_a_streamed_body_under_the_limit_is_served(served: tuple[TestClient, FastAPI]) -> None:
    client, app = served
    payload = json.dumps({"query": '{ place(slug: "shenyang") { name } }'}).encode()
    chunks = [payload[i : i + 7] for i in range(0, len(payload), 7)]
    status, body, _ = _stream(
        client, app, chunks, {"content-type": JSON, "accept": GRAPHQL_RESPONSE, "transfer-encoding": "chunked"}
    )
    assert status == 200, body
    assert json.loads(body)["data"] == {"place": {"name": "Shenyang"}}


# --- deep JSON -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [50, 200, 2_000, 100_000])
def test_deeply_nested_json_variables_are_4xx(client: TestClient, depth: int) -> None:
    variables = '{"f": ' + "[" * depth + "]" * depth + "}"
    body = '{"query": "query($f: ArticleFilter) { articles(filter: $f) { totalCount } }", "variables": ' + variables
    request_error(post(client, body + "}"), "BAD_REQUEST", "BAD_USER_INPUT")


@pytest.mark.parametrize("shape", ["list", "object"])
def test_json_nested_just_under_the_parser_limit_is_4xx(client: TestClient, shape: str) -> None:
    depth = 1000
    nested = "[" * depth + "]" * depth if shape == "list" else '{"a": ' * depth + "1" + "}" * depth
    body = '{"query": "query($f: ArticleFilter) { articles(filter: $f) { totalCount } }", "variables": {"f": '
    request_error(post(client, body + nested + "}}"), "BAD_REQUEST", "BAD_USER_INPUT")


# --- other hostile values -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        pytest.param('{ articles(after: "not-a-cursor") { totalCount } }', id="junk cursor"),
        pytest.param('{ articles(after: "' + "A" * 10_000 + '") { totalCount } }', id="long cursor"),
        pytest.param('{ articles(after: "WzEsMiwzLDQsNSw2XQ") { totalCount } }', id="foreign cursor"),
        pytest.param('{ node(id: "QXJ0aWNsZTo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5") { id } }', id="huge node id"),
        pytest.param('{ node(id: "%%%") { id } }', id="junk node id"),
        pytest.param('{ tradeSeries(currency: "XXXXXXXXXXXX") { label } }', id="bad currency"),
        pytest.param('{ place(slug: "a", code: "b") { slug } }', id="slug and code"),
        pytest.param('{ search(query: "   ") { totalCount } }', id="blank search"),
        pytest.param("{ articles(first: 1, last: 1) { totalCount } }", id="first and last"),
    ],
)
def test_hostile_argument_values_are_coded_errors(client: TestClient, query: str) -> None:
    response = post_json(client, {"query": query})
    assert_spec_error(response, "BAD_USER_INPUT")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        pytest.param('{ search(query: "a | | & ! :* <-> (((") { totalCount } }', id="tsquery operators"),
        pytest.param('{ search(query: "\\"unterminated phrase") { totalCount } }', id="open quote"),
        pytest.param('{ search(query: "\'; DROP TABLE articles; --") { totalCount } }', id="sql"),
        pytest.param('{ places(filter: { name: "%_\\\\" }) { totalCount } }', id="like wildcards"),
        pytest.param('{ articles(filter: { text: "-" }) { totalCount } }', id="bare exclusion"),
        pytest.param('{ search(query: "' + "or " * 160 + '") { totalCount } }', id="many ors"),
    ],
)
def test_query_syntax_in_text_is_harmless(client: TestClient, query: str) -> None:
    response = post_json(client, {"query": query})
    assert response.status_code == 200, response.text
    body = response.json()
    if "errors" in body:
        assert_spec_error(response, "BAD_USER_INPUT")
    else:
        assert isinstance(next(iter(body["data"].values()))["totalCount"], int)


@pytest.mark.parametrize("value", ["1e999999999", "-1e999999999", "1e-999999999"])
def test_a_decimal_out_of_range_is_bad_user_input(client: TestClient, value: str) -> None:
    response = post_json(client, {"query": f'{{ tradeFigures(filter: {{ usdMin: "{value}" }}) {{ totalCount }} }}'})
    assert_spec_error(response, "BAD_USER_INPUT")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e308", "0.000000000000000000001"])
def test_odd_decimals_are_not_internal_errors(client: TestClient, value: str) -> None:
    response = post_json(client, {"query": f'{{ tradeFigures(filter: {{ usdMin: "{value}" }}) {{ totalCount }} }}'})
    assert response.status_code < 500, response.text
    assert "INTERNAL_SERVER_ERROR" not in response.text


@pytest.mark.parametrize(
    "value",
    ["١٠٠٠", "१", "100_000", "\u00a0100", "  1", "1 ", "1,000", "0x10", ".5", "5.", "1e", "+-1", "１"],
)
@pytest.mark.parametrize("how", ["literal", "variable"])
def test_decimals_only_in_ascii_decimal_syntax(client: TestClient, value: str, how: str) -> None:
    # Python's Decimal reads other scripts' digits, underscores and surrounding spaces as numbers
    query: dict[str, object]
    if how == "literal":
        query = {"query": f"{{ tradeFigures(filter: {{ usdMin: {json.dumps(value)} }}) {{ totalCount }} }}"}
    else:
        query = {
            "query": "query ($d: Decimal!) { tradeFigures(filter: { usdMin: $d }) { totalCount } }",
            "variables": {"d": value},
        }
    # (a literal is checked with the document, a variable with the values)
    assert_spec_error(post_json(client, query), "GRAPHQL_VALIDATION_FAILED" if how == "literal" else "BAD_USER_INPUT")


@pytest.mark.parametrize("value", ["100000000000", "-1.5", "3E9", "+7", 100000000000, 1.5])
def test_decimals_in_ascii_syntax_or_as_json_numbers_are_read(client: TestClient, value: object) -> None:
    query = "query ($d: Decimal!) { tradeFigures(filter: { usdMin: $d }) { totalCount } }"
    response = post_json(client, {"query": query, "variables": {"d": value}})
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["data"]["tradeFigures"]["totalCount"], int)


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31"])
def test_extreme_dates_are_served(client: TestClient, value: str) -> None:
    query = f'{{ articles(filter: {{ publishedFrom: "{value}", publishedTo: "{value}" }}) {{ totalCount }} }}'
    response = post_json(client, {"query": query})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["articles"]["totalCount"] == 0


def test_other_content_types_are_415(client: TestClient) -> None:
    for content_type in (
        "application/x-www-form-urlencoded",
        "text/plain",
        "application/graphql",
        "multipart/form-data",
    ):
        response = post(client, b"query=%7B__typename%7D", content_type=content_type)
        assert response.status_code == 415
        assert_spec_error(response, "UNSUPPORTED_MEDIA_TYPE")


def test_the_server_still_serves_after_all_that(client: TestClient) -> None:
    response = post_json(client, {"query": '{ place(slug: "shenyang") { name } }'})
    assert response.status_code == 200
    assert response.json()["data"] == {"place": {"name": "Shenyang"}}


# --- a statement slower than the timeout ------------------------------------------------------------------------


def test_a_slow_statement_is_cancelled_and_its_connection_freed(fresh_database: Any) -> None:
    url: str = fresh_database(seeded=True)
    with psycopg.connect(url, autocommit=True) as conn:
        # 50,000 places with 3 KB names: an unanchored name filter reads them all, well over 100 ms
        conn.execute(
            "INSERT INTO places (slug, name, kind) "
            "SELECT 'bulk-' || g, 'Bulk ' || repeat(md5(g::text), 100), 'town' FROM generate_series(1, 50000) g"
        )
        conn.execute("ANALYZE places")
    with serving(url, statement_timeout_ms=100, expose_statement_count=True) as (client, app):
        started = time.monotonic()
        response = post_json(client, {"query": '{ places(filter: { name: "no such place" }) { nodes { slug } } }'})
        elapsed = time.monotonic() - started
        assert response.status_code == 200, response.text
        errors = assert_spec_error(response, "QUERY_TIMEOUT")
        assert errors[0]["path"] == ["places"]
        assert elapsed < 2, f"the timed-out request took {elapsed:.2f}s"

        pool = app.state.async_engine.pool
        assert pool.checkedout() == 0
        after = post_json(client, {"query": '{ place(slug: "shenyang") { name } }'})
        assert after.status_code == 200
        assert after.json()["data"] == {"place": {"name": "Shenyang"}}
        assert pool.checkedout() == 0

    with psycopg.connect(url, autocommit=True) as conn:
        running = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state = 'active' AND query ILIKE '%places.name ILIKE%'"
        ).fetchone()
        assert running == (0,), "the statement still runs on the server"


# --- production mode -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def production(seeded_url: str) -> Iterator[TestClient]:
    with serving(seeded_url, production=True) as (client, _):
        yield client


@pytest.mark.parametrize(
    "query",
    [
        "{ __schema { queryType { name } } }",
        '{ __type(name: "Article") { fields { name } } }',
        "query IntrospectionQuery { __schema { types { name } } }",
    ],
)
def test_production_refuses_introspection(production: TestClient, query: str) -> None:
    request_error(post_json(production, {"query": query}), "GRAPHQL_VALIDATION_FAILED")


def test_production_still_answers_typename(production: TestClient) -> None:
    response = post_json(production, {"query": '{ __typename place(slug: "shenyang") { __typename name } }'})
    assert response.json()["data"] == {"__typename": "Query", "place": {"__typename": "Place", "name": "Shenyang"}}


@pytest.mark.parametrize("accept", ["text/html", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"])
def test_production_serves_no_graphiql(production: TestClient, accept: str) -> None:
    response = production.get("/graphql", headers={"accept": accept})
    assert 400 <= response.status_code < 500, response.text
    assert not response.headers["content-type"].startswith("text/html")
    assert "graphiql" not in response.text.lower()
    assert "<html" not in response.text.lower()


def test_development_serves_graphiql(client: TestClient) -> None:
    response = client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


def test_production_masks_internal_errors(production: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.db import Reader
    from app.queries import articles

    async def explode(*_: Any, **__: Any) -> None:
        raise RuntimeError("connection to postgresql://admin:hunter2@db failed at SELECT secret FROM vault")

    # both paths fail: the compiled statement (the resolvers then answer) and the resolver's query
    monkeypatch.setattr(Reader, "one_sql", explode)
    monkeypatch.setattr(articles, "get_article", explode)
    response = post_json(production, {"query": '{ article(slug: "x") { slug } }'})
    assert response.status_code == 200
    assert "hunter2" not in response.text
    assert "vault" not in response.text
    errors = assert_spec_error(response, "INTERNAL_SERVER_ERROR")
    assert errors[0]["message"] == "Internal server error"
    assert response.json()["data"] == {"article": None}


ORIGIN = "https://evil.example"
PREFLIGHT = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}


def test_production_cors_is_closed_by_default(production: TestClient) -> None:
    preflight = production.options("/graphql", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in preflight.headers
    response = production.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert not any(name.startswith("access-control-") for name in response.headers)


def test_production_cors_opens_only_to_configured_origins(seeded_url: str) -> None:
    with serving(seeded_url, production=True, cors_origins=["https://app.example"]) as (client, _):
        allowed = client.options("/graphql", headers={**PREFLIGHT, "Origin": "https://app.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        other = client.options("/graphql", headers=PREFLIGHT)
        assert "access-control-allow-origin" not in other.headers
