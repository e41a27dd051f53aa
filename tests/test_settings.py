"""Settings: every one refuses a bad value with one clear line and exit code 2, never a traceback.

Each case runs the real `tradegraph` command in a subprocess, away from the project (no .env).
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings, get_settings
from app.db import resolve_api_database
from app.graphql.limits import Limits
from app.main import WorkerApp
from app.roles import READER_ROLE, as_role
from tests.helpers import TRADEGRAPH

# a bad value for every setting (some settings have several ways to be wrong)
BAD: list[tuple[str, str]] = [
    ("DATABASE_URL", "mysql://someone:s3cret-pw@db.example/trade"),
    ("API_DATABASE_URL", "sqlite:///s3cret-pw.db"),
    ("READER_PASSWORD", ""),
    ("DB_CONNECT_ATTEMPTS", "0"),
    ("DATA_DIR", "{file}"),
    ("EMBEDDED_DATABASE", "Trade-Graph"),
    ("POOL_SIZE", "abc"),
    ("POOL_SIZE", "0"),
    ("DATABASE_POOLER", "pgbouncer"),
    ("POOLER_PREPARED_STATEMENTS", "some"),
    ("MAX_REPLICA_LAG_S", "-1"),
    ("MAX_REPLICA_LAG_S", "a while"),
    ("CORS_ORIGINS", "localhost:5173"),
    ("CORS_ORIGINS", '["http://localhost:5173"'),
    ("CORS_ORIGINS", '{"origin": "http://localhost:5173"}'),
    ("CORS_ORIGINS", "http://localhost:5173/app"),
    ("LOG_LEVEL", "loud"),
    ("LOG_FORMAT", "xml"),
    ("METRICS_ENABLED", "sometimes"),
    ("PRODUCTION", "maybe"),
    ("STATEMENT_TIMEOUT_MS", "10"),
    ("MAX_BODY_BYTES", "1"),
    ("MAX_DEPTH", "0"),
    ("MAX_ALIASES", "-1"),
    ("MAX_TOKENS", "five"),
    ("MAX_COST", "0"),
    ("COMPILE_QUERIES", "perhaps"),
    ("EXPOSE_STATEMENT_COUNT", "2"),
    ("PERSISTED_OPERATIONS_ONLY", "yes please"),
    ("APQ_MAX_ENTRIES", "-1"),
    ("APQ_MAX_BYTES", "lots"),
    ("MAX_BATCH", "0"),
    ("MAX_BATCH", "1000"),
    ("CACHE_MAX_AGE", "-5"),
    ("MAX_FIELDS", "0"),
    ("MAX_SQL_BYTES", "10"),
    ("MAX_STRING_LENGTH", "none"),
    ("PLANNER_PROCESSES", "-1"),
    ("PLANNER_PROCESSES", "several"),
    ("SEED_MAX_FILE_BYTES", "0"),
    ("ALLOW_SUPERUSER_API", "perhaps"),
    ("HTTP_REQUEST_TIMEOUT_S", "0"),
    ("HTTP_KEEP_ALIVE_S", "0"),
    ("LISTEN_DATABASE_URL", "redis://someone:s3cret-pw@db.example/0"),
    ("WS_MAX_CONNECTIONS", "0"),
    ("WS_MAX_SUBSCRIPTIONS", "many"),
    ("WS_INIT_TIMEOUT_SECONDS", "0"),
    ("WS_PING_SECONDS", "-1"),
    ("WS_QUEUE_MESSAGES", "0"),
]


def test_every_setting_has_a_bad_value_tested() -> None:
    assert {name.lower() for name, _ in BAD} == set(Settings.model_fields)


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    environ.update(env)
    return subprocess.run(
        [str(TRADEGRAPH), *args], cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(("name", "value"), BAD, ids=[f"{n}={v}" for n, v in BAD])
def test_a_bad_setting_is_one_clear_line_and_exit_2(tmp_path: Path, name: str, value: str) -> None:
    a_file = tmp_path / "not-a-directory"
    a_file.write_text("")
    result = run(tmp_path, "serve", "--port", "9", **{name: value.replace("{file}", str(a_file))})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: bad setting {name}"), lines[0]
    assert "Traceback" not in result.stderr
    assert "s3cret-pw" not in result.stderr  # URLs and passwords are not repeated


@pytest.mark.parametrize(
    ("value", "origins"),
    [
        ("http://localhost:5173", ["http://localhost:5173"]),
        ("https://app.example, https://admin.example/", ["https://app.example", "https://admin.example"]),
        ('["https://app.example", "http://127.0.0.1:3000"]', ["https://app.example", "http://127.0.0.1:3000"]),
        ("", []),
    ],
)
def test_cors_origins_read_comma_separated_or_json(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str, origins: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CORS_ORIGINS", value)
    assert Settings().cors_origins == origins


def test_a_good_cors_origins_lets_the_command_run(tmp_path: Path) -> None:
    result = run(tmp_path, "export-schema", CORS_ORIGINS="http://localhost:5173")
    assert result.returncode == 0, result.stderr
    assert "type Query" in result.stdout


def test_limits_take_their_defaults_and_values_from_the_settings() -> None:
    defaults = Limits()
    for field in dataclasses.fields(Limits):
        assert getattr(defaults, field.name) == Settings.model_fields[field.name].default, field.name
    assert Limits.of(Settings(max_depth=3, max_sql_bytes=4096)) == dataclasses.replace(
        defaults, max_depth=3, max_sql_bytes=4096
    )


def test_a_worker_serves_what_the_starting_process_resolved(seeded_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(database_url=seeded_url, api_database_url=as_role(seeded_url), max_depth=3)
    database = resolve_api_database(settings, seeded_url)
    # as uvicorn hands it to a spawned worker process: pickled with its configuration
    worker = pickle.loads(pickle.dumps(WorkerApp(settings, database)))
    # whatever the worker's environment says, it is not read: a bad value there would stop any reader
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nothing")
    monkeypatch.setenv("MAX_DEPTH", "not a number")
    get_settings.cache_clear()
    try:
        with TestClient(worker) as client:
            answer = client.post("/graphql", json={"query": "{ articles(first: 1) { totalCount } }"}).json()
            assert answer["data"]["articles"]["totalCount"] > 0, answer
            deep = "{ articles(first: 1) { nodes { publisher { articles(first: 1) { nodes { slug } } } } } }"
            refused = client.post("/graphql", json={"query": deep}).json()
            assert refused["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED", refused
            assert worker.app is not None
            assert worker.app.state.async_engine.url.username == READER_ROLE
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
