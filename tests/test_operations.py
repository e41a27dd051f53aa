"""The example operations in schema/operations/ run and return what a frontend expects."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    TypeInfo,
    Visitor,
    build_schema,
    get_named_type,
    parse,
    validate,
    visit,
)
from graphql.type import GraphQLInterfaceType, GraphQLObjectType
from graphql.utilities import TypeInfoVisitor

from app.config import SEEDS_DIR
from app.graphql.schema import sdl
from app.seed.corpus import build_corpus
from tests.conftest import gql
from tests.helpers import ROOT, TRADEGRAPH

OPERATIONS = ROOT / "schema" / "operations"
NAMES = sorted(p.stem for p in OPERATIONS.glob("*.graphql"))
CORPUS = build_corpus([SEEDS_DIR])


def run(api: TestClient, name: str, **overrides: Any) -> dict[str, Any]:
    variables = json.loads((OPERATIONS / f"{name}.variables.json").read_text())
    return gql(api, (OPERATIONS / f"{name}.graphql").read_text(), {**variables, **overrides})


def test_committed_sdl_is_the_exported_schema() -> None:
    exported = subprocess.run([str(TRADEGRAPH), "export-schema"], capture_output=True, text=True, check=True).stdout
    assert exported == sdl()
    committed = (ROOT / "schema" / "schema.graphql").read_text()
    assert committed == exported, "schema/schema.graphql is stale: run `python3 tasks.py schema`"


@pytest.mark.parametrize("name", NAMES)
def test_operation_is_valid_against_the_committed_sdl(name: str) -> None:
    schema = build_schema((ROOT / "schema" / "schema.graphql").read_text())
    assert validate(schema, parse((OPERATIONS / f"{name}.graphql").read_text())) == []
    assert (OPERATIONS / f"{name}.variables.json").exists()


def missing_ids(schema: GraphQLSchema, text: str) -> list[str]:
    """Return the paths of selections on a type with an `id` that do not select `id` (unaliased).

    Apollo and urql normalise their caches by `__typename` and `id`: without it an object cannot
    be updated in place, refetched by `node(id:)` or shared between screens."""
    document = parse(text)
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}

    def selects_id(selection_set: SelectionSetNode, seen: frozenset[str] = frozenset()) -> bool:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value == "id" and selection.alias is None:
                    return True
            elif isinstance(selection, InlineFragmentNode) and selection.type_condition is None:
                if selects_id(selection.selection_set, seen):
                    return True
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                fragment = fragments[selection.name.value]
                if schema.get_type(fragment.type_condition.name.value) is not None and selects_id(
                    fragment.selection_set, seen | {selection.name.value}
                ):
                    return True
        return False

    type_info = TypeInfo(schema)
    problems: list[str] = []
    where: list[str] = []

    class Check(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            where.append((node.alias or node.name).value)
            named = get_named_type(type_info.get_type())
            has_id = isinstance(named, GraphQLObjectType | GraphQLInterfaceType) and "id" in named.fields
            if has_id and node.selection_set is not None and not selects_id(node.selection_set):
                problems.append(".".join(where))

        def leave_field(self, *_: Any) -> None:
            where.pop()

        def enter_fragment_definition(self, node: FragmentDefinitionNode, *_: Any) -> None:
            where.append(f"fragment {node.name.value}")

        def leave_fragment_definition(self, *_: Any) -> None:
            where.pop()

    visit(document, TypeInfoVisitor(type_info, Check()))
    return problems


@pytest.mark.parametrize("name", NAMES)
def test_operation_selects_id_on_every_object_that_has_one(name: str) -> None:
    schema = build_schema((ROOT / "schema" / "schema.graphql").read_text())
    assert missing_ids(schema, (OPERATIONS / f"{name}.graphql").read_text()) == []


def test_the_id_check_finds_a_selection_without_id() -> None:
    schema = build_schema((ROOT / "schema" / "schema.graphql").read_text())
    query = """{ article(slug: "x") { id publisher { name } duplicates { ...D } } }
        fragment D on Article { slug }"""
    assert missing_ids(schema, query) == ["article.publisher", "article.duplicates"]
    fixed = """{ article(slug: "x") { id publisher { id name } duplicates { ...D } } }
        fragment D on Article { id slug }"""
    assert missing_ids(schema, fixed) == []


def test_every_operation_is_covered_below() -> None:
    assert set(NAMES) == {
        "ArticleList",
        "ArticlePage",
        "EventCalendar",
        "OrganisationPage",
        "PlacePage",
        "Search",
        "TradeChart",
    }


def test_article_page_shows_every_fact_with_its_words(api: TestClient) -> None:
    article = run(api, "ArticlePage")["data"]["article"]
    slug = article["slug"]
    expected_figures = {f for f, a in CORPUS.figure_article.items() if a == slug} | {
        e.subject for e in CORPUS.evidence if e.span.article == slug and e.subject_kind == "trade_figure"
    }
    assert {f["slug"] for f in article["tradeFigures"]} == expected_figures
    body = article["body"]
    for figure in article["tradeFigures"]:
        own = [e for e in figure["evidence"] if e["article"]["slug"] == slug]
        assert own, figure["slug"]
        for ev in own:
            assert body[ev["start"] : ev["end"]] == ev["quote"]
    for event in article["events"]:
        assert event["evidence"]
    liaoning = next(f for f in article["tradeFigures"] if f["slug"] == "liaoning-russia-trade-2023")
    assert liaoning["amount"] == {"amount": "54900000000", "currency": "CNY"}
    assert liaoning["statedConversion"]["amount"] == "7700000000"
    assert liaoning["amountUsd"]["source"].startswith("ECB")
    assert (liaoning["periodStart"], liaoning["periodEnd"]) == ("2023-01-01", "2023-12-31")
    imports = next(f for f in article["tradeFigures"] if f["slug"] == "liaoning-imports-from-russia-2023")
    assert imports["partOf"] == {"id": liaoning["id"], "slug": "liaoning-russia-trade-2023"}
    assert article["publisher"]["name"] == "Sputnik"
    assert article["publishedOn"] == "2024-01-29"


def test_article_list_pages_through_everything(api: TestClient) -> None:
    first = run(api, "ArticleList", first=3)["data"]["articles"]
    assert first["totalCount"] == len(CORPUS.articles)
    assert first["pageInfo"]["hasNextPage"] is True
    rest = run(api, "ArticleList", first=3, after=first["pageInfo"]["endCursor"])["data"]["articles"]
    slugs = [e["node"]["slug"] for e in first["edges"] + rest["edges"]]
    assert sorted(slugs) == sorted(CORPUS.articles)
    dates = [e["node"]["publishedOn"] for e in first["edges"] + rest["edges"]]
    dated = [d for d in dates if d]
    assert dated == sorted(dated, reverse=True)
    assert dates[-len(dates) + len(dated) :] == dated or None in dates


def test_place_page_includes_places_inside(api: TestClient) -> None:
    data = run(api, "PlacePage")["data"]
    assert data["place"]["name"] == "Liaoning"
    assert data["place"]["parent"]["code"] == "CN"
    assert {"Shenyang", "Dalian"} <= {c["name"] for c in data["place"]["children"]}
    reporters = {e["node"]["reporter"]["name"] for e in data["tradeFigures"]["edges"]}
    assert "Liaoning" in reporters
    exports = [
        e["node"]
        for e in data["tradeFigures"]["edges"]
        if e["node"]["amount"] == {"amount": "42640000000", "currency": "CNY"}
    ]
    assert len(exports) == 1
    assert exports[0]["periodLabel"]
    event_slugs = {e["node"]["slug"] for e in data["events"]["edges"]}
    in_shenyang = {s for s, e in CORPUS.events.items() if "shenyang" in e.places}
    assert in_shenyang <= event_slugs  # Shenyang lies in Liaoning
    assert data["articles"]["edges"]


def test_trade_chart_counts_nothing_twice(api: TestClient) -> None:
    points = run(api, "TradeChart", sources=20)["data"]["tradeSeries"]
    by_label = {p["label"]: p for p in points}
    year = by_label["2023"]
    assert year["value"] == "240100000000"  # China-Russia trade; provinces' figures are inside it
    contributions, left_out = year["contributionsConnection"], year["excludedConnection"]
    assert contributions["totalCount"] == len(contributions["nodes"])  # every figure, on one page
    assert left_out["totalCount"] == len(left_out["nodes"])
    assert [c["figure"]["slug"] for c in contributions["nodes"]] == ["china-russia-trade-2023"]
    excluded = {e["figure"]["slug"]: e["coveredBy"]["slug"] for e in left_out["nodes"]}
    assert excluded["liaoning-russia-trade-2023"] == "china-russia-trade-2023"
    assert excluded["liaoning-imports-from-russia-2023"] == "liaoning-russia-trade-2023"
    assert sum(Decimal(c["amount"]["amount"]) for c in contributions["nodes"]) == Decimal(year["value"])
    first_page = run(api, "TradeChart", sources=1)["data"]["tradeSeries"]
    page = {p["label"]: p for p in first_page}["2023"]["excludedConnection"]
    assert page["totalCount"] == left_out["totalCount"]
    assert page["nodes"] == left_out["nodes"][:1]
    assert page["pageInfo"]["hasNextPage"] is (left_out["totalCount"] > 1)


def test_trade_chart_converts_with_the_rate_shown(api: TestClient) -> None:
    only_liaoning = {"reporter": "CN-LN", "partner": "RU", "flow": ["TOTAL"]}
    points = run(api, "TradeChart", filter=only_liaoning, currency="USD")["data"]["tradeSeries"]
    (point,) = points
    (contribution,) = point["contributionsConnection"]["nodes"]
    converted = contribution["converted"]
    assert contribution["amount"] == {"amount": "54900000000", "currency": "CNY"}
    assert Decimal(converted["amount"]) == (Decimal("54900000000") * Decimal(converted["rate"])).quantize(
        Decimal("0.01")
    )
    assert Decimal(point["value"]) == Decimal(converted["amount"])
    assert point["complete"] is True
    in_cny = run(api, "TradeChart", filter=only_liaoning, currency="CNY")["data"]["tradeSeries"]
    assert in_cny[0]["value"] == "54900000000"


def test_trade_chart_by_month_and_quarter(api: TestClient) -> None:
    months = run(api, "TradeChart", granularity="MONTH")["data"]["tradeSeries"]
    september = {p["label"]: p for p in months}["2023-09"]
    assert september["value"] == "21180000000"
    assert (september["periodStart"], september["periodEnd"]) == ("2023-09-01", "2023-09-30")
    quarters = run(api, "TradeChart", granularity="QUARTER")["data"]["tradeSeries"]
    assert quarters == []  # no figure covers exactly one quarter


def test_event_calendar_lists_2024_events_in_order(api: TestClient) -> None:
    events = run(api, "EventCalendar")["data"]["events"]
    nodes = [e["node"] for e in events["edges"]]
    starts = [n["startsOn"] for n in nodes if n["startsOn"]]
    assert starts == sorted(starts)
    assert all(s >= "2024-01-01" for s in starts)
    fair = next(n for n in nodes if n["slug"] == "made-in-russia-festival-fair-2024")
    assert (fair["startsOn"], fair["endsOn"]) == ("2024-01-27", "2024-02-05")
    assert {p["name"] for p in fair["places"]} == {"Shenyang", "Dalian"}
    assert fair["participantCount"] == 130
    assert fair["evidence"][0]["quote"] in (ROOT / "seeds" / "004_2e72d91befb4f30c.txt").read_text()


def test_search_ranks_and_highlights(api: TestClient) -> None:
    hits = run(api, "Search")["data"]["search"]
    nodes = [e["node"] for e in hits["edges"]]
    assert nodes[0]["article"]["slug"] == "guizhou-delegation-moscow-expo"  # the one about the consulate
    assert "<mark>" in nodes[0]["snippet"]
    ranks = [n["rank"] for n in nodes]
    assert ranks == sorted(ranks, reverse=True)
    assert hits["totalCount"] == len(nodes)


def test_organisation_page(api: TestClient) -> None:
    data = run(api, "OrganisationPage")["data"]
    org = data["organisation"]
    assert org["kind"] == "DIPLOMATIC_MISSION"
    assert org["articles"]["totalCount"] >= 1
    assert {e["node"]["slug"] for e in org["articles"]["edges"]} <= set(CORPUS.articles)


@pytest.mark.parametrize("name", NAMES)
def test_each_operation_runs_a_bounded_number_of_statements(resolver_api: TestClient, name: str) -> None:
    statements = run(resolver_api, name)["extensions"]["sqlStatements"]
    assert 1 <= statements <= 20, statements


@pytest.mark.parametrize("name", NAMES)
def test_each_compiled_operation_is_one_statement(api: TestClient, name: str) -> None:
    assert run(api, name)["extensions"]["sqlStatements"] == 1


@pytest.mark.parametrize("path", ["compiled", "resolvers"])
def test_a_nested_page_of_1_and_of_n_articles_runs_the_same_statements(
    api: TestClient, resolver_api: TestClient, path: str
) -> None:
    api = api if path == "compiled" else resolver_api
    one = run(api, "ArticleList", first=1)
    many = run(api, "ArticleList", first=5)
    assert len(one["data"]["articles"]["edges"]) == 1
    assert len(many["data"]["articles"]["edges"]) == 5
    assert one["extensions"]["sqlStatements"] == many["extensions"]["sqlStatements"]
    deep = (
        (OPERATIONS / "ArticlePage.graphql")
        .read_text()
        .replace(
            "query ArticlePage($slug: String!) {\n  article(slug: $slug) {",
            "query Deep($n: Int!) {\n  articles(first: $n) { edges { node {",
        )
    )
    deep = deep.replace("\n}\n\nfragment", "\n} } }\n\nfragment", 1)
    counts = {n: gql(api, deep, {"n": n})["extensions"]["sqlStatements"] for n in (1, 2, 3, 4, 5)}
    # A to-one relation that no article of the page has (`duplicateOf`, `partOf` on the newest
    # article alone) costs no statement, so a small page may run one or two fewer; an N+1 would
    # add a statement per article and per list field instead.
    assert all(counts[n] <= counts[n + 1] for n in (1, 2, 3, 4)), counts
    assert counts[5] - counts[1] <= 2, counts


def test_operation_files_exist_for_each_screen() -> None:
    for name in NAMES:
        text = (OPERATIONS / f"{name}.graphql").read_text()
        assert text.startswith("#"), f"{name}: say in a comment which screen it serves"
    assert Path(OPERATIONS).is_dir()
