"""Settings, read from the environment (and a `.env` file when present)."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEEDS_DIR = PROJECT_ROOT / "seeds"
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
OPERATIONS_DIR = PROJECT_ROOT / "schema" / "operations"

LOCAL_ORIGINS = r"^https?://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]{1,5})?$"
"""Browser origins CORS allows outside production: a dev server on this machine, any port."""

_ORIGIN = re.compile(r"^https?://[^/?#\s]+/?$")


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
    listen_database_url: str | None = Field(
        default=None,
        description="libpq URL of the primary that the API's one LISTEN connection uses (not a transaction-mode "
        "pooler, not a standby: NOTIFY reaches neither); unset: the API's own database URL",
    )
    reader_password: str | None = Field(
        default=None, description="password of the read-only role: `migrate` sets it, the API logs in with it"
    )
    allow_superuser_api: bool = Field(default=False, description="let the API read as a superuser (a warning)")
    db_connect_attempts: int = Field(default=10, ge=1, description="tries to reach the database at start-up")
    seed_max_file_bytes: int = Field(default=10 * 1024 * 1024, ge=1, description="largest seed file read")
    data_dir: Path = Field(default=PROJECT_ROOT / ".data", description="where the embedded server keeps data")
    embedded_database: str = Field(
        default="tradegraph", pattern=r"^[a-z_][a-z0-9_]{0,62}$", description="database name on the embedded server"
    )
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
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="browser origins allowed besides localhost (which production does not allow): "
        "comma-separated or a JSON list",
    )
    log_level: Literal["critical", "error", "warning", "info", "debug", "trace"] = "info"
    log_format: Literal["json", "text"] = Field(
        default="text",
        description="log lines as JSON (production: one `tradegraph.access` line per request) or text for humans",
    )
    metrics_enabled: bool = Field(default=True, description="serve Prometheus metrics at GET /metrics")
    production: bool = Field(
        default=False, description="no introspection, no GraphiQL; CORS stays closed unless CORS_ORIGINS is set"
    )
    statement_timeout_ms: int = Field(default=5000, ge=100, description="per SQL statement of the API")
    http_request_timeout_s: float = Field(
        default=5.0, gt=0, description="a connection must send each whole request (headers, body) within this"
    )
    http_keep_alive_s: int = Field(default=5, ge=1, description="an idle kept-alive connection is closed after")
    max_body_bytes: int = Field(default=256 * 1024, ge=1024, description="largest request body accepted")
    max_depth: int = Field(default=12, ge=1, description="deepest nesting of selections")
    max_aliases: int = Field(default=30, ge=0, description="most aliased fields in one operation")
    max_tokens: int = Field(default=5000, ge=10, description="most lexical tokens in one document")
    max_cost: int = Field(default=25_000, ge=1, description="most nodes one operation may request")
    max_fields: int = Field(default=1000, ge=1, description="most fields one operation selects, through fragments")
    max_sql_bytes: int = Field(default=32 * 1024, ge=1024, description="longest compiled SQL statement")
    max_string_length: int = Field(default=1000, ge=1, description="longest string argument or variable")
    planner_processes: int = Field(
        default=1,
        ge=0,
        le=64,
        description="processes validating, costing and compiling new documents off the event loop (0: a thread)",
    )
    compile_queries: bool = Field(
        default=True,
        description="answer what it can with one SQL statement building the JSON (else, and when false, resolvers)",
    )
    ws_max_connections: int = Field(default=5000, ge=1, description="WebSocket connections one process accepts")
    ws_max_subscriptions: int = Field(default=20, ge=1, description="operations one WebSocket may run at once")
    ws_init_timeout_seconds: float = Field(default=10, gt=0, description="time a WebSocket has to send connection_init")
    ws_ping_seconds: float = Field(default=15, gt=0, description="interval of the server's pings (keep-alives)")
    ws_queue_messages: int = Field(
        default=256, ge=1, description="messages waiting for a slow WebSocket reader before it is dropped"
    )
    expose_statement_count: bool = Field(
        default=False, description="report SQL statements per request in the response's `extensions`"
    )
    persisted_operations_only: bool = Field(
        default=False, description="answer only the operations of schema/operations/ (trusted documents)"
    )
    apq_max_entries: int = Field(default=1000, ge=0, description="automatic persisted queries kept per process")
    apq_max_bytes: int = Field(
        default=4 * 1024 * 1024, ge=0, description="total size of the persisted queries kept per process"
    )
    max_batch: int = Field(default=10, ge=1, le=100, description="most operations in one batched request")
    cache_max_age: int = Field(default=60, ge=0, description="seconds a GET answer may be cached (Cache-Control)")

    @field_validator("database_url", "api_database_url", "listen_database_url")
    @classmethod
    def _libpq_form(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator("reader_password")
    @classmethod
    def _not_empty(cls, value: str | None) -> str | None:
        if value == "":
            raise ValueError("must not be empty (leave it unset for no password)")
        return value

    @field_validator("data_dir")
    @classmethod
    def _a_directory(cls, value: Path) -> Path:
        if value.exists() and not value.is_dir():
            raise ValueError(f"{value} exists and is not a directory")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        # a JSON list, or origins separated by commas (what people write in a shell)
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    value = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"not a JSON list: {exc.msg}") from None
            else:
                value = [part.strip() for part in text.split(",") if part.strip()]
        if isinstance(value, list):
            for origin in value:
                if not isinstance(origin, str) or not (origin == "*" or _ORIGIN.match(origin)):
                    raise ValueError(f"{origin!r} is not an origin like https://app.example or http://localhost:5173")
            return [origin.rstrip("/") for origin in value]
        return value


_SECRET = {"database_url", "api_database_url", "listen_database_url", "reader_password"}


class SettingsProblem(Exception):
    """A setting that cannot be used; the message is one line naming the variable."""


def read_settings() -> Settings:
    """Return settings from the environment; raise SettingsProblem saying which one is bad and why."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            name = field.upper() or "a setting"
            # URLs and passwords may hold secrets: their values are not repeated
            shown = "" if field in _SECRET or isinstance(error["input"], dict) else f"={error['input']!r}"
            reason = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{name}{shown}: {reason}")
        raise SettingsProblem("bad setting " + "; ".join(problems)) from None
    except SettingsError as exc:
        named = re.search(r'field "(\w+)"', str(exc))
        name = named.group(1).upper() if named else "a setting"
        raise SettingsProblem(f"bad setting {name}: {exc.__cause__ or exc}") from None


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, read once; raise SettingsProblem when one is bad."""
    return read_settings()
