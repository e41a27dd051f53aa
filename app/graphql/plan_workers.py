"""Planning in separate processes: validating documents, measuring costs, compiling operations.

These steps are pure CPU work (graphql-core's validation is up to quadratic in the fields of a
document, compiling writes up to MAX_SQL_BYTES of SQL). In a thread they would still share the
interpreter lock with the event loop, which then waits for them in turns of a few milliseconds,
request after request: /healthz slows down with every expensive request. In a process of their
own they share nothing but a CPU, which the operating system divides finely.

A planning process keeps its own executor (and its bounded caches) per set of limits; what goes
in (the document's text, the operation's name, the variables, the limits) and what comes back
(a cost, a refusal's message, SQL text and parameters, formatted errors) pickles. The event loop
keeps only the outline of an accepted document (its operations' names and types) and parses it
for itself only when the resolvers must run it (linear in its tokens, which MAX_TOKENS bounds):
validating, costing and compiling happen only in the planning processes, and a request answered
by its compiled statement is never parsed in the serving process.

At most `max_queued` jobs wait per process: beyond that a request is refused at once with
SERVICE_UNAVAILABLE (the whole API is busy), instead of queueing work without end.
With `processes=0`, planning runs in one thread of the serving process (no isolation).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import logging
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any, TypeVar

from graphql import GraphQLError, OperationDefinitionNode, OperationType

from app.errors import ServiceUnavailable

if TYPE_CHECKING:
    from app.graphql.compiler import Plan
    from app.graphql.executor import Executor
    from app.graphql.limits import Limits

log = logging.getLogger(__name__)
T = TypeVar("T")

# jobs that may wait for each planning process before requests are refused
MAX_QUEUED_PER_PROCESS = 16
# the planning processes' scheduling priority below the serving process's
PLANNER_NICENESS = 5
# how long a job waits for the planning processes to start before it runs in the thread
STARTUP_WAIT_S = 30.0


class PlannerBusy(ServiceUnavailable):
    """Too many jobs wait for the planning processes."""


class FormattedError(GraphQLError):
    """A GraphQL error as a planning process formatted it (message, locations, extensions)."""

    def __init__(self, formatted: dict[str, Any]) -> None:
        super().__init__(str(formatted.get("message", "")), extensions=formatted.get("extensions"))
        self._formatted = formatted

    @property
    def formatted(self) -> Any:  # graphql-core's GraphQLFormattedError, a TypedDict
        return dict(self._formatted)


class Planner:
    """Runs planning jobs in `processes` worker processes (or, with 0, in one thread).

    Until the processes have started (spawning one and importing the schema takes a second or
    more), jobs wait for them (planning in the thread would take the interpreter lock from the
    event loop just when a server starts under load); only if they are not ready within
    STARTUP_WAIT_S, or while a process that died is replaced, do jobs run in the thread."""

    def __init__(self, processes: int, *, max_queued: int | None = None) -> None:
        self.processes = processes
        self.max_queued = max_queued if max_queued is not None else MAX_QUEUED_PER_PROCESS * max(1, processes)
        self._lock = threading.Lock()
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="tradegraph-plan")
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._starting: list[concurrent.futures.Future[Any]] = []
        self._jobs: set[concurrent.futures.Future[Any]] = set()

    def start(self) -> None:
        """Start the processes now (importing the schema takes a moment), not on the first request."""
        with self._lock:
            if self.processes == 0 or self._pool is not None:
                return
            self._pool = concurrent.futures.ProcessPoolExecutor(
                self.processes,
                # spawned, not forked: the serving process has threads and an event loop
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_initialise,
                initargs=(os.getpid(),),
            )
            self._starting = [self._pool.submit(_ready) for _ in range(self.processes)]

    def ready(self) -> bool:
        """Return whether jobs now go to the planning processes (not to the thread)."""
        return self._pool is not None and all(job.done() for job in self._starting)

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """Return `function(*args)`, run by a planning process; raise PlannerBusy if too many wait."""
        self.start()
        # a job that came while the processes started had nothing ahead of it: not refused after
        waited = not self.ready() and await self._started()
        with self._lock:
            self._jobs = {job for job in self._jobs if not job.done()}
            if len(self._jobs) >= self.max_queued and not waited:
                raise PlannerBusy("the API is busy planning other requests; try again shortly")
            pool = self._pool if self.ready() else None
            try:
                job = (pool or self._thread).submit(function, *args)
            except RuntimeError:  # the pool broke (a process was killed) since it was taken
                pool, job = None, self._thread.submit(function, *args)
            self._jobs.add(job)
        try:
            return await asyncio.wrap_future(job)
        except BrokenProcessPool:
            # a process died (killed, out of memory): new ones start, this job runs in the thread
            log.warning("a planning process died; starting a new one")
            self._replace(pool)
            return await asyncio.wrap_future(self._thread.submit(function, *args))

    async def _started(self) -> bool:
        """Wait (at most STARTUP_WAIT_S) for the processes to start; return whether it waited."""
        with self._lock:
            starting = list(self._starting) if self._pool is not None else []
        if not starting:
            return False
        await asyncio.wait([asyncio.wrap_future(job) for job in starting], timeout=STARTUP_WAIT_S)
        return True

    def shutdown(self) -> None:
        """Stop the processes and the thread (jobs still waiting are cancelled)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        self._thread.shutdown(wait=False, cancel_futures=True)

    def _replace(self, broken: concurrent.futures.ProcessPoolExecutor | None) -> None:
        with self._lock:
            if broken is None or self._pool is not broken:
                return
            self._pool = None
        broken.shutdown(wait=False, cancel_futures=True)
        self.start()


_PLANNERS: dict[int, Planner] = {}


def planner(processes: int) -> Planner:
    """Return the process's planner with `processes` workers (one per process, shared by its apps)."""
    found = _PLANNERS.get(processes)
    if found is None:
        found = _PLANNERS[processes] = Planner(processes)
    return found


# --- in the planning process ----------------------------------------------------------------------


def _initialise(parent: int) -> None:
    # Ctrl-C reaches the whole process group: the serving process ends its planners itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # planning waits its turn: when the CPU is short, the event loop (answers, /healthz) goes first
    with contextlib.suppress(OSError):
        os.nice(PLANNER_NICENESS)

    def watch() -> None:  # a planning process never outlives the process it plans for
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="tradegraph-plan-parent", daemon=True).start()


def _ready() -> None:
    """Import what planning needs (the schema, the compiler) before the first request does."""
    _executor_for(None, True)


_EXECUTORS: dict[tuple[Any, bool], Executor] = {}


def _executor_for(limits: Limits | None, introspection: bool) -> Executor:
    from app.graphql.executor import Executor  # the executor imports this module

    key = (limits, introspection)
    found = _EXECUTORS.get(key)
    if found is None:
        # the caches are smaller than the serving process's: they keep a document between the
        # steps of one request (validated, costed, compiled), not a long history
        found = _EXECUTORS[key] = Executor(
            limits=limits,
            introspection=introspection,
            cache_size=64,
            cache_bytes=4 * 1024 * 1024,
            planner_processes=None,
        )
    return found


@dataclasses.dataclass(frozen=True)
class Refusal:
    """Why a document is refused: its errors (formatted) and their code; with `operation`, only a
    request for that operation (the document's one query, named so or anonymous) is refused so."""

    code: str
    errors: list[dict[str, Any]]
    operation: tuple[str | None] | None = None


@dataclasses.dataclass(frozen=True)
class Accepted:
    """A valid document, outlined: the name and type of each of its operations, in order (all
    the serving process needs to choose one, without parsing the document itself). When its only
    operation is a query without variables, its `cost` and (if asked for) its compiled `plan`
    come along: what a request for it needs next, without asking the planner again."""

    operations: tuple[tuple[str | None, OperationType], ...]
    cost: int | None = None
    plan: tuple[str, Plan | str | None] | None = None


def validate_document(query: str, limits: Limits, introspection: bool, compile_too: bool = False) -> Refusal | Accepted:
    """Return the document's outline if `query` parses and validates, else why not. A document
    whose only operation is a query without variables is costed too (its cost cannot depend on a
    request's variables): if that is over a limit, it is refused as well, else (`compile_too`)
    compiled."""
    from app.graphql.executor import Prepared, RequestError, digest

    executor = _executor_for(limits, introspection)
    try:
        # kept: the cost and the plan of a request for it may be asked for next
        document, errors = executor.checked(query, digest(query))
    except RequestError as exc:
        return Refusal(exc.code, [dict(e.formatted) for e in exc.errors])
    if errors:
        coded = (errors[0].extensions or {}).get("code")
        return Refusal(str(coded or "GRAPHQL_VALIDATION_FAILED"), [dict(e.formatted) for e in errors])
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    outline = tuple((op.name.value if op.name else None, op.operation) for op in operations)
    if len(operations) == 1 and operations[0].operation is OperationType.QUERY:
        operation = operations[0]
        if not operation.variable_definitions:
            prepared = Prepared.of(query, document, operation)
            measured = executor.measured(prepared, None)
            if isinstance(measured, str):
                return Refusal("LIMIT_EXCEEDED", [{"message": measured}], (outline[0][0],))
            plan = None
            if compile_too:
                try:
                    plan = executor.compiled(prepared, None)
                except Exception:
                    plan = "failed", traceback.format_exc()
            return Accepted(outline, measured, plan)
    return Accepted(outline)


def measure_cost(
    query: str, operation_name: str | None, variables: dict[str, Any] | None, limits: Limits, introspection: bool
) -> int | str:
    """Return the operation's cost in nodes, or the message refusing it."""
    executor = _executor_for(limits, introspection)
    return executor.measured(executor.prepare(query, operation_name), variables)


def compile_plan(
    query: str, operation_name: str | None, variables: dict[str, Any] | None, limits: Limits, introspection: bool
) -> tuple[str, Plan | str | None]:
    """Return ("plan", the Plan or None), ("refused", why) or ("failed", the traceback)."""
    executor = _executor_for(limits, introspection)
    try:
        return executor.compiled(executor.prepare(query, operation_name), variables)
    except Exception:
        return "failed", traceback.format_exc()
