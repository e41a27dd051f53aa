"""SQL pieces of the compiled answer path: JSON objects and lists, enum names, global ids.

Every piece of SQL is composed with psycopg.sql: constant templates, identifiers, literals and
placeholders; every value a request carries is a parameter.
"""

from __future__ import annotations

import enum

from psycopg import sql

# json_build_object takes at most 100 arguments
_MAX_KEYS = 50
# what compiling a selected field writes besides its value's own SQL (its key, the call around it)
FIELD_BYTES = 32
# and a subquery around an object, a list or a page (its SELECT, FROM, WHERE and aliases)
OBJECT_BYTES = 48

C = sql.Composable


class Unsupported(Exception):
    """The operation needs something only the resolver path answers."""


def col(alias: str, name: str) -> C:
    return sql.Identifier(alias, name)


def b64url(text: C) -> C:
    # base64url without padding, as app.graphql.relay.encode_id and pagination.encode_cursor write it
    return sql.SQL(
        "rtrim(translate(replace(encode(convert_to({}, 'UTF8'), 'base64'), chr(10), ''), '+/', '-_'), '=')"
    ).format(text)


def enum_sql(value: C, enum_type: type[enum.Enum]) -> C:
    # GraphQL enum names of stored values (trade-fair → TRADE_FAIR), exactly as the resolvers map them
    whens = sql.SQL(" ").join(
        sql.SQL("WHEN {} THEN {}").format(sql.Literal(m.value), sql.Literal(m.name)) for m in enum_type
    )
    return sql.SQL("CASE {} {} END").format(value, whens)


def json_object(pairs: list[tuple[str, C]]) -> C:
    """Return a SQL expression building a JSON object of (key, SQL value) pairs, keys in order."""
    chunks = [pairs[i : i + _MAX_KEYS] for i in range(0, len(pairs), _MAX_KEYS)] or [[]]
    objects = [
        sql.SQL("json_build_object({})").format(
            sql.SQL(", ").join(sql.SQL("{}, {}").format(sql.Literal(k), v) for k, v in chunk)
        )
        for chunk in chunks
    ]
    if len(objects) == 1:
        return objects[0]
    # more keys than one call takes: join the objects' texts ({a} {b} → {a, b}), keeping the order
    parts = [sql.SQL("left({}::text, -1)").format(objects[0])]
    parts += [sql.SQL("substr(left({}::text, -1), 2)").format(o) for o in objects[1:-1]]
    parts += [sql.SQL("substr({}::text, 2)").format(objects[-1])]
    return sql.SQL("({})::json").format(sql.SQL(" || ',' || ").join(parts))


# the JSON of a list of no items: a page of none (`first: 0`) builds no node
EMPTY_LIST = sql.SQL("'[]'::json")


def agg(obj: C, order: C, where: C | None = None) -> C:
    if where is None:
        return sql.SQL("coalesce(json_agg({} ORDER BY {}), '[]'::json)").format(obj, order)
    return sql.SQL("coalesce(json_agg({} ORDER BY {}) FILTER (WHERE {}), '[]'::json)").format(obj, order, where)


def order(*columns: C) -> C:
    return sql.SQL(", ").join(columns)


def cursor_value(value: C, kind: type) -> C:
    # as pagination.encode_cursor writes each value: ints as numbers; dates (ISO), decimals, text as strings
    if kind is int:
        return sql.SQL("{}::text").format(value)
    if kind is float:
        raise Unsupported("float sort keys")
    return sql.SQL("to_json({}::text)::text").format(value)
