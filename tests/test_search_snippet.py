"""search_snippet: fragments of an article's opening when they match the query, else of its whole text."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

EXCERPT = 1500  # the characters of the opening the snippet is first taken from (migration e7f1a3c5b9d2)
FILLER = "Officials met in the provincial capital to discuss logistics and rail freight schedules. "


def snippet(conn: Connection, doc: str, query: str) -> str:
    value = conn.execute(
        text("SELECT search_snippet(:doc, websearch_to_tsquery('english', :q))"), {"doc": doc, "q": query}
    ).scalar_one()
    assert isinstance(value, str)
    return value


def marked(html: str) -> list[str]:
    return re.findall(r"<mark>(.*?)</mark>", html)


def test_an_opening_that_holds_every_word_gives_the_snippet(conn: Connection) -> None:
    opening = "Trade between Russia and China grew in May. "
    doc = opening + FILLER * 40 + "Russian trade with China is expected to grow again."
    assert len(doc) > 2 * EXCERPT
    html = snippet(conn, doc, "trade russia")
    assert marked(html) == ["Trade", "Russia"]
    assert "expected to grow" not in html  # nothing of the text beyond the opening


def test_words_beyond_the_opening_are_found_in_the_whole_text(conn: Connection) -> None:
    # one word at the opening's end, the other a few words past it: the whole text's fragment shows both
    lead = (FILLER * 20)[: EXCERPT - 20]
    doc = lead + " Trade figures for May were published. " + "Russia reported its exports. " + FILLER * 10
    assert doc.index("Trade") < EXCERPT < doc.index("Russia")
    assert marked(snippet(conn, doc, "trade russia")) == ["Trade", "Russia"]
    # only beyond the opening
    doc = FILLER * 40 + "The consulate in Harbin opened."
    assert marked(snippet(conn, doc, "Harbin consulate")) == ["consulate", "Harbin"]


def test_words_too_far_apart_for_one_fragment_keep_a_mark(conn: Connection) -> None:
    # Postgres 15 finds no fragment in the whole text holding both words when they are 300 words
    # apart or more: it shows the text's first words, none marked, and the snippet is taken from
    # just before the first word written instead; later versions find the fragments of each
    def whole(doc: str, q: str) -> str:
        options = "StartSel=<mark>, StopSel=</mark>, MaxFragments=2, MaxWords=30, MinWords=12"
        sql = text("SELECT ts_headline('english', :doc, websearch_to_tsquery('english', :q), :o)")
        return str(conn.execute(sql, {"doc": doc, "q": q, "o": options}).scalar_one())

    doc = FILLER * 30 + "The consulate opened in May. " + FILLER * 40 + "Harbin is a city in the north."
    html = snippet(conn, doc, "Harbin consulate")
    if marked(whole(doc, "Harbin consulate")):
        assert marked(html) == ["consulate", "Harbin"]
    else:
        assert marked(html) == ["consulate"] and "schedules. The <mark>consulate</mark> opened in May." in html
        # the first of the words written, wherever the query puts it
        doc = FILLER * 30 + "Harbin is a city in the north. " + FILLER * 40 + "The consulate opened in May."
        assert marked(snippet(conn, doc, "consulate Harbin")) == ["Harbin"]
    # a word that only begins as one of the query's ("consul" of "consultation") is not where it starts
    doc = "A public consultation began. " + FILLER * 30 + "The consulate opened in May. " + FILLER * 40 + "Harbin."
    html = snippet(conn, doc, "Harbin consulate")
    assert "<mark>consulate</mark>" in html and "consultation" not in html


def test_a_phrase_must_be_marked_as_a_phrase(conn: Connection) -> None:
    doc = "A deal on trade. " + FILLER * 40 + "The trade deal was signed."
    html = snippet(conn, doc, '"trade deal"')
    assert "<mark>trade</mark> <mark>deal</mark>" in html


def test_the_snippet_is_escaped_html(conn: Connection) -> None:
    # (ts_headline's parser drops what it reads as a tag, such as <b>)
    doc = "Trade & tariffs > quotas < limits, Russia says. " + FILLER * 40
    html = snippet(conn, doc, "trade russia")
    assert "<mark>Trade</mark> &amp; tariffs &gt; quotas &lt; limits, <mark>Russia</mark>" in html
    assert "<" not in html.replace("<mark>", "").replace("</mark>", "")


def test_a_short_article_is_read_once(conn: Connection) -> None:
    assert marked(snippet(conn, "Trade with Russia rose.", "trade russia")) == ["Trade", "Russia"]
    assert marked(snippet(conn, "Trade rose.", "trade russia")) == ["Trade"]


# (the stems of "economy" and "companies", economi and compani, are not how the first is written)
WORDS = ["trade", "russia", "china", "export", "grain", "harbin", "rail", "yuan", "economy", "companies"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    before=st.lists(st.sampled_from(WORDS), max_size=6),
    fill=st.integers(min_value=0, max_value=60),
    after=st.lists(st.sampled_from(WORDS), max_size=6),
    query=st.lists(st.sampled_from(WORDS), min_size=1, max_size=3, unique=True),
)
def test_the_snippet_departs_from_the_whole_texts_only_for_marks_that_match(
    conn: Connection, before: list[str], fill: int, after: list[str], query: list[str]
) -> None:
    doc = " ".join(before) + ". " + FILLER * fill + " ".join(after) + "."
    q = " ".join(query)
    html = snippet(conn, doc, q)
    shown = marked(html)
    assert {w.lower() for w in shown} <= set(query)  # marks are only ever the query's words
    whole = conn.execute(
        text(
            "SELECT ts_headline('english', :doc, websearch_to_tsquery('english', :q),"
            " 'StartSel=<mark>, StopSel=</mark>, MaxFragments=2, MaxWords=30, MinWords=12')"
        ),
        {"doc": doc, "q": q},
    ).scalar_one()
    if shown != marked(whole) and marked(whole):
        # an excerpt's fragments: what they mark matches the query by itself (or the whole text's
        # mark nothing: the query's words are too far apart for any fragment to hold them all)
        assert conn.execute(
            text("SELECT to_tsvector('english', :m) @@ websearch_to_tsquery('english', :q)"),
            {"m": " ".join(shown), "q": q},
        ).scalar_one()
    if set(query) <= set(before):  # every word within the opening's first words: all marked
        assert {w.lower() for w in shown} == set(query)
