"""Property-based fuzzing of /graphql with Hypothesis, against the real app on the seeded database.

Five generators, every request POSTed (or sent with GET) to the app:

- valid operations generated from the committed SDL by hypothesis-graphql (`Mode.POSITIVE`);
- operations with exactly one schema violation (`Mode.NEGATIVE`);
- every root field called with arguments drawn from their types, as variables or written in the
  document: mostly well-typed values (real slugs, codes, ids, page sizes around the limits),
  sometimes arbitrary JSON;
- arbitrary request bodies: random bytes, random JSON, random documents and parameters;
- hostile values where the API decodes or searches: cursors and ids (base64 of JSON nested
  thousands deep, huge numbers, random bytes), tsquery syntax (runs of `-`, `or`, quotes,
  operators), strings from one character to 100,000, strings that nest (brackets and quotes
  thousands deep, JSON escaped in JSON, base64 of base64), unicode edge cases (combining marks by
  the thousand, direction overrides, joiners, non-characters, lone surrogates, letters whose case
  changes their length) and lists nested hundreds deep, as variables or as literals; a third of
  them go to any string argument of any root field, or any string field of its input objects,
  taken from the SDL.

The property: never a 5xx, never a traceback, never INTERNAL_SERVER_ERROR; a 200 has `data`, a
4xx has coded `errors` and no `data`. Limits (LIMIT_EXCEEDED) and validation errors are fine.

The generators include what once broke the API: NUL characters (in JSON and as `\\u0000` in
GraphQL string literals) and decimals beyond Postgres numeric's range (see test_hostile.py).

About 2,800 examples by default, bounded to ~60 s of wall time (TRADEGRAPH_FUZZ_SECONDS);
TRADEGRAPH_FUZZ_EXAMPLES=N runs about N examples, with no time bound unless
TRADEGRAPH_FUZZ_SECONDS is set too.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, nodes, queries

from tests.helpers import sent, shown

ROOT = Path(__file__).resolve().parent.parent
SDL = (ROOT / "schema" / "schema.graphql").read_text(encoding="utf-8")
SCHEMA = graphql.build_schema(SDL)

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
LEAKS = ("Traceback", 'File "', "sqlalchemy", "psycopg", "site-packages")


CODES = {
    "BAD_REQUEST",
    "BAD_USER_INPUT",
    "NOT_FOUND",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "LIMIT_EXCEEDED",
    "PAYLOAD_TOO_LARGE",
    "UNSUPPORTED_MEDIA_TYPE",
    "METHOD_NOT_ALLOWED",
    "NOT_ACCEPTABLE",
    "PERSISTED_QUERY_NOT_FOUND",
}

# examples per generator by default (about 60 s in all), and each one's share of the time budget
DEFAULT_EXAMPLES = {"positive": 300, "negative": 500, "variables": 500, "raw": 1500, "values": 600}
# of the time budget; hostile values get time of their own, on top of the others'
SHARES = {"positive": 0.34, "negative": 0.22, "variables": 0.24, "raw": 0.2, "values": 0.2}
_EXAMPLES = os.environ.get("TRADEGRAPH_FUZZ_EXAMPLES")
TOTAL = int(_EXAMPLES) if _EXAMPLES else sum(DEFAULT_EXAMPLES.values())
_SECONDS = os.environ.get("TRADEGRAPH_FUZZ_SECONDS")
BUDGET = float(_SECONDS) if _SECONDS else (None if _EXAMPLES else 60.0)

settings.register_profile(
    "tradegraph-fuzz",
    deadline=None,
    derandomize=False,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)
FUZZ = settings.get_profile("tradegraph-fuzz")


def examples(kind: str) -> int:
    return max(10, round(DEFAULT_EXAMPLES[kind] * TOTAL / sum(DEFAULT_EXAMPLES.values())))


# --- the time budget ---------------------------------------------------------------------------------


@dataclasses.dataclass
class Budget:
    """Stops sending requests once a generator's share of the time is spent, unless a failure is being shrunk.

    Hypothesis has no time limit of its own: examples drawn after the budget pass without a request.
    Once any example has failed, every example runs, so that a failure replays the same way."""

    seconds: float | None
    started: dict[str, float] = dataclasses.field(default_factory=dict)
    sent: dict[str, int] = dataclasses.field(default_factory=dict)
    skipped: dict[str, int] = dataclasses.field(default_factory=dict)
    failing: bool = False

    def spent(self, kind: str) -> bool:
        if self.seconds is None or self.failing:
            return False
        started = self.started.setdefault(kind, time.monotonic())
        return time.monotonic() - started > self.seconds * SHARES[kind]

    def run(self, kind: str, check: Callable[[], None]) -> None:
        if self.spent(kind):
            self.skipped[kind] = self.skipped.get(kind, 0) + 1
            return
        self.sent[kind] = self.sent.get(kind, 0) + 1
        try:
            check()
        except BaseException:
            self.failing = True
            raise


BUDGET_STATE = Budget(BUDGET)


@pytest.fixture(scope="module", autouse=True)
def report_budget() -> Iterator[None]:
    started = time.monotonic()
    yield
    elapsed = time.monotonic() - started
    sent = ", ".join(f"{kind} {n}" for kind, n in BUDGET_STATE.sent.items())
    skipped = sum(BUDGET_STATE.skipped.values())
    print(
        f"\nfuzz: {sum(BUDGET_STATE.sent.values())} requests ({sent}) in {elapsed:.1f}s; "
        f"{skipped} examples over the time budget not sent"
    )


# --- the property --------------------------------------------------------------------------------------


def check_response(response: httpx.Response) -> None:
    """A response the spec allows: never 5xx, no leak, coded errors, `data` only on 200."""
    assert response.status_code < 500, response.text
    for leak in LEAKS:
        # an error message may quote the input back: only what the request did not contain is a leak
        assert leak not in shown(response) or leak in sent(response), response.text
    media = response.headers.get("content-type", "").split(";")[0]
    assert media in (GRAPHQL_RESPONSE, JSON), response.headers  # 405 and 406 too: coded JSON like any error
    body = response.json()
    if isinstance(body, list):
        # a batch: 200 with one answer per request sent, each coded, with `data` or `errors`
        sent_batch = json.loads(response.request.content)
        assert response.status_code == 200 and isinstance(sent_batch, list), body
        assert len(body) == len(sent_batch), body
        for answer in body:
            check_errors(response, answer)
            assert "data" in answer or answer.get("errors"), answer
        return
    assert isinstance(body, dict), body
    check_errors(response, body)
    if response.status_code == 200:
        assert "data" in body or (media == JSON and body.get("errors")), body
    else:
        assert body.get("errors"), body
        assert "data" not in body, body


def check_errors(response: httpx.Response, body: Any) -> None:
    """Every error has a message and a known code, never INTERNAL_SERVER_ERROR."""
    assert isinstance(body, dict), body
    for error in body.get("errors", []):
        assert isinstance(error["message"], str), error
        code = error["extensions"]["code"]
        assert code != "INTERNAL_SERVER_ERROR", f"{error}\n{response.request.content.decode(errors='replace')}"
        assert code in CODES, error


def post(api: TestClient, payload: Any, *, accept: str = GRAPHQL_RESPONSE) -> httpx.Response:
    response: httpx.Response = api.post(
        "/graphql", content=json.dumps(payload), headers={"content-type": JSON, "accept": accept}
    )
    return response


# --- operations generated from the SDL -------------------------------------------------------------------

EDGE_DECIMALS = [
    *("0", "-0", "1e-20", "123456789012345678901234567890.5", "NaN", "-Infinity", "1e308", "-1e-300"),
    *("1e999999999", "-1e999999999", "1e-999999999"),
]
DECIMALS = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**20), max_value=10**20),
    st.sampled_from(EDGE_DECIMALS),
)
CUSTOM_SCALARS = {
    "Date": (st.dates().map(dt.date.isoformat) | st.text(max_size=12)).map(nodes.String),
    "Decimal": DECIMALS.map(str).map(nodes.String),
}


@settings(FUZZ, max_examples=examples("positive"))
@given(query=queries(SDL, custom_scalars=CUSTOM_SCALARS, allow_x00=True, mode=Mode.POSITIVE))
def test_valid_operations(api: TestClient, query: str) -> None:
    BUDGET_STATE.run("positive", lambda: check_response(post(api, {"query": query})))


@settings(FUZZ, max_examples=examples("negative"))
@given(query=queries(SDL, custom_scalars=CUSTOM_SCALARS, allow_x00=True, mode=Mode.NEGATIVE))
def test_operations_with_one_schema_violation(api: TestClient, query: str) -> None:
    def check() -> None:
        response = post(api, {"query": query})
        check_response(response)
        assert response.status_code == 400, response.text

    BUDGET_STATE.run("negative", check)


# --- root fields with variables ----------------------------------------------------------------------------

SLUGS = [
    "shenyang",
    "liaoning",
    "china",
    "russia",
    "CN",
    "RU",
    "CN-LN",
    "sputnik",
    "global-times",
    "chinese-russian-firms-deals-shenyang",
    "",
    " ",
    "%",
    "_",
    "'",
    "\\",
]
NODE_IDS = st.builds(
    lambda kind, pk: base64.urlsafe_b64encode(f"{kind}:{pk}".encode()).decode().rstrip("="),
    st.sampled_from(["Place", "Organisation", "Person", "Article", "TradeFigure", "Event", "Nope"]),
    st.integers(min_value=-1, max_value=2**64),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


# characters that break naive SQL, LIKE patterns, JSON, tsquery or terminals, drawn more often than by chance
SPECIAL = ["'", '"', "\\", "%", "_", "*", ":", "&", "|", "!", "(", "<", "\n", "\u2028", "\ufeff", "\U0001f600", "\x7f"]
SPECIAL.append("\x00")


def text_values() -> st.SearchStrategy[str]:
    alphabet = st.sampled_from(SPECIAL) | st.characters(codec="utf-8", min_codepoint=0)
    return st.sampled_from(SLUGS) | st.text(alphabet=alphabet, max_size=30)


def mostly(strategy: st.SearchStrategy[Any], rarely: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`strategy` four times in five, else `rarely`."""
    return st.one_of(strategy, strategy, strategy, strategy, rarely)


def values_of(type_: graphql.GraphQLInputType) -> st.SearchStrategy[Any]:
    """Mostly values of `type_` (JSON, as a client sends variables), sometimes anything at all."""
    return mostly(_typed(type_), JSON_VALUES)


def _typed(type_: graphql.GraphQLInputType) -> st.SearchStrategy[Any]:
    if isinstance(type_, graphql.GraphQLNonNull):
        return _typed(type_.of_type)
    if isinstance(type_, graphql.GraphQLList):
        item = _typed(type_.of_type)
        return mostly(st.lists(item, max_size=4) | item, st.none())
    if isinstance(type_, graphql.GraphQLEnumType):
        return mostly(st.sampled_from(sorted(type_.values)), st.none())
    if isinstance(type_, graphql.GraphQLInputObjectType):
        fields = {name: _typed(field.type) for name, field in type_.fields.items()}
        return mostly(st.fixed_dictionaries({}, optional=fields), st.none())
    assert isinstance(type_, graphql.GraphQLScalarType)
    scalar: st.SearchStrategy[Any] = {
        "Int": st.integers(min_value=-2, max_value=102) | st.integers(min_value=-(2**31), max_value=2**31 - 1),
        "Float": st.floats(allow_nan=False, allow_infinity=False),
        "Boolean": st.booleans(),
        "String": text_values(),
        "ID": NODE_IDS | text_values(),
        "Date": st.dates().map(dt.date.isoformat) | st.text(max_size=12),
        "Decimal": DECIMALS.map(str),
    }[type_.name]
    return mostly(scalar, st.none())


def _selection(type_: graphql.GraphQLOutputType) -> str:
    named = graphql.get_named_type(type_)
    if named.name.endswith("Connection"):
        return "{ totalCount pageInfo { hasNextPage endCursor } edges { cursor node { __typename } } }"
    if isinstance(named, graphql.GraphQLObjectType | graphql.GraphQLInterfaceType | graphql.GraphQLUnionType):
        return "{ __typename }"
    return ""


@dataclasses.dataclass(frozen=True)
class RootCall:
    field: str
    arguments: dict[str, graphql.GraphQLInputType]
    selection: str

    def with_variables(self, values: dict[str, Any]) -> dict[str, Any]:
        declared = ", ".join(f"${arg}: {type_}" for arg, type_ in self.arguments.items())
        passed = ", ".join(f"{arg}: ${arg}" for arg in self.arguments)
        document = f"query Fuzz({declared}) {{ {self.field}({passed}) {self.selection} }}"
        return {"query": document, "variables": values, "operationName": "Fuzz"}

    def with_literals(self, values: dict[str, Any]) -> dict[str, Any]:
        passed = ", ".join(
            f"{arg}: {graphql.print_ast(literal(value, self.arguments[arg]))}" for arg, value in values.items()
        )
        arguments = f"({passed})" if passed else ""
        return {"query": f"query Fuzz {{ {self.field}{arguments} {self.selection} }}", "operationName": "Fuzz"}


def literal(value: Any, type_: graphql.GraphQLInputType) -> graphql.ValueNode:
    """`value` written in the document, as its type asks where it can be, else as JSON would be."""
    nullable = graphql.get_nullable_type(type_)
    if value is None:
        return graphql.NullValueNode()
    if isinstance(nullable, graphql.GraphQLList):
        if isinstance(value, list):
            return graphql.ListValueNode(values=tuple(literal(v, nullable.of_type) for v in value))
        return literal(value, nullable.of_type)
    if isinstance(value, dict):
        fields = nullable.fields if isinstance(nullable, graphql.GraphQLInputObjectType) else {}
        return graphql.ObjectValueNode(
            fields=tuple(
                graphql.ObjectFieldNode(
                    name=graphql.NameNode(value=k),
                    value=literal(v, fields[k].type if k in fields else graphql.GraphQLString),
                )
                for k, v in value.items()
            )
        )
    if isinstance(value, list):
        return graphql.ListValueNode(values=tuple(literal(v, graphql.GraphQLString) for v in value))
    if isinstance(nullable, graphql.GraphQLEnumType) and isinstance(value, str):
        return graphql.EnumValueNode(value=value)
    if isinstance(value, bool):
        return graphql.BooleanValueNode(value=value)
    if isinstance(value, int):
        return graphql.IntValueNode(value=str(value))
    if isinstance(value, float):
        return graphql.FloatValueNode(value=repr(value))
    return graphql.StringValueNode(value=str(value))


def root_calls() -> list[RootCall]:
    assert SCHEMA.query_type is not None
    return [
        RootCall(name, {arg: arg_def.type for arg, arg_def in field.args.items()}, _selection(field.type))
        for name, field in SCHEMA.query_type.fields.items()
        if field.args
    ]


@st.composite
def root_field_calls(draw: st.DrawFn) -> dict[str, Any]:
    call = draw(st.sampled_from(root_calls()))
    values = {}
    for arg, type_ in call.arguments.items():
        if draw(st.integers(0, 5)) > 0:  # sometimes leave an argument out
            values[arg] = draw(values_of(type_))
    # the same values as variables (coerced from JSON) or written in the document (as literals)
    return call.with_literals(values) if draw(st.booleans()) else call.with_variables(values)


@settings(FUZZ, max_examples=examples("variables"))
@given(payload=root_field_calls())
def test_root_fields_with_variables_or_literals(api: TestClient, payload: dict[str, Any]) -> None:
    BUDGET_STATE.run("variables", lambda: check_response(post(api, payload)))


# --- arbitrary requests ---------------------------------------------------------------------------------------

DOCUMENT_WORDS = st.sampled_from(
    ["{", "}", "(", ")", ":", "$", "!", "...", "@", "query", "mutation", "fragment", "on", "articles", "place",
     "nodes", "first", "slug", "__typename", "__schema", '"x"', "1", "-1", "[", "]", "=", "#", "\\u0000", "|"]
)  # fmt: skip
DOCUMENTS = st.lists(DOCUMENT_WORDS, max_size=40).map(" ".join) | st.text(max_size=200)
PARAMS = st.fixed_dictionaries(
    {},
    optional={
        "query": DOCUMENTS | JSON_VALUES,
        "variables": JSON_VALUES,
        "operationName": st.none() | st.text(max_size=10) | JSON_VALUES,
        "extensions": JSON_VALUES,
    },
)
ACCEPTS = st.sampled_from([GRAPHQL_RESPONSE, JSON, "*/*", "application/*", "text/html", "", "application/xml;q=1"])


@st.composite
def raw_requests(draw: st.DrawFn) -> tuple[str, dict[str, str], bytes | None, dict[str, str] | None]:
    accept = draw(ACCEPTS)
    headers = {"accept": accept} if accept else {}
    kind = draw(st.sampled_from(["bytes", "json", "params", "get"]))
    if kind == "get":
        params = draw(st.dictionaries(st.sampled_from(["query", "variables", "operationName"]), st.text(max_size=60)))
        return "GET", headers, None, params
    headers["content-type"] = draw(
        st.sampled_from([JSON, JSON, JSON, "application/json; charset=latin-1", "text/plain"])
    )
    if kind == "bytes":
        return "POST", headers, draw(st.binary(max_size=300)), None
    payload = draw(JSON_VALUES) if kind == "json" else draw(PARAMS)
    return "POST", headers, json.dumps(payload).encode(), None


@settings(FUZZ, max_examples=examples("raw"))
@given(request=raw_requests())
def test_arbitrary_requests(
    api: TestClient, request: tuple[str, dict[str, str], bytes | None, dict[str, str] | None]
) -> None:
    method, headers, content, params = request

    def check() -> None:
        if method == "GET":
            if "text/html" in headers.get("accept", "") and "query" not in params:  # type: ignore[operator]
                return  # GraphiQL, for a browser
            response = api.get("/graphql", params=params, headers=headers)
        else:
            response = api.post("/graphql", content=content, headers=headers)
        check_response(response)

    BUDGET_STATE.run("raw", check)


# --- hostile values ---------------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


DEPTHS = st.integers(min_value=1, max_value=3000)
CURSORS = st.one_of(
    DEPTHS.map(lambda n: _b64(b"[" * n)),
    DEPTHS.map(lambda n: _b64(b"[" * n + b"]" * n)),
    DEPTHS.map(lambda n: _b64(b'{"a":' * n + b"1" + b"}" * n)),
    st.binary(max_size=300).map(_b64),
    JSON_VALUES.map(lambda v: _b64(json.dumps(v).encode())),
    st.integers(min_value=0, max_value=6000).map(lambda n: _b64(b"offset:" + b"9" * n)),
    st.integers(min_value=0, max_value=6000).map(lambda n: _b64(b"[" + b"1" * n + b"]")),
    st.text(max_size=3000),
)
IDS = st.one_of(
    CURSORS,
    NODE_IDS,
    st.builds(
        lambda kind, pk: _b64(f"{kind}:{pk}".encode()),
        st.sampled_from(["Place", "Article", "TradeFigure", ""]) | st.text(max_size=20),
        st.text(alphabet="0123456789٠١²-+ ", max_size=5000),
    ),
)
TSQUERY_PIECES = st.sampled_from(
    ["-", "--", "-!", " ", "  ", '"', "or", " OR ", "!", "&", "|", "(", ")", ":*", "<->", "<2>", "trade", "china",
     "a", "_", "\u2010", "²", "'", "\\", "\n", "-trade", "é"]
)  # fmt: skip
TSQUERIES = st.lists(TSQUERY_PIECES, max_size=400).map("".join)
LONG_STRINGS = st.builds(
    lambda piece, n: piece * n,
    st.sampled_from(["x", "-", "ab ", "%", "_", "[", "é", "\U0001f600", "\\", "'", "- "]),
    st.one_of(st.integers(min_value=990, max_value=1010), st.integers(min_value=1, max_value=100_000)),
)
# code points that change meaning or length when normalised, cased, ordered or encoded: combining
# marks, direction overrides, joiners, a byte-order mark, non-characters, line separators, the last
# code point, lone surrogates (valid JSON escapes, not valid UTF-8), letters whose case changes length
UNICODE_EDGES = st.sampled_from(
    ["\u0301", "\u0338", "\u202e", "\u202d", "\u2066", "\u200d", "\u200b", "\ufeff", "\ufffe", "\uffff",
     "\ufdd0", "\U0010ffff", "\U0001f600", "\U0001f468\u200d\U0001f469", "\u0085", "\u2028", "\u2029",
     "\ud800", "\udfff", "\udbff\udfff", "İ", "ß", "ǅ", "ﬃ", "ΐ", "\x7f", "\x01", "\x1b[31m", "\r\n", "\t",
     "٣", "²", "\u3000", "\u00a0", "е", "a"]
)  # fmt: skip
UNICODE_STRINGS = st.one_of(
    st.lists(UNICODE_EDGES | st.characters(codec="utf-8", min_codepoint=1), min_size=1, max_size=60).map("".join),
    # one base character under thousands of combining marks: a single "letter" of many code points
    st.builds(lambda base, mark, n: base + mark * n, st.sampled_from("aeZ٣"), UNICODE_EDGES, st.integers(1, 5000)),
)
BRACKETS = st.sampled_from(
    [("(", ")"), ("[", "]"), ("{", "}"), ('"', '"'), ("'", "'"), ("<", ">"), ("${", "}"), ("\\", ""), ("!", ""),
     ("%28", "%29"), ("\\u0028", ""), ("-(", ")"), ("<->(", ")")]
)  # fmt: skip


def _wrapped(pair: tuple[str, str], core: str, n: int) -> str:
    return pair[0] * n + core + pair[1] * n


def _json_in_json(value: str, n: int) -> str:
    for _ in range(n):  # each level escapes the quotes and backslashes of the one inside
        value = json.dumps(value)
    return value


def _b64_in_b64(value: str, n: int) -> str:
    for _ in range(n):
        value = _b64(value.encode("utf-8", "surrogatepass"))
    return value


# strings that nest: brackets, quotes and tsquery groups thousands deep, JSON escaped in JSON,
# base64 of base64 (a cursor inside a cursor)
NESTED_STRINGS = st.one_of(
    st.builds(_wrapped, BRACKETS, st.sampled_from(["", "trade", "a b", "-x", "null", "1"]), st.integers(1, 3000)),
    st.builds(_json_in_json, st.sampled_from(["trade", '{"a": [1]}', "\\", "[[[["]), st.integers(1, 11)),
    st.builds(_b64_in_b64, st.sampled_from(["offset:1", "[1]", "Article:1", "[" * 50]), st.integers(1, 12)),
)
TEXTS = st.one_of(TSQUERIES, LONG_STRINGS, UNICODE_STRINGS, NESTED_STRINGS, text_values())


def _nested(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value]
    return value


TARGETS: list[tuple[str, str, st.SearchStrategy[Any]]] = [
    ("String", "articles(after: $v) { nodes { slug } }", CURSORS),
    ("String", "places(last: 2, before: $v) { nodes { slug } }", CURSORS),
    ("String", 'search(query: "trade", after: $v) { nodes { rank } }', CURSORS),
    ("String", "organisations(first: 2) { nodes { articles(after: $v) { totalCount } } }", CURSORS),
    ("ID!", "node(id: $v) { id }", IDS),
    ("[ID!]!", "nodes(ids: $v) { id }", st.lists(IDS, max_size=3)),
    ("[ID!]!", "nodes(ids: $v) { id }", st.builds(_nested, IDS, st.integers(min_value=1, max_value=600))),
    ("String!", "search(query: $v) { totalCount nodes { rank snippet } }", TEXTS),
    ("String", "articles(filter: { text: $v }) { totalCount nodes { slug } }", TEXTS),
    ("String", "places(filter: { name: $v }) { totalCount }", TEXTS),
    ("String", "tradeFigures(filter: { commodity: $v }) { totalCount }", TEXTS),
    ("String", "tradeFigures(filter: { currency: $v }) { totalCount }", TEXTS),
    ("String!", "article(slug: $v) { slug }", TEXTS),
    ("String", "place(code: $v) { slug }", TEXTS),
    ("String", "tradeSeries(currency: $v) { label }", TEXTS),
]


STRING_LITERALS = {"String": '"trade"', "ID": '"x"', "Int": "1", "Float": "1.0", "Boolean": "true"}


def _literal(type_: graphql.GraphQLInputType) -> str | None:
    """A harmless literal for a required argument beside the one under test (None: none known)."""
    named = graphql.get_named_type(type_)
    if isinstance(graphql.get_nullable_type(type_), graphql.GraphQLList):
        inner = _literal(graphql.get_nullable_type(type_).of_type)  # type: ignore[union-attr]
        return None if inner is None else f"[{inner}]"
    if isinstance(named, graphql.GraphQLEnumType):
        return str(next(iter(named.values)))
    return STRING_LITERALS.get(named.name)


def _is_text(type_: graphql.GraphQLInputType) -> bool:
    return graphql.get_named_type(type_).name in ("String", "ID", "Date", "Decimal")


def string_targets() -> list[tuple[str, str, bool]]:
    """(variable type, selection with `$v`, whether it takes a list) for every String or ID (or
    Date, Decimal) argument of every root field, and every such field of its input objects."""
    targets = []
    for name, field in SCHEMA.query_type.fields.items():  # type: ignore[union-attr]
        returned = graphql.get_named_type(field.type)
        selection = " { __typename }"
        if isinstance(returned, graphql.GraphQLObjectType) and "totalCount" in returned.fields:
            selection = " { totalCount nodes { __typename } }"  # a page: filters and cursors read
        elif graphql.is_leaf_type(returned):
            selection = ""
        for arg_name, arg in field.args.items():
            others = []
            for other_name, other in field.args.items():
                if (
                    other_name != arg_name
                    and graphql.is_non_null_type(other.type)
                    and other.default_value is graphql.Undefined
                ):
                    others.append(f"{other_name}: {_literal(other.type)}")
            if any(o.endswith("None") for o in others):
                continue
            rest = "".join(f", {o}" for o in others)
            named = graphql.get_named_type(arg.type)
            if _is_text(arg.type):
                is_list = isinstance(graphql.get_nullable_type(arg.type), graphql.GraphQLList)
                targets.append((str(arg.type), f"{name}({arg_name}: $v{rest}){selection}", is_list))
            elif isinstance(named, graphql.GraphQLInputObjectType):
                for input_name, input_field in named.fields.items():
                    if _is_text(input_field.type):
                        is_list = isinstance(graphql.get_nullable_type(input_field.type), graphql.GraphQLList)
                        value = f"{{ {input_name}: $v }}"
                        targets.append(
                            (str(input_field.type), f"{name}({arg_name}: {value}{rest}){selection}", is_list)
                        )
    return targets


STRING_TARGETS = string_targets()
HOSTILE_STRINGS = st.one_of(TEXTS, CURSORS, IDS)


@st.composite
def hostile_strings(draw: st.DrawFn) -> dict[str, Any]:
    """A hostile string for any string argument the schema has (or a field of an input object)."""
    type_, selection, is_list = draw(st.sampled_from(STRING_TARGETS))
    value = draw(HOSTILE_STRINGS)
    if not is_list and draw(st.booleans()):
        return {"query": "{ " + selection.replace("$v", json.dumps(value)) + " }"}
    return {"query": f"query($v: {type_}) {{ {selection} }}", "variables": {"v": [value] if is_list else value}}


@st.composite
def hostile_values(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.integers(0, 2)) == 0:
        return draw(hostile_strings())
    type_, selection, strategy = draw(st.sampled_from(TARGETS))
    value = draw(strategy)
    if isinstance(value, str) and draw(st.booleans()):
        # written in the document: a GraphQL string literal (JSON escapes are GraphQL escapes)
        return {"query": "{ " + selection.replace("$v", json.dumps(value)) + " }"}
    return {"query": f"query($v: {type_}) {{ {selection} }}", "variables": {"v": value}}


@settings(FUZZ, max_examples=examples("values"))
@given(payload=hostile_values())
def test_hostile_values(api: TestClient, payload: dict[str, Any]) -> None:
    BUDGET_STATE.run("values", lambda: check_response(post(api, payload)))
