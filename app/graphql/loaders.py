"""Per-request DataLoaders: every relationship is fetched in one statement per batch.

The registry is derived from the field tables (app.graphql.types): a to-one relation loads its
rows by id with `by_id(row type)`, a list relation with `of(query function, key argument)`, each
made on first use and shared by the whole request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from app.db import Reader
from app.queries.common import list_by_ids

RowT = TypeVar("RowT")
# a query function batching one relation: (db, **{key: ids}, **fixed) -> one list of rows per id
ListQuery = Callable[..., Awaitable[Sequence[list[Any]]]]


class Loaders:
    """The loaders of one request."""

    def __init__(self, db: Reader) -> None:
        self._db = db
        self._made: dict[Any, DataLoader[int, Any]] = {}

    def by_id(self, row_type: type[RowT]) -> DataLoader[int, RowT | None]:
        """Return the loader of `row_type` rows by primary key (None where there is no row)."""
        if row_type not in self._made:
            db = self._db

            async def load(ids: list[int]) -> list[RowT | None]:
                return await list_by_ids(db, row_type, ids)

            self._made[row_type] = DataLoader(load_fn=load)
        return self._made[row_type]

    def of(self, fn: ListQuery, key: str, **fixed: Any) -> DataLoader[int, list[Any]]:
        """Return the loader of the lists `fn` returns for a batch of ids given as argument `key`."""
        name = (fn, key, *sorted(fixed.items()))
        if name not in self._made:
            db = self._db

            async def load(ids: list[int]) -> Sequence[list[Any]]:
                return await fn(db, **{key: ids}, **fixed)

            self._made[name] = DataLoader(load_fn=load)
        return self._made[name]


def make_loaders(db: Reader) -> Loaders:
    """Return a fresh set of loaders for one request."""
    return Loaders(db)
