"""Settings, read from the environment (and a `.env` file when present)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEEDS_DIR = PROJECT_ROOT / "seeds"
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="libpq URL, e.g. postgresql://user@host:5432/db. Unset: an embedded server is used.",
    )
    api_database_url: str | None = Field(
        default=None,
        description="libpq URL the API reads through (a SELECT-only role); unset: derived for the embedded "
        "database, else DATABASE_URL in read-only transactions",
    )
    reader_password: str | None = Field(default=None, description="password `migrate` gives the read-only role")
    db_connect_attempts: int = Field(default=10, ge=1, description="tries to reach the database at start-up")
    data_dir: Path = Field(default=PROJECT_ROOT / ".data", description="where the embedded server keeps data")
    embedded_database: str = "tradegraph"
    pool_size: int = Field(default=10, ge=1)
    database_pooler: Literal["auto", "none", "transaction"] = Field(
        default="auto",
        description="`transaction`: the API connects through a transaction pooler (PgBouncer): session settings "
        "per transaction, no prepared statements; `auto`: so when the server does not take them at connect time",
    )
    pooler_prepared_statements: bool = Field(
        default=False,
        description="the transaction pooler keeps prepared statements (PgBouncer >= 1.21, max_prepared_statements > 0)",
    )
    max_replica_lag_s: float = Field(
        default=30.0, ge=0, description="/readyz is 503 when the API reads from a standby further behind than this"
    )
    cors_origins: list[str] = Field(default_factory=list)
    log_level: str = "info"
    log_format: Literal["json", "text"] = Field(
        default="text",
        description="log lines as JSON (production: one `tradegraph.access` line per request) or text for humans",
    )
    metrics_enabled: bool = Field(default=True, description="serve Prometheus metrics at GET /metrics")
    production: bool = Field(
        default=False, description="no introspection, no GraphiQL; CORS stays closed unless CORS_ORIGINS is set"
    )
    statement_timeout_ms: int = Field(default=5000, ge=100, description="per SQL statement of the API")
    max_body_bytes: int = Field(default=256 * 1024, ge=1024, description="largest request body accepted")
    max_depth: int = Field(default=12, ge=1, description="deepest nesting of selections")
    max_aliases: int = Field(default=30, ge=0, description="most aliased fields in one operation")
    max_tokens: int = Field(default=5000, ge=10, description="most lexical tokens in one document")
    max_cost: int = Field(default=25_000, ge=1, description="most nodes one operation may request")
    compile_queries: bool = Field(
        default=True,
        description="answer what it can with one SQL statement building the JSON (else, and when false, resolvers)",
    )
    expose_statement_count: bool = Field(
        default=False, description="report SQL statements per request in the response's `extensions`"
    )

    @field_validator("database_url", "api_database_url")
    @classmethod
    def _libpq_form(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            raise ValueError("DATABASE_URL must be a postgresql:// URL")
        return value


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return Settings()


def sqlalchemy_url(libpq_url: str) -> str:
    """Return the SQLAlchemy form of a libpq URL (several hosts too), choosing the psycopg 3 driver."""
    from app.dburl import sqlalchemy_url as convert

    return convert(libpq_url)
