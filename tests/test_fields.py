"""The field tables (app.graphql.types), the SDL and the compiler's builders agree, type by type.

Every field of a declared object type in the SDL has exactly one table entry and one builder,
and every table entry and builder is a field of the SDL; a column a table reads exists in its
row type and in the database table, and a field the schema says cannot be null reads a column
that cannot be null. Every object type of the schema is either declared by a table or listed
here as built another way.
"""

from __future__ import annotations

import typing
from collections import Counter

import pytest
from fastapi.testclient import TestClient
from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLSchema
from sqlalchemy import CheckConstraint, Engine, text

from app.graphql.compiler import TYPES
from app.graphql.fields import CLASSES, TABLES, Column, EnumOf, Linked, Mentioned, Part, Table, ToMany, ToOne
from app.graphql.schema import schema
from app.models import metadata
from app.queries.rows import TABLE_OF

GRAPHQL: GraphQLSchema = schema._schema
# object types not built from a row: roots, pages and the series' parts
NOT_DECLARED = {
    "Query",
    "Subscription",
    "PageInfo",
    "TradeSeriesPoint",
    "SeriesContribution",
    "ExcludedFigure",
    "CorpusChange",
    "EntityChange",
}


def _object_types() -> dict[str, GraphQLObjectType]:
    return {
        name: t
        for name, t in GRAPHQL.type_map.items()
        if isinstance(t, GraphQLObjectType) and not name.startswith("__")
    }


def test_every_object_type_is_declared_or_built_another_way() -> None:
    built_otherwise = {n for n in _object_types() if n.endswith(("Connection", "Edge"))} | NOT_DECLARED
    assert set(_object_types()) - built_otherwise == set(TABLES)
    assert set(TABLES) == set(TYPES) == set(CLASSES)


@pytest.mark.parametrize("table", TABLES.values(), ids=lambda t: t.name)
def test_the_table_the_sdl_and_the_builders_agree(table: Table) -> None:
    object_type = _object_types()[table.name]
    declared = [f.graphql_name for f in table.fields]
    assert [n for n, count in Counter(declared).items() if count > 1] == []  # one entry per field
    assert declared == list(object_type.fields)  # every SDL field, and in its order
    assert list(TYPES[table.name]) == declared  # one builder each
    for spec in table.fields:
        assert object_type.fields[spec.graphql_name].description == spec.description, spec.name


def _never_null(table: Table, column: str) -> bool:
    """Whether `column` has a value in every row an object of `table` is made of: a NOT NULL column,
    or, in a value type of its row's columns (Money), the column that makes it present or one a CHECK
    ties to that column."""
    db_table = metadata.tables[table.table]
    if not db_table.c[column].nullable:
        return True
    if table.present is None:
        return False
    tied = f"({table.present} IS NULL) = ({column} IS NULL)"
    checks = {str(c.sqltext) for c in db_table.constraints if isinstance(c, CheckConstraint)}
    return column == table.present or tied in checks


@pytest.mark.parametrize("table", [t for t in TABLES.values() if t.row not in TABLE_OF], ids=lambda t: t.name)
def test_what_a_table_of_computed_rows_reads_is_in_its_row_type_and_agrees_on_null(table: Table) -> None:
    # rows a query computes (search hits): their row type says what each holds and whether it may be null
    object_type = _object_types()[table.name]
    hints = typing.get_type_hints(table.row)
    for spec in table.fields:
        field_type = object_type.fields[spec.graphql_name].type
        if isinstance(spec, Column | EnumOf):
            assert spec.column in hints, spec.name
            nullable = type(None) in typing.get_args(hints[spec.column])
            assert isinstance(field_type, GraphQLNonNull) == (not nullable), spec.name
        else:
            assert isinstance(spec, Part), spec.name
            assert hints[spec.name] is TABLES[spec.target].row, spec.name
            assert isinstance(field_type, GraphQLNonNull), spec.name


@pytest.mark.parametrize("table", [t for t in TABLES.values() if t.row in TABLE_OF], ids=lambda t: t.name)
def test_what_a_table_reads_exists_and_agrees_on_null(table: Table) -> None:
    object_type = _object_types()[table.name]
    db_table = metadata.tables[table.table]
    row_fields = set(table.row.__dataclass_fields__)
    for spec in table.fields:
        field_type = object_type.fields[spec.graphql_name].type
        if isinstance(spec, Column | EnumOf):
            assert spec.column in row_fields, spec.name
            if isinstance(field_type, GraphQLNonNull):
                assert _never_null(table, spec.column), f"{table.name}.{spec.graphql_name} reads a nullable column"
        elif isinstance(spec, ToOne):
            assert spec.fk in row_fields, spec.name
            assert spec.target in TABLES
            fk = db_table.c[spec.fk]
            assert {k.column.table.name for k in fk.foreign_keys} == {TABLES[spec.target].table}, spec.name
            assert isinstance(field_type, GraphQLNonNull) == (not fk.nullable), spec.name
        elif isinstance(spec, Linked):
            pairs = spec.link.table
            assert {k.column.table.name for k in pairs.c[spec.link.owner].foreign_keys} == {table.table}, spec.name
            assert {k.column.table.name for k in pairs.c[spec.link.subject].foreign_keys} == {
                TABLES[spec.target].table
            }, spec.name
            target = metadata.tables[TABLES[spec.target].table]
            assert {o.split()[0] for o in spec.order} <= set(target.c.keys()), spec.name
        elif isinstance(spec, Mentioned):
            assert spec.fk in spec.mentions.table.c, spec.name
        elif isinstance(spec, ToMany):
            target = metadata.tables[TABLES[spec.target].table]
            assert {k.column.table.name for k in target.c[spec.fk].foreign_keys} == {table.table}, spec.name
            assert {o.split()[0] for o in spec.order} <= set(target.c.keys()), spec.name


# --- a field added by the recipe (README, "Adding a field"): ConvertedMoney.evidence --------------

CONVERSIONS = """{
  tradeFigures(first: 100, filter: {review: [ACCEPTED, PENDING]}) {
    pageInfo { hasNextPage }
    nodes {
      slug
      conversions { kind currency evidence { quote start end article { slug } } }
      statedConversion { currency evidence { quote start end article { slug } } }
      amountUsd { kind evidence { quote } }
    }
  }
}"""


def test_the_stated_conversions_evidence_is_the_databases_on_both_paths(
    api: TestClient, resolver_api: TestClient, engine: Engine
) -> None:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT f.slug, c.to_currency, e.quote, e.start_offset, e.end_offset, a.slug"
                " FROM currency_conversions c JOIN trade_figures f ON f.id = c.trade_figure_id"
                " JOIN evidence e ON e.id = c.evidence_id JOIN articles a ON a.id = e.article_id"
            )
        ).all()
    expected = {
        (slug, currency): {"quote": quote, "start": start, "end": end, "article": {"slug": article}}
        for slug, currency, quote, start, end, article in rows
    }
    assert expected  # the seeded corpus states conversions
    answers = []
    for client in (api, resolver_api):
        response = client.post("/graphql", json={"query": CONVERSIONS})
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        if client is api:
            assert body["extensions"]["sqlStatements"] == 1  # compiled, not left to the resolvers
        answers.append(body["data"])
        page = body["data"]["tradeFigures"]
        assert not page["pageInfo"]["hasNextPage"]  # every figure of the corpus
        served = {}
        for figure in page["nodes"]:
            for conversion in figure["conversions"]:
                if conversion["kind"] == "COMPUTED":
                    assert conversion["evidence"] is None
                else:
                    served[(figure["slug"], conversion["currency"])] = conversion["evidence"]
            stated = figure["statedConversion"]
            if stated is not None:
                assert stated["evidence"] == served[(figure["slug"], stated["currency"])]
            if figure["amountUsd"] is not None and figure["amountUsd"]["kind"] == "STATED":
                assert figure["amountUsd"]["evidence"] is None  # the amount itself: no conversion stated
        assert served == expected
    assert answers[0] == answers[1]
