"""GraphQL over WebSocket at /graphql: graphql-transport-ws, and the legacy graphql-ws.

graphql-transport-ws is the protocol of the `graphql-ws` client (Apollo's GraphQLWsLink, urql,
Relay): `connection_init` → `connection_ack`, then `subscribe` / `next` / `error` / `complete` per
operation id, and `ping` / `pong` either way. A message that breaks the protocol closes the socket
with the protocol's code and a reason: 4400 malformed, 4401 `subscribe` before the ack, 4408 no
`connection_init` in time, 4409 an id already running, 4429 a second `connection_init`, 4406 no
subprotocol this server speaks; 1009 a message over MAX_BODY_BYTES; 1013 too many connections, or
a reader too slow to keep up. The legacy protocol (subscriptions-transport-ws, `graphql-ws`)
speaks `start` / `data` / `error` / `complete` / `stop`, with `ka` keep-alives.

Every operation is resolved as over HTTP (persisted queries; with PERSISTED_OPERATIONS_ONLY, only
the trusted documents), then prepared and checked against the same limits (tokens, depth,
aliases, cost), and each event is resolved by the same resolvers as a query, once per distinct
request and event for all subscribers alike (app/live.py shares it). Messages to a client wait in
a bounded queue that one task writes out: a client that reads too slowly is dropped when its queue
is full, and no other client ever waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import orjson
from fastapi import APIRouter, WebSocket
from graphql import ExecutionResult, GraphQLError, OperationType, create_source_event_stream
from graphql.execution.executor_throwing_on_incremental import ExecutorThrowingOnIncremental

from app.config import Settings
from app.db import Reader
from app.errors import CodedError
from app.graphql.context import Context
from app.graphql.executor import Executor, Prepared, RequestError, mask, request_key
from app.graphql.http import _params
from app.graphql.limits import has_nul as _has_nul
from app.graphql.persisted import Persisted, Resolved
from app.live import CorpusHub

log = logging.getLogger(__name__)

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
MAX_ID_LENGTH = 128

router = APIRouter()


class _Close(Exception):
    """Close the socket with `code` and `reason` (at most 123 bytes, as WebSocket allows)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason.encode()[:123].decode(errors="ignore")


def _origin_allowed(websocket: WebSocket, settings: Settings) -> bool:
    """Return whether a browser page at the request's Origin may open the socket (no Origin: not a browser)."""
    origin = websocket.headers.get("origin")
    if origin is None or origin in settings.cors_origins or "*" in settings.cors_origins:
        return True
    # the page GraphiQL is served on, or any page of the same host
    return urlsplit(origin).netloc == websocket.headers.get("host")


@router.websocket("/graphql")
async def graphql_ws(websocket: WebSocket) -> None:
    """Serve GraphQL operations (subscriptions above all) over one WebSocket."""
    state = websocket.app.state
    settings: Settings = state.settings
    if not _origin_allowed(websocket, settings):
        await websocket.close(code=1008)  # before the handshake: the browser sees 403
        return
    requested = websocket.scope.get("subprotocols") or []
    protocol = TRANSPORT_WS if TRANSPORT_WS in requested else LEGACY_WS if LEGACY_WS in requested else None
    await websocket.accept(subprotocol=protocol)
    if protocol is None:
        await websocket.close(4406, f"Subprotocol not acceptable: use {TRANSPORT_WS} (or {LEGACY_WS})")
        return
    if state.ws_connections >= settings.ws_max_connections:
        await websocket.close(1013, f"this server holds {settings.ws_max_connections} connections already; retry")
        return
    state.ws_connections += 1
    try:
        await _Connection(websocket, legacy=protocol == LEGACY_WS).run()
    finally:
        state.ws_connections -= 1


class _Connection:
    def __init__(self, websocket: WebSocket, *, legacy: bool) -> None:
        state = websocket.app.state
        self.ws = websocket
        self.legacy = legacy
        self.settings: Settings = state.settings
        self.executor: Executor = state.executor
        self.persisted: Persisted = state.persisted
        self.hub: CorpusHub = state.live
        self.engine = state.async_engine
        # (text before the payload, shared payload or None): a payload is one string for every client
        self.outgoing: asyncio.Queue[tuple[str, str | None]] = asyncio.Queue(maxsize=self.settings.ws_queue_messages)
        self.operations: dict[str, asyncio.Task[None]] = {}
        self.initialised = False
        self.closing: asyncio.Future[tuple[int, str] | None] = asyncio.get_running_loop().create_future()

    # --- the connection ------------------------------------------------------------------------

    async def run(self) -> None:
        tasks = [
            asyncio.create_task(self._read()),
            asyncio.create_task(self._write()),
            asyncio.create_task(self._keep_alive()),
            asyncio.create_task(self._init_timeout()),
        ]
        try:
            outcome = await self.closing
        finally:
            running = [*tasks, *self.operations.values()]
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        if outcome is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(*outcome), timeout=5)

    def _close(self, code: int | None, reason: str = "") -> None:
        if not self.closing.done():
            self.closing.set_result(None if code is None else (code, reason))

    async def _read(self) -> None:
        try:
            while True:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    self._close(None)
                    return
                text = message.get("text")
                if text is None:
                    raise _Close(4400, "send messages as text frames of JSON")
                if len(text) > self.settings.max_body_bytes or len(text.encode()) > self.settings.max_body_bytes:
                    raise _Close(1009, f"a message may be at most {self.settings.max_body_bytes} bytes")
                self._receive(text)
        except _Close as exc:
            self._close(exc.code, exc.reason)

    async def _write(self) -> None:
        try:
            while True:
                head, payload = await self.outgoing.get()
                await self.ws.send_text(head if payload is None else head + payload + "}")
        except asyncio.CancelledError:
            raise
        except Exception:  # the client went away mid-send: nothing more to say to it
            self._close(None)

    async def _keep_alive(self) -> None:
        ping = '{"type":"ka"}' if self.legacy else '{"type":"ping"}'
        while True:
            await asyncio.sleep(self.settings.ws_ping_seconds)
            if self.initialised or not self.legacy:
                self._enqueue(ping)

    async def _init_timeout(self) -> None:
        await asyncio.sleep(self.settings.ws_init_timeout_seconds)
        if not self.initialised:
            self._close(4408, "Connection initialisation timeout")

    def _enqueue(self, head: str, payload: str | None = None) -> None:
        if self.closing.done():
            return
        try:
            self.outgoing.put_nowait((head, payload))
        except asyncio.QueueFull:
            log.warning("dropped a WebSocket client: %d messages waited unread", self.outgoing.qsize())
            self._close(1013, "too slow: messages were not read in time; reconnect (corpusChanged(since:) replays)")

    # --- messages in -----------------------------------------------------------------------------

    def _receive(self, text: str) -> None:
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise _Close(4400, "the message is not JSON") from None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise _Close(4400, "a message is a JSON object with a string `type`")
        kind = message["type"]
        if kind == "connection_init":
            if self.initialised:
                raise _Close(4429, "Too many initialisation requests")
            if message.get("payload") is not None and not isinstance(message["payload"], dict):
                raise _Close(4400, "the payload of connection_init must be an object")
            self.initialised = True
            self._enqueue('{"type":"connection_ack"}')
            if self.legacy:
                self._enqueue('{"type":"ka"}')
        elif kind == ("start" if self.legacy else "subscribe"):
            self._subscribe(message)
        elif kind == ("stop" if self.legacy else "complete"):
            task = self.operations.pop(_id(message), None)
            if task is not None:
                task.cancel()
        elif kind == "ping" and not self.legacy:
            self._enqueue('{"type":"pong"}')
        elif kind == "pong" and not self.legacy:
            pass
        elif kind == "connection_terminate" and self.legacy:
            self._close(1000, "")
        else:
            raise _Close(4400, f"unknown message type {kind[:40]!r}")

    def _subscribe(self, message: dict[str, Any]) -> None:
        if not self.initialised:
            raise _Close(4401, "Unauthorized: send connection_init first")
        op_id = _id(message)
        payload = message.get("payload")
        if not isinstance(payload, dict):
            # one operation per message: no batch here, whatever HTTP accepts
            raise _Close(4400, f"the payload of {message['type']} must be an object")
        try:
            sent_query, operation_name, variables, extensions = _params(payload, from_get=False)
        except ValueError as exc:
            raise _Close(4400, f"payload: {exc}") from None
        if op_id in self.operations:
            raise _Close(4409, f"Subscriber for {op_id[:40]} already exists")
        if _has_nul(payload):
            self._error(op_id, [_coded("the request contains a NUL character", "BAD_USER_INPUT")])
            return
        try:
            # persisted queries and, with PERSISTED_OPERATIONS_ONLY, trusted documents alone: as over HTTP
            resolved = self.persisted.document(sent_query, extensions, payload.get("documentId"))
        except CodedError as exc:
            self._error(op_id, [_coded(exc.message, exc.extensions["code"], exc.extensions)])
            return
        if resolved.query is None:
            raise _Close(4400, "payload: `query` must be a non-empty string")
        if len(self.operations) >= self.settings.ws_max_subscriptions:
            limit = self.settings.ws_max_subscriptions
            self._error(op_id, [_coded(f"a connection may run {limit} operations at once", "LIMIT_EXCEEDED")])
            return
        task = asyncio.create_task(self._operation(op_id, resolved, operation_name, variables))
        self.operations[op_id] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self.operations.get(op_id) is done:
                del self.operations[op_id]

        task.add_done_callback(forget)

    # --- messages out ----------------------------------------------------------------------------

    def _next(self, op_id: str, payload: str) -> None:
        kind = "data" if self.legacy else "next"
        self._enqueue(f'{{"id":{orjson.dumps(op_id).decode()},"type":"{kind}","payload":', payload)

    def _error(self, op_id: str, errors: Sequence[Mapping[str, Any]]) -> None:
        # the legacy protocol's `error` carries one error
        payload = errors[0] if self.legacy else errors
        self._enqueue(orjson.dumps({"id": op_id, "type": "error", "payload": payload}).decode())

    def _complete(self, op_id: str) -> None:
        self._enqueue(orjson.dumps({"id": op_id, "type": "complete"}).decode())

    # --- operations ------------------------------------------------------------------------------

    async def _operation(
        self, op_id: str, resolved: Resolved, name: str | None, variables: dict[str, Any] | None
    ) -> None:
        assert resolved.query is not None
        try:
            # validated and costed as over HTTP: by the planner, whose bounded queue may refuse it
            prepared = await self.executor.prepare_off_loop(resolved.query, name)
            await self.executor.cost_off_loop(prepared, variables)
            if (
                resolved.new_hash is not None
                and prepared.operation_type is OperationType.QUERY
                and self.settings.compile_queries
            ):
                # a hash registered here must run over HTTP too, where the compiled SQL has a bound
                await self.executor.plan(prepared, variables)
        except RequestError as exc:
            self._error(op_id, [{**e.formatted, "extensions": {"code": exc.code}} for e in exc.errors])
            return
        self.persisted.register(resolved)  # as over HTTP: a hash stands only for a query that can run
        try:
            if prepared.operation_type is OperationType.SUBSCRIPTION:
                await self._stream(op_id, prepared, variables)
            else:
                # a query over the socket: one result, then complete
                self._next(op_id, await self._execute(prepared, variables, None))
                self._complete(op_id)
        except CodedError as exc:
            self._error(op_id, [_coded(exc.message, exc.extensions["code"], exc.extensions)])
        except GraphQLError as exc:
            self._error(op_id, [mask(exc).formatted])
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the operation %s of a WebSocket client failed", name or "(anonymous)")
            self._error(op_id, [_coded("Internal server error", "INTERNAL_SERVER_ERROR")])

    async def _stream(self, op_id: str, prepared: Prepared, variables: dict[str, Any] | None) -> None:
        """Send `next` for every event of a subscription, until the client completes it or leaves."""
        db = Reader(self.engine)
        context = Context.for_request(db, self.settings, self.hub)
        try:
            built = ExecutorThrowingOnIncremental.build(
                self.executor.schema, prepared.document, None, context, variables, prepared.operation_name
            )
            if isinstance(built, list):  # variables that do not coerce
                self._error(op_id, [mask(e).formatted for e in built])
                return
            source = create_source_event_stream(built)
            if not isinstance(source, (ExecutionResult, AsyncIterable)):
                source = await source
            if isinstance(source, ExecutionResult):
                self._error(op_id, [mask(e).formatted for e in source.errors or []])
                return
            key = request_key(prepared, variables)
            try:
                async for event in source:
                    execute = functools.partial(self._execute, prepared, variables, event)
                    if key is None:
                        payload = await execute()
                    else:
                        payload = await self.hub.shared(("result", key, id(event)), execute, anchor=event)
                    self._next(op_id, payload)
            finally:
                aclose = getattr(source, "aclose", None)
                if aclose is not None:
                    await aclose()
        finally:
            await db.close()

    async def _execute(self, prepared: Prepared, variables: dict[str, Any] | None, event: Any) -> str:
        """Return the `next` payload of one event (or of a query): its selections resolved, as JSON."""
        db = Reader(self.engine)
        try:
            context = Context.for_request(db, self.settings, self.hub)
            result = await self.executor.execute(prepared, variables=variables, context=context, root_value=event)
        finally:
            await db.close()
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
        body["data"] = result.data
        return orjson.dumps(body).decode()


def _id(message: dict[str, Any]) -> str:
    op_id = message.get("id")
    if not isinstance(op_id, str) or not op_id or len(op_id) > MAX_ID_LENGTH:
        raise _Close(4400, f"`id` must be a string of 1 to {MAX_ID_LENGTH} characters")
    return op_id


def _coded(message: str, code: str, extensions: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"message": message, "extensions": {**(extensions or {}), "code": code}}
