"""ASGI middleware: the base of those that see HTTP requests only, a cap on request body size, and CORS."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HttpMiddleware:
    """A pure ASGI middleware of HTTP requests (`http`): anything else (lifespan, WebSocket) passes by."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class BodyTooLarge(Exception):
    pass


class BodyLimit(HttpMiddleware):
    """Answers 413 to any request whose body is larger than `max_bytes`, declared or streamed."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body: dict[str, Any] = {
            "errors": [
                {
                    "message": f"the request body is larger than {self.max_bytes} bytes",
                    "extensions": {"code": "PAYLOAD_TOO_LARGE"},
                }
            ]
        }
        payload = orjson.dumps(body)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json; charset=utf-8"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


class Cors(CORSMiddleware):
    """Starlette's CORS for requests that carry an `Origin`; any other passes straight by, its answer
    marked `Vary: Origin` as Starlette marks it.

    Starlette reads every request's headers into a mapping to look for `Origin`, and wraps its
    answer: about 5 % of a cheap request's CPU, for requests (servers, scripts, same-origin
    pages) that CORS has nothing to say to."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(name == b"origin" for name, _ in scope["headers"]):
            await super().__call__(scope, receive, send)
            return

        async def vary_by_origin(message: Message) -> None:
            if message["type"] == "http.response.start":
                # one Vary header naming what the app's said and Origin, as Starlette writes it
                headers = list(message.get("headers") or [])
                vary = [value for name, value in headers if name.lower() == b"vary"]
                headers = [(name, value) for name, value in headers if name.lower() != b"vary"]
                headers.append((b"vary", b", ".join([*vary, b"Origin"])))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, vary_by_origin)
