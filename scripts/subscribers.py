#!/usr/bin/env python3
"""Subscription fan-out: N WebSocket subscribers on one API process, then seeds that add articles.

    .venv/bin/python scripts/subscribers.py --database-url postgresql://postgres@127.0.0.1:5432/postgres \\
        --subscribers 1000 --rounds 3 --articles 5

It creates a throwaway database on that server (dropped at the end), migrates it, seeds a small
synthetic corpus (tests/synthetic.py), starts `tradegraph serve` on a free loopback port, and
measures the server's resident memory before and after opening N graphql-transport-ws clients
(each subscribed to `articleAdded { slug title publisher { slug } }`, plus one to `corpusChanged`).
Each round then runs the real `tradegraph seed` on the corpus grown by --articles articles and
times, for every subscriber, the arrival of its last article event: after the seed command
returned (what a dashboard's user sees) and after the commit (`corpusChanged.committedAt`).
Clients run in this process (asyncio, the `websockets` package); only loopback is contacted.

It prints a table and one JSON line. Exit status 0 when every subscriber got every article of
every round, 1 otherwise, 2 when the server could not be started.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.servers import TRADEGRAPH, ServerFailed, serving  # noqa: E402
from tests.synthetic import write_corpus  # noqa: E402

ARTICLE_ADDED = "subscription { articleAdded { slug title publisher { slug } } }"
CORPUS_CHANGED = "subscription { corpusChanged { version committedAt } }"
OPEN_BATCH = 100  # connections opened at once
SETTLE = 2.0  # seconds for memory to settle after the clients connect


def cli(*args: str, url: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(
        [str(TRADEGRAPH), *args], env={**os.environ, **(env or {}), "DATABASE_URL": url}, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"`tradegraph {' '.join(args)}` failed:\n{result.stdout}{result.stderr}")


@contextlib.contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    name = f"tg_subscribers_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def api_server(url: str, subscribers: int, logs: Path) -> Iterator[tuple[int, psutil.Process]]:
    env = {**os.environ, "DATABASE_URL": url, "WS_MAX_CONNECTIONS": str(subscribers + 10)}
    env.pop("API_DATABASE_URL", None)
    try:
        with serving(env, logs=logs) as served:
            yield served.port, psutil.Process(served.proc.pid)
    except ServerFailed as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None


class Subscriber:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.arrivals: list[tuple[float, float, dict[str, Any]]] = []  # (monotonic, wall clock, payload)
        self.got = asyncio.Event()
        self.want = 0
        self.reader: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, port: int, query: str) -> Subscriber:
        ws = await connect(
            f"ws://127.0.0.1:{port}/graphql", subprotocols=[Subprotocol("graphql-transport-ws")], proxy=None
        )
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        subscriber = cls(ws)
        subscriber.reader = asyncio.get_running_loop().create_task(subscriber.read())
        return subscriber

    async def read(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            if message["type"] == "ping":
                await self.ws.send('{"type":"pong"}')
            elif message["type"] == "next":
                self.arrivals.append((time.monotonic(), time.time(), message["payload"]["data"]))
                if len(self.arrivals) >= self.want:
                    self.got.set()

    def expect(self, more: int) -> None:
        self.want = len(self.arrivals) + more
        self.got.clear()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run(args: argparse.Namespace, url: str, work: Path) -> dict[str, Any]:
    articles = 2
    cli("seed", str(write_corpus(work / "corpus-2", articles=articles, figures=2).path), url=url)
    with api_server(url, args.subscribers, work) as (port, server):
        await asyncio.sleep(SETTLE)
        rss_before = server.memory_info().rss
        subscribers: list[Subscriber] = []
        opened = time.monotonic()
        while len(subscribers) < args.subscribers:
            batch = min(OPEN_BATCH, args.subscribers - len(subscribers))
            subscribers += await asyncio.gather(*(Subscriber.open(port, ARTICLE_ADDED) for _ in range(batch)))
        open_seconds = time.monotonic() - opened
        watcher = await Subscriber.open(port, CORPUS_CHANGED)
        await asyncio.sleep(SETTLE)
        rss_after = server.memory_info().rss
        rounds = []
        for _ in range(args.rounds):
            articles += args.articles
            corpus = write_corpus(work / f"corpus-{articles}", articles=articles, figures=2)
            for s in subscribers:
                s.expect(args.articles)
            watcher.expect(1)
            await asyncio.to_thread(cli, "seed", str(corpus.path), url=url)
            returned = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(s.got.wait() for s in [*subscribers, watcher])), 60)
            complete = sum(len(s.arrivals) >= s.want for s in subscribers)
            committed = dt.datetime.fromisoformat(watcher.arrivals[-1][2]["corpusChanged"]["committedAt"]).timestamp()
            done = [s for s in subscribers if len(s.arrivals) >= s.want]
            after_return = [max(0.0, s.arrivals[s.want - 1][0] - returned) for s in done]
            after_commit = [s.arrivals[s.want - 1][1] - committed for s in done]
            rounds.append(
                {
                    "complete": complete,
                    "after_seed_returned_ms": {
                        "p50": percentile(after_return, 50) * 1000,
                        "p95": percentile(after_return, 95) * 1000,
                        "max": max(after_return) * 1000,
                    },
                    "after_commit_ms": {
                        "p50": percentile(after_commit, 50) * 1000,
                        "p95": percentile(after_commit, 95) * 1000,
                        "max": max(after_commit) * 1000,
                    },
                }
            )
        for s in [*subscribers, watcher]:
            await s.ws.close()
    return {
        "subscribers": args.subscribers,
        "articles_per_seed": args.articles,
        "open_seconds": round(open_seconds, 2),
        "rss_before_mib": round(rss_before / 2**20, 1),
        "rss_after_mib": round(rss_after / 2**20, 1),
        "kib_per_subscriber": round((rss_after - rss_before) / args.subscribers / 1024, 1),
        "rounds": rounds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="a server where a throwaway database may be created")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="seeds, one after another")
    parser.add_argument("--articles", type=int, default=5, help="articles each seed adds")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="tradegraph-subscribers-") as tmp,
        throwaway_database(args.database_url) as url,
    ):
        cli("migrate", url=url)
        result = asyncio.run(run(args, url, Path(tmp)))
    print(
        f"{result['subscribers']} subscribers opened in {result['open_seconds']} s; server RSS "
        f"{result['rss_before_mib']} -> {result['rss_after_mib']} MiB = {result['kib_per_subscriber']} KiB each"
    )
    print("round  complete  last event after the seed returned (p50/p95/max)  after the commit (p50/p95/max)")
    for i, r in enumerate(result["rounds"], 1):
        a, c = r["after_seed_returned_ms"], r["after_commit_ms"]
        print(
            f"{i:>5}  {r['complete']:>8}  {a['p50']:>8.0f} {a['p95']:>6.0f} {a['max']:>6.0f} ms"
            f"{'':24}{c['p50']:>6.0f} {c['p95']:>6.0f} {c['max']:>6.0f} ms"
        )
    print(json.dumps(result))
    return 0 if all(r["complete"] == result["subscribers"] for r in result["rounds"]) else 1


if __name__ == "__main__":
    sys.exit(main())
