"""Nested lists of reviewed facts (Article.tradeFigures, Article.events, Event.children) show
accepted facts unless their `review` argument asks otherwise, as the top-level lists do, and
the compiled path answers what the resolvers answer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.config import Settings
from app.main import create_app
from tests.conftest import engine_for

QUERY = """query($review: [ReviewStatus!]) {
  articles(first: 50) { nodes {
    slug
    tradeFigures(review: $review) { slug review }
    events(review: $review) { slug review children(review: $review) { slug review } }
  } }
  events(first: 100, filter: {review: [ACCEPTED, PENDING]}) { nodes { slug children(review: $review) { slug } } }
}"""


@pytest.fixture(scope="module")
def clients(fresh_database: Callable[..., str]) -> Iterator[tuple[TestClient, TestClient, set[str]]]:
    """The compiled and the resolver app on a seeded database where some facts are pending."""
    url = fresh_database(seeded=True)
    with engine_for(url) as engine, engine.begin() as conn:
        figures = conn.execute(
            text("UPDATE trade_figures SET review = 'pending' WHERE id % 2 = 0 RETURNING slug")
        ).scalars()
        children = conn.execute(
            text("UPDATE events SET review = 'pending' WHERE parent_id IS NOT NULL RETURNING slug")
        ).scalars()
        pending = {*figures, *children}
    settings = {"database_url": url, "expose_statement_count": True}
    with (
        TestClient(create_app(Settings(**settings))) as compiled,  # type: ignore[arg-type]
        TestClient(create_app(Settings(**settings, compile_queries=False))) as resolvers,  # type: ignore[arg-type]
    ):
        yield compiled, resolvers, pending


def answer(client: TestClient, review: list[str] | None) -> dict[str, Any]:
    body = client.post("/graphql", json={"query": QUERY, "variables": {"review": review}}).json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def shown(data: dict[str, Any]) -> set[tuple[str, str]]:
    out = set()
    for article in data["articles"]["nodes"]:
        out |= {(f["slug"], f["review"]) for f in article["tradeFigures"]}
        for event in article["events"]:
            out.add((event["slug"], event["review"]))
            out |= {(c["slug"], c["review"]) for c in event["children"]}
    return out


@pytest.mark.parametrize("review", [None, ["ACCEPTED"], ["PENDING"], ["PENDING", "ACCEPTED"]])
def test_nested_lists_follow_the_review_argument_on_both_paths(
    clients: tuple[TestClient, TestClient, set[str]], review: list[str] | None
) -> None:
    compiled, resolvers, pending = clients
    assert pending, "the fixture made some facts pending"
    data = answer(compiled, review)
    assert data == answer(resolvers, review)
    statuses = {status for _, status in shown(data)}
    wanted = {"ACCEPTED"} if review is None else set(review)
    assert statuses == wanted
    slugs = {slug for slug, _ in shown(data)}
    if "PENDING" in wanted:
        assert pending <= slugs
    else:
        assert not pending & slugs
    children = {c["slug"] for e in data["events"]["nodes"] for c in e["children"]}
    assert bool(children & pending) == ("PENDING" in wanted)
