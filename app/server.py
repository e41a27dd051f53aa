"""uvicorn's HTTP protocol with a deadline for receiving each request whole.

uvicorn closes a kept-alive connection that stays idle after a response (`timeout_keep_alive`),
but nothing else: a connection that sends nothing at all, or half a request line, or headers a
byte at a time, or a body that never ends, stays open for good, and a few hundred of them hold
every file descriptor of the process (slowloris). Here every connection must deliver a complete
request (headers and body) within `request_timeout` seconds of its opening, and each next one
within as long after the previous response; otherwise it is closed. The time the API then takes
to answer is not counted (the statement timeout bounds that).
"""

from __future__ import annotations

import asyncio
from types import FrameType
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import Server

from app.config import get_settings

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Base
except ImportError:  # httptools not installed: uvicorn's pure-Python parser
    _Base = H11Protocol  # type: ignore[assignment,misc]


def request_timeout_of(config: Config) -> float:
    """Return the deadline of a request set on `config` (by `configure`), else the setting's."""
    value = getattr(config, "tradegraph_request_timeout", None)
    return float(value) if value is not None else get_settings().http_request_timeout_s


def configure(config: Config, *, request_timeout: float) -> Config:
    """Return `config` serving with `GuardedHttp` and a request deadline of `request_timeout` seconds."""
    config.http = GuardedHttp
    config.tradegraph_request_timeout = request_timeout  # type: ignore[attr-defined]
    return config


class GuardedHttp(_Base):
    """The HTTP protocol uvicorn would use, closing connections that are too slow to send a request."""

    def __init__(self, config: Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self._request_timeout = request_timeout_of(config)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._received_whole():
            self._disarm()  # a whole request has arrived: the rest is the API's time

    def on_response_complete(self) -> None:
        super().on_response_complete()
        cycle = getattr(self, "cycle", None)
        if not self.transport.is_closing() and (cycle is None or cycle.response_complete):
            self._arm()  # nothing in flight: the next request has its own deadline

    def handle_websocket_upgrade(self, *args: Any) -> None:
        # the socket is the WebSocket protocol's from here on: it lives as long as the client wants
        self._disarm()
        super().handle_websocket_upgrade(*args)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _received_whole(self) -> bool:
        """Return whether the request being handled has arrived whole and is not yet answered."""
        cycle = getattr(self, "cycle", None)  # the last request's until the next one's headers arrive
        return cycle is not None and not cycle.more_body and not cycle.response_complete

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self._request_timeout, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if self.transport.get_protocol() is not self:
            return  # upgraded to a WebSocket: no longer an HTTP connection
        if self._received_whole():
            return  # the request completed meanwhile (pipelined): not too slow after all
        if not self.transport.is_closing():
            self.transport.close()


class GracefulServer(Server):
    """uvicorn re-raises SIGTERM/SIGINT after a graceful shutdown, which would kill the process
    before `finally` blocks run and orphan the embedded Postgres; this one returns instead."""

    received: int | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.received = sig
        super().handle_exit(sig, frame)
        self._captured_signals.clear()
