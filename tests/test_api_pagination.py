"""Cursor pagination of every connection: forwards, backwards, page info, limits, bad cursors,
stability under inserts, and totalCount computed only when asked for."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.config import Settings
from app.main import create_app
from tests.conftest import engine_for, gql
from tests.test_api_contract import corpus, error_codes

ORDERS: dict[str, list[str]] = {
    "articles": ["PUBLISHED_ON_DESC", "PUBLISHED_ON_ASC", "TITLE_ASC", "SLUG_ASC"],
    "places": ["NAME_ASC", "SLUG_ASC", "CODE_ASC"],
    "organisations": ["NAME_ASC", "SLUG_ASC"],
    "tradeFigures": ["PERIOD_END_DESC", "PERIOD_END_ASC", "AMOUNT_USD_DESC", "SLUG_ASC"],
    "events": ["STARTS_ON_ASC", "STARTS_ON_DESC", "NAME_ASC"],
}
FILTER_TYPES = {
    "articles": "ArticleFilter",
    "places": "PlaceFilter",
    "organisations": "OrganisationFilter",
    "tradeFigures": "TradeFigureFilter",
    "events": "EventFilter",
}
CASES = [(field, order) for field, orders in ORDERS.items() for order in orders]
SIZES = [1, 2, 3, 7]


def totals() -> dict[str, int]:
    c = corpus()
    return {
        "articles": len(c.articles),
        "places": len(c.places),
        "organisations": len(c.organisations),
        "tradeFigures": len(c.figures),
        "events": len(c.events),
    }


def fetch(
    api: TestClient,
    field: str,
    order: str | None = None,
    filter_: dict[str, Any] | None = None,
    *,
    total: bool = True,
    **args: Any,
) -> dict[str, Any]:
    """One page of a connection: edges (cursor, id, slug), pageInfo and, if asked, totalCount."""
    order_arg = f", orderBy: {order}" if order else ""
    query = f"""query($first: Int, $after: String, $last: Int, $before: String, $f: {FILTER_TYPES[field]}) {{
      {field}(first: $first, after: $after, last: $last, before: $before, filter: $f{order_arg}) {{
        {"totalCount" if total else ""}
        edges {{ cursor node {{ id slug }} }}
        pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }} }}"""
    result: dict[str, Any] = gql(api, query, {**args, "f": filter_})["data"][field]
    return result


def edges_of(page: dict[str, Any]) -> list[tuple[str, str]]:
    """(cursor, slug) of each edge."""
    return [(e["cursor"], e["node"]["slug"]) for e in page["edges"]]


def check_bounds(page: dict[str, Any]) -> None:
    info, edges = page["pageInfo"], page["edges"]
    assert info["startCursor"] == (edges[0]["cursor"] if edges else None)
    assert info["endCursor"] == (edges[-1]["cursor"] if edges else None)


def walk_forward(fetch_page: Callable[..., dict[str, Any]], size: int, total: int) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    after: str | None = None
    pages = 0
    while True:
        page = fetch_page(first=size, after=after)
        pages += 1
        assert pages <= total + 1, "paging does not end"
        assert page["totalCount"] == total
        check_bounds(page)
        assert 1 <= len(page["edges"]) <= size
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += edges_of(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        assert len(page["edges"]) == size
        after = page["pageInfo"]["endCursor"]
    assert pages == math.ceil(total / size)
    return seen


def walk_backward(fetch_page: Callable[..., dict[str, Any]], size: int, total: int) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    before: str | None = None
    pages = 0
    while True:
        page = fetch_page(last=size, before=before)
        pages += 1
        assert pages <= total + 1, "paging does not end"
        assert page["totalCount"] == total
        check_bounds(page)
        assert 1 <= len(page["edges"]) <= size
        assert page["pageInfo"]["hasNextPage"] is (before is not None)
        seen = edges_of(page) + seen
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        assert len(page["edges"]) == size
        before = page["pageInfo"]["startCursor"]
    assert pages == math.ceil(total / size)
    return seen


def whole(api: TestClient, field: str, order: str | None = None, filter_: dict[str, Any] | None = None) -> list[Any]:
    page = fetch(api, field, order, filter_, first=100)
    assert page["pageInfo"]["hasNextPage"] is False
    assert page["pageInfo"]["hasPreviousPage"] is False
    check_bounds(page)
    assert page["totalCount"] == len(page["edges"])
    return edges_of(page)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(("field", "order"), CASES)
def test_paging_forwards_and_backwards_yields_every_item_once(
    api: TestClient, field: str, order: str, size: int
) -> None:
    full = whole(api, field, order)
    total = totals()[field]
    assert len(full) == total
    assert len({slug for _, slug in full}) == total

    def fetch_page(**args: Any) -> dict[str, Any]:
        return fetch(api, field, order, **args)

    assert walk_forward(fetch_page, size, total) == full
    assert walk_backward(fetch_page, size, total) == full


FILTERED = [
    ("tradeFigures", "AMOUNT_USD_DESC", {"reporter": "CN", "includeSubregions": True, "measure": "MONEY"}),
    ("events", "STARTS_ON_DESC", {"place": "CN"}),
    ("places", "CODE_ASC", {"countryCode": "CN"}),
    ("organisations", "SLUG_ASC", {"kind": ["MEDIA", "NEWS_AGENCY", "GOVERNMENT_BODY"]}),
    ("articles", "PUBLISHED_ON_ASC", {"place": "RU"}),
]


@pytest.mark.parametrize("size", [1, 2, 3])
@pytest.mark.parametrize(("field", "order", "filter_"), FILTERED)
def test_paging_a_filtered_connection(
    api: TestClient, field: str, order: str, filter_: dict[str, Any], size: int
) -> None:
    full = whole(api, field, order, filter_)
    assert len(full) >= 2

    def fetch_page(**args: Any) -> dict[str, Any]:
        return fetch(api, field, order, filter_, **args)

    assert walk_forward(fetch_page, size, len(full)) == full
    assert walk_backward(fetch_page, size, len(full)) == full


@pytest.mark.parametrize(("field", "order"), CASES)
def test_turning_round_and_windows(api: TestClient, field: str, order: str) -> None:
    full = whole(api, field, order)
    cursors = [cursor for cursor, _ in full]
    n = len(full)
    middle = n // 2
    # back from a page found going forwards: exactly the items before it
    back = fetch(api, field, order, last=2, before=cursors[middle])
    assert edges_of(back) == full[max(0, middle - 2) : middle]
    assert back["pageInfo"]["hasPreviousPage"] is (middle > 2)
    assert back["pageInfo"]["hasNextPage"] is True
    # forwards from a cursor found going backwards
    ahead = fetch(api, field, order, first=2, after=cursors[middle])
    assert edges_of(ahead) == full[middle + 1 : middle + 3]
    assert ahead["pageInfo"]["hasNextPage"] is (middle + 3 < n)
    # after and before together: the items strictly between
    window = fetch(api, field, order, first=100, after=cursors[0], before=cursors[-1])
    assert edges_of(window) == full[1:-1]
    window = fetch(api, field, order, last=100, after=cursors[0], before=cursors[-1])
    assert edges_of(window) == full[1:-1]
    # past either end: nothing
    assert fetch(api, field, order, first=5, after=cursors[-1])["edges"] == []
    assert fetch(api, field, order, last=5, before=cursors[0])["edges"] == []


@pytest.mark.parametrize("field", list(ORDERS))
def test_default_page_and_empty_pages(api: TestClient, field: str) -> None:
    full = whole(api, field)
    default = fetch(api, field)
    got = edges_of(default)
    assert 1 <= len(got) <= 100
    assert got == full[: len(got)]
    assert default["pageInfo"]["hasNextPage"] is (len(got) < len(full))
    assert default["pageInfo"]["hasPreviousPage"] is False
    check_bounds(default)
    zero = fetch(api, field, first=0)
    assert zero["edges"] == []
    assert zero["pageInfo"]["startCursor"] is None
    assert zero["pageInfo"]["endCursor"] is None
    assert zero["pageInfo"]["hasNextPage"] is True
    assert zero["totalCount"] == len(full)


@pytest.mark.parametrize(
    ("field", "filter_"),
    [
        ("articles", {"publishedFrom": "2030-01-01"}),
        ("places", {"countryCode": "FR"}),  # a country no place of the corpus lies in
        ("organisations", {"name": "no such organisation"}),
        ("tradeFigures", {"currency": "EUR"}),
        ("events", {"kind": ["ARMED_CONFLICT"], "from": "2030-01-01"}),
    ],
)
def test_empty_connection(api: TestClient, field: str, filter_: dict[str, Any]) -> None:
    for first, last in ((3, None), (None, 3)):
        page = fetch(api, field, filter_=filter_, first=first, last=last)
        assert page["edges"] == []
        assert page["totalCount"] == 0
        assert page["pageInfo"] == {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        }


# --- bad arguments --------------------------------------------------------------------------------


@pytest.mark.parametrize("field", list(ORDERS))
def test_page_size_limits(api: TestClient, field: str) -> None:
    assert len(fetch(api, field, first=100)["edges"]) == totals()[field]
    assert len(fetch(api, field, last=100)["edges"]) == totals()[field]
    query = f"query($a: Int, $b: Int) {{ {field}(first: $a, last: $b) {{ edges {{ cursor }} }} }}"
    for args in ({"a": 101}, {"b": 101}, {"a": 1000}, {"a": -1}, {"b": -1}, {"a": 1, "b": 1}, {"a": 0, "b": 0}):
        assert error_codes(api, query, args) == ["BAD_USER_INPUT"], args


def _cursor(value: Any) -> str:
    # spaced and escaped as the API writes cursors: only what is in them can make one wrong
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


GARBAGE = [
    "garbage",
    "",
    "!!!!",
    "bm90IGpzb24",  # "not json"
    _cursor({"a": 1}),
    _cursor([1]),
    _cursor([1, 2, 3]),
    _cursor(["2024-01-01", "one"]),
    _cursor([None, 1]),
    _cursor([True, True]),
]


@pytest.mark.parametrize("cursor", GARBAGE)
@pytest.mark.parametrize("field", list(ORDERS))
def test_garbage_cursor_is_bad_user_input(api: TestClient, field: str, cursor: str) -> None:
    for arg in ("after", "before"):
        query = f"query($c: String) {{ {field}({arg}: $c) {{ edges {{ cursor }} }} }}"
        assert error_codes(api, query, {"c": cursor}) == ["BAD_USER_INPUT"], (arg, cursor)


def _tag(api: TestClient, field: str, order: str | None = None) -> str:
    """The tag a real cursor of `field` in `order` ends with."""
    cursor = fetch(api, field, order, first=1)["edges"][0]["cursor"]
    tag: str = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))[-1]
    return tag


def test_cursor_of_another_connection_is_bad_user_input(api: TestClient) -> None:
    place_cursor = fetch(api, "places", first=1)["edges"][0]["cursor"]  # [name, id, tag]
    figure_cursor = fetch(api, "tradeFigures", first=1)["edges"][0]["cursor"]  # [period end, id, tag]
    for field, cursor in (("tradeFigures", place_cursor), ("events", place_cursor), ("articles", place_cursor)):
        query = f"query($c: String) {{ {field}(after: $c) {{ edges {{ cursor }} }} }}"
        assert error_codes(api, query, {"c": cursor}) == ["BAD_USER_INPUT"], field
    # the right tag, values of the wrong kinds (a cursor re-encoded here is the API's own)
    real = fetch(api, "tradeFigures", "AMOUNT_USD_DESC", first=1)["edges"][0]["cursor"]
    assert _cursor(json.loads(base64.urlsafe_b64decode(real + "=" * (-len(real) % 4)))) == real
    amount_tag = _tag(api, "tradeFigures", "AMOUNT_USD_DESC")
    query = "query($c: String) { tradeFigures(orderBy: AMOUNT_USD_DESC, after: $c) { edges { cursor } } }"
    assert error_codes(api, query, {"c": _cursor(["1.5", "x", amount_tag])}) == ["BAD_USER_INPUT"]  # id not an int
    query = "query($c: String) { events(orderBy: NAME_ASC, after: $c) { edges { cursor } } }"
    name_tag = _tag(api, "events", "NAME_ASC")
    assert error_codes(api, query, {"c": _cursor(["a name", "2024-12-31", name_tag])}) == ["BAD_USER_INPUT"]
    query = "query($c: String) { places(after: $c) { edges { cursor } } }"
    assert error_codes(api, query, {"c": _cursor([8, figure_cursor, _tag(api, "places")])}) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("client", ["api", "resolver_api"])
@pytest.mark.parametrize("field", list(ORDERS))
def test_cursor_of_another_order_is_bad_user_input(request: pytest.FixtureRequest, client: str, field: str) -> None:
    # two orders of one connection may hold values of the same kinds (a title and a slug; one date,
    # ascending or descending): a cursor of one is no position in the other, and is refused
    api: TestClient = request.getfixturevalue(client)
    cursors = {order: fetch(api, field, order, first=2)["edges"][1]["cursor"] for order in ORDERS[field]}
    assert len(set(cursors.values())) == len(cursors)
    for order, cursor in cursors.items():
        for other in ORDERS[field]:
            for arg in ("after", "before"):
                query = f"query($c: String) {{ {field}(orderBy: {other}, {arg}: $c) {{ edges {{ cursor }} }} }}"
                body = api.post("/graphql", json={"query": query, "variables": {"c": cursor}}).json()
                if other == order:
                    assert "errors" not in body, body
                    continue
                assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], (order, other)
                assert "of another order or connection" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("field", "order", "values"),
    [
        ("tradeFigures", "AMOUNT_USD_DESC", ["x", 1]),
        ("places", "NAME_ASC", ["Chi\x00na", 1]),
        ("places", "NAME_ASC", ["China", 2**70]),
        ("events", "STARTS_ON_ASC", ["2023-01-01", 2**63]),
    ],
)
def test_forged_cursor_is_bad_user_input(api: TestClient, field: str, order: str, values: list[Any]) -> None:
    # the tag of the order is right: the values alone are refused
    cursor = _cursor([*values, _tag(api, field, order)])
    query = f"query($c: String) {{ {field}(orderBy: {order}, after: $c) {{ edges {{ cursor }} }} }}"
    assert error_codes(api, query, {"c": cursor}) == ["BAD_USER_INPUT"]


def test_organisation_articles_arguments(api: TestClient) -> None:
    query = """query($first: Int, $after: String) { organisation(slug: "guizhou-super-biotechnology") {
      articles(first: $first, after: $after) { edges { cursor node { slug } } pageInfo { hasNextPage } } } }"""
    pages = gql(api, query, {"first": 1})["data"]["organisation"]["articles"]
    assert pages["pageInfo"]["hasNextPage"] is True
    after = pages["edges"][0]["cursor"]
    rest = gql(api, query, {"first": 100, "after": after})["data"]["organisation"]["articles"]
    assert [e["node"]["slug"] for e in rest["edges"]] == ["guizhou-delegation-moscow-liam"]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert error_codes(api, query, {"first": 101}) == ["BAD_USER_INPUT"]
    assert error_codes(api, query, {"first": 1, "after": "garbage"}) == ["BAD_USER_INPUT"]


# --- stable cursors -------------------------------------------------------------------------------


def test_cursors_are_stable_under_inserts(fresh_database: Callable[..., str]) -> None:
    url = fresh_database(seeded=True)
    app = create_app(Settings(database_url=url, expose_statement_count=True))
    with TestClient(app) as client:
        before = whole(client, "places")
        first = fetch(client, "places", first=5)
        seen = edges_of(first)
        assert seen == before[:5]
        old_cursor = first["pageInfo"]["endCursor"]
        fifth = gql(client, "query($s: String!) { place(slug: $s) { name } }", {"s": seen[-1][1]})["data"]["place"]

        # another client commits new places: one before the cursor, one after, one tied on the sort key
        with engine_for(url) as engine, engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO places (slug, name, kind) VALUES"
                    " ('aaa-early', 'Aaa Early', 'city'), ('zzz-late', 'Zzz Late', 'city'),"
                    " ('same-name-later', :name, 'city')"
                ),
                {"name": fifth["name"]},
            )

        after = whole(client, "places")
        assert len(after) == len(before) + 3
        assert after[0][1] == "aaa-early"
        position = [slug for _, slug in after].index(seen[-1][1])
        expected_rest = after[position + 1 :]
        assert expected_rest[0][1] == "same-name-later"  # same name, larger id: right after the cursor
        assert expected_rest[-1][1] == "zzz-late"

        rest: list[tuple[str, str]] = []
        cursor = old_cursor
        while True:
            page = fetch(client, "places", first=3, after=cursor)
            assert page["totalCount"] == len(after)
            rest += edges_of(page)
            if not page["pageInfo"]["hasNextPage"]:
                break
            cursor = page["pageInfo"]["endCursor"]
        assert rest == expected_rest
        assert not {slug for _, slug in rest} & {slug for _, slug in seen}, "an item came twice"
        # an item's cursor does not change when others are added
        old = {slug: c for c, slug in before}
        assert all(old[slug] == c for c, slug in rest if slug in old)

        # backwards from an old cursor: the new place before it is found, nothing is repeated
        back = fetch(client, "places", last=100, before=old_cursor)
        assert edges_of(back) == after[:position]
        assert back["edges"][0]["node"]["slug"] == "aaa-early"


# --- totalCount --------------------------------------------------------------------------------------


def _statements(api: TestClient, query: str, variables: dict[str, Any] | None = None) -> int:
    count = gql(api, query, variables)["extensions"]["sqlStatements"]
    assert isinstance(count, int)
    return count


@pytest.mark.parametrize("field", list(ORDERS))
def test_total_count_costs_one_statement_only_when_selected(resolver_api: TestClient, field: str) -> None:
    without = f"{{ {field}(first: 2) {{ edges {{ cursor node {{ id }} }} pageInfo {{ hasNextPage }} }} }}"
    with_total = f"{{ {field}(first: 2) {{ totalCount edges {{ cursor node {{ id }} }} pageInfo {{ hasNextPage }} }} }}"
    plain = _statements(resolver_api, without)
    assert plain == 1
    assert _statements(resolver_api, with_total) == plain + 1
    only_total = f"{{ {field}(first: 2) {{ totalCount }} }}"
    assert _statements(resolver_api, only_total) == plain + 1


@pytest.mark.parametrize("field", list(ORDERS))
def test_a_compiled_page_is_one_statement_with_or_without_its_total(api: TestClient, field: str) -> None:
    for selection in ("edges { cursor node { id } } pageInfo { hasNextPage }", "totalCount edges { cursor }"):
        assert _statements(api, f"{{ {field}(first: 2) {{ {selection} }} }}") == 1


def test_total_count_with_filters_and_nested(resolver_api: TestClient, api: TestClient) -> None:
    query = """query($f: TradeFigureFilter) { tradeFigures(first: 1, filter: $f) { %s edges { cursor } } }"""
    f = {"reporter": "CN", "includeSubregions": True, "flow": ["TOTAL"]}
    plain = _statements(resolver_api, query % "", {"f": f})
    assert _statements(resolver_api, query % "totalCount", {"f": f}) == plain + 1
    nested = """{ organisation(slug: "sputnik") { articles(first: 1) { %s edges { cursor } } } }"""
    plain = _statements(resolver_api, nested % "")
    assert _statements(resolver_api, nested % "totalCount") == plain + 1
    # compiled: the filter's references, the page and its total in one statement
    assert _statements(api, query % "totalCount", {"f": f}) == _statements(api, nested % "totalCount") == 1
