"""Request ids, structured logs and Prometheus metrics.

`RequestObservability` is a pure ASGI middleware. Each HTTP request gets an id — the caller's
`X-Request-ID` when it is sane (at most 128 of `[A-Za-z0-9._-]`), else a new one — that goes back
in the `X-Request-ID` response header and onto every log record emitted while the request is
handled (`request_id_var` + `RequestIdFilter`). When the request is done it writes one line on
the `tradegraph.access` logger and updates the app's `Metrics`, which `GET /metrics` renders in
the Prometheus text format (version 0.0.4).

The GraphQL endpoint notes the operation name and the error codes of its response on
`request.state` (`graphql_operation`, `graphql_error_codes`); `request.state` is the scope's
`state` dict, which this middleware reads once the app has answered.
"""

from __future__ import annotations

import bisect
import logging
import os
import re
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.pool import QueuePool
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.logs import ACCESS_LOGGER, new_request_id, request_id_var, sane_request_id
from app.middleware import HttpMiddleware

REQUEST_ID_HEADER = "X-Request-ID"
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
# seconds; GraphQL operations here take milliseconds, the statement timeout is 5 s by default
DEFAULT_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
access_log = logging.getLogger(ACCESS_LOGGER)


# --- metrics -----------------------------------------------------------------------------


def escape_label(value: str) -> str:
    """Return a label value escaped for the text format: backslash, double quote, newline."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    inner = ",".join(f'{name}="{escape_label(value)}"' for name, value in pairs)
    return f"{{{inner}}}" if inner else ""


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    if isinstance(value, int) or value.is_integer():
        return str(int(value))
    return repr(value)


class _Histogram:
    __slots__ = ("counts", "sum")

    def __init__(self, buckets: int) -> None:
        self.counts = [0] * (buckets + 1)  # the last one is +Inf
        self.sum = 0.0


class Metrics:
    """The counters and histograms of one app, rendered by `render` in the Prometheus text format.

    Label values are bounded: paths are route templates (else "other"), methods the standard
    ones (else "other"), operation names and error codes must look like GraphQL names (else
    "other") and at most `max_operations` / `max_codes` distinct ones are kept, besides the
    operations known in advance (`known_operations`), which always keep their own."""

    def __init__(
        self,
        *,
        buckets: Sequence[float] = DEFAULT_BUCKETS,
        max_operations: int = 200,
        max_codes: int = 50,
        known_operations: Iterable[str] = (),
    ) -> None:
        self.buckets = tuple(sorted(buckets))
        self.max_operations = max_operations
        # always labelled, whatever clients sent before: the project's own operations
        self.known_operations = frozenset(known_operations)
        self._other_operations: set[str] = set()
        self.max_codes = max_codes
        self.requests: dict[tuple[str, str, str], int] = {}
        self.operations: dict[str, _Histogram] = {}
        self.errors: dict[str, int] = {}
        self.in_flight = 0

    @staticmethod
    def _bounded(value: str | None, known: dict[str, Any], limit: int, *, missing: str) -> str:
        if value is None:
            return missing
        if not _LABEL_NAME.fullmatch(value):
            return "other"
        if value in known or len(known) < limit:
            return value
        return "other"

    def operation_label(self, name: str | None) -> str:
        """Return the `operation` label for a GraphQL operation name (None: anonymous).

        A known operation's name is its label; of the other names, the first `max_operations`
        distinct ones get one too, the rest are "other", so names clients make up can neither
        grow the label set without end nor take a known operation's label away."""
        if name is None:
            return "anonymous"
        if name in self.known_operations:
            return name
        if not _LABEL_NAME.fullmatch(name):
            return "other"
        if name in self._other_operations or len(self._other_operations) < self.max_operations:
            self._other_operations.add(name)
            return name
        return "other"

    def code_label(self, code: str) -> str:
        return self._bounded(code, self.errors, self.max_codes, missing="other")

    def observe(
        self,
        *,
        method: str,
        path: str,
        status: int,
        seconds: float,
        graphql: bool = False,
        operation: str | None = None,
        error_codes: Sequence[str] = (),
    ) -> None:
        """Count one finished request; `graphql` ones also go into the operation's histogram."""
        key = (method if method in _METHODS else "other", path, str(status))
        self.requests[key] = self.requests.get(key, 0) + 1
        if graphql:
            label = self.operation_label(operation)
            histogram = self.operations.get(label)
            if histogram is None:
                histogram = self.operations[label] = _Histogram(len(self.buckets))
            histogram.counts[bisect.bisect_left(self.buckets, seconds)] += 1
            histogram.sum += seconds
        for code in error_codes:
            label = self.code_label(code)
            self.errors[label] = self.errors.get(label, 0) + 1

    def render(self, pool: Any = None) -> str:
        """Return every metric in the text exposition format, with `pool`'s gauges when it is a QueuePool."""
        out: list[str] = []

        def family(name: str, kind: str, help_text: str) -> None:
            out.append(f"# HELP {name} {_escape_help(help_text)}")
            out.append(f"# TYPE {name} {kind}")

        def sample(name: str, value: float, labels: Iterable[tuple[str, str]] = ()) -> None:
            out.append(f"{name}{_labels(labels)} {_number(value)}")

        family("tradegraph_http_requests_total", "counter", "HTTP requests answered, by method, route and status.")
        for (method, path, status), count in sorted(self.requests.items()):
            sample("tradegraph_http_requests_total", count, [("method", method), ("path", path), ("status", status)])

        family("tradegraph_http_requests_in_flight", "gauge", "HTTP requests being handled now.")
        sample("tradegraph_http_requests_in_flight", self.in_flight)

        name = "tradegraph_graphql_request_duration_seconds"
        family(name, "histogram", "Time to answer a GraphQL request, by operation name.")
        for operation, histogram in sorted(self.operations.items()):
            cumulative = 0
            for bound, count in zip((*self.buckets, float("inf")), histogram.counts, strict=True):
                cumulative += count
                sample(f"{name}_bucket", cumulative, [("operation", operation), ("le", _number(bound))])
            sample(f"{name}_sum", histogram.sum, [("operation", operation)])
            sample(f"{name}_count", cumulative, [("operation", operation)])

        family("tradegraph_graphql_errors_total", "counter", "Errors in GraphQL responses, by extensions.code.")
        for code, count in sorted(self.errors.items()):
            sample("tradegraph_graphql_errors_total", count, [("code", code)])

        if isinstance(pool, QueuePool):
            checked_out, idle = pool.checkedout(), pool.checkedin()
            family("tradegraph_db_pool_size", "gauge", "Connections the pool keeps (pool_size).")
            sample("tradegraph_db_pool_size", pool.size())
            family("tradegraph_db_pool_checked_out", "gauge", "Pool connections in use by requests.")
            sample("tradegraph_db_pool_checked_out", checked_out)
            family("tradegraph_db_pool_idle", "gauge", "Open pool connections waiting for a request.")
            sample("tradegraph_db_pool_idle", idle)
            family("tradegraph_db_pool_overflow", "gauge", "Connections open beyond pool_size.")
            sample("tradegraph_db_pool_overflow", max(pool.overflow(), 0))

        rss = resident_memory_bytes()
        if rss is not None:
            family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.")
            sample("process_resident_memory_bytes", rss)
        family("process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.")
        sample("process_cpu_seconds_total", time.process_time())
        fds = open_fds()
        if fds is not None:
            family("process_open_fds", "gauge", "Open file descriptors.")
            sample("process_open_fds", fds)
        return "\n".join(out) + "\n"


def resident_memory_bytes() -> int | None:
    """Return this process's resident set size in bytes, or None where it cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except Exception:  # psutil missing or refused: no RSS metric
        return None


def open_fds() -> int | None:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None


async def metrics_endpoint(request: Request) -> Response:
    """Render the app's metrics, with the pool of its database engine once it has one."""
    engine = getattr(request.app.state, "async_engine", None)
    metrics: Metrics = request.app.state.metrics
    return Response(metrics.render(engine.pool if engine is not None else None), media_type=METRICS_CONTENT_TYPE)


# --- the middleware ----------------------------------------------------------------------


def _route_path(scope: Scope, root_path: str) -> str:
    """The matched route's template or mount prefix (bounded cardinality), else "other".

    Routing records the route in the scope (FastAPI: its own routes only) and a mount in the
    scope's `root_path`, which it extends by the mount's prefix."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    mounted = scope.get("root_path", "")
    if isinstance(mounted, str) and len(mounted) > len(root_path) and mounted.startswith(root_path):
        return mounted[len(root_path) :]
    return "other"


class RequestObservability(HttpMiddleware):
    """Request id in and out, one access log line and the metrics of every HTTP request."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        super().__init__(app)
        self.metrics = metrics

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        incoming = None
        for name, value in scope.get("headers") or []:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = sane_request_id(incoming) or new_request_id()
        state: dict[str, Any] = scope.setdefault("state", {})
        root_path: str = scope.get("root_path", "")
        status = 500  # unless the app starts a response
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        token = request_id_var.set(request_id)
        self.metrics.in_flight += 1
        failure: str | None = None
        try:
            await self.app(scope, receive, send_with_id)
        except BaseException as exc:
            # the server logs the traceback; the access line says which request it was
            failure = exc.__class__.__name__
            raise
        finally:
            seconds = time.perf_counter() - started
            self.metrics.in_flight -= 1
            self._finish(scope, state, _route_path(scope, root_path), request_id, status, seconds, failure)
            request_id_var.reset(token)

    def _finish(
        self,
        scope: Scope,
        state: dict[str, Any],
        path: str,
        request_id: str,
        status: int,
        seconds: float,
        failure: str | None,
    ) -> None:
        method: str = scope["method"]
        graphql = "graphql_operation" in state
        operation: str | None = state.get("graphql_operation")
        codes: list[str] = list(state.get("graphql_error_codes") or ())
        self.metrics.observe(
            method=method,
            path=path,
            status=status,
            seconds=seconds,
            graphql=graphql,
            operation=operation,
            error_codes=codes,
        )
        if access_log.isEnabledFor(logging.INFO):
            raw_path: str = scope.get("path", "")
            access_log.info(
                "%s %s %d %.1fms",
                method,
                raw_path[:256],
                status,
                seconds * 1000,
                extra={
                    "request_id": request_id,
                    "method": method,
                    "path": raw_path[:256],
                    "route": path,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                    "operation": (operation or "anonymous")[:128] if graphql else None,
                    "error_codes": codes,
                    **({"exception": failure} if failure else {}),
                },
            )


def known_operation_names(*directories: Path) -> set[str]:
    """Return the names of the operations in the `.graphql` files of `directories` (those that exist)."""
    names: set[str] = set()
    for directory in directories:
        if directory.is_dir():
            for path in sorted(directory.glob("*.graphql")):
                names.update(re.findall(r"^\s*query\s+([A-Za-z_][A-Za-z0-9_]*)", path.read_text(), re.MULTILINE))
    return names
