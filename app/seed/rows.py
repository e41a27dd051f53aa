"""One row builder per table, its columns read from the models: what both seed writers store.

The row-by-row writer (`app.seed.load`) and the COPY loader (`app.seed.bulk`) build every row
here, so the two store the same data. A builder's columns are the table's own
(`models.metadata`, computed ones like `search` left to the database), and each is filled by
convention from the seed format's object unless the builder says otherwise:

* a column named as a field of the format's model takes its value (an enum its value, a list a copy);
* `<name>_id` with a foreign key, where the model has a slug field `<name>`, takes the id of that
  slug among the rows of the referenced table (`ids[kind][slug]`; None when the slug is None);
* `<prefix><name>` where `nested` maps the prefix to a field holding a sub-object (a period, a
  date) takes that object's `<name>` (None when the object is None);
* `derived` columns are computed from the whole object, `given` ones are passed in by the caller.

So adding a plain column to a seeded entity is the model, a migration and the seed format's
field of the same name. A column the format does not know is left to the database (its default,
or NULL): `RowBuilder.unwritten` names them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import operator
from collections.abc import Callable, Collection, Mapping
from enum import Enum
from typing import Any, NamedTuple, get_args, get_origin

from pydantic import BaseModel
from sqlalchemy import Table

from app import models
from app.seed import convert
from app.seed import format as fmt
from app.seed.dedupe import Duplicate

Row = dict[str, Any]
Ids = Mapping[str, Mapping[str, int]]  # kind ("place", "trade_figure", ...) -> slug -> id
Getter = Callable[[Any, Ids], Any]

# the seed format's kind of the rows of each table a foreign key may point at
KINDS = {
    "places": "place",
    "organisations": "organisation",
    "people": "person",
    "articles": "article",
    "trade_figures": "trade_figure",
    "events": "event",
}


def columns_of(table: Table) -> tuple[str, ...]:
    """Return the columns a writer fills, in table order (computed ones, like `search`, are the database's)."""
    return tuple(c.name for c in table.columns if c.computed is None)


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return list(value)
    return value


def _itself(obj: Any) -> Any:
    return obj


def _shape(annotation: Any) -> str:
    """Return how a field's value becomes a column's: "enum" (its value), "list" (a copy), "plain", "any" (unknown)."""
    if annotation is None or isinstance(annotation, str):
        return "any"
    found = [annotation]
    types: list[Any] = []
    while found:
        t = found.pop()
        args = get_args(t)
        if get_origin(t) is list or t is list:
            return "list"
        if args:
            found += args
        else:
            types.append(t)
    if any(isinstance(t, type) and issubclass(t, Enum) for t in types):
        return "enum"
    return "plain"


def _field(name: str, source: Callable[[Any], Any], annotation: Any) -> Getter:
    get = operator.attrgetter(name)
    shape = _shape(annotation)
    if source is not _itself:
        return lambda obj, ids: _plain(get(source(obj)))
    if shape == "plain":
        return lambda obj, ids: get(obj)
    if shape == "enum":
        return lambda obj, ids: None if (v := get(obj)) is None else v.value
    return lambda obj, ids: _plain(get(obj))


def _reference(name: str, kind: str, source: Callable[[Any], Any]) -> Getter:
    def get(obj: Any, ids: Ids) -> Any:
        slug = getattr(source(obj), name)
        return None if slug is None else ids[kind][slug]

    return get


def _nested(outer: str, name: str, source: Callable[[Any], Any]) -> Getter:
    def get(obj: Any, ids: Ids) -> Any:
        inner = getattr(source(obj), outer)
        return None if inner is None else _plain(getattr(inner, name))

    return get


def _fields(model: type[Any] | None) -> Mapping[str, Any]:
    """Return the fields of a format model (pydantic) or dataclass, with their types where known."""
    if model is None:
        return {}
    if isinstance(model, type) and issubclass(model, BaseModel):
        return {name: f.annotation for name, f in model.model_fields.items()}
    return {f.name: None for f in dataclasses.fields(model)}


class RowBuilder:
    """Builds the rows of one table from the seed format's objects (see the module's docstring)."""

    def __init__(
        self,
        table: Table,
        model: type[Any] | None,
        *,
        source: Callable[[Any], Any] = _itself,
        nested: Mapping[str, tuple[str, type[Any]]] | None = None,
        derived: Mapping[str, Getter] | None = None,
        given: Collection[str] = (),
    ) -> None:
        self.table = table
        self.given = frozenset(given)
        derived = dict(derived or {})
        fields = _fields(model)
        getters: list[tuple[str, Getter]] = []
        unwritten: list[str] = []
        for name in columns_of(table):
            if name == "id" or name in self.given:
                continue
            getter = derived.pop(name, None) or self._convention(name, fields, source, nested or {})
            if getter is None:
                unwritten.append(name)
            else:
                getters.append((name, getter))
        if derived:
            raise ValueError(f"{table.name} has no column {', '.join(derived)}")
        self._getters = tuple(getters)
        self.unwritten = tuple(unwritten)
        self.columns = tuple(c for c in columns_of(table) if c not in self.unwritten)

    def _convention(
        self,
        name: str,
        fields: Mapping[str, Any],
        source: Callable[[Any], Any],
        nested: Mapping[str, tuple[str, type[Any]]],
    ) -> Getter | None:
        column = self.table.c[name]
        if name in fields:
            return _field(name, source, fields[name])
        if name.endswith("_id") and name[:-3] in fields and column.foreign_keys:
            (fk,) = column.foreign_keys
            return _reference(name[:-3], KINDS[fk.column.table.name], source)
        for prefix, (outer, inner_model) in nested.items():
            if name.startswith(prefix) and name[len(prefix) :] in _fields(inner_model):
                return _nested(outer, name[len(prefix) :], source)
        return None

    def __call__(self, obj: Any, ids: Ids, **given: Any) -> Row:
        """Return the row of `obj` (without its id), the `given` columns as passed."""
        if len(given) != len(self.given) or not self.given.issuperset(given):
            raise TypeError(f"{self.table.name}: columns given {sorted(given)}, expected {sorted(self.given)}")
        for name, get in self._getters:
            given[name] = get(obj, ids)
        return given


def _table(name: str) -> Table:
    return models.metadata.tables[name]


class ArticleInput(NamedTuple):
    """An article as the row builder takes it: its annotation's metadata, its text and where it lives."""

    meta: fmt.ArticleMeta
    source_file: str
    body: str
    duplicate: Duplicate | None


def duplicate_columns(dup: Duplicate | None, ids: Ids) -> Row:
    return {
        "duplicate_of_id": ids["article"][dup.original] if dup else None,
        "duplicate_score": dup.score if dup else None,
        "duplicate_method": dup.method if dup else None,
    }


def _duplicate(column: str) -> Getter:
    return lambda a, ids: duplicate_columns(a.duplicate, ids)[column]


place_row = RowBuilder(_table("places"), fmt.Place)
organisation_row = RowBuilder(_table("organisations"), fmt.Organisation)
person_row = RowBuilder(_table("people"), fmt.Person)
article_row = RowBuilder(
    _table("articles"),
    fmt.ArticleMeta,
    source=lambda a: a.meta,
    nested={"published_": ("published", fmt.PublishedDate)},
    derived={
        "source_file": lambda a, ids: a.source_file,
        "body": lambda a, ids: a.body,
        "body_sha256": lambda a, ids: hashlib.sha256(a.body.encode("utf-8")).hexdigest(),
        "word_count": lambda a, ids: len(a.body.split()),
        "published_on": lambda a, ids: a.meta.published.date if a.meta.published else None,
        **{c: _duplicate(c) for c in ("duplicate_of_id", "duplicate_score", "duplicate_method")},
    },
)
figure_row = RowBuilder(
    _table("trade_figures"),
    fmt.TradeFigure,
    nested={"period_": ("period", fmt.Period)},
    derived={
        "amount": lambda f, ids: f.amount.amount if f.amount else None,
        "currency": lambda f, ids: f.amount.currency if f.amount else None,
        "quantity": lambda f, ids: f.quantity.value if f.quantity else None,
        "unit": lambda f, ids: f.quantity.unit if f.quantity else None,
    },
)
event_row = RowBuilder(
    _table("events"),
    fmt.Event,
    nested={"date_": ("date", fmt.EventDate)},
    derived={
        "starts_on": lambda e, ids: e.date.start if e.date else None,
        "ends_on": lambda e, ids: e.date.end if e.date else None,
    },
)
event_place_row = RowBuilder(_table("event_places"), None, given=("event_id", "place_id"))
participant_row = RowBuilder(_table("event_participants"), fmt.Participant, given=("event_id",))
conversion_row = RowBuilder(
    _table("currency_conversions"), convert.Conversion, given=("trade_figure_id", "evidence_id")
)
_evidence_row = RowBuilder(
    _table("evidence"),
    None,
    given=(
        "article_id",
        "quote",
        "start_offset",
        "end_offset",
        *(c for c in columns_of(_table("evidence")) if c.endswith("_id") and c != "article_id"),
    ),
)

# the evidence column naming each kind of subject
SUBJECT_COLUMNS = {k: f"{k}_id" for k in ("trade_figure", "event", "organisation", "place", "person")}
_SUBJECTS = tuple(SUBJECT_COLUMNS.items())

# every builder, by table
BUILDERS: dict[str, RowBuilder] = {
    b.table.name: b
    for b in (
        place_row,
        organisation_row,
        person_row,
        article_row,
        figure_row,
        event_row,
        event_place_row,
        participant_row,
        conversion_row,
        _evidence_row,
    )
}


def evidence_row(article_id: int, quote: str, start: int, end: int, kind: str, subject_id: int) -> Row:
    # (the builder's given columns, filled directly: there are many evidence rows)
    row: Row = {"article_id": article_id, "quote": quote, "start_offset": start, "end_offset": end}
    for k, col in _SUBJECTS:
        row[col] = subject_id if k == kind else None
    return row


def stated_conversion(
    f: fmt.TradeFigure, stated: fmt.StatedConversion, published: fmt.PublishedDate | None
) -> convert.Conversion:
    """Return the conversion an article states for figure `f`, dated by the article's publication."""
    assert f.amount is not None
    rate_date, basis = (
        (published.date, f"the article's publication date ({published.precision.value}, {published.basis.value})")
        if published
        else (f.period.end, "the end of the figure's period (the article is undated)")
    )
    return convert.stated(
        f.amount.amount, f.amount.currency, stated.amount, stated.currency, rate_date=rate_date, date_basis=basis
    )
