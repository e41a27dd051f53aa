"""Bad input is refused with file, line, field and reason, and leaves the database as it was."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter
from sqlalchemy import text

from app import migrate
from app.config import SEEDS_DIR
from app.seed.corpus import build_corpus
from app.seed.files import SeedError
from app.seed.format import MoneyAmount
from tests.conftest import Databases, engine_for
from tests.helpers import ROOT, run_cli, snapshot

CORPUS = ROOT / "tests" / "bad_corpus"
CASES: list[dict[str, Any]] = yaml.safe_load((CORPUS / "cases.yaml").read_text())["cases"]


def _apply(case: dict[str, Any], target: Path) -> Path:
    corpus = target / "corpus"
    shutil.copytree(CORPUS / "valid", corpus)
    path = corpus / case["file"]
    old = case["replace"]["old"].encode("utf-8")
    new = case["replace"]["new"].encode(case.get("encoding", "utf-8"))
    raw = path.read_bytes()
    assert raw.count(old) == 1, f"case {case['name']}: the edit must match exactly once"
    path.write_bytes(raw.replace(old, new))
    return corpus


def test_the_valid_corpus_is_valid() -> None:
    corpus = build_corpus([CORPUS / "valid"])
    assert set(corpus.figures) == {"test-liaoning-exports-2023"}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_validation_names_file_line_and_reason(case: dict[str, Any], tmp_path: Path) -> None:
    corpus = _apply(case, tmp_path)
    with pytest.raises(SeedError) as caught:
        build_corpus([corpus])
    expect = case["expect"]
    messages = [str(issue) for issue in caught.value.issues]
    matching = [
        issue
        for issue in caught.value.issues
        if Path(issue.file).name == expect["file"] and expect["reason"] in str(issue)
    ]
    assert matching, f"no issue matches {expect}; got {messages}"
    assert matching[0].line == expect["line"], messages


@pytest.fixture(scope="module")
def seeded_db(fresh_database: Callable[..., str]) -> str:
    return fresh_database(seeded=True)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_cli_refuses_without_traceback_and_changes_no_row(case: dict[str, Any], tmp_path: Path, seeded_db: str) -> None:
    corpus = _apply(case, tmp_path)
    with engine_for(seeded_db) as engine, engine.connect() as conn:
        before = snapshot(conn)
    result = run_cli("seed", str(corpus), database_url=seeded_db)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    expect = case["expect"]
    location = f"{expect['file']}:{expect['line']}:" if expect["line"] else expect["file"]
    assert location in result.stderr
    assert expect["reason"].split(": ")[-1][:40] in result.stderr
    assert "nothing was written" in result.stderr
    with engine_for(seeded_db) as engine, engine.connect() as conn:
        assert snapshot(conn) == before
    # validating alone reports the very same problems
    checked = run_cli("seed", "--check", str(corpus), database_url=seeded_db)
    assert checked.returncode == 2, checked.stdout + checked.stderr
    assert _problems(checked.stderr) == _problems(result.stderr)


def _problems(stderr: str) -> list[str]:
    """Return the problems a seed printed (its stderr without the closing `error:` line)."""
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith("error:")]


def test_a_database_refusal_mid_write_rolls_everything_back(seeded_db: str) -> None:
    # The test corpus is valid on its own, but its `test-china` claims ISO code CN, which the
    # stored `china` already holds: only the database can see that, part-way through writing.
    with engine_for(seeded_db) as engine, engine.connect() as conn:
        before = snapshot(conn)
    result = run_cli("seed", str(CORPUS / "valid"), database_url=seeded_db)
    assert result.returncode == 1
    assert "the database refused the seed, nothing was written" in result.stderr
    assert "uq_places_code" in result.stderr
    assert "Traceback" not in result.stderr
    with engine_for(seeded_db) as engine, engine.connect() as conn:
        assert snapshot(conn) == before
        assert conn.execute(text("SELECT count(*) FROM places WHERE slug LIKE 'test-%'")).scalar_one() == 0


def _special_file(kind: str, corpus: Path) -> Path:
    """Create a seed file in `corpus` that is not a plain file; return its path."""
    path = corpus / f"{kind}.yaml"
    if kind == "symlink-loop":
        path.symlink_to(path.name)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path.symlink_to("/dev/zero")
    return path


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("symlink-loop", "a symlink loop"),
        ("fifo", "not a regular file (a FIFO)"),
        ("device", "not a regular file (a device)"),
    ],
)
def test_files_that_are_not_plain_files_are_refused(kind: str, reason: str, tmp_path: Path, seeded_db: str) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS / "valid", corpus)
    path = _special_file(kind, corpus)
    with pytest.raises(SeedError) as caught:
        build_corpus([corpus])
    [issue] = caught.value.issues
    assert Path(issue.file).name == path.name
    assert issue.reason.startswith(reason), issue
    # given by name too, and through the command: exit 2, no traceback, nothing written
    with engine_for(seeded_db) as engine, engine.connect() as conn:
        before = snapshot(conn)
    result = run_cli("seed", str(path), database_url=seeded_db, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert f"{path.name}: {reason}" in result.stderr
    assert "nothing was written" in result.stderr
    with engine_for(seeded_db) as engine, engine.connect() as conn:
        assert snapshot(conn) == before


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path, seeded_db: str) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS / "valid", corpus)
    # the limit just below the largest file: that one alone is refused, by name and size
    largest, *others = sorted(corpus.iterdir(), key=lambda p: p.stat().st_size, reverse=True)
    size, limit = largest.stat().st_size, others[0].stat().st_size
    assert limit < size
    with engine_for(seeded_db) as engine, engine.connect() as conn:
        before = snapshot(conn)
    result = run_cli("seed", str(corpus), database_url=seeded_db, SEED_MAX_FILE_BYTES=str(limit))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert f"{largest.name}: {size} bytes, over the limit of {limit} per file (SEED_MAX_FILE_BYTES)" in result.stderr
    assert "1 problem(s)" in result.stderr
    with engine_for(seeded_db) as engine, engine.connect() as conn:
        assert snapshot(conn) == before


def _database_state(url: str) -> tuple[object, ...]:
    """Return every row of the database that a seed could touch, the manifest and versions included."""
    with engine_for(url) as engine, engine.connect() as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).scalars()
        return tuple(
            (name, conn.execute(text(f'SELECT xmin::text, md5(t::text) FROM "{name}" t ORDER BY 2')).all())
            for name in list(tables)
        )


@pytest.mark.parametrize(
    ("state", "corpus", "advice"),
    [
        ("never-migrated", "valid", "no migration has been applied to it: run `tradegraph migrate` first"),
        ("one-behind", "valid", "this version of tradegraph needs"),
        # the corpus the database holds: nothing changed, the quick path must refuse as well
        ("one-behind", "seeds", "this version of tradegraph needs"),
        ("ahead", "seeds", "which this version of tradegraph does not know"),
        ("no-version-recorded", "seeds", "records no migration"),
        ("two-versions", "seeds", "records several migrations at once"),
    ],
)
def test_a_database_not_migrated_to_this_version_is_refused_untouched(
    state: str, corpus: str, advice: str, databases: Databases, fresh_database: Callable[..., str]
) -> None:
    url = databases.create() if state == "never-migrated" else fresh_database(seeded=True)
    if state == "one-behind":
        migrate.downgrade(url, "-1")
    with engine_for(url) as engine, engine.begin() as conn:
        if state == "ahead":
            conn.execute(text("UPDATE alembic_version SET version_num = 'f0f0f0f0f0f0'"))
        elif state == "no-version-recorded":
            conn.execute(text("DELETE FROM alembic_version"))
        elif state == "two-versions":
            conn.execute(text("INSERT INTO alembic_version VALUES ('f0f0f0f0f0f0')"))
    source = CORPUS / "valid" if corpus == "valid" else SEEDS_DIR
    before = _database_state(url)
    result = run_cli("seed", str(source), database_url=url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "the database cannot take this version's seed: " in result.stderr
    assert advice in result.stderr
    assert "; nothing was written" in result.stderr
    assert _database_state(url) == before


def test_a_file_refused_for_its_own_problem_leaves_no_false_errors_in_files_that_refer_to_it(tmp_path: Path) -> None:
    corpus = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, corpus)
    # the file that defines an event other files refer to, broken in an unrelated field: its schema
    # refuses it, so nothing it defines is read
    defining = next(p for p in sorted(corpus.glob("*.yaml")) if "slug: russia-invades-ukraine-2022" in p.read_text())
    text = defining.read_text()
    assert text.count("flow: export") >= 1
    defining.write_text(text.replace("flow: export", "flow: exprot", 1))
    with pytest.raises(SeedError) as caught:
        build_corpus([corpus])
    files = {Path(issue.file).name for issue in caught.value.issues}
    assert files == {defining.name}, [str(i) for i in caught.value.issues]
    # a reference to a slug no file declares is still reported
    other = next(
        p for p in sorted(corpus.glob("*.yaml")) if p != defining and "russia-invades-ukraine-2022" in p.read_text()
    )
    other.write_text(other.read_text().replace("russia-invades-ukraine-2022", "no-such-event-2022"))
    with pytest.raises(SeedError) as caught:
        build_corpus([corpus])
    assert any("unknown event 'no-such-event-2022'" in str(i) for i in caught.value.issues)


@pytest.mark.parametrize(
    ("edit", "expected_files"),
    [
        # a registry entry refused by its schema: the files using it report nothing of it
        (("places.yaml", "kind: country", "kind: kountry"), {"places.yaml"}),
        # a registry file that is no YAML at all: its slug lines still say what it declares
        (("places.yaml", "places:\n", "places:\n  - slug: [broken\n"), {"places.yaml"}),
    ],
)
def test_a_refused_registry_entry_or_file_leaves_no_false_unknowns(
    tmp_path: Path, edit: tuple[str, str, str], expected_files: set[str]
) -> None:
    corpus = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, corpus)
    name, old, new = edit
    path = corpus / name
    path.write_text(path.read_text().replace(old, new, 1))
    with pytest.raises(SeedError) as caught:
        build_corpus([corpus])
    assert {Path(issue.file).name for issue in caught.value.issues} == expected_files, [
        str(i) for i in caught.value.issues
    ]


@pytest.mark.parametrize("written", ["0.01", "1.0e-2", "5.000", "100e-3", "1E-2"])
def test_decimal_places_are_counted_as_they_count_not_as_written(written: str) -> None:
    # "5.000" keeps no more places than 5 does; only places that hold a digit are refused
    assert TypeAdapter(MoneyAmount).validate_python(Decimal(written)) == Decimal(written)
