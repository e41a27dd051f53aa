"""Per-request DataLoaders: every relationship is fetched in one statement per batch."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from app.db import Reader
from app.queries import articles, events, evidence, figures, places
from app.queries.common import list_by_ids
from app.queries.rows import (
    ArticleRow,
    ConversionRow,
    EventRow,
    EvidenceRow,
    FigureRow,
    OrganisationRow,
    ParticipantRow,
    PersonRow,
    PlaceRow,
)

K = TypeVar("K")
V = TypeVar("V")


def _loader(fn: Callable[[list[K]], Awaitable[Sequence[V]]]) -> DataLoader[K, V]:
    return DataLoader(load_fn=fn)


@dataclasses.dataclass
class Loaders:
    place: DataLoader[int, PlaceRow | None]
    organisation: DataLoader[int, OrganisationRow | None]
    person: DataLoader[int, PersonRow | None]
    article: DataLoader[int, ArticleRow | None]
    figure: DataLoader[int, FigureRow | None]
    event: DataLoader[int, EventRow | None]
    place_children: DataLoader[int, list[PlaceRow]]
    article_duplicates: DataLoader[int, list[ArticleRow]]
    article_organisations: DataLoader[int, list[OrganisationRow]]
    article_places: DataLoader[int, list[PlaceRow]]
    article_people: DataLoader[int, list[PersonRow]]
    article_figures: DataLoader[int, list[FigureRow]]
    article_events: DataLoader[int, list[EventRow]]
    figure_conversions: DataLoader[int, list[ConversionRow]]
    figure_evidence: DataLoader[int, list[EvidenceRow]]
    event_evidence: DataLoader[int, list[EvidenceRow]]
    event_places: DataLoader[int, list[PlaceRow]]
    event_participants: DataLoader[int, list[ParticipantRow]]
    event_children: DataLoader[int, list[EventRow]]


def make_loaders(db: Reader) -> Loaders:
    """Return a fresh set of loaders for one request."""

    def by_id(row_type: type[Any]) -> DataLoader[int, Any]:
        return _loader(lambda ids: list_by_ids(db, row_type, ids))

    def of(fn: Callable[..., Awaitable[Sequence[Any]]], key: str, **fixed: Any) -> DataLoader[int, Any]:
        return _loader(lambda ids: fn(db, **{key: ids}, **fixed))

    return Loaders(
        place=by_id(PlaceRow),
        organisation=by_id(OrganisationRow),
        person=by_id(PersonRow),
        article=by_id(ArticleRow),
        figure=by_id(FigureRow),
        event=by_id(EventRow),
        place_children=of(places.list_children, "parent_ids"),
        article_duplicates=of(articles.list_duplicates, "original_ids"),
        article_organisations=of(articles.list_organisations_mentioned, "article_ids"),
        article_places=of(articles.list_places_mentioned, "article_ids"),
        article_people=of(articles.list_people_mentioned, "article_ids"),
        article_figures=of(articles.list_figures_stated, "article_ids"),
        article_events=of(articles.list_events_reported, "article_ids"),
        figure_conversions=of(figures.list_conversions, "figure_ids"),
        figure_evidence=of(evidence.list_for, "ids", subject="trade_figure"),
        event_evidence=of(evidence.list_for, "ids", subject="event"),
        event_places=of(events.list_places_of, "event_ids"),
        event_participants=of(events.list_participants, "event_ids"),
        event_children=of(events.list_children, "parent_ids"),
    )
