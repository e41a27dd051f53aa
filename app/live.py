"""Live corpus updates: one LISTEN connection per process, fanning each new corpus version out.

A seed writes its version row and `NOTIFY tradegraph_corpus, '<version>'` in its own transaction
(app/seed/versions.py), so only committed seeds are heard. The payload only wakes the listener:
it then reads every version newer than the last it knows from `corpus_versions`, on the same
connection (the primary: a standby or a transaction-mode pooler delivers no NOTIFY). When that
connection drops, it reconnects and reads what was committed meanwhile, so no version is missed.

Subscribers never block the listener: each waits for the version after its own, and reads the
versions it missed from a small in-memory window (or, when it is further behind, the database).
Work every subscriber of an event needs alike (the articles a version added for a filter, the
result of one document on one article) is computed once and shared through `shared`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import Reader
from app.dburl import describe
from app.queries.corpus import VersionRow, latest_version_on, versions_after_on, versions_between
from app.seed.versions import CHANNEL

log = logging.getLogger(__name__)
T = TypeVar("T")

RECENT_VERSIONS = 256  # versions kept in memory for subscribers that are a little behind
SHARED_RESULTS = 4096  # shared computations kept (the newest)
PAGE = 100
POLL_SECONDS = 30.0  # the listener also reads new versions this often, notified or not


class CorpusHub:
    """The process's corpus listener and the versions it has heard, for subscriptions to wait on."""

    def __init__(self, engine: AsyncEngine, listen_url: str, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.engine = engine
        self.listen_url = listen_url
        self.poll_seconds = poll_seconds  # also how soon a silently dead connection is noticed
        self.latest: int | None = None  # None until the listener has connected once
        self.listener_pid: int | None = None  # the LISTEN connection's backend, while connected
        self.reconnects = 0
        self._ready = asyncio.Event()
        self._changed = asyncio.Event()
        self._recent: OrderedDict[int, VersionRow] = OrderedDict()
        self._complete_after = 0  # every version after this one, up to `latest`, is in `_recent`
        self._shared: OrderedDict[Hashable, tuple[object, asyncio.Task[Any]]] = OrderedDict()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start listening in the background (reconnecting for as long as the process runs)."""
        self._task = asyncio.create_task(self._listen(), name="tradegraph-corpus-listener")

    async def stop(self) -> None:
        """Stop listening and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _listen(self) -> None:
        delay = 0.5
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self.listen_url, autocommit=True, connect_timeout=5, application_name="tradegraph-listen"
                )
                async with conn:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                    self.listener_pid = conn.info.backend_pid
                    if self.latest is None:
                        self._begin(await latest_version_on(conn))
                    else:
                        self.reconnects += 1
                        log.warning("the corpus listener is back; reading versions after %d", self.latest)
                    delay = 0.5
                    while True:
                        # notifications received while reading are kept by psycopg; the read
                        # below finds their versions anyway
                        await self._catch_up(conn)
                        async for _ in conn.notifies(timeout=self.poll_seconds, stop_after=1):
                            pass
            except (psycopg.Error, OSError) as exc:
                self.listener_pid = None
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
                log.warning(
                    "the corpus listener lost %s (%s); reconnecting in %.1fs", describe(self.listen_url), reason, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    def _begin(self, version: int) -> None:
        self.latest = self._complete_after = version
        self._ready.set()

    async def _catch_up(self, conn: psycopg.AsyncConnection[Any]) -> None:
        assert self.latest is not None
        while rows := await versions_after_on(conn, self.latest, limit=PAGE):
            for row in rows:
                self._publish(row)

    def _publish(self, row: VersionRow) -> None:
        self._recent[row.version] = row
        while len(self._recent) > RECENT_VERSIONS:
            dropped, _ = self._recent.popitem(last=False)
            self._complete_after = dropped
        self.latest = row.version
        woken, self._changed = self._changed, asyncio.Event()
        woken.set()

    async def current(self) -> int:
        """Return the newest version, once the listener has connected."""
        await self._ready.wait()
        assert self.latest is not None
        return self.latest

    async def versions_after(self, version: int) -> list[VersionRow]:
        """Return the versions after `version` (oldest first, up to 100), waiting until there is one."""
        await self._ready.wait()
        while True:
            changed = self._changed
            assert self.latest is not None
            if self.latest > version:
                break
            await changed.wait()
        if version >= self._complete_after:
            return [row for v, row in self._recent.items() if v > version][:PAGE]
        latest = self.latest
        return await self.read(lambda db: versions_between(db, after=version, upto=latest, limit=PAGE))

    async def read(self, query: Callable[[Reader], Awaitable[T]]) -> T:
        """Return what `query` reads through one of the API's pooled connections, given back at once."""
        db = Reader(self.engine)
        try:
            return await query(db)
        finally:
            await db.close()

    async def shared(self, key: Hashable, compute: Callable[[], Awaitable[T]], *, anchor: object = None) -> T:
        """Return `compute()`'s result, computed once for every caller with the same `key` (and `anchor`).

        `anchor` is an object the result is about: a key is reused only while it is that very
        object, never one that happens to reuse a freed object's id. A failed computation is
        not kept; a caller that goes away does not cancel it for the others."""
        entry = self._shared.get(key)
        if entry is not None and entry[0] is anchor:
            self._shared.move_to_end(key)
            task = entry[1]
        else:
            task = asyncio.ensure_future(compute())
            self._shared[key] = (anchor, task)
            while len(self._shared) > SHARED_RESULTS:
                self._shared.popitem(last=False)

            def forget_failure(done: asyncio.Task[Any]) -> None:
                if done.cancelled() or done.exception() is not None:
                    current = self._shared.get(key)
                    if current is not None and current[1] is done:
                        del self._shared[key]

            task.add_done_callback(forget_failure)
        result: T = await asyncio.shield(task)
        return result
