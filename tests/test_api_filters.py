"""Every filter and every orderBy value of every connection, against sets computed from the seeds."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql
from sqlalchemy import Connection, text

from app import migrate
from app.config import SEEDS_DIR, Settings
from app.main import create_app
from app.seed import convert
from app.seed import format as fmt
from app.seed.corpus import Corpus
from app.seed.pipeline import seed
from tests.conftest import Databases, engine_for, gql, with_database
from tests.test_api_contract import corpus, db_ids, error_codes

ALL = "first: 100"


def listed(api: TestClient, field: str, filter_: dict[str, Any] | None = None, order: str | None = None) -> list[str]:
    """Slugs of one page of up to 100 items of a connection, in the order returned."""
    args = f"{ALL}, filter: $f" + (f", orderBy: {order}" if order else "")
    type_name = {
        "articles": "ArticleFilter",
        "places": "PlaceFilter",
        "organisations": "OrganisationFilter",
        "tradeFigures": "TradeFigureFilter",
        "events": "EventFilter",
    }[field]
    body = gql(
        api,
        f"query($f: {type_name}) {{ {field}({args}) {{ totalCount pageInfo {{ hasNextPage }} nodes {{ slug }} }} }}",
        {"f": filter_},
    )
    conn = body["data"][field]
    assert conn["pageInfo"]["hasNextPage"] is False
    found = [n["slug"] for n in conn["nodes"]]
    assert conn["totalCount"] == len(found)
    assert len(set(found)) == len(found), found
    return found


def matches(api: TestClient, field: str, filter_: dict[str, Any]) -> set[str]:
    return set(listed(api, field, filter_))


def subtree(c: Corpus, ref: str) -> set[str]:
    """Slugs of the place named by slug or ISO code, and of every place inside it."""
    found = {s for s, p in c.places.items() if s == ref or p.code == ref.upper()}
    while True:
        more = {s for s, p in c.places.items() if p.parent in found} - found
        if not more:
            return found
        found |= more


def place_refs(c: Corpus) -> list[str]:
    return sorted(c.places) + sorted(p.code for p in c.places.values() if p.code)


def db_sorted(conn: Connection, rows: Iterable[tuple[str, int, str]]) -> list[str]:
    """Slugs of `rows` (text key, id, slug) in the database's own order of (key, id)."""
    keys, ids, slugs = zip(*rows, strict=True)
    result = conn.execute(
        text(
            "SELECT s FROM unnest(CAST(:k AS text[]), CAST(:i AS bigint[]), CAST(:s AS text[])) AS t(k, i, s)"
            " ORDER BY k, i"
        ),
        {"k": list(keys), "i": list(ids), "s": list(slugs)},
    )
    return [str(r[0]) for r in result]


def mentioned_by(c: Corpus, kind: str, subjects: set[str]) -> set[str]:
    return {e.span.article for e in c.evidence if e.subject_kind == kind and e.subject in subjects}


# --- articles -------------------------------------------------------------------------------------


def test_articles_by_publisher(api: TestClient) -> None:
    c = corpus()
    for org in c.organisations:
        assert matches(api, "articles", {"publisher": org}) == {
            s for s, a in c.articles.items() if a.meta.publisher == org
        }, org
    assert matches(api, "articles", {"publisher": "sputnik"}) == {"russia-trade-liaoning-jilin-2023-sputnik"}
    assert matches(api, "articles", {"publisher": "reuters"}) == set()  # named, but publishes nothing here


def test_articles_by_mentioned_organisation(api: TestClient) -> None:
    c = corpus()
    for org in c.organisations:
        assert matches(api, "articles", {"organisation": org}) == mentioned_by(c, "organisation", {org}), org
    assert matches(api, "articles", {"organisation": "guizhou-super-biotechnology"}) == {
        "guizhou-delegation-moscow-liam",
        "guizhou-delegation-moscow-expo",
    }
    assert matches(api, "articles", {"organisation": "russian-foreign-ministry"}) == set()


def test_articles_by_place_include_places_inside_it(api: TestClient) -> None:
    c = corpus()
    for ref in place_refs(c):
        assert matches(api, "articles", {"place": ref}) == mentioned_by(c, "place", subtree(c, ref)), ref
    both = {"chinese-russian-firms-deals-shenyang", "russia-trade-liaoning-jilin-2023-sputnik"}
    assert matches(api, "articles", {"place": "liaoning"}) == both
    assert matches(api, "articles", {"place": "CN-LN"}) == both
    assert matches(api, "articles", {"place": "cn-ln"}) == both
    # Primorsky Krai is never named; Vladivostok, inside it, is (in 001 and 002)
    assert matches(api, "articles", {"place": "RU-PRI"}) == {
        "guizhou-delegation-moscow-expo",
        "chinese-russian-firms-deals-shenyang",
    }
    assert matches(api, "articles", {"place": "CN"}) == set(c.articles)


def test_articles_by_province_that_only_its_cities_name(fresh_database: Callable[..., str]) -> None:
    """Liaoning filter finds an article that names only Shenyang or Dalian, not Liaoning itself."""
    url = fresh_database(seeded=True)
    with engine_for(url) as engine, engine.begin() as conn:
        deleted = conn.execute(
            text("DELETE FROM evidence WHERE place_id = (SELECT id FROM places WHERE slug = 'liaoning')")
        ).rowcount
        assert deleted > 0
    app = create_app(Settings(database_url=url, expose_statement_count=True))
    with TestClient(app) as client:
        query = "query($s: String!) { article(slug: $s) { places { slug } } }"
        for slug in ("chinese-russian-firms-deals-shenyang", "russia-trade-liaoning-jilin-2023-sputnik"):
            places = {p["slug"] for p in gql(client, query, {"s": slug})["data"]["article"]["places"]}
            assert "liaoning" not in places
            assert "shenyang" in places
        expected = {"chinese-russian-firms-deals-shenyang", "russia-trade-liaoning-jilin-2023-sputnik"}
        assert matches(client, "articles", {"place": "liaoning"}) == expected
        assert matches(client, "articles", {"place": "CN-LN"}) == expected
        assert matches(client, "articles", {"place": "dalian"}) == {"russia-trade-liaoning-jilin-2023-sputnik"}


DATE_WINDOWS: list[tuple[str | None, str | None]] = [
    ("2023-01-01", "2023-12-31"),
    ("2024-01-29", "2024-01-29"),
    ("2024-01-30", None),
    ("2024-01-01", None),
    (None, "2023-06-30"),
    (None, "2023-01-01"),
    ("2023-10-02", "2024-01-28"),
    ("2022-12-31", "2023-01-01"),
]


@pytest.mark.parametrize(("start", "end"), DATE_WINDOWS)
def test_articles_by_publication_date(api: TestClient, start: str | None, end: str | None) -> None:
    c = corpus()
    lo = dt.date.fromisoformat(start) if start else dt.date.min
    hi = dt.date.fromisoformat(end) if end else dt.date.max
    # an article known only to the month or year may be from any day of it: the periods overlap
    expected = {
        s
        for s, a in c.articles.items()
        if a.meta.published
        and a.meta.published.date <= hi
        and _last_day(a.meta.published.date, a.meta.published.precision) >= lo
    }
    assert matches(api, "articles", {"publishedFrom": start, "publishedTo": end}) == expected


def test_articles_by_publication_date_known_values(api: TestClient) -> None:
    assert matches(api, "articles", {"publishedFrom": "2024-01-01"}) == {
        "chinese-manufacturers-russia-self-reliance",
        "russia-trade-liaoning-jilin-2023-sputnik",
    }
    # the undated rewrite (000) matches no date range
    assert "guizhou-delegation-moscow-liam" not in matches(
        api, "articles", {"publishedFrom": "0001-01-01", "publishedTo": "9999-12-31"}
    )


def _has(*words: str) -> Callable[[str], bool]:
    return lambda body: all(re.search(rf"\b{re.escape(w)}\b", body, re.IGNORECASE) for w in words)


TEXT_CASES: list[tuple[str, Callable[[str], bool]]] = [
    ("Zabaykalsk", _has("Zabaykalsk")),
    ("harbin", _has("Harbin")),
    ("Sputnik", _has("Sputnik")),
    ('"Made in Russia"', _has("Made in Russia")),
    ("Shenyang -Sputnik", lambda b: _has("Shenyang")(b) and not _has("Sputnik")(b)),
    ("Samarkand or Zabaykalsk", lambda b: _has("Samarkand")(b) or _has("Zabaykalsk")(b)),
    ("Guizhou tea", _has("Guizhou", "tea")),
    ("xylophone", _has("xylophone")),
]


@pytest.mark.parametrize(("words", "predicate"), TEXT_CASES, ids=[w for w, _ in TEXT_CASES])
def test_articles_by_text(api: TestClient, words: str, predicate: Callable[[str], bool]) -> None:
    c = corpus()
    expected = {s for s, a in c.articles.items() if predicate(f"{a.meta.title or ''}\n{a.body}")}
    assert matches(api, "articles", {"text": words}) == expected


def test_articles_by_text_known_values(api: TestClient) -> None:
    assert matches(api, "articles", {"text": "Zabaykalsk"}) == {"guizhou-delegation-moscow-expo"}
    assert matches(api, "articles", {"text": '"Made in Russia"'}) == {"russia-trade-liaoning-jilin-2023-sputnik"}


def test_articles_by_language_and_combined(api: TestClient) -> None:
    c = corpus()
    assert matches(api, "articles", {"language": "en"}) == set(c.articles)
    assert matches(api, "articles", {"language": "ru"}) == set()
    assert matches(api, "articles", {"publisher": "sputnik", "publishedFrom": "2024-02-01"}) == set()
    assert matches(api, "articles", {"place": "harbin", "text": "Expo"}) == {
        "chinese-manufacturers-russia-self-reliance",  # "the 8th China-Russia Expo in Harbin"
        "guizhou-delegation-moscow-expo",  # "a trade expo" (in Moscow); names Harbin elsewhere
    }
    assert matches(api, "articles", {"place": "harbin", "text": '"China-Russia Expo"'}) == {
        "chinese-manufacturers-russia-self-reliance"
    }


@pytest.mark.parametrize(
    ("field", "filter_"),
    [
        ("articles", {"publisher": "no-such-org"}),
        ("articles", {"organisation": "no-such-org"}),
        ("articles", {"place": "atlantis"}),
        ("tradeFigures", {"reporter": "XX"}),
        ("tradeFigures", {"article": "no-such-article"}),
        ("events", {"parent": "no-such-event"}),
        ("events", {"place": "atlantis"}),
        ("events", {"organisation": "no-such-org"}),
        ("places", {"within": "atlantis"}),
        ("organisations", {"country": "atlantis"}),
    ],
)
def test_filter_naming_nothing_is_reported(api: TestClient, field: str, filter_: dict[str, Any]) -> None:
    type_name = {
        "articles": "ArticleFilter",
        "places": "PlaceFilter",
        "organisations": "OrganisationFilter",
        "tradeFigures": "TradeFigureFilter",
        "events": "EventFilter",
    }[field]
    query = f"query($f: {type_name}) {{ {field}(filter: $f) {{ nodes {{ slug }} }} }}"
    assert error_codes(api, query, {"f": filter_}) == ["NOT_FOUND"]


# --- trade figures ----------------------------------------------------------------------------------


def figure_matches(
    c: Corpus, fig: fmt.TradeFigure, reporter: str | None, partner: str | None, *, subregions: bool
) -> bool:
    def places(ref: str | None) -> set[str] | None:
        if ref is None:
            return None
        return subtree(c, ref) if subregions else {s for s, p in c.places.items() if s == ref or p.code == ref.upper()}

    r, p = places(reporter), places(partner)
    straight = (r is None or fig.reporter in r) and (p is None or fig.partner in p)
    crossed = fig.flow is fmt.TradeFlow.TOTAL and (r is None or fig.partner in r) and (p is None or fig.reporter in p)
    return straight or crossed


SIDES = ["CN", "RU", "russia", "liaoning", "CN-LN", "jilin", "northeast-china", "shenyang", "manzhouli", "RU-ZAB"]
PAIRS = [
    ("RU", "CN"),
    ("CN", "RU"),
    ("liaoning", "russia"),
    ("russia", "liaoning"),
    ("manzhouli", "RU"),
    ("RU-ZAB", "CN"),
]


def side_cases() -> Iterator[tuple[str | None, str | None]]:
    for ref in SIDES:
        yield ref, None
        yield None, ref
    yield from PAIRS


@pytest.mark.parametrize("subregions", [False, True])
def test_figures_by_reporter_and_partner(api: TestClient, subregions: bool) -> None:
    c = corpus()
    for reporter, partner in side_cases():
        f = {"reporter": reporter, "partner": partner, "includeSubregions": subregions}
        expected = {
            s for s, fig in c.figures.items() if figure_matches(c, fig, reporter, partner, subregions=subregions)
        }
        assert matches(api, "tradeFigures", f) == expected, f


CHINA_REPORTED = {
    "china-russia-trade-2023-09",
    "china-russia-trade-2023",
    "china-russia-trade-target-200bn",
    "china-russia-trade-growth-2024-jan-apr",
    "china-russia-trade-forecast-2024",
}


def test_figures_by_sides_known_values(api: TestClient) -> None:
    # total trade is the same fact whichever side reports it
    assert matches(api, "tradeFigures", {"reporter": "RU", "partner": "CN"}) == CHINA_REPORTED
    assert matches(api, "tradeFigures", {"reporter": "CN", "partner": "RU"}) == CHINA_REPORTED
    assert matches(api, "tradeFigures", {"reporter": "RU", "partner": "CN", "includeSubregions": True}) == {
        *CHINA_REPORTED,
        "liaoning-russia-trade-2023",
        "jilin-russia-trade-2023",
        "northeast-china-russia-trade-growth-2023-headline",
        "zabaykalsk-manzhouli-rail-freight-2023-01",
    }
    liaoning = {
        "liaoning-russia-trade-2023",
        "liaoning-imports-from-russia-2023",
        "liaoning-exports-to-russia-2023",
        "liaoning-exports-to-russia-2023-jan-sep",
    }
    assert matches(api, "tradeFigures", {"reporter": "CN-LN"}) == liaoning
    assert matches(api, "tradeFigures", {"reporter": "CN-LN", "includeSubregions": True}) == {
        *liaoning,
        "shenyang-inaugural-train-to-russia-2023-03",
    }
    # an export is not a total: reversing its sides finds nothing
    assert matches(api, "tradeFigures", {"reporter": "RU", "partner": "CN-LN", "flow": ["EXPORT"]}) == set()


@pytest.mark.parametrize(
    "flows", [["TOTAL"], ["EXPORT"], ["IMPORT"], ["EXPORT", "IMPORT"], ["TOTAL", "EXPORT", "IMPORT"]]
)
def test_figures_by_flow(api: TestClient, flows: list[str]) -> None:
    c = corpus()
    expected = {s for s, f in c.figures.items() if f.flow.name in flows}
    assert expected
    assert matches(api, "tradeFigures", {"flow": flows}) == expected


PERIOD_WINDOWS: list[tuple[str | None, str | None]] = [
    ("2023-09-01", "2023-09-30"),
    ("2023-09-30", None),
    ("2023-10-01", None),
    (None, "2023-01-31"),
    (None, "2022-12-31"),
    ("2023-02-01", "2023-02-28"),
    ("2024-01-01", "2024-04-30"),
    ("2024-05-01", None),
    ("2025-01-01", None),
]


@pytest.mark.parametrize(("start", "end"), PERIOD_WINDOWS)
def test_figures_by_period_overlap(api: TestClient, start: str | None, end: str | None) -> None:
    c = corpus()
    lo = dt.date.fromisoformat(start) if start else dt.date.min
    hi = dt.date.fromisoformat(end) if end else dt.date.max
    expected = {s for s, f in c.figures.items() if f.period.end >= lo and f.period.start <= hi}
    assert matches(api, "tradeFigures", {"periodFrom": start, "periodTo": end}) == expected


def test_figures_by_period_known_values(api: TestClient) -> None:
    assert matches(api, "tradeFigures", {"periodFrom": "2024-05-01"}) == {"china-russia-trade-forecast-2024"}
    assert matches(api, "tradeFigures", {"periodTo": "2023-01-31"}) == {
        "liaoning-russia-trade-2023",
        "liaoning-imports-from-russia-2023",
        "liaoning-exports-to-russia-2023",
        "jilin-russia-trade-2023",
        "jilin-vehicle-exports-to-russia-2023",
        "northeast-china-russia-trade-growth-2023-headline",
        "china-russia-trade-2023",
        "china-russia-trade-target-200bn",
        "liaoning-exports-to-russia-2023-jan-sep",
        "zabaykalsk-manzhouli-rail-freight-2023-01",
    }


@pytest.mark.parametrize("statuses", [["ACTUAL"], ["TARGET"], ["FORECAST"], ["ESTIMATE"], ["TARGET", "FORECAST"]])
def test_figures_by_status(api: TestClient, statuses: list[str]) -> None:
    c = corpus()
    expected = {s for s, f in c.figures.items() if f.status.name in statuses}
    assert matches(api, "tradeFigures", {"status": statuses}) == expected
    if statuses == ["TARGET"]:
        assert expected == {"china-russia-trade-target-200bn"}


@pytest.mark.parametrize("currency", ["CNY", "USD", "cny", "EUR"])
def test_figures_by_currency(api: TestClient, currency: str) -> None:
    c = corpus()
    expected = {s for s, f in c.figures.items() if f.amount and f.amount.currency == currency.upper()}
    assert matches(api, "tradeFigures", {"currency": currency}) == expected
    if currency == "USD":
        assert expected == CHINA_REPORTED - {"china-russia-trade-growth-2024-jan-apr"}


@functools.cache
def usd_value(slug: str) -> Decimal | None:
    fig = corpus().figures[slug]
    if fig.amount is None:
        return None
    if fig.amount.currency == "USD":
        return fig.amount.amount
    conversion = convert.computed(fig.amount.amount, fig.amount.currency, "USD", fig.period.start, fig.period.end)
    return None if conversion is None else conversion.amount


USD_BOUNDS: list[tuple[str | None, str | None]] = [
    ("21180000000", None),
    (None, "21180000000"),
    ("5000000000", "10000000000"),
    ("240100000000", None),
    ("240100000000.01", None),
    (None, "0"),
    ("0", None),
]


@pytest.mark.parametrize(("low", "high"), USD_BOUNDS)
def test_figures_by_usd_value(api: TestClient, low: str | None, high: str | None) -> None:
    c = corpus()
    expected = set()
    for slug in c.figures:
        value = usd_value(slug)
        if value is not None and (low is None or value >= Decimal(low)) and (high is None or value <= Decimal(high)):
            expected.add(slug)
    assert matches(api, "tradeFigures", {"usdMin": low, "usdMax": high}) == expected


def test_figures_by_usd_value_known_values(api: TestClient) -> None:
    assert matches(api, "tradeFigures", {"usdMin": "240100000000"}) == {"china-russia-trade-2023"}
    # the computed value of 54.9 billion yuan (2023 mean rate) is about 7.75 billion dollars
    assert "liaoning-russia-trade-2023" in matches(
        api, "tradeFigures", {"usdMin": "7700000000", "usdMax": "7800000000"}
    )


def test_figures_by_article(api: TestClient) -> None:
    c = corpus()
    for article in c.articles:
        expected = {e.subject for e in c.evidence if e.subject_kind == "trade_figure" and e.span.article == article}
        assert matches(api, "tradeFigures", {"article": article}) == expected, article
    assert matches(api, "tradeFigures", {"article": "guizhou-delegation-moscow-liam"}) == set()


@pytest.mark.parametrize("measure", ["MONEY", "QUANTITY", "CHANGE"])
def test_figures_by_measure(api: TestClient, measure: str) -> None:
    c = corpus()
    expected = {
        s
        for s, f in c.figures.items()
        if (measure == "MONEY" and f.amount is not None)
        or (measure == "QUANTITY" and f.quantity is not None)
        or (measure == "CHANGE" and f.amount is None and f.quantity is None)
    }
    assert expected
    assert matches(api, "tradeFigures", {"measure": measure}) == expected


@pytest.mark.parametrize("commodity", ["vehicle", "RAIL", "freight", "China-Europe", "Zabaykalsk–Manzhouli", "zzz"])
def test_figures_by_commodity(api: TestClient, commodity: str) -> None:
    c = corpus()
    expected = {s for s, f in c.figures.items() if f.commodity and commodity.lower() in f.commodity.lower()}
    assert matches(api, "tradeFigures", {"commodity": commodity}) == expected
    if commodity == "freight":
        assert expected == {"zabaykalsk-manzhouli-rail-freight-2023-01", "shenyang-inaugural-train-to-russia-2023-03"}


def test_figures_combined_filters(api: TestClient) -> None:
    f = {"reporter": "liaoning", "flow": ["EXPORT"], "periodTo": "2023-09-30", "currency": "CNY", "measure": "MONEY"}
    assert matches(api, "tradeFigures", f) == {
        "liaoning-exports-to-russia-2023",
        "liaoning-exports-to-russia-2023-jan-sep",
    }
    f = {**f, "periodTo": "2023-09-30", "periodFrom": "2023-01-01", "usdMax": "6000000000"}
    assert matches(api, "tradeFigures", f) == {"liaoning-exports-to-russia-2023"}


# --- events ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [k.name for k in fmt.EventKind])
def test_events_by_kind(api: TestClient, kind: str) -> None:
    c = corpus()
    assert matches(api, "events", {"kind": [kind]}) == {s for s, e in c.events.items() if e.kind.name == kind}


def test_events_by_several_kinds(api: TestClient) -> None:
    c = corpus()
    kinds = ["TRADE_FAIR", "CONFERENCE"]
    expected = {s for s, e in c.events.items() if e.kind.name in kinds}
    assert len(expected) == 6
    assert matches(api, "events", {"kind": kinds}) == expected
    assert matches(api, "events", {"kind": ["CONSULATE_OPENING"]}) == {
        "russian-consulate-general-harbin-opening-2023",
        "russian-consulate-general-harbin-informal-start-2019",
        "chinese-consulate-vladivostok-opening-2017",
    }


def test_events_by_place_include_places_inside_it(api: TestClient) -> None:
    c = corpus()
    for ref in place_refs(c):
        inside = subtree(c, ref)
        expected = {s for s, e in c.events.items() if inside & set(e.places)}
        assert matches(api, "events", {"place": ref}) == expected, ref
    assert matches(api, "events", {"place": "CN-LN"}) == {
        "made-in-russia-festival-fair-2024",
        "shenyang-russian-chinese-trade-conference-2024",
        "shenyang-russia-china-regional-conference-2023",
        "shenyang-conference-deals-2023",
        "russian-firms-set-up-in-liaoning-2023-jan-sep",
        "shenyang-china-europe-cargo-hub-opening-2023-03",
    }
    assert matches(api, "events", {"place": "dalian"}) == {"made-in-russia-festival-fair-2024"}


def _last_day(start: dt.date, precision: fmt.DatePrecision) -> dt.date:
    if precision is fmt.DatePrecision.DAY:
        return start
    if precision is fmt.DatePrecision.WEEK:
        return start + dt.timedelta(days=6)
    months = {fmt.DatePrecision.MONTH: 1, fmt.DatePrecision.QUARTER: 3, fmt.DatePrecision.YEAR: 12}[precision]
    year, month = divmod(start.month - 1 + months, 12)
    return dt.date(start.year + year, month + 1, 1) - dt.timedelta(days=1)


def event_window(event: fmt.Event, *, by_precision: bool) -> tuple[dt.date, dt.date] | None:
    """The days an event spans: to its end date, else its start day (or its whole precision period)."""
    d = event.date
    if d is None or d.start is None:
        return None
    if d.end is not None:
        return d.start, d.end
    return d.start, _last_day(d.start, d.precision) if by_precision else d.start


EVENT_WINDOWS: list[tuple[str | None, str | None]] = [
    ("2024-01-28", "2024-01-28"),
    ("2024-02-05", None),
    ("2024-02-06", "2024-05-19"),
    (None, "2019-12-31"),
    ("2022-12-31", "2023-01-01"),
    ("2023-01-01", "2023-01-01"),
    ("2022-01-01", "2022-12-31"),
    ("2024-06-01", None),
]


@pytest.mark.parametrize(("start", "end"), EVENT_WINDOWS)
def test_events_by_date_overlap(api: TestClient, start: str | None, end: str | None) -> None:
    c = corpus()
    lo = dt.date.fromisoformat(start) if start else dt.date.min
    hi = dt.date.fromisoformat(end) if end else dt.date.max

    def expected(by_precision: bool) -> set[str]:
        found = set()
        for slug, event in c.events.items():
            window = event_window(event, by_precision=by_precision)
            if window is not None and window[1] >= lo and window[0] <= hi:
                found.add(slug)
        return found

    # windows chosen where reading an open-ended date as one day or as its whole period agree
    assert expected(True) == expected(False)
    assert matches(api, "events", {"from": start, "to": end}) == expected(False)


def test_events_by_date_known_values(api: TestClient) -> None:
    assert matches(api, "events", {"from": "2024-01-28", "to": "2024-01-28"}) == {
        "made-in-russia-festival-fair-2024",
        "shenyang-russian-chinese-trade-conference-2024",
    }
    assert matches(api, "events", {"from": "2024-02-05", "to": "2024-02-05"}) == {"made-in-russia-festival-fair-2024"}
    assert matches(api, "events", {"to": "2019-12-31"}) == {
        "russian-consulate-general-harbin-informal-start-2019",
        "chinese-consulate-vladivostok-opening-2017",
    }


def test_events_by_date_overlap_respect_date_precision(api: TestClient) -> None:
    assert "russia-invades-ukraine-2022" in matches(api, "events", {"from": "2022-02-24", "to": "2022-02-24"})
    assert "putin-state-visit-china-2024-05" in matches(api, "events", {"from": "2024-05-16", "to": "2024-05-17"})


def test_events_by_organisation(api: TestClient) -> None:
    c = corpus()
    for org in c.organisations:
        expected = {s for s, e in c.events.items() if any(p.organisation == org for p in e.participants)}
        assert matches(api, "events", {"organisation": org}) == expected, org
    assert matches(api, "events", {"organisation": "russian-consulate-general-harbin"}) == {
        "russian-consulate-general-harbin-opening-2023",
        "russian-consulate-general-harbin-informal-start-2019",
    }


def test_events_by_parent(api: TestClient) -> None:
    c = corpus()
    for slug in c.events:
        assert matches(api, "events", {"parent": slug}) == {s for s, e in c.events.items() if e.parent == slug}
    assert matches(api, "events", {"parent": "moscow-food-exhibition-2023"}) == {"guizhou-delegation-moscow-2023"}


def test_events_combined_filters(api: TestClient) -> None:
    f = {"place": "CN", "kind": ["POLICY_CHANGE"], "from": "2023-01-01"}
    assert matches(api, "events", f) == {"china-reopens-borders-2023-01-08", "jilin-vladivostok-port-access-2023"}


# --- places and organisations -------------------------------------------------------------------------


@pytest.mark.parametrize("kinds", [[k.name] for k in fmt.PlaceKind] + [["CITY", "TOWN", "PORT"]])
def test_places_by_kind(api: TestClient, kinds: list[str]) -> None:
    c = corpus()
    expected = {s for s, p in c.places.items() if p.kind.name in kinds}
    assert expected
    assert matches(api, "places", {"kind": kinds}) == expected


def refused(api: TestClient, field: str, filter_: dict[str, Any]) -> str:
    """Return the message of the BAD_USER_INPUT a filter is refused with (the rest of the answer kept)."""
    type_name = {"articles": "ArticleFilter", "places": "PlaceFilter"}[field]
    body = api.post(
        "/graphql",
        json={
            "query": f"query($f: {type_name}) {{ {field}(filter: $f) {{ totalCount }} }}",
            "variables": {"f": filter_},
        },
    ).json()
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", body
    return str(error["message"])


@pytest.mark.parametrize(
    ("field", "filter_"),
    [
        ("places", {"countryCode": "XX"}),
        ("places", {"countryCode": ""}),
        ("places", {"countryCode": "CHN"}),
        ("places", {"code": "CN-XX"}),
        ("places", {"code": ""}),
        ("articles", {"language": "xx"}),
        ("articles", {"language": "english"}),
    ],
)
@pytest.mark.parametrize("path", ["compiled", "resolvers"])
def test_a_code_that_is_none_is_refused_not_matched_by_nothing(
    request: pytest.FixtureRequest, path: str, field: str, filter_: dict[str, Any]
) -> None:
    client: TestClient = request.getfixturevalue("api" if path == "compiled" else "resolver_api")
    assert "is not an ISO" in refused(client, field, filter_)


def test_an_empty_text_filter_filters_nothing(api: TestClient) -> None:
    c = corpus()
    for blank in ("", " ", "  "):
        assert matches(api, "places", {"name": blank}) == set(c.places)
        assert matches(api, "articles", {"text": blank}) == set(c.articles)
    assert matches(api, "articles", {"language": "EN"}) == set(c.articles)


@pytest.mark.parametrize("code", ["CN", "RU", "ru", "UZ"])
def test_places_by_country_code(api: TestClient, code: str) -> None:
    c = corpus()
    expected = {s for s, p in c.places.items() if p.country_code == code.upper()}
    assert matches(api, "places", {"countryCode": code}) == expected
    if code == "UZ":
        assert expected == {"uzbekistan", "samarqand-region", "samarkand"}


def test_places_by_code(api: TestClient) -> None:
    c = corpus()
    for slug, place in c.places.items():
        if place.code:
            assert listed(api, "places", {"code": place.code}) == [slug]
            assert listed(api, "places", {"code": place.code.lower()}) == [slug]
    assert listed(api, "places", {"code": "CN-LN"}) == ["liaoning"]
    assert listed(api, "places", {"code": "CN-JX"}) == []  # a code of a place the corpus does not hold


def test_places_within(api: TestClient) -> None:
    c = corpus()
    for ref in place_refs(c):
        inside = subtree(c, ref) - {s for s, p in c.places.items() if s == ref or p.code == ref}
        assert matches(api, "places", {"within": ref}) == inside, ref
    assert matches(api, "places", {"within": "CN-LN"}) == {"shenyang", "dalian"}
    assert matches(api, "places", {"within": "primorsky-krai"}) == {"vladivostok"}
    china = matches(api, "places", {"within": "china"})
    assert "china" not in china
    assert {"liaoning", "shenyang", "manzhouli", "beijing"} <= china


@pytest.mark.parametrize("name", ["liaoning", "MONGOL", "the us", "Moskva", "st. petersburg", "sheng", "zzz"])
def test_places_by_name_or_alias(api: TestClient, name: str) -> None:
    c = corpus()
    expected = {s for s, p in c.places.items() if any(name.lower() in n.lower() for n in (p.name, *p.aliases))}
    assert matches(api, "places", {"name": name}) == expected
    if name == "Moskva":
        assert expected == {"moscow"}


def test_places_combined_filters(api: TestClient) -> None:
    assert matches(api, "places", {"countryCode": "CN", "kind": ["CITY"], "name": "an"}) == {
        "shenyang",
        "dalian",
        "zhoushan",
    }
    assert matches(api, "places", {"countryCode": "RU", "kind": ["PROVINCE"]}) == {"primorsky-krai", "zabaykalsky-krai"}


@pytest.mark.parametrize("kinds", [[k.name] for k in fmt.OrganisationKind] + [["MEDIA", "NEWS_AGENCY"]])
def test_organisations_by_kind(api: TestClient, kinds: list[str]) -> None:
    c = corpus()
    expected = {s for s, o in c.organisations.items() if o.kind.name in kinds}
    assert matches(api, "organisations", {"kind": kinds}) == expected


@pytest.mark.parametrize(
    "country",
    [
        "china",
        "CN",
        "cn",
        "China",
        "CHINA",
        " china ",
        " CN ",
        "russia",
        "RU",
        "united-states",
        "United-States",
        "liaoning",
    ],
)
def test_organisations_by_country(api: TestClient, country: str) -> None:
    # a slug or an ISO code, in any case
    c = corpus()
    places = {s for s, p in c.places.items() if s == country.strip().lower() or p.code == country.strip().upper()}
    assert len(places) == 1
    expected = {s for s, o in c.organisations.items() if o.country in places}
    assert matches(api, "organisations", {"country": country}) == expected
    if country == "RU":
        assert expected == {
            "russian-chinese-business-park",
            "russian-foreign-ministry",
            "russian-consulate-general-harbin",
            "russian-consulate-general-shenyang",
        }


@pytest.mark.parametrize("name", ["customs", "AF", "ministry", "harbin", "GUIZHOU", "zzz"])
def test_organisations_by_name_or_alias(api: TestClient, name: str) -> None:
    c = corpus()
    expected = {s for s, o in c.organisations.items() if any(name.lower() in n.lower() for n in (o.name, *o.aliases))}
    assert matches(api, "organisations", {"name": name}) == expected
    if name == "customs":
        assert expected == {"china-customs"}


@pytest.mark.parametrize(
    ("field", "filter_"),
    [
        ("places", {"name": "_"}),
        ("places", {"name": "%"}),
        ("organisations", {"name": "%"}),
        ("tradeFigures", {"commodity": "_"}),
    ],
)
def test_substring_filters_take_wildcards_literally(api: TestClient, field: str, filter_: dict[str, Any]) -> None:
    assert matches(api, field, filter_) == set()


@pytest.mark.parametrize(
    ("field", "filter_"),
    [
        ("places", {"name": "Chi\x00na"}),
        ("organisations", {"name": "Sput\x00nik"}),
        ("tradeFigures", {"commodity": "rail\x00"}),
        ("articles", {"text": "Harbin\x00"}),
    ],
)
def test_nul_in_text_filter_is_bad_user_input(api: TestClient, field: str, filter_: dict[str, Any]) -> None:
    type_name = {
        "articles": "ArticleFilter",
        "places": "PlaceFilter",
        "organisations": "OrganisationFilter",
        "tradeFigures": "TradeFigureFilter",
    }[field]
    query = f"query($f: {type_name}) {{ {field}(filter: $f) {{ nodes {{ slug }} }} }}"
    # Postgres text cannot hold NUL: the endpoint refuses such a request as a whole (4xx)
    response = api.post(
        "/graphql",
        json={"query": query, "variables": {"f": filter_}},
        headers={"accept": "application/graphql-response+json"},
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


# --- orderBy ---------------------------------------------------------------------------------------------


def by_key_then_id(items: Iterable[tuple[str, Any]], ids: dict[str, int], *, reverse: bool = False) -> list[str]:
    return [s for s, _ in sorted(items, key=lambda i: (i[1], ids[i[0]]), reverse=reverse)]


def test_articles_order(api: TestClient, conn: Connection) -> None:
    c, ids = corpus(), db_ids(conn)["article"]

    def published(slug: str) -> dt.date | None:
        pub = c.articles[slug].meta.published
        return pub.date if pub else None

    desc = listed(api, "articles", order="PUBLISHED_ON_DESC")
    assert desc == listed(api, "articles")  # the default
    assert desc == by_key_then_id(((s, published(s) or dt.date.min) for s in c.articles), ids, reverse=True)
    assert desc[-1] == "guizhou-delegation-moscow-liam"  # undated last
    assert desc[0] == "chinese-manufacturers-russia-self-reliance"
    asc = listed(api, "articles", order="PUBLISHED_ON_ASC")
    assert asc == by_key_then_id(((s, published(s) or dt.date.max) for s in c.articles), ids)
    assert asc[-1] == "guizhou-delegation-moscow-liam"  # undated last here too
    titles = listed(api, "articles", order="TITLE_ASC")
    titled = [s for s in titles if c.articles[s].meta.title is not None]
    untitled = [s for s in titles if c.articles[s].meta.title is None]
    assert titled == db_sorted(conn, [(str(c.articles[s].meta.title), ids[s], s) for s in titled])
    assert untitled == ["guizhou-delegation-moscow-expo"]
    assert titles.index(untitled[0]) in (0, len(titles) - 1)
    slugs = listed(api, "articles", order="SLUG_ASC")
    assert slugs == db_sorted(conn, [(s, ids[s], s) for s in c.articles])


def test_places_order(api: TestClient, conn: Connection) -> None:
    c, ids = corpus(), db_ids(conn)["place"]
    names = listed(api, "places", order="NAME_ASC")
    assert names == listed(api, "places")  # the default
    assert names == db_sorted(conn, [(p.name, ids[s], s) for s, p in c.places.items()])
    assert listed(api, "places", order="SLUG_ASC") == db_sorted(conn, [(s, ids[s], s) for s in c.places])
    codes = listed(api, "places", order="CODE_ASC")
    coded = [(str(p.code), ids[s], s) for s, p in c.places.items() if p.code]
    assert codes[: len(coded)] == db_sorted(conn, coded)
    assert set(codes[len(coded) :]) == {s for s, p in c.places.items() if not p.code}
    assert codes[0] == "china"
    # filtered and ordered together
    assert listed(api, "places", {"countryCode": "UZ"}, order="NAME_ASC") == [
        "samarkand",
        "samarqand-region",
        "uzbekistan",
    ]
    assert listed(api, "places", {"countryCode": "UZ"}, order="CODE_ASC") == [
        "uzbekistan",
        "samarqand-region",
        "samarkand",
    ]


def test_places_order_by_code_under_a_linguistic_collation(server_url: str, databases: Databases) -> None:
    name = f"{databases.prefix}_icu"
    with psycopg.connect(server_url, autocommit=True) as admin:
        version = admin.execute("SHOW server_version_num").fetchone()
        icu = admin.execute("SELECT 1 FROM pg_collation WHERE collprovider = 'i' LIMIT 1").fetchone()
        if version is None or int(str(version[0])) < 150000 or icu is None:
            pytest.skip("needs PostgreSQL 15+ with ICU")
        try:
            admin.execute(
                sql.SQL(
                    "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
                ).format(sql.Identifier(name))
            )
        except psycopg.errors.FeatureNotSupported as exc:  # a server built without ICU
            pytest.skip(f"needs PostgreSQL with ICU: {exc}")
    databases.created.append(name)
    url = with_database(server_url, name)
    migrate.upgrade(url)
    with engine_for(url) as engine:
        seed(engine, [SEEDS_DIR])
    c = corpus()
    with TestClient(create_app(Settings(database_url=url))) as client:
        codes = listed(client, "places", order="CODE_ASC")
    coded = sum(1 for p in c.places.values() if p.code)
    assert all(c.places[s].code for s in codes[:coded]), codes
    assert codes[0] == "china"


def test_organisations_order(api: TestClient, conn: Connection) -> None:
    c, ids = corpus(), db_ids(conn)["organisation"]
    names = listed(api, "organisations", order="NAME_ASC")
    assert names == listed(api, "organisations")  # the default
    assert names == db_sorted(conn, [(o.name, ids[s], s) for s, o in c.organisations.items()])
    assert names[0] == "asia-financial"
    assert listed(api, "organisations", order="SLUG_ASC") == db_sorted(conn, [(s, ids[s], s) for s in c.organisations])


def test_trade_figures_order(api: TestClient, conn: Connection) -> None:
    c, ids = corpus(), db_ids(conn)["trade_figure"]
    desc = listed(api, "tradeFigures", order="PERIOD_END_DESC")
    assert desc == listed(api, "tradeFigures")  # the default
    assert desc == by_key_then_id(((s, f.period.end) for s, f in c.figures.items()), ids, reverse=True)
    assert desc[0] == "china-russia-trade-forecast-2024"
    asc = listed(api, "tradeFigures", order="PERIOD_END_ASC")
    assert asc == by_key_then_id(((s, f.period.end) for s, f in c.figures.items()), ids)
    assert asc[0] == "zabaykalsk-manzhouli-rail-freight-2023-01"
    usd = listed(api, "tradeFigures", order="AMOUNT_USD_DESC")
    valued = [(s, usd_value(s)) for s in c.figures if usd_value(s) is not None]
    assert usd[: len(valued)] == by_key_then_id(valued, ids, reverse=True)
    assert set(usd[len(valued) :]) == {s for s in c.figures if usd_value(s) is None}
    assert usd[:2] == ["china-russia-trade-2023", "china-russia-trade-forecast-2024"]
    assert listed(api, "tradeFigures", order="SLUG_ASC") == db_sorted(conn, [(s, ids[s], s) for s in c.figures])
    # filtered and ordered together
    assert listed(api, "tradeFigures", {"reporter": "CN-LN"}, order="AMOUNT_USD_DESC") == [
        "liaoning-russia-trade-2023",
        "liaoning-exports-to-russia-2023-jan-sep",
        "liaoning-imports-from-russia-2023",
        "liaoning-exports-to-russia-2023",
    ]


def test_events_order(api: TestClient, conn: Connection) -> None:
    c, ids = corpus(), db_ids(conn)["event"]

    def start(slug: str) -> dt.date | None:
        d = c.events[slug].date
        return d.start if d else None

    dated = [s for s in c.events if start(s) is not None]
    undated = {s for s in c.events if start(s) is None}
    asc = listed(api, "events", order="STARTS_ON_ASC")
    assert asc == listed(api, "events")  # the default
    assert asc[: len(dated)] == by_key_then_id(((s, start(s)) for s in dated), ids)
    assert set(asc[len(dated) :]) == undated
    assert asc[0] == "chinese-consulate-vladivostok-opening-2017"
    desc = listed(api, "events", order="STARTS_ON_DESC")
    assert desc[: len(dated)] == by_key_then_id(((s, start(s)) for s in dated), ids, reverse=True)
    assert set(desc[len(dated) :]) == undated
    assert desc[0] == "china-russia-expo-8-harbin-2024"
    names = listed(api, "events", order="NAME_ASC")
    assert names == db_sorted(conn, [(e.name, ids[s], s) for s, e in c.events.items()])
