"""A graphql-transport-ws client for tests, on the `websockets` package: a real client, real socket."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

PROTOCOL = "graphql-transport-ws"


class Client:
    """One WebSocket to /graphql, initialised; records when each message arrived."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.received: list[tuple[float, dict[str, Any]]] = []

    @classmethod
    async def open(cls, port: int, *, protocol: str = PROTOCOL, init: bool = True, **kwargs: Any) -> Client:
        # no client-side keepalive: a test that stops reading on purpose must not have its own pings
        # time out and close the socket before the server does (the server pings on its own)
        kwargs.setdefault("ping_interval", None)
        ws = await connect(
            f"ws://127.0.0.1:{port}/graphql", subprotocols=[Subprotocol(protocol)], proxy=None, max_size=None, **kwargs
        )
        client = cls(ws)
        if init:
            await client.send({"type": "connection_init"})
            ack = await client.receive(10)
            assert ack["type"] == "connection_ack", ack
        return client

    async def send(self, message: dict[str, Any] | str | bytes) -> None:
        await self.ws.send(message if isinstance(message, str | bytes) else json.dumps(message))

    async def subscribe(self, op_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        await self.send({"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})

    async def receive(self, timeout: float) -> dict[str, Any]:
        """Return the next message other than a ping (which it answers), waiting up to `timeout` s."""
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
            message: dict[str, Any] = json.loads(raw)
            if message.get("type") == "ping":
                await self.send({"type": "pong"})
                continue
            self.received.append((time.monotonic(), message))
            return message

    async def close_code(self, timeout: float = 10) -> int | None:
        """Return the close code the server sends within `timeout` s, dropping any message before it."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), max(0.01, deadline - time.monotonic()))
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None

    async def close(self) -> None:
        await self.ws.close()
