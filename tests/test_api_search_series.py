"""Search ranking and highlighting, trade series values, and error codes."""

from __future__ import annotations

import base64
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from app.config import Settings
from app.main import create_app
from tests.conftest import engine_for, gql

SEARCH = """query($q: String!, $first: Int, $after: String) {
  search(query: $q, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { rank snippet matchedEntities article { slug title body } } }
  }
}"""

SERIES = """query($filter: TradeFigureFilter, $g: Granularity!, $c: String) {
  tradeSeries(filter: $filter, granularity: $g, currency: $c) {
    label periodStart periodEnd value currency complete
    contributions { figure { slug } amount { amount currency } converted { amount rate rateDate source } }
    excluded { figure { slug } coveredBy { slug } reason }
  }
}"""


def errors_of(api: TestClient, query: str, variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    response = api.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    errors: list[dict[str, Any]] = response.json()["errors"]
    return errors


def hits(api: TestClient, q: str, **variables: Any) -> list[dict[str, Any]]:
    edges = gql(api, SEARCH, {"q": q, **variables})["data"]["search"]["edges"]
    return [e["node"] for e in edges]


def test_search_finds_words_in_bodies_with_stemming(api: TestClient) -> None:
    found = hits(api, "consulates")  # stems to "consul", as in "consulate general"
    slugs = {h["article"]["slug"] for h in found}
    assert "guizhou-delegation-moscow-expo" in slugs
    for hit in found:
        assert "<mark>" in hit["snippet"] or hit["matchedEntities"]


def test_search_ranks_the_most_relevant_first(api: TestClient, conn: Connection) -> None:
    found = hits(api, "Liaoning Jilin trade")
    assert found[0]["article"]["slug"] == "russia-trade-liaoning-jilin-2023-sputnik"
    ranks = [h["rank"] for h in found]
    assert ranks == sorted(ranks, reverse=True)
    # every hit either contains the words or names an entity the query names
    for hit in found:
        body = (hit["article"]["title"] or "") + hit["article"]["body"]
        assert "Liaoning" in body or "Jilin" in body or hit["matchedEntities"]


def test_search_through_entity_aliases(api: TestClient) -> None:
    # "Nei Mongol" is only an alias (pycountry's name for Inner Mongolia): no article says it
    found = hits(api, "Nei Mongol")
    assert found, "the alias should find the article that names Inner Mongolia"
    assert all("Inner Mongolia" in h["matchedEntities"] for h in found)
    assert all("Nei Mongol" not in h["article"]["body"] for h in found)


def _excluded_from(conn: Connection, slug: str, word: str) -> bool:
    # whether the article's title and text hold none of `word`'s forms
    sql = "SELECT NOT search @@ plainto_tsquery('english', :w) FROM articles WHERE slug = :s"
    return bool(conn.execute(text(sql), {"w": word, "s": slug}).scalar_one())


@pytest.mark.parametrize(
    ("query", "without", "excluded"),
    [
        ("moscow -guizhou", "moscow", "guizhou"),
        ("Nei Mongol -rail", "Nei Mongol", "rail"),
        ("russia -liaoning", "russia", "liaoning"),
    ],
)
def test_search_keeps_out_what_the_query_excludes(
    api: TestClient, conn: Connection, query: str, without: str, excluded: str
) -> None:
    # an article found through an entity the query names (Moscow, Inner Mongolia by its alias)
    # is kept out too when its text holds the excluded word
    everything = {h["article"]["slug"] for h in hits(api, without, first=50)}
    found = {h["article"]["slug"] for h in hits(api, query, first=50)}
    assert found == {slug for slug in everything if _excluded_from(conn, slug, excluded)}
    assert found < everything  # the exclusion keeps something out
    total = gql(api, SEARCH, {"q": query, "first": 1})["data"]["search"]["totalCount"]
    assert total == len(found)


def test_search_that_only_excludes_finds_nothing_through_entities(api: TestClient, conn: Connection) -> None:
    # `-trade` names no entity: the articles are those without the word, as the text filter says
    found_hits = hits(api, "-trade", first=50)
    assert all(h["matchedEntities"] == [] for h in found_hits)  # no entity is named
    found = {h["article"]["slug"] for h in found_hits}
    filtered = gql(api, '{ articles(first: 50, filter: { text: "-trade" }) { nodes { slug } } }')
    assert found == {a["slug"] for a in filtered["data"]["articles"]["nodes"]}
    assert all(_excluded_from(conn, slug, "trade") for slug in found)


def test_search_snippet_is_escaped_html(api: TestClient) -> None:
    (hit, *_) = hits(api, "Harbin")
    snippet = hit["snippet"]
    assert "<mark>Harbin</mark>" in snippet
    stripped = snippet.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in stripped and ">" not in stripped


def test_search_pages_without_gaps(api: TestClient) -> None:
    everything = [h["article"]["slug"] for h in hits(api, "Russia", first=50)]
    paged: list[str] = []
    after = None
    while True:
        data = gql(api, SEARCH, {"q": "Russia", "first": 2, "after": after})["data"]["search"]
        paged += [e["node"]["article"]["slug"] for e in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert paged == everything
    assert len(everything) == len(set(everything)) == 5


@pytest.mark.parametrize(
    ("q", "reason"),
    [("", "empty"), ("   ", "empty"), ("x" * 501, "longer than")],
)
def test_search_refuses_bad_text(api: TestClient, q: str, reason: str) -> None:
    (error,) = errors_of(api, SEARCH, {"q": q})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert reason in error["message"]


def test_search_refuses_nul_for_the_whole_request(api: TestClient) -> None:
    response = api.post("/graphql", json={"query": SEARCH, "variables": {"q": "a\x00b"}})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "NUL" in error["message"]


def test_search_with_only_stop_words_finds_nothing(api: TestClient) -> None:
    assert hits(api, "the of and") == []


def series(api: TestClient, **variables: Any) -> list[dict[str, Any]]:
    points: list[dict[str, Any]] = gql(api, SERIES, variables)["data"]["tradeSeries"]
    return points


def test_series_sums_in_sql_and_lists_its_figures(api: TestClient) -> None:
    (point,) = series(api, g="YEAR", filter={"reporter": "CN-LN", "partner": "RU", "flow": ["IMPORT", "EXPORT"]})
    assert point["label"] == "2023"
    amounts = {c["figure"]["slug"]: Decimal(c["converted"]["amount"]) for c in point["contributions"]}
    assert set(amounts) == {"liaoning-imports-from-russia-2023", "liaoning-exports-to-russia-2023"}
    assert Decimal(point["value"]) == sum(amounts.values())
    for c in point["contributions"]:
        assert c["converted"]["rateDate"] == "2023-12-31"
        assert "ECB" in c["converted"]["source"]


def test_series_excludes_parts_when_the_whole_is_there(api: TestClient) -> None:
    (point,) = series(api, g="YEAR", filter={"reporter": "CN-LN", "partner": "RU"})
    assert [c["figure"]["slug"] for c in point["contributions"]] == ["liaoning-russia-trade-2023"]
    reasons = {e["figure"]["slug"]: e["reason"] for e in point["excluded"]}
    assert reasons["liaoning-imports-from-russia-2023"].startswith("part of")


def test_series_counts_a_fact_once_however_many_articles_state_it(api: TestClient, conn: Connection) -> None:
    stated_twice = conn.execute(
        text(
            """SELECT f.slug FROM trade_figures f JOIN evidence e ON e.trade_figure_id = f.id
                WHERE f.slug = 'liaoning-russia-trade-2023' GROUP BY f.slug HAVING count(*) > 1"""
        )
    ).scalar_one()
    (point,) = series(api, g="YEAR", filter={"reporter": "CN-LN", "partner": "RU", "flow": ["TOTAL"]}, c="CNY")
    assert [c["figure"]["slug"] for c in point["contributions"]] == [stated_twice]
    assert point["value"] == "54900000000"


def test_series_total_either_side_matches(api: TestClient) -> None:
    forwards = series(api, g="MONTH", filter={"reporter": "CN", "partner": "RU"})
    backwards = series(api, g="MONTH", filter={"reporter": "RU", "partner": "CN"})
    assert forwards == backwards
    assert {p["label"]: p["value"] for p in forwards}["2023-09"] == "21180000000"


def test_series_without_a_rate_is_marked_incomplete(api: TestClient) -> None:
    # the ECB stopped quoting the rouble in March 2022: 2023 yuan figures cannot be shown in RUB
    (point,) = series(api, g="YEAR", filter={"reporter": "CN-LN", "partner": "RU", "flow": ["TOTAL"]}, c="RUB")
    assert point["value"] is None
    assert point["complete"] is False


def test_series_forecasts_only_when_asked(api: TestClient) -> None:
    actual = series(api, g="YEAR", filter={"reporter": "CN", "partner": "RU"})
    assert "2024" not in {p["label"] for p in actual}
    forecast = series(api, g="YEAR", filter={"reporter": "CN", "partner": "RU", "status": ["FORECAST"]})
    assert {p["label"]: p["value"] for p in forecast}["2024"] == "240000000000"


@pytest.mark.parametrize("currency", ["usd", "XXQ", "DOLLARS", ""])
def test_series_currency_must_be_iso_4217(api: TestClient, currency: str) -> None:
    if currency == "usd":  # case does not matter
        assert series(api, g="YEAR", c=currency)
        return
    (error,) = errors_of(api, SERIES, {"g": "YEAR", "c": currency})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_missing_slugs_are_null_not_errors(api: TestClient) -> None:
    body = gql(
        api,
        """{ article(slug: "nope") { slug } organisation(slug: "nope") { slug }
             place(slug: "nope") { slug } p2: place(code: "ZZ") { slug } event(slug: "nope") { slug } }""",
    )
    assert all(value is None for value in body["data"].values())


@pytest.mark.parametrize(
    ("query", "code", "says"),
    [
        ("{ articles(first: 101) { totalCount } }", "BAD_USER_INPUT", "between 0 and 100"),
        ("{ articles(last: 500) { totalCount } }", "BAD_USER_INPUT", "between 0 and 100"),
        ("{ articles(first: 1, last: 1) { totalCount } }", "BAD_USER_INPUT", "not both"),
        ('{ articles(after: "garbage") { totalCount } }', "BAD_USER_INPUT", "invalid cursor"),
        ('{ node(id: "!!!") { id } }', "BAD_USER_INPUT", "not a valid node id"),
        ("{ place { slug } }", "BAD_USER_INPUT", "exactly one"),
        ('{ tradeFigures(filter: {reporter: "Atlantis"}) { totalCount } }', "NOT_FOUND", "no place 'Atlantis'"),
        ('{ articles(filter: {publisher: "nobody"}) { totalCount } }', "NOT_FOUND", "no organisation 'nobody'"),
        ('{ events(filter: {parent: "nothing"}) { totalCount } }', "NOT_FOUND", "no event 'nothing'"),
    ],
)
def test_errors_are_coded(api: TestClient, query: str, code: str, says: str) -> None:
    (error,) = errors_of(api, query)
    assert error["extensions"]["code"] == code
    assert says in error["message"]


def test_an_id_beyond_bigint_is_bad_input(api: TestClient) -> None:
    huge = base64.urlsafe_b64encode(b"Article:99999999999999999999999").decode().rstrip("=")
    (error,) = errors_of(api, "query($id: ID!) { node(id: $id) { id } }", {"id": huge})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_unexpected_failures_are_masked(fresh_database: Callable[..., str]) -> None:
    # A database that no longer matches the code (a column renamed behind the API's back) makes
    # resolvers fail for real; clients get a coded, generic error and none of the internals.
    url = fresh_database(seeded=True)
    with engine_for(url) as engine, engine.begin() as c:
        c.execute(text("ALTER TABLE places RENAME COLUMN name TO place_name"))
    app = create_app(Settings(database_url=url))
    with TestClient(app) as client:
        response = client.post("/graphql", json={"query": '{ place(code: "CN") { name } articles { totalCount } }'})
    assert response.status_code == 200
    body = response.json()
    (error,) = body["errors"]
    assert error["message"] == "Internal server error"
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert error["path"] == ["place"]
    assert body["data"]["articles"]["totalCount"] == 5  # the rest of the operation still answers
    assert "place_name" not in response.text and "psycopg" not in response.text
