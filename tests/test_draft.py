"""The draft extractor: each rule on small examples, the command's files and refusals, and the
measured quality on the curated corpus (its own annotations hidden from the drafter)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.config import SEEDS_DIR
from app.draft import numbers
from app.draft.document import Drafter
from app.draft.evaluate import KINDS, curated_references, score
from app.draft.gazetteer import load_registries
from app.draft.header import read_header
from app.draft.periods import Publication, find_periods
from app.draft.text import furniture
from app.seed.corpus import build_corpus

REGISTRIES = load_registries([SEEDS_DIR])
PUB = Publication(dt.date(2024, 5, 28), "day")


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("reached $240.1 billion in 2023", "240100000000", "USD"),
        ("surged to $21.18bn last month", "21180000000", "USD"),
        ("RMB 12.7 billion", "12700000000", "CNY"),
        ("3.2 trillion roubles", "3200000000000", "RUB"),
        ("USD 1.5 bn", "1500000000", "USD"),
        ("EUR 2 million", "2000000", "EUR"),
        ("to 40. 5 billion yuan", "40500000000", "CNY"),
    ],
)
def test_money_in_common_forms(text: str, amount: str, currency: str) -> None:
    (money,) = numbers.find_money(text)
    assert (money.amount, money.currency) == (Decimal(amount), currency)


def test_a_conversion_in_brackets_is_the_articles_own() -> None:
    (money,) = numbers.find_money("reached 54.9 billion yuan [$7.7 billion], up")
    assert money.conversion is not None
    assert (money.conversion.amount, money.conversion.currency) == (Decimal("7700000000"), "USD")
    (money,) = numbers.find_money("42.64 billion yuan (about $5.83 billion)")
    assert money.conversion is not None and money.conversion.amount == Decimal("5830000000")


def test_quantities_changes_and_hedges() -> None:
    (q,) = numbers.find_quantities("moved 1.5 million tonnes of freight", [])
    assert (q.value, q.unit) == (Decimal("1500000"), "tonne")
    (q,) = numbers.find_quantities("handled 300,000 TEU", [])
    assert (q.value, q.unit) == (Decimal("300000"), "teu")
    (c,) = numbers.find_changes("down 8 per cent from a year earlier")
    assert c.pct == Decimal("-8") and c.year_on_year
    (c,) = numbers.find_changes("a nearly 83 per cent jump year-on-year")
    assert c.pct == Decimal("83") and c.approximation == "nearly"
    (c,) = numbers.find_changes("which grew 6.2 times to")
    assert c.multiple == Decimal("6.2") and c.pct is None
    (m,) = numbers.find_money("surpassing the mark of 29.7 billion yuan")
    assert m.approximation == "more-than"


@pytest.mark.parametrize(
    ("text", "start", "end", "kind"),
    [
        ("in 2023", "2023-01-01", "2023-12-31", "year"),
        ("in the first four months of this year", "2024-01-01", "2024-04-30", "year-to-date"),
        ("from January to May", "2024-01-01", "2024-05-31", "year-to-date"),
        ("in the third quarter", "2023-07-01", "2023-09-30", "quarter"),  # not after publication: last year's
        ("in H1", "2023-01-01", "2023-06-30", "year-to-date"),  # H1 2024 had not ended on May 28
        ("last year", "2023-01-01", "2023-12-31", "year"),
        ("last month", "2024-04-01", "2024-04-30", "month"),
        ("in March", "2024-03-01", "2024-03-31", "month"),
    ],
)
def test_periods_resolved_against_publication(text: str, start: str, end: str, kind: str) -> None:
    (period,) = find_periods(text, 0, PUB)
    assert (period.start.isoformat(), period.end.isoformat(), period.type) == (start, end, kind)


def test_a_period_without_a_year_needs_a_publication_date() -> None:
    assert find_periods("in March", 0, None) == []
    assert find_periods("its highest since Russia invaded Ukraine in February 2022", 0, PUB) == []


def test_header_date_dateline_and_title() -> None:
    h = read_header("Trade climbs again in spring\nVLADIVOSTOK, March 3, 2025 (Reuters) - Trade rose.")
    assert h.published == Publication(dt.date(2025, 3, 3), "day")
    assert h.agency is not None and h.agency.text == "Reuters"
    assert h.title is not None and h.title.text == "Trade climbs again in spring"
    assert read_header("29.01.2024\nSHENYANG, China (Sputnik) - x").published == Publication(
        dt.date(2024, 1, 29), "day"
    )


def test_link_lists_are_furniture() -> None:
    body = "Story.\nRead more:\nChina and India sign deal\nAnother headline here\n"
    spans = furniture(body)
    assert body[spans[-1][0] : spans[-1][1]] == "Another headline here"


def test_flows_sides_and_the_province_back_reference() -> None:
    body = (
        "date 2024-02-01\nLiaoning's trade with Russia reached 50 billion yuan in 2023, including the "
        "province's imports from Russia of 30 billion yuan, exports by 2% to 20 billion yuan.\n"
    )
    figures = Drafter(REGISTRIES).draft(body, name="t").annotation["trade_figures"]
    got = {(f["flow"], f["reporter"], f["partner"], f["amount"]["amount"]) for f in figures}
    assert got == {
        ("total", "liaoning", "russia", 50000000000),
        ("import", "liaoning", "russia", 30000000000),
        ("export", "liaoning", "russia", 20000000000),
    }
    assert all(f["review"] == "pending" and f["rule"] and 0 < f["confidence"] <= 1 for f in figures)


def test_an_article_without_trade_facts_gets_none() -> None:
    body = "Officials from Jilin visited a park on Tuesday. It employs about 300 people and covers 40 hectares."
    draft = Drafter(REGISTRIES).draft(body, name="t").annotation
    assert draft["trade_figures"] == []
    assert [m.get("place") for m in draft["mentions"]] == ["jilin"]


def test_the_curated_corpus_meets_the_targets() -> None:
    totals, _ = score(curated_references(SEEDS_DIR), lambda: Drafter(REGISTRIES))
    strict, mentions = totals[KINDS[0]], totals[KINDS[2]]
    assert strict.precision >= 0.9 and strict.recall >= 0.8, strict
    assert mentions.precision >= 0.95 and mentions.recall >= 0.95, mentions


def test_draft_writes_a_corpus_that_seed_check_accepts(tmp_path: Path) -> None:
    article = tmp_path / "in.txt"
    article.write_text(
        "MOSCOW, March 3, 2025 (Reuters) - Kazakhstan's exports to Germany rose 12% to $1.5 billion in "
        "January-February, the Kazakh Ministry of Trade said.\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["draft", str(article), "--out", str(out)])
    assert result.exit_code == 0, result.output
    (txt,) = out.glob("*.txt")
    assert txt.read_bytes() == article.read_bytes()
    corpus = build_corpus([SEEDS_DIR, out])
    (fig,) = [f for f in corpus.figures.values() if f.review == "pending"]
    assert (fig.reporter, fig.partner, fig.flow, fig.amount and fig.amount.amount) == (
        "kazakhstan",
        "germany",
        "export",
        Decimal("1500000000"),
    )
    assert "kazakhstan" in corpus.places and corpus.places["kazakhstan"].code == "KZ"
    check = CliRunner().invoke(cli, ["seed", "--check", str(SEEDS_DIR), str(out)])
    assert check.exit_code == 0, check.output


def test_bad_inputs_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    cases = {
        "empty.txt": b"",
        "binary.txt": b"\x00\x01\x02PK",
        "latin1.txt": "caf\u00e9 trade".encode("latin-1"),
        "big.txt": b"trade " * 200_001,
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    out = tmp_path / "out"
    paths = [str(tmp_path / n) for n in [*cases, "missing.txt"]]
    result = CliRunner().invoke(cli, ["draft", *paths, "--out", str(out)])
    assert result.exit_code == 2
    for reason in ("empty file", "binary file", "not UTF-8", "over the", "no such file"):
        assert reason in result.output
    assert not out.exists() or not any(out.iterdir())


def test_seed_check_reports_like_seed(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["seed", "--check", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "no such file or directory" in result.output
