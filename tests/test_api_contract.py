"""The contract (schema/schema.graphql): every type's every field resolves to the seeded values.

Expected values come from the seed corpus (`build_corpus`) and, for database ids and the
order of ties, from SQL on the same seeded database. A few exact values are spelled out too.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from app.config import SEEDS_DIR
from app.seed import convert
from app.seed import format as fmt
from app.seed.corpus import Corpus, EvidenceItem, build_corpus
from tests.conftest import gql

TABLES = {
    "place": "places",
    "organisation": "organisations",
    "person": "people",
    "article": "articles",
    "trade_figure": "trade_figures",
    "event": "events",
}
ALL = "first: 100"


@functools.cache
def corpus() -> Corpus:
    return build_corpus([SEEDS_DIR])


def all_evidence(c: Corpus) -> list[EvidenceItem]:
    """Every evidence row the seed writes: the quotes, plus each stated conversion's words."""
    items = list(c.evidence)
    for slug, (_, span) in c.stated_conversions.items():
        extra = EvidenceItem(span, "trade_figure", slug)
        if extra not in items:
            items.append(extra)
    return items


def db_ids(conn: Connection) -> dict[str, dict[str, int]]:
    """{kind: {slug: database id}} for every kind of node."""
    return {
        kind: {str(slug): int(pk) for slug, pk in conn.execute(text(f"SELECT slug, id FROM {table}")).all()}
        for kind, table in TABLES.items()
    }


def first_mentioned(c: Corpus, ids: dict[str, dict[str, int]], article: str, kind: str) -> list[str]:
    """Slugs of `kind` that `article` names, in order of first mention (ties by id)."""
    pos: dict[str, int] = {}
    for item in all_evidence(c):
        if item.span.article == article and item.subject_kind == kind:
            pos[item.subject] = min(pos.get(item.subject, item.span.start), item.span.start)
    return sorted(pos, key=lambda s: (pos[s], ids[kind][s]))


def evidence_of(c: Corpus, kind: str, slug: str) -> set[tuple[str, str, int, int]]:
    return {
        (e.span.article, e.span.quote, e.span.start, e.span.end)
        for e in all_evidence(c)
        if e.subject_kind == kind and e.subject == slug
    }


def error_codes(api: TestClient, query: str, variables: dict[str, Any] | None = None) -> list[str]:
    """POST a request that must fail; return the `extensions.code` of each error."""
    response = api.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("errors"), body
    return [str(e.get("extensions", {}).get("code")) for e in body["errors"]]


def global_id(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def slugs(items: Iterable[dict[str, Any]] | None) -> list[str]:
    return [i["slug"] for i in items or []]


def slug_or_none(item: dict[str, Any] | None) -> str | None:
    return None if item is None else str(item["slug"])


def iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def assert_iso_date(value: Any) -> None:
    assert isinstance(value, str)
    assert dt.date.fromisoformat(value).isoformat() == value


def assert_decimal(value: Any, expected: Decimal) -> None:
    """Decimals travel as strings holding the exact value."""
    assert isinstance(value, str), value
    assert Decimal(value) == expected, (value, expected)


def check_evidence(evidence: list[dict[str, Any]], expected: set[tuple[str, str, int, int]]) -> None:
    got = [(e["article"]["slug"], e["quote"], e["start"], e["end"]) for e in evidence]
    assert len(got) == len(set(got)), got
    assert set(got) == expected
    for e in evidence:
        assert e["article"]["body"][e["start"] : e["end"]] == e["quote"]
        assert e["end"] - e["start"] == len(e["quote"])


# --- articles -----------------------------------------------------------------------------------

ARTICLE_FIELDS = """
  id slug title authors publishedOn publishedPrecision publishedBasis publishedInference publisherBasis
  language body bodySha256 wordCount sourceFile duplicateScore duplicateMethod
  publisher { slug } duplicateOf { slug } duplicates { slug }
  organisations { slug } places { slug } people { slug } tradeFigures { slug } events { slug }
"""


def test_every_article_field(api: TestClient, conn: Connection) -> None:
    c, ids = corpus(), db_ids(conn)
    nodes = gql(api, f"{{ articles({ALL}) {{ nodes {{ {ARTICLE_FIELDS} }} }} }}")["data"]["articles"]["nodes"]
    assert sorted(slugs(nodes)) == sorted(c.articles)
    dup = {d.duplicate: d for d in c.duplicates}
    for node in nodes:
        slug = node["slug"]
        item = c.articles[slug]
        meta, pub = item.meta, item.meta.published
        assert node["title"] == meta.title
        assert node["authors"] == list(meta.authors)
        assert node["publishedOn"] == iso(pub.date if pub else None)
        assert node["publishedPrecision"] == (pub.precision.name if pub else None)
        assert node["publishedBasis"] == (pub.basis.name if pub else None)
        assert node["publishedInference"] == (pub.inference if pub else None)
        assert node["publisherBasis"] == meta.publisher_basis
        assert node["language"] == meta.language
        assert node["body"] == item.body
        assert node["bodySha256"] == item.sha256 == meta.sha256
        assert node["wordCount"] == item.word_count
        assert node["sourceFile"] == item.source_file
        assert slug_or_none(node["publisher"]) == meta.publisher
        if slug in dup:
            assert_decimal(node["duplicateScore"], dup[slug].score)
            assert node["duplicateMethod"] == dup[slug].method
            assert slug_or_none(node["duplicateOf"]) == dup[slug].original
        else:
            assert node["duplicateScore"] is None
            assert node["duplicateMethod"] is None
            assert node["duplicateOf"] is None
        assert sorted(slugs(node["duplicates"])) == sorted(d.duplicate for d in c.duplicates if d.original == slug)
        assert slugs(node["organisations"]) == first_mentioned(c, ids, slug, "organisation")
        assert slugs(node["places"]) == first_mentioned(c, ids, slug, "place")
        assert slugs(node["people"]) == first_mentioned(c, ids, slug, "person")
        assert slugs(node["tradeFigures"]) == first_mentioned(c, ids, slug, "trade_figure")
        assert slugs(node["events"]) == first_mentioned(c, ids, slug, "event")


def test_article_known_values(api: TestClient) -> None:
    query = f"""query($s: String!) {{ article(slug: $s) {{ {ARTICLE_FIELDS} }} }}"""
    rewrite = gql(api, query, {"s": "guizhou-delegation-moscow-liam"})["data"]["article"]
    assert rewrite["duplicateOf"] == {"slug": "guizhou-delegation-moscow-expo"}
    assert rewrite["publishedOn"] is None
    assert rewrite["publisher"] is None
    assert rewrite["authors"] == ["Liam"]
    assert rewrite["tradeFigures"] == []
    assert rewrite["places"][:4] == [{"slug": s} for s in ("china", "russia", "guizhou", "moscow")]
    original = gql(api, query, {"s": "guizhou-delegation-moscow-expo"})["data"]["article"]
    assert original["duplicates"] == [{"slug": "guizhou-delegation-moscow-liam"}]
    assert original["duplicateOf"] is None
    assert original["title"] is None
    assert original["publishedOn"] == "2023-01-01"
    assert original["publishedPrecision"] == "YEAR"
    assert original["publishedBasis"] == "INFERRED"
    sputnik = gql(api, query, {"s": "russia-trade-liaoning-jilin-2023-sputnik"})["data"]["article"]
    assert sputnik["publisher"] == {"slug": "sputnik"}
    assert sputnik["publishedOn"] == "2024-01-29"
    assert sputnik["publishedBasis"] == "STATED"
    assert (
        sputnik["title"] == "Russia's Trade With Northeastern Chinese Provinces Up by Over 50% in 2023 - Consul General"
    )
    assert {"slug": "sergey-chernenko"} in sputnik["people"]
    stated = slugs(sputnik["tradeFigures"])
    assert stated[0] == "northeast-china-russia-trade-growth-2023-headline"  # the headline, offset 31
    assert set(stated[1:3]) == {"liaoning-russia-trade-2023", "jilin-russia-trade-2023"}  # both from offset 213
    assert stated[-1] == "jilin-vehicle-exports-to-russia-2023"


def test_article_by_slug_matches_the_list_and_missing_is_null(api: TestClient) -> None:
    listed = gql(api, f"{{ articles({ALL}) {{ nodes {{ id slug body }} }} }}")["data"]["articles"]["nodes"]
    for node in listed:
        body = gql(api, "query($s: String!) { article(slug: $s) { id slug body } }", {"s": node["slug"]})
        assert body["data"]["article"] == node
    body = gql(api, '{ article(slug: "no-such-article") { id } }')
    assert body["data"]["article"] is None
    assert "errors" not in body


# --- organisations -------------------------------------------------------------------------------

ORGANISATION_FIELDS = """
  id slug name kind aliases note country { slug } parent { slug }
  articles(first: 100) { totalCount nodes { slug } }
"""


def articles_involving(c: Corpus, ids: dict[str, dict[str, int]], org: str) -> list[str]:
    """Articles an organisation published or that mention it, newest first (undated last)."""
    found = {s for s, a in c.articles.items() if a.meta.publisher == org} | {
        e.span.article for e in c.evidence if e.subject_kind == "organisation" and e.subject == org
    }

    def key(s: str) -> tuple[dt.date, int]:
        pub = c.articles[s].meta.published
        return (pub.date if pub else dt.date.min, ids["article"][s])

    return sorted(found, key=key, reverse=True)


def test_every_organisation_field(api: TestClient, conn: Connection) -> None:
    c, ids = corpus(), db_ids(conn)
    query = f"{{ organisations({ALL}) {{ nodes {{ {ORGANISATION_FIELDS} }} }} }}"
    nodes = gql(api, query)["data"]["organisations"]["nodes"]
    assert sorted(slugs(nodes)) == sorted(c.organisations)
    for node in nodes:
        org = c.organisations[node["slug"]]
        assert node["name"] == org.name
        assert node["kind"] == org.kind.name
        assert node["aliases"] == list(org.aliases)
        assert node["note"] == org.note
        assert slug_or_none(node["country"]) == org.country
        assert slug_or_none(node["parent"]) == org.parent
        expected = articles_involving(c, ids, org.slug)
        assert slugs(node["articles"]["nodes"]) == expected
        assert node["articles"]["totalCount"] == len(expected)


def test_organisation_known_values_and_missing(api: TestClient) -> None:
    query = f"query($s: String!) {{ organisation(slug: $s) {{ {ORGANISATION_FIELDS} }} }}"
    dept = gql(api, query, {"s": "chinese-foreign-ministry-consular-department"})["data"]["organisation"]
    assert dept["name"] == "Consular Department of the Chinese Foreign Ministry"
    assert dept["kind"] == "GOVERNMENT_BODY"
    assert dept["parent"] == {"slug": "chinese-foreign-ministry"}
    assert dept["country"] == {"slug": "china"}
    sputnik = gql(api, query, {"s": "sputnik"})["data"]["organisation"]
    assert sputnik["kind"] == "NEWS_AGENCY"
    assert sputnik["country"] is None
    assert sputnik["articles"] == {"totalCount": 1, "nodes": [{"slug": "russia-trade-liaoning-jilin-2023-sputnik"}]}
    customs = gql(api, query, {"s": "china-customs"})["data"]["organisation"]
    assert customs["aliases"] == ["Chinese General Administration of Customs", "Chinese customs"]
    assert customs["kind"] == "CUSTOMS_AUTHORITY"
    body = gql(api, '{ organisation(slug: "no-such-organisation") { id } }')
    assert body["data"]["organisation"] is None
    assert "errors" not in body


def test_organisation_articles_first_after(api: TestClient, conn: Connection) -> None:
    c, ids = corpus(), db_ids(conn)
    expected = articles_involving(c, ids, "guizhou-super-biotechnology")
    assert sorted(expected) == ["guizhou-delegation-moscow-expo", "guizhou-delegation-moscow-liam"]
    query = """query($after: String) { organisation(slug: "guizhou-super-biotechnology") {
      articles(first: 1, after: $after) { totalCount edges { cursor node { slug } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"""
    seen: list[str] = []
    after: str | None = None
    while True:
        page = gql(api, query, {"after": after})["data"]["organisation"]["articles"]
        assert page["totalCount"] == 2
        assert len(page["edges"]) == 1
        seen += [e["node"]["slug"] for e in page["edges"]]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected
    # undated (000) comes after dated (001, 2023) newest first
    assert seen == ["guizhou-delegation-moscow-expo", "guizhou-delegation-moscow-liam"]


# --- places ---------------------------------------------------------------------------------------

PLACE_FIELDS = """
  id slug name kind aliases code countryCode geonamesId latitude longitude note
  parent { slug } children { slug }
"""


def test_every_place_field(api: TestClient) -> None:
    c = corpus()
    nodes = gql(api, f"{{ places({ALL}) {{ nodes {{ {PLACE_FIELDS} }} }} }}")["data"]["places"]["nodes"]
    assert sorted(slugs(nodes)) == sorted(c.places)
    for node in nodes:
        place = c.places[node["slug"]]
        assert node["name"] == place.name
        assert node["kind"] == place.kind.name
        assert node["aliases"] == list(place.aliases)
        assert node["code"] == place.code
        assert node["countryCode"] == place.country_code
        assert node["geonamesId"] == place.geonames_id
        assert node["latitude"] == place.latitude
        assert node["longitude"] == place.longitude
        assert node["note"] == place.note
        assert slug_or_none(node["parent"]) == place.parent
        children = slugs(node["children"])
        assert len(children) == len(set(children))
        assert set(children) == {s for s, p in c.places.items() if p.parent == place.slug}


def test_place_by_slug_and_code(api: TestClient) -> None:
    c = corpus()
    query = f"query($s: String, $c: String) {{ place(slug: $s, code: $c) {{ {PLACE_FIELDS} }} }}"
    for slug, place in c.places.items():
        by_slug = gql(api, query, {"s": slug})["data"]["place"]
        assert by_slug["slug"] == slug
        if place.code is not None:
            assert gql(api, query, {"c": place.code})["data"]["place"] == by_slug
            assert gql(api, query, {"c": place.code.lower()})["data"]["place"] == by_slug
    for missing in ({"s": "atlantis"}, {"c": "XX"}, {"c": "CN-XX"}):
        body = gql(api, query, missing)
        assert body["data"]["place"] is None
        assert "errors" not in body
    for bad in ({}, {"s": "china", "c": "CN"}):
        assert error_codes(api, query, bad) == ["BAD_USER_INPUT"]


def test_place_known_values(api: TestClient) -> None:
    liaoning = gql(api, '{ place(code: "CN-LN") { slug name kind code countryCode children { slug name } } }')
    place = liaoning["data"]["place"]
    assert place["slug"] == "liaoning"
    assert place["name"] == "Liaoning"
    assert place["kind"] == "PROVINCE"
    assert place["countryCode"] == "CN"
    assert {ch["name"] for ch in place["children"]} == {"Shenyang", "Dalian"}
    shenyang = gql(
        api,
        '{ place(slug: "shenyang") { name kind code geonamesId latitude longitude aliases'
        " parent { name code parent { name code parent { slug } } } } }",
    )["data"]["place"]
    assert shenyang["parent"]["name"] == "Liaoning"
    assert shenyang["parent"]["code"] == "CN-LN"
    assert shenyang["parent"]["parent"] == {"name": "China", "code": "CN", "parent": None}
    assert shenyang["code"] is None
    assert shenyang["geonamesId"] == 2034937
    assert shenyang["latitude"] == pytest.approx(41.79222)
    assert shenyang["longitude"] == pytest.approx(123.43278)
    assert shenyang["kind"] == "CITY"
    europe = gql(api, '{ place(slug: "europe") { kind code countryCode parent { slug } } }')["data"]["place"]
    assert europe == {"kind": "MACRO_REGION", "code": None, "countryCode": None, "parent": None}


# --- people -----------------------------------------------------------------------------------------


def test_every_person_field_through_articles_and_nodes(api: TestClient) -> None:
    c = corpus()
    query = f"{{ articles({ALL}) {{ nodes {{ people {{ id slug }} }} }} }}"
    found: dict[str, str] = {}
    for article in gql(api, query)["data"]["articles"]["nodes"]:
        for person in article["people"]:
            found[person["slug"]] = person["id"]
    assert set(found) == {e.subject for e in c.evidence if e.subject_kind == "person"}
    nodes = gql(
        api,
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Person {"
        " slug name title aliases organisation { slug } country { slug } } } }",
        {"ids": list(found.values())},
    )["data"]["nodes"]
    for node in nodes:
        person = c.people[node["slug"]]
        assert node["__typename"] == "Person"
        assert node["id"] == found[person.slug]
        assert node["name"] == person.name
        assert node["title"] == person.title
        assert node["aliases"] == list(person.aliases)
        assert slug_or_none(node["organisation"]) == person.organisation
        assert slug_or_none(node["country"]) == person.country


# --- trade figures ---------------------------------------------------------------------------------

CONVERTED = "amount currency rate rateDate source kind fromCurrency method"
FIGURE_FIELDS = f"""
  id slug flow commodity amount {{ amount currency }} quantity {{ value unit }}
  periodStart periodEnd periodType periodLabel periodBasis periodInference
  changePct changeMultiple changeBasis approximation status note
  reporter {{ slug }} partner {{ slug }} partOf {{ slug }} source {{ slug }}
  conversions {{ {CONVERTED} }} amountUsd {{ {CONVERTED} }} statedConversion {{ {CONVERTED} }}
  eur: convertedAmount(currency: "EUR") {{ {CONVERTED} }}
  usd: convertedAmount(currency: "usd") {{ {CONVERTED} }}
  none: convertedAmount(currency: "XAU") {{ amount }}
  evidence {{ quote start end article {{ slug body }} }}
"""


def expected_conversions(c: Corpus, slug: str) -> list[convert.Conversion]:
    fig = c.figures[slug]
    if fig.amount is None:
        return []
    found = []
    if slug in c.stated_conversions:
        stated, span = c.stated_conversions[slug]
        pub = c.articles[span.article].meta.published
        if pub:
            rate_date, basis = pub.date, f"the article's publication date ({pub.precision.value}, {pub.basis.value})"
        else:
            rate_date, basis = fig.period.end, "the end of the figure's period (the article is undated)"
        found.append(
            convert.stated(
                fig.amount.amount,
                fig.amount.currency,
                stated.amount,
                stated.currency,
                rate_date=rate_date,
                date_basis=basis,
            )
        )
    for target in convert.TARGET_CURRENCIES:
        computed = convert.computed(fig.amount.amount, fig.amount.currency, target, fig.period.start, fig.period.end)
        if computed is not None:
            found.append(computed)
    return found


def check_converted(got: dict[str, Any], want: convert.Conversion) -> None:
    assert_decimal(got["amount"], want.amount)
    assert got["currency"] == want.to_currency
    assert_decimal(got["rate"], want.rate)
    assert got["rateDate"] == want.rate_date.isoformat()
    assert got["source"] == want.source
    assert got["kind"] == want.kind.upper()
    assert got["fromCurrency"] == want.from_currency
    assert got["method"] == want.method


def check_identity(got: dict[str, Any], fig: fmt.TradeFigure) -> None:
    """The amount 'converted' into its own currency: itself at rate 1."""
    assert fig.amount is not None
    assert_decimal(got["amount"], fig.amount.amount)
    assert got["currency"] == got["fromCurrency"] == fig.amount.currency
    assert_decimal(got["rate"], Decimal(1))
    assert got["rateDate"] == fig.period.end.isoformat()
    assert got["kind"] == "STATED"


def test_every_trade_figure_field(api: TestClient) -> None:
    c = corpus()
    nodes = gql(api, f"{{ tradeFigures({ALL}) {{ nodes {{ {FIGURE_FIELDS} }} }} }}")["data"]["tradeFigures"]["nodes"]
    assert sorted(slugs(nodes)) == sorted(c.figures)
    for node in nodes:
        fig = c.figures[node["slug"]]
        assert node["flow"] == fig.flow.name
        assert node["commodity"] == fig.commodity
        if fig.amount is None:
            assert node["amount"] is None
        else:
            assert node["amount"]["currency"] == fig.amount.currency
            assert_decimal(node["amount"]["amount"], fig.amount.amount)
        if fig.quantity is None:
            assert node["quantity"] is None
        else:
            assert node["quantity"]["unit"] == fig.quantity.unit
            assert_decimal(node["quantity"]["value"], fig.quantity.value)
        assert node["periodStart"] == fig.period.start.isoformat()
        assert node["periodEnd"] == fig.period.end.isoformat()
        assert node["periodType"] == fig.period.type.name
        assert node["periodLabel"] == fig.period.label
        assert node["periodBasis"] == fig.period.basis.name
        assert node["periodInference"] == fig.period.inference
        assert node["changePct"] == (None if fig.change_pct is None else float(fig.change_pct))
        assert node["changeMultiple"] == (None if fig.change_multiple is None else float(fig.change_multiple))
        assert node["changeBasis"] == fig.change_basis
        assert node["approximation"] == fig.approximation.value
        assert node["status"] == fig.status.name
        assert node["note"] == fig.note
        assert node["reporter"] == {"slug": fig.reporter}
        assert slug_or_none(node["partner"]) == fig.partner
        assert slug_or_none(node["partOf"]) == fig.part_of
        assert slug_or_none(node["source"]) == fig.source

        want = {(w.kind, w.to_currency): w for w in expected_conversions(c, fig.slug)}
        got = {(g["kind"].lower(), g["currency"]): g for g in node["conversions"]}
        assert len(got) == len(node["conversions"])
        assert set(got) == set(want)
        for key, conversion in want.items():
            check_converted(got[key], conversion)
        stated = next((w for w in want.values() if w.kind == "stated"), None)
        if stated is None:
            assert node["statedConversion"] is None
        else:
            check_converted(node["statedConversion"], stated)
        for alias, currency in (("amountUsd", "USD"), ("usd", "USD"), ("eur", "EUR")):
            if fig.amount is None:
                assert node[alias] is None
            elif fig.amount.currency == currency:
                check_identity(node[alias], fig)
            elif ("computed", currency) in want:
                check_converted(node[alias], want["computed", currency])
            else:
                assert node[alias] is None
        assert node["none"] is None
        check_evidence(node["evidence"], evidence_of(c, "trade_figure", fig.slug))


def test_trade_figure_known_values(api: TestClient) -> None:
    figure = gql(
        api,
        f"""{{ tradeFigures(filter: {{ article: "chinese-russian-firms-deals-shenyang", reporter: "CN-LN" }}) {{
            nodes {{ {FIGURE_FIELDS} }} }} }}""",
    )["data"]["tradeFigures"]["nodes"]
    assert slugs(figure) == ["liaoning-exports-to-russia-2023-jan-sep"]
    node = figure[0]
    assert node["amount"] == {"amount": "42640000000", "currency": "CNY"}
    assert node["statedConversion"]["amount"] == "5830000000"
    assert node["statedConversion"]["currency"] == "USD"
    assert node["statedConversion"]["fromCurrency"] == "CNY"
    assert node["statedConversion"]["kind"] == "STATED"
    assert Decimal(node["statedConversion"]["rate"]) == Decimal("0.1367260788")
    assert node["statedConversion"]["rateDate"] == "2023-10-01"
    assert node["amountUsd"]["kind"] == "COMPUTED"
    assert node["amountUsd"]["currency"] == "USD"
    assert node["amountUsd"]["rateDate"] == "2023-09-30"
    assert node["amountUsd"]["source"].startswith("ECB euro foreign exchange reference rates")
    assert node["flow"] == "EXPORT"
    assert node["periodType"] == "YEAR_TO_DATE"
    assert (node["periodStart"], node["periodEnd"]) == ("2023-01-01", "2023-09-30")
    assert node["changePct"] == pytest.approx(82.3)
    assert node["reporter"] == {"slug": "liaoning"}
    assert node["partner"] == {"slug": "russia"}
    quote = "Liaoning’s outbound shipments to Russia soared 82.3% in the first nine months"
    assert any(e["quote"].startswith(quote) for e in node["evidence"])

    parts = gql(
        api,
        '{ tradeFigures(filter: { reporter: "jilin" }, orderBy: SLUG_ASC) { nodes { slug quantity { value }'
        " changeMultiple approximation partOf { slug amount { amount currency } } } } }",
    )["data"]["tradeFigures"]["nodes"]
    assert parts == [
        {
            "slug": "jilin-russia-trade-2023",
            "quantity": None,
            "changeMultiple": None,
            "approximation": "more-than",
            "partOf": None,
        },
        {
            "slug": "jilin-vehicle-exports-to-russia-2023",
            "quantity": None,
            "changeMultiple": 6.2,
            "approximation": "exact",
            "partOf": {"slug": "jilin-russia-trade-2023", "amount": {"amount": "29700000000", "currency": "CNY"}},
        },
    ]
    rail = gql(
        api,
        '{ tradeFigures(filter: { measure: QUANTITY, reporter: "manzhouli" }) { nodes { quantity { value unit }'
        " amount { amount } amountUsd { amount } conversions { amount } source { slug } } } }",
    )["data"]["tradeFigures"]["nodes"]
    assert rail == [
        {
            "quantity": {"value": "1500000", "unit": "tonne"},
            "amount": None,
            "amountUsd": None,
            "conversions": [],
            "source": {"slug": "russian-consulate-general-harbin"},
        }
    ]


def test_decimal_and_date_scalars_are_strings(api: TestClient) -> None:
    nodes = gql(
        api,
        f"{{ tradeFigures({ALL}) {{ nodes {{ periodStart periodEnd amount {{ amount }} quantity {{ value }}"
        f" conversions {{ amount rate rateDate }} }} }} }}",
    )["data"]["tradeFigures"]["nodes"]
    assert nodes
    for node in nodes:
        assert_iso_date(node["periodStart"])
        assert_iso_date(node["periodEnd"])
        for money in filter(None, (node["amount"], node["quantity"])):
            value = money.get("amount", money.get("value"))
            assert isinstance(value, str)
            Decimal(value)
        for conversion in node["conversions"]:
            assert isinstance(conversion["amount"], str)
            assert isinstance(conversion["rate"], str)
            assert_iso_date(conversion["rateDate"])


# --- events -------------------------------------------------------------------------------------------

EVENT_FIELDS = """
  id slug name kind startsOn endsOn datePrecision dateBasis dateInference
  participantCount participantUnit participantApproximation description
  places { slug } organisations { slug } participants { role organisation { slug } person { slug } }
  parent { slug } children { slug }
  evidence { quote start end article { slug body } }
"""


def test_every_event_field(api: TestClient) -> None:
    c = corpus()
    nodes = gql(api, f"{{ events({ALL}) {{ nodes {{ {EVENT_FIELDS} }} }} }}")["data"]["events"]["nodes"]
    assert sorted(slugs(nodes)) == sorted(c.events)
    for node in nodes:
        event = c.events[node["slug"]]
        d = event.date
        assert node["name"] == event.name
        assert node["kind"] == event.kind.name
        assert node["startsOn"] == iso(d.start if d else None)
        assert node["endsOn"] == iso(d.end if d else None)
        assert node["datePrecision"] == (d.precision.value if d else None)
        assert node["dateBasis"] == (d.basis.name if d else None)
        assert node["dateInference"] == (d.inference if d else None)
        assert node["participantCount"] == event.participant_count
        assert node["participantUnit"] == event.participant_unit
        assert node["participantApproximation"] == event.participant_approximation.value
        assert node["description"] == event.description
        places = slugs(node["places"])
        assert len(places) == len(set(places))
        assert set(places) == set(event.places)
        assert slugs(node["organisations"]) == list(
            dict.fromkeys(p.organisation for p in event.participants if p.organisation)
        )
        assert [
            (p["role"], slug_or_none(p["organisation"]), slug_or_none(p["person"])) for p in node["participants"]
        ] == [(p.role.name, p.organisation, p.person) for p in event.participants]
        assert slug_or_none(node["parent"]) == event.parent
        assert set(slugs(node["children"])) == {s for s, e in c.events.items() if e.parent == event.slug}
        check_evidence(node["evidence"], evidence_of(c, "event", event.slug))


def test_event_known_values_and_missing(api: TestClient) -> None:
    query = f"query($s: String!) {{ event(slug: $s) {{ {EVENT_FIELDS} }} }}"
    fair = gql(api, query, {"s": "made-in-russia-festival-fair-2024"})["data"]["event"]
    assert fair["kind"] == "TRADE_FAIR"
    assert (fair["startsOn"], fair["endsOn"]) == ("2024-01-27", "2024-02-05")
    assert fair["datePrecision"] == "day"
    assert fair["participantCount"] == 130
    assert fair["participantUnit"] == "companies"
    assert fair["participantApproximation"] == "more-than"
    assert {p["slug"] for p in fair["places"]} == {"shenyang", "dalian"}
    assert len(fair["evidence"]) == 2
    delegation = gql(api, query, {"s": "guizhou-delegation-moscow-2023"})["data"]["event"]
    assert delegation["parent"] == {"slug": "moscow-food-exhibition-2023"}
    assert delegation["organisations"] == [{"slug": "guizhou-super-biotechnology"}, {"slug": "guizhou-daily"}]
    assert {"role": "DELEGATION", "organisation": None, "person": {"slug": "lei-shaoxiang"}} in delegation[
        "participants"
    ]
    # the rewrite (000) reports it too: evidence from both articles
    assert {e["article"]["slug"] for e in delegation["evidence"]} == {
        "guizhou-delegation-moscow-expo",
        "guizhou-delegation-moscow-liam",
    }
    expo = gql(api, query, {"s": "moscow-food-exhibition-2023"})["data"]["event"]
    assert expo["children"] == [{"slug": "guizhou-delegation-moscow-2023"}]
    undated = gql(api, query, {"s": "sco-meeting-samarkand"})["data"]["event"]
    assert (undated["startsOn"], undated["endsOn"], undated["datePrecision"]) == (None, None, None)
    body = gql(api, '{ event(slug: "no-such-event") { id } }')
    assert body["data"]["event"] is None
    assert "errors" not in body


# --- node / nodes -----------------------------------------------------------------------------------

LISTS = {
    "Article": "articles",
    "Organisation": "organisations",
    "Place": "places",
    "TradeFigure": "tradeFigures",
    "Event": "events",
}
ON_EVERY_TYPE = " ".join(
    f"... on {t} {{ slug }}" for t in ("Article", "Organisation", "Place", "TradeFigure", "Event", "Person")
)


def test_node_round_trips_every_listed_id(api: TestClient) -> None:
    c = corpus()
    listed: list[tuple[str, str, str]] = []  # (typename, id, slug)
    for type_name, field in LISTS.items():
        nodes = gql(api, f"{{ {field}({ALL}) {{ nodes {{ __typename id slug }} }} }}")["data"][field]["nodes"]
        assert {n["__typename"] for n in nodes} == {type_name}
        listed += [(type_name, n["id"], n["slug"]) for n in nodes]
    assert len(listed) == len(c.articles) + len(c.organisations) + len(c.places) + len(c.figures) + len(c.events)
    assert len({i for _, i, _ in listed}) == len(listed), "global ids are unique across types"
    query = f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ __typename id {ON_EVERY_TYPE} }} }}"
    for start in range(0, len(listed), 100):
        chunk = listed[start : start + 100]
        body = gql(api, query, {"ids": [i for _, i, _ in chunk]})
        assert [(n["__typename"], n["id"], n["slug"]) for n in body["data"]["nodes"]] == chunk
        # batched: one statement per type, however many ids
        assert body["extensions"]["sqlStatements"] == len({t for t, _, _ in chunk})
    for type_name, pk, slug in listed[:: max(1, len(listed) // 12)]:
        node = gql(api, f'{{ node(id: "{pk}") {{ __typename id {ON_EVERY_TYPE} }} }}')["data"]["node"]
        assert node == {"__typename": type_name, "id": pk, "slug": slug}


def test_unknown_well_formed_ids_are_null(api: TestClient, conn: Connection) -> None:
    biggest = int(conn.execute(text("SELECT max(id) FROM places")).scalar_one())
    unknown = [global_id(f"Place:{biggest + 1000}"), global_id("Widget:1"), global_id("Article:0")]
    for node_id in unknown:
        body = gql(api, "query($id: ID!) { node(id: $id) { id } }", {"id": node_id})
        assert body["data"]["node"] is None
    real = gql(api, '{ place(slug: "china") { id } }')["data"]["place"]["id"]
    body = api.post(
        "/graphql",
        json={
            "query": "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Place { slug } } }",
            "variables": {"ids": [real, *unknown, real]},
        },
    ).json()
    got = body["data"]["nodes"]
    assert got == [{"id": real, "slug": "china"}, None, None, None, {"id": real, "slug": "china"}]
    # in a list each null says why, at its own index (README, "Partial results")
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["nodes", i], "NOT_FOUND") for i in (1, 2, 3)
    ]


@pytest.mark.parametrize(
    "node_id",
    ["not-an-id", "!!!", "", "Place:1", global_id("Place:abc"), global_id("Place:-1"), global_id("Place"), "%%%%"],
)
def test_malformed_id_is_bad_user_input(api: TestClient, node_id: str) -> None:
    assert error_codes(api, "query($id: ID!) { node(id: $id) { id } }", {"id": node_id}) == ["BAD_USER_INPUT"]
    assert error_codes(api, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [node_id]}) == ["BAD_USER_INPUT"]


def test_too_many_ids_is_bad_user_input(api: TestClient) -> None:
    real = gql(api, '{ place(slug: "china") { id } }')["data"]["place"]["id"]
    assert (
        gql(api, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [real] * 100})["data"]["nodes"]
        == [{"id": real}] * 100
    )
    assert error_codes(api, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [real] * 101}) == [
        "BAD_USER_INPUT"
    ]


def test_id_beyond_bigint_is_bad_user_input_not_a_server_error(api: TestClient) -> None:
    node_id = global_id(f"Place:{2**63}")
    assert error_codes(api, "query($id: ID!) { node(id: $id) { id } }", {"id": node_id}) == ["BAD_USER_INPUT"]
    biggest = global_id(f"Place:{2**63 - 1}")
    assert gql(api, "query($id: ID!) { node(id: $id) { id } }", {"id": biggest})["data"]["node"] is None


@pytest.mark.parametrize("field", ["article(slug: $s)", "organisation(slug: $s)", "place(slug: $s)", "event(slug: $s)"])
def test_nul_in_slug_is_bad_user_input(api: TestClient, field: str) -> None:
    # Postgres text cannot hold NUL: the endpoint refuses such a request as a whole (4xx)
    response = api.post(
        "/graphql",
        json={"query": f"query($s: String!) {{ {field} {{ id }} }}", "variables": {"s": "chi\x00na"}},
        headers={"accept": "application/graphql-response+json"},
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("path", ["compiled", "resolvers"])
@pytest.mark.parametrize(
    "field",
    [
        'tradeSeries(currency: "USDD") { label }',
        'tradeSeries(filter: { usdMin: "1e99999999" }) { label }',
        'tradeSeries(filter: { usdMin: "-5" }) { label }',
        "nodes(ids: [{}]) {{ id }}".format(", ".join(['"x"'] * 101)),
    ],
)
def test_a_list_that_cannot_be_answered_is_empty_and_the_rest_keeps_its_data(
    request: pytest.FixtureRequest, path: str, field: str
) -> None:
    client: TestClient = request.getfixturevalue("api" if path == "compiled" else "resolver_api")
    body = client.post("/graphql", json={"query": f"{{ {field} articles(first: 1) {{ totalCount }} }}"}).json()
    name = field.split("(")[0]
    assert body["data"][name] == []
    assert body["data"]["articles"]["totalCount"] == 5
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [([name], "BAD_USER_INPUT")]


@pytest.mark.parametrize("path", ["compiled", "resolvers"])
def test_every_currency_argument_is_checked_alike(request: pytest.FixtureRequest, path: str) -> None:
    client: TestClient = request.getfixturevalue("api" if path == "compiled" else "resolver_api")

    def ask(query: str) -> dict[str, Any]:
        body: dict[str, Any] = client.post("/graphql", json={"query": query}).json()
        return body

    converted = ask('{ tradeFigures(first: 1) { edges { node { convertedAmount(currency: "USDD") { amount } } } } }')
    assert converted["data"]["tradeFigures"]["edges"][0]["node"]["convertedAmount"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in converted["errors"]] == [
        (["tradeFigures", "edges", 0, "node", "convertedAmount"], "BAD_USER_INPUT")
    ]
    refused = ask('{ tradeFigures(filter: { currency: "XYZ" }) { totalCount } }')
    assert refused["data"]["tradeFigures"]["totalCount"] == 0
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["BAD_USER_INPUT"]
    # written otherwise, the same code: as tradeSeries(currency:) reads it
    counts = [
        ask(f'{{ tradeFigures(filter: {{ currency: "{code}" }}) {{ totalCount }} }}')["data"]["tradeFigures"][
            "totalCount"
        ]
        for code in ("CNY", "cny", " CNY ")
    ]
    assert counts[0] > 0 and counts == [counts[0]] * 3
    lower = ask('{ tradeFigures(first: 1) { edges { node { convertedAmount(currency: "usd") { currency } } } } }')
    assert "errors" not in lower
