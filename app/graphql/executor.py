"""Execution of GraphQL requests: parse/validation caches, limits, the compiled path, masked errors."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import pickle
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import (
    NoSchemaIntrospectionCustomRule,
    NoUndefinedVariablesRule,
    NoUnusedVariablesRule,
    VariablesInAllowedPositionRule,
)
from graphql.validation.rules import overlapping_fields_can_be_merged
from graphql.validation.validate import ValidationAbortedError

from app.errors import CodedError
from app.graphql.caches import DOCUMENT_BYTES_PER_CHAR, ENTRY_OVERHEAD, ByteBudgetLRU, digest
from app.graphql.compiler import Plan, PlanTooLarge, compile_operation
from app.graphql.context import Context
from app.graphql.guards import answered_empty, nul_literals, string_cap
from app.graphql.limits import LimitError, Limits, check
from app.graphql.masking import mask, without_suggestions
from app.graphql.plan_workers import (
    Accepted,
    FormattedError,
    Planner,
    PlannerBusy,
    compile_plan,
    measure_cost,
    planner,
    validate_document,
)
from app.graphql.schema import schema

log = logging.getLogger(__name__)
T = TypeVar("T")
# Comparing the fields a selection set asks for twice (same name, through fragments) is quadratic:
# graphql-core stops it after this much work, which its default (500,000) lets take a second of
# the planner's time; a realistic operation needs a few hundred. Read when a validation starts.
overlapping_fields_can_be_merged.MAX_COMPLEXITY_BUDGET = 50_000
# the validation rules that look at variables only
_VARIABLE_RULES = (NoUndefinedVariablesRule, NoUnusedVariablesRule, VariablesInAllowedPositionRule)


class RequestError(Exception):
    """A GraphQL request that cannot be executed: bad syntax, invalid, or no such operation."""

    def __init__(self, errors: list[GraphQLError], code: str) -> None:
        self.errors = errors
        self.code = code
        super().__init__("; ".join(e.message for e in errors))


__all__ = [
    "DOCUMENT_BYTES_PER_CHAR",
    "ByteBudgetLRU",
    "Executor",
    "Prepared",
    "RequestError",
    "digest",
    "mask",
    "without_suggestions",
]
# a new document no longer than this, without fragments, is validated on the event loop: it
# holds at most a few dozen fields (~1 ms); any other goes to the planner, since fragments
# spread into one another can make a document of a few hundred bytes expand without end
SMALL_DOCUMENT = 256


class Prepared:
    """A request's validated document and the operation it selects (`operation_name`, `operation_type`).

    The syntax tree (`document`, `operation`) is parsed on first use: a document the planner
    validated is not parsed in the serving process at all unless the resolvers run it (its
    compiled statement answers most requests)."""

    def __init__(
        self,
        source: str,
        key: bytes,
        name: str | None,
        kind: OperationType,
        index: int,
        document: DocumentNode | None = None,
        parse: Callable[[], DocumentNode] | None = None,
    ) -> None:
        self.source = source
        self.key = key  # digest of the source
        self.operation_name = name
        self.operation_type = kind
        self._index = index  # of the operation among the document's operations
        self._document = document
        self._parse = parse

    @classmethod
    def of(cls, source: str, document: DocumentNode, operation: OperationDefinitionNode, key: bytes = b"") -> Prepared:
        """Return the prepared `operation` of a parsed `document`."""
        index = next(i for i, op in enumerate(_operations(document)) if op is operation)
        return cls(source, key, operation.name.value if operation.name else None, operation.operation, index, document)

    @property
    def document(self) -> DocumentNode:
        if self._document is None:
            assert self._parse is not None
            self._document = self._parse()
        return self._document

    @property
    def operation(self) -> OperationDefinitionNode:
        return _operations(self.document)[self._index]


def _aborted_as_limit(errors: list[GraphQLError]) -> list[GraphQLError]:
    """Return the validation's errors, with a validation stopped for its budget of work as LIMIT_EXCEEDED first."""
    found = [e for e in errors if not isinstance(e, ValidationAbortedError)]
    # (stopped after 100 errors, it lists them: they say what is wrong)
    if len(found) == len(errors) or len(found) >= 100:
        return errors
    budget = GraphQLError(
        "the document is too costly to validate: it selects the same fields too many times over"
        " (through fragments too) or nests fragments too deep; select each field once",
        extensions={"code": "LIMIT_EXCEEDED"},
    )
    return [budget, *found]


def _operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def _select(operations: Sequence[tuple[str | None, OperationType]], name: str | None) -> int:
    """Return the index of the operation a request names (or the only one); raise RequestError."""
    if name is None:
        if len(operations) == 1:
            return 0
        raise RequestError([GraphQLError("the document has several operations: give `operationName`")], "BAD_REQUEST")
    for index, (op_name, _) in enumerate(operations):
        if op_name == name:
            return index
    raise RequestError([GraphQLError(f"no operation named {name!r} in the document")], "BAD_REQUEST")


class Executor:
    """Parses and validates each distinct document once, then executes it against the schema.

    With `introspection=False` (production) the schema cannot be queried through `__schema`.
    """

    def __init__(
        self,
        graphql_schema: GraphQLSchema | None = None,
        *,
        limits: Limits | None = None,
        introspection: bool = True,
        cache_size: int = 512,
        cache_bytes: int = 16 * 1024 * 1024,
        max_cached_document: int = 16 * 1024,
        planner_processes: int | None = 1,
        compile_queries: bool = True,
    ) -> None:
        self.schema = graphql_schema or schema._schema
        self.limits = limits or Limits()
        self._introspection = introspection
        self._compile = compile_queries  # whether requests are compiled (`plan`), so worth compiling early
        # where validating, costing and compiling run (app.graphql.plan_workers): processes of their
        # own; None plans on the caller's thread (a planning process's own executor does)
        self._planner: Planner | None = None
        # the planning job of each (function, arguments) that runs: identical requests await it
        self._running: dict[bytes, asyncio.Future[Any]] = {}
        if planner_processes is not None:
            if graphql_schema is not None and planner_processes > 0:
                planner_processes = 0  # a planning process knows only the app's schema
            self._planner = planner(planner_processes)
        self._rules = [*specified_rules, *([] if introspection else [NoSchemaIntrospectionCustomRule])]
        # a document without `$` defines and uses no variable: the rules about variables, which walk
        # every operation through its fragments once more, have nothing to find in it
        self._rules_without_variables = [rule for rule in self._rules if rule not in _VARIABLE_RULES]
        # (graphql-core wraps each in the next: the last is outermost, so a connection whose string
        # arguments are too long is answered empty too)
        self._middleware = [string_cap(self.limits.max_string_length), answered_empty()]
        # without introspection, messages do not name what the schema holds either ("Did you mean")
        self._suggestions = introspection
        # documents of more than `max_cached_document` characters are parsed for each request:
        # kept, each would hold ~16 bytes per character for as long as it stays in the cache
        self._documents = ByteBudgetLRU(
            max_entries=cache_size,
            max_bytes=cache_bytes,
            max_entry_bytes=max_cached_document * DOCUMENT_BYTES_PER_CHAR + ENTRY_OVERHEAD,
        )
        self._plans = ByteBudgetLRU(max_entries=cache_size, max_bytes=cache_bytes, max_entry_bytes=cache_bytes // 8)
        self._costs = ByteBudgetLRU(max_entries=cache_size, max_bytes=cache_bytes, max_entry_bytes=cache_bytes)

    def start_planning(self) -> None:
        """Start the planning processes now rather than on the first request that needs them."""
        if self._planner is not None:
            self._planner.start()

    def cache_bytes(self) -> dict[str, int]:
        """Return the estimated bytes each cache holds (documents, plans, costs)."""
        return {"documents": self._documents.bytes, "plans": self._plans.bytes, "costs": self._costs.bytes}

    def prepare(self, query: str, operation_name: str | None) -> Prepared:
        """Return the parsed, validated document and the operation to run; raise RequestError."""
        key = digest(query)
        return self._prepared(query, key, self.checked(query, key), operation_name)

    def checked(self, query: str, key: bytes) -> Any:
        """Return what the cache keeps for the document of digest `key`: (document, validation
        errors), parsed and validated here if it is new; raise RequestError if it does not parse."""
        cached = self._documents.get(key)
        if cached is None:
            cached = self._documents.remember(key, self.parsed(query), len(query) * DOCUMENT_BYTES_PER_CHAR)
        return cached

    def off_loop(self, query: str) -> bool:
        """Return whether the planner validates, costs and compiles `query` (all but small documents)."""
        return self._planner is not None and (len(query) > SMALL_DOCUMENT or "..." in query)

    async def prepare_off_loop(self, query: str, operation_name: str | None) -> Prepared:
        """Return what `prepare` returns; a new document other than a small one is validated by the
        planner (validating costs up to quadratic time in the fields its fragments expand into),
        and not parsed here unless the resolvers must run it."""
        key = digest(query)
        cached = self._documents.get(key)
        if cached is None:
            if self.off_loop(query):
                outcome = await self._planned(validate_document, query, self.limits, self._introspection, self._compile)
                if isinstance(outcome, Accepted):
                    outline = Accepted(outcome.operations)  # the cost and plan are kept by request
                    cached = self._documents.remember(key, outline, 64 * len(outcome.operations) + 64)
                    if outcome.cost is not None:
                        # its only operation, a query without variables: one trip to the planner in all
                        prepared = self._prepared(query, key, cached, None)
                        self._keep(request_key(prepared, None), outcome.cost, outcome.plan)
                else:
                    errors: list[GraphQLError] = [
                        FormattedError({**e, "extensions": {**(e.get("extensions") or {}), "code": outcome.code}})
                        for e in outcome.errors
                    ]
                    size = sum(len(str(e)) for e in outcome.errors) * 2 + 64
                    cached = self._documents.remember(key, _Refused(errors, outcome.operation), size)
            else:
                cached = self._documents.remember(key, self.parsed(query), len(query) * DOCUMENT_BYTES_PER_CHAR)
        return self._prepared(query, key, cached, operation_name)

    def _keep(self, key: bytes | None, cost: int, plan: tuple[str, Plan | str | None] | None) -> None:
        """Keep the cost and the compiling's outcome of a request, as `cost_off_loop` and `plan` would."""
        if key is None:
            return
        self._costs.remember(key, cost, 32)
        if plan is not None and plan[0] != "failed":  # a failure is compiled (and logged) once more
            self._remember_plan(key, plan)

    def _remember_plan(self, key: bytes, outcome: tuple[str, Plan | str | None]) -> Any:
        """Keep what compiling a request gave (a Plan, _NO_PLAN, or why it is refused); return it."""
        kind, compiled = outcome
        if kind == "refused":
            return self._plans.remember(key, compiled, 256)
        if compiled is None:
            return self._plans.remember(key, _NO_PLAN, 0)
        assert isinstance(compiled, Plan)
        return self._plans.remember(key, compiled, len(compiled.sql) + 64 * len(compiled.params))

    async def _planned(self, function: Callable[..., T], *args: Any) -> T:
        """Return `function(*args)` as the planner ran it; RequestError when too much waits for it.

        Requests asking for the same job while it runs await that one job: 32 clients sending the
        same operation to a server whose caches are cold queue one job, not 32 (beyond the queue's
        bound, the others were refused)."""
        assert self._planner is not None
        try:
            key = hashlib.blake2b(pickle.dumps((function.__module__, function.__qualname__, args)), digest_size=16)
        except Exception:  # (arguments that do not pickle: the job is not shared)
            return await self._run_planned(function, *args)
        digest_ = key.digest()
        running = self._running.get(digest_)
        if running is None or running.get_loop() is not asyncio.get_running_loop():
            running = asyncio.ensure_future(self._run_planned(function, *args))
            self._running[digest_] = running
            running.add_done_callback(
                lambda done: self._running.pop(digest_, None) if self._running.get(digest_) is done else None
            )
        # shielded: a request that goes away does not cancel the job the others await
        result: T = await asyncio.shield(running)
        return result

    async def _run_planned(self, function: Callable[..., T], *args: Any) -> T:
        assert self._planner is not None
        try:
            return await self._planner.run(function, *args)
        except PlannerBusy as exc:
            raise RequestError([GraphQLError(exc.message)], exc.code) from None

    def _parse(self, query: str) -> DocumentNode:
        try:
            return parse(query, max_tokens=self.limits.max_tokens)
        except GraphQLError as exc:
            code = "LIMIT_EXCEEDED" if "tokens" in exc.message else "GRAPHQL_PARSE_FAILED"
            raise RequestError([exc], code) from None

    def parsed(self, query: str) -> tuple[DocumentNode, list[GraphQLError]]:
        """Return the document and its validation errors; raise RequestError if it does not parse."""
        document = self._parse(query)
        rules = self._rules if "$" in query else self._rules_without_variables
        errors = _aborted_as_limit(validate(self.schema, document, rules))
        if not errors and "\\u" in query:  # NUL can only be written as an escape in a string
            errors = nul_literals(document)
        if not self._suggestions:
            errors = [without_suggestions(e) for e in errors]
        return document, errors

    def _prepared(self, query: str, key: bytes, cached: Any, operation_name: str | None) -> Prepared:
        if isinstance(cached, _Refused):
            if cached.operation is not None and operation_name not in (None, cached.operation[0]):
                raise RequestError(
                    [GraphQLError(f"no operation named {operation_name!r} in the document")], "BAD_REQUEST"
                )
            cached = (None, cached.errors)
        if isinstance(cached, Accepted):  # validated by the planner: parsed here only if executed here
            index = _select(cached.operations, operation_name)
            name, kind = cached.operations[index]
            return Prepared(query, key, name, kind, index, parse=lambda: self._kept(query, key))
        document, errors = cached
        if errors or document is None:
            coded = (errors[0].extensions or {}).get("code") if errors else None
            raise RequestError(list(errors), str(coded or "GRAPHQL_VALIDATION_FAILED"))
        operations = _operations(document)
        index = _select([(op.name.value if op.name else None, op.operation) for op in operations], operation_name)
        return Prepared.of(query, document, operations[index], key)

    def _kept(self, query: str, key: bytes) -> DocumentNode:
        """Return the parsed `query` (the planner validated it), now kept in place of its outline."""
        document = self._parse(query)
        self._documents.remember(key, (document, []), len(query) * DOCUMENT_BYTES_PER_CHAR)
        return document

    def cost(self, prepared: Prepared, variables: dict[str, Any] | None) -> int:
        """Return the operation's cost in nodes; raise RequestError if it breaks a limit."""
        key = request_key(prepared, variables)
        known = self._costs.get(key) if key is not None else None
        if known is None:
            known = self.measured(prepared, variables)
            if key is not None:
                self._costs.remember(key, known, 256 if isinstance(known, str) else 32)
        return self._cost_or_refusal(known)

    async def cost_off_loop(self, prepared: Prepared, variables: dict[str, Any] | None) -> int:
        """Return what `cost` returns; measured by the planner for any document it validates."""
        key = request_key(prepared, variables)
        known = self._costs.get(key) if key is not None else None
        if known is None:
            measured: int | str
            if self.off_loop(prepared.source):
                # variables nested too deep to key (no input type nests so deep) do not coerce:
                # execution refuses them, and the cost is measured as without them
                sent = variables if key is not None else None
                measured = await self._planned(
                    measure_cost, prepared.source, prepared.operation_name, sent, self.limits, self._introspection
                )
            else:
                measured = self.measured(prepared, variables)
            if key is not None:
                self._costs.remember(key, measured, 256 if isinstance(measured, str) else 32)
            return self._cost_or_refusal(measured)
        return self._cost_or_refusal(known)

    def measured(self, prepared: Prepared, variables: dict[str, Any] | None) -> int | str:
        """Return the operation's cost, or why it is refused (kept like a cost: refused again at once)."""
        try:
            return check(self.schema, prepared.document, prepared.operation, variables, self.limits)
        except LimitError as exc:
            return str(exc)

    @staticmethod
    def _cost_or_refusal(known: int | str) -> int:
        if isinstance(known, str):
            raise RequestError([GraphQLError(known)], "LIMIT_EXCEEDED")
        return known

    async def plan(self, prepared: Prepared, variables: dict[str, Any] | None) -> Plan | None:
        """Return the operation compiled to one SQL statement, or None if the resolvers must answer it.

        Raise RequestError (LIMIT_EXCEEDED) if the statement would be longer than the limit.
        Plans are kept per document, operation and variables: the SQL of a request seen before is
        not built again. Compiling runs in the planner (app.graphql.plan_workers), never on the event
        loop, and stops as soon as the statement is sure to be over the limit."""
        key = request_key(prepared, variables)
        if key is None:
            return None  # variables nested deeper than any input type: the resolvers refuse them
        known = self._plans.get(key)
        if known is not None:
            if isinstance(known, str):  # refused before: the reason
                raise RequestError([GraphQLError(known)], "LIMIT_EXCEEDED")
            return None if known is _NO_PLAN else known
        name = prepared.operation_name
        if self._planner is not None:
            outcome = await self._planned(
                compile_plan, prepared.source, name, variables, self.limits, self._introspection
            )
        else:
            outcome = self.compiled(prepared, variables)
        if outcome[0] == "failed":
            # unexpected: logged, and the resolvers answer (masking any error as always)
            log.error("compiling %s failed:\n%s", name or "an operation", outcome[1])
            return None
        kept = self._remember_plan(key, outcome)
        if isinstance(kept, str):
            raise RequestError([GraphQLError(kept)], "LIMIT_EXCEEDED")
        return None if kept is _NO_PLAN else kept

    def compiled(self, prepared: Prepared, variables: dict[str, Any] | None) -> tuple[str, Plan | str | None]:
        """Return ("plan", the operation's Plan or None) or ("refused", why: the statement is too long)."""
        try:
            return "plan", compile_operation(
                schema,
                prepared.document,
                prepared.operation,
                variables,
                max_bytes=self.limits.max_sql_bytes,
                max_string_length=self.limits.max_string_length,
            )
        except PlanTooLarge as exc:
            return "refused", str(exc)  # the message only: the error holds the compiler's frames

    async def execute(
        self, prepared: Prepared, *, variables: dict[str, Any] | None, context: Context, root_value: Any = None
    ) -> ExecutionResult:
        """Run a prepared operation (a subscription's on one event: `root_value`); return its result, masked."""
        result = execute(
            self.schema,
            prepared.document,
            root_value=root_value,
            variable_values=variables,
            context_value=context,
            operation_name=prepared.operation_name,
            middleware=self._middleware,
        )
        if not isinstance(result, ExecutionResult):
            result = await result
        if context.errors:
            result.errors = [*(result.errors or []), *context.errors]
        return self._masked(result)

    def failed(self, prepared: Prepared, *, variables: dict[str, Any] | None, error: CodedError) -> ExecutionResult:
        """Return the result of an operation whose compiled statement failed with `error`, running no resolver.

        Each root field answers `error` in its place (`__typename` its name), and nulls
        propagate as the resolvers' answer would: the same shape, without running the work again."""

        def fail(next_: Callable[..., Any], root: Any, info: GraphQLResolveInfo[Any], **args: Any) -> Any:
            if info.path.prev is None and not info.field_name.startswith("__"):
                raise error
            return next_(root, info, **args)

        result = execute(
            self.schema,
            prepared.document,
            variable_values=variables,
            operation_name=prepared.operation_name,
            middleware=[fail],
        )
        assert isinstance(result, ExecutionResult)  # nothing ran that could await
        return self._masked(result)

    def _masked(self, result: ExecutionResult) -> ExecutionResult:
        if result.errors:
            result.errors = [mask(e) for e in result.errors]
            if not self._suggestions:
                result.errors = [without_suggestions(e) for e in result.errors]
        return result


_NO_PLAN = object()  # kept for operations only the resolvers answer


@dataclasses.dataclass(frozen=True)
class _Refused:
    """A document the planner refused, kept instead of the document; with `operation`, a query
    whose cost is over a limit whatever the variables, refused when a request selects it."""

    errors: list[GraphQLError]
    operation: tuple[str | None] | None = None


def request_key(prepared: Prepared, variables: dict[str, Any] | None) -> bytes | None:
    """Return what identifies a request's work (document, operation, variables); None if unkeyable."""
    name = prepared.operation_name or ""
    try:
        shown = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return None
    return hashlib.blake2b(prepared.key + name.encode() + b"\x00" + shown, digest_size=16).digest()


def is_mutation(prepared: Prepared) -> bool:
    """Return whether the operation would change anything (refused over GET)."""
    return prepared.operation_type is not OperationType.QUERY
