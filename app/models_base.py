"""What every table model shares: the naming of constraints, the metadata, column and CHECK helpers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Identity,
    Index,
    MetaData,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

# Named constraints make migrations reviewable and `alembic check` stable.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def one_of(column: str, values: type[Any]) -> str:
    """Return a CHECK expression limiting `column` to the values of a StrEnum."""
    quoted = ", ".join(f"'{member.value}'" for member in values)
    return f"{column} IN ({quoted})"


def vocabularies(**columns: type[Any]) -> list[CheckConstraint]:
    """Return a CHECK per column, named as the column, limiting it to the values of its StrEnum."""
    return [CheckConstraint(one_of(column, values), name=column) for column, values in columns.items()]


def pk() -> Any:
    return Field(default=None, sa_column=Column(BigInteger, Identity(always=False), primary_key=True))


def fk(target: str, *, nullable: bool = True, ondelete: str | None = None, index: bool = True) -> Any:
    # index=False where a composite index of the table leads with this column
    return Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index),
    )


def aliases() -> Any:
    return Field(
        default_factory=list,
        sa_column=Column(ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    )


def name_document_index(table: str) -> Index:
    # search matches names and aliases through this (app/queries/search.py); name_document is
    # the migration's IMMUTABLE function
    return Index(f"ix_{table}_name_document", text("name_document(name, aliases)"), postgresql_using="gin")
