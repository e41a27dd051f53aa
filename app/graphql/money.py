"""Money: the value types (tables of a figure's own columns), and the conversions of a figure's amount
(a resolver and its SQL side by side).

TradeFigure's table (app.graphql.types) declares the fields these build.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from psycopg import sql

from app.graphql.checks import currency_code
from app.graphql.context import Info
from app.graphql.enums import ConversionKind
from app.graphql.fields import TABLES, Declared, Table, ToMany, column, declare, make
from app.graphql.planner import Builder, Compiler, Field
from app.graphql.sqlparts import C, col
from app.queries.rows import ConversionRow, FigureRow

if TYPE_CHECKING:
    from graphql import GraphQLObjectType

# --- value types --------------------------------------------------------------------------------------


@declare(
    Table(
        "Money",
        FigureRow,
        (column("amount", Decimal), column("currency", str)),
        "An exact amount of money in an ISO 4217 currency",
        present="amount",  # and then currency too (CHECK amount_has_currency)
    )
)
class Money(Declared):
    pass


@declare(
    Table(
        "Quantity",
        FigureRow,
        (column("value", Decimal, source="quantity"), column("unit", str)),
        "A physical quantity: 1500000 tonne, 55 container",
        present="quantity",  # and then unit too (CHECK quantity_has_unit)
    )
)
class Quantity(Declared):
    pass


# --- conversions ---------------------------------------------------------------------------------

# TradeFigure.convert: the amount itself when it is in the asked currency, as a conversion row
STATED_SOURCE = "stated in the article"
STATED_METHOD = "no conversion: the article states the amount in this currency"


def self_conversion(row: FigureRow) -> ConversionRow:
    """Return a figure's amount as a conversion into its own currency (the article states it)."""
    assert row.amount is not None and row.currency is not None
    return ConversionRow(
        id=0,
        trade_figure_id=row.id,
        kind=ConversionKind.STATED.value,
        from_currency=row.currency,
        to_currency=row.currency,
        amount=row.amount,
        rate=Decimal(1),
        rate_date=row.period_end,
        source=STATED_SOURCE,
        method=STATED_METHOD,
        evidence_id=None,
    )


def self_conversion_sql(c: Compiler, t: str, nodes: Field) -> C:
    """Return self_conversion's ConvertedMoney in SQL, of the figure aliased `t`."""
    a = c.alias()
    fields = {
        "amount": col(t, "amount"),
        "kind": sql.Literal(ConversionKind.STATED.value),
        "from_currency": col(t, "currency"),
        "to_currency": col(t, "currency"),
        "rate": sql.SQL("1::numeric"),
        "rate_date": col(t, "period_end"),
        "source": sql.Literal(STATED_SOURCE),
        "method": sql.Literal(STATED_METHOD),
        "evidence_id": sql.SQL("NULL::bigint"),
    }
    row = sql.SQL(", ").join(sql.SQL("{} AS {}").format(v, sql.Identifier(k)) for k, v in fields.items())
    return sql.SQL("(SELECT {} FROM (SELECT {}) {})").format(
        c.object("ConvertedMoney", a, nodes), row, sql.Identifier(a)
    )


def conversion_sql(c: Compiler, figure: C, kind: ConversionKind, nodes: Field, code: C | None = None) -> C:
    """Return first_conversion in SQL: of figure id `figure`, into `code` if given (null if none)."""
    a = c.alias()
    into = sql.SQL("") if code is None else sql.SQL(" AND {} = {}").format(col(a, "to_currency"), code)
    return sql.SQL(
        "(SELECT {} FROM currency_conversions {} WHERE {} = {} AND {} = {}{} ORDER BY {}, {} LIMIT 1)"
    ).format(
        c.object("ConvertedMoney", a, nodes),
        sql.Identifier(a),
        col(a, "trade_figure_id"),
        figure,
        col(a, "kind"),
        sql.Literal(kind.value),
        into,
        col(a, "to_currency"),
        col(a, "id"),
    )


async def first_conversion(info: Info, figure_id: int, kind: ConversionKind, currency: str | None = None) -> Any:
    """Return the figure's first conversion of `kind` (into `currency` if given) by currency, or None."""
    conversions = TABLES["TradeFigure"].spec("conversions")
    assert isinstance(conversions, ToMany)
    rows: list[ConversionRow] = await conversions.load(info, figure_id)  # the field's own loader
    for row in rows:
        if row.kind == kind.value and currency in (None, row.to_currency):
            return make("ConvertedMoney", row)
    return None


async def convert(figure: Declared, info: Info, currency: str) -> Any:
    """Return the amount in `currency`: itself, or its computed conversion; None without one."""
    currency = currency_code(currency)  # a code that is none is refused, not answered null
    row: FigureRow = figure._row
    if row.amount is None:
        return None
    if row.currency == currency:
        return make("ConvertedMoney", self_conversion(row))
    return await first_conversion(info, row.id, ConversionKind.COMPUTED, currency)


def converted_sql(currency: Any) -> Builder:
    """TradeFigure.convert in SQL; `currency(c, nodes, parent type)` is the asked currency."""

    def build(c: Compiler, t: str, nodes: Field, o: GraphQLObjectType) -> C:
        code = c.param(currency_code(currency(c, nodes, o)))
        return sql.SQL("CASE WHEN {} IS NULL THEN NULL WHEN {} = {} THEN {} ELSE {} END").format(
            col(t, "amount"),
            col(t, "currency"),
            code,
            self_conversion_sql(c, t, nodes),
            conversion_sql(c, col(t, "id"), ConversionKind.COMPUTED, nodes, code),
        )

    return build


async def amount_usd(root: Declared, info: Info) -> Any:
    return await convert(root, info, "USD")


async def converted_amount(root: Declared, info: Info, currency: str) -> Any:
    return await convert(root, info, currency)


async def stated_conversion(root: Declared, info: Info) -> Any:
    return await first_conversion(info, root._row.id, ConversionKind.STATED)


def stated_conversion_sql(c: Compiler, t: str, nodes: Field, o: GraphQLObjectType) -> C:
    return conversion_sql(c, col(t, "id"), ConversionKind.STATED, nodes)
