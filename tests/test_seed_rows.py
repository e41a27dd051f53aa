"""The seed's row builders: their columns are the models', and a plain column needs no code of its own."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import BigInteger, Column, ForeignKey, Integer, MetaData, String, Table, Text

from app.seed import format as fmt
from app.seed.load import ALL_TABLES
from app.seed.rows import BUILDERS, RowBuilder, columns_of, figure_row, place_row


def test_every_table_the_seed_writes_has_a_builder_over_its_own_columns() -> None:
    assert set(BUILDERS) == {t.name for t in ALL_TABLES}
    for table in ALL_TABLES:
        builder = BUILDERS[table.name]
        assert set(builder.columns) <= set(columns_of(table))
        for name in builder.unwritten:  # left to the database: it must accept a row without it
            column = table.c[name]
            assert column.nullable or column.server_default is not None, f"{table.name}.{name}"


def test_a_row_has_every_column_of_its_builder() -> None:
    place = fmt.Place(slug="harbin", name="Harbin", kind=fmt.PlaceKind.CITY, parent="heilongjiang", geonames_id=2037013)
    row = place_row(place, {"place": {"heilongjiang": 7}})
    assert set(row) == set(place_row.columns) - {"id"}
    assert row["parent_id"] == 7 and row["kind"] == "city" and row["geonames_id"] == 2037013
    figure = fmt.TradeFigure(
        slug="f",
        reporter="cn",
        flow=fmt.TradeFlow.EXPORT,
        amount=fmt.Money(amount=Decimal(5), currency="USD"),
        period=fmt.Period(start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31), type=fmt.PeriodType.YEAR, label="2024"),
        change_pct=Decimal("3.5"),
        evidence=[fmt.Quote(quote="x")],
    )
    row = figure_row(figure, {"place": {"cn": 1}, "trade_figure": {}, "organisation": {}})
    assert set(row) == set(figure_row.columns) - {"id"}
    assert (row["reporter_id"], row["partner_id"], row["period_type"], row["change_pct"]) == (1, None, "year", 3.5)


def test_a_new_column_named_as_a_format_field_is_written_without_code_of_its_own() -> None:
    class Port(fmt.Strict):
        slug: str
        city: str | None = None
        berths: int | None = None

    metadata = MetaData()
    Table("places", metadata, Column("id", BigInteger, primary_key=True))
    ports = Table(
        "ports",
        metadata,
        Column("id", BigInteger, primary_key=True),
        Column("slug", String(120)),
        Column("city_id", BigInteger, ForeignKey("places.id")),
        Column("berths", Integer),  # the new column: a model field of the same name is all it takes
        Column("note", Text),  # not in the format: left to the database
    )
    builder = RowBuilder(ports, Port)
    assert builder.unwritten == ("note",)
    assert builder(Port(slug="p", city="dalian", berths=12), {"place": {"dalian": 3}}) == {
        "slug": "p",
        "city_id": 3,
        "berths": 12,
    }
    with pytest.raises(ValueError, match="no column"):
        RowBuilder(ports, Port, derived={"quays": lambda p, ids: 0})
    with pytest.raises(TypeError):
        RowBuilder(ports, Port, given=("note",))(Port(slug="p"), {"place": {}})
