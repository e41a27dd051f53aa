"""The strawberry schema, and execution with parse/validation caches and masked errors."""

from __future__ import annotations

import dataclasses
import logging
from collections import OrderedDict
from typing import Any

import orjson
import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    Visitor,
    execute,
    parse,
    specified_rules,
    validate,
    visit,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.schema.config import StrawberryConfig

from app.errors import CodedError
from app.graphql.compiler import Plan, compile_operation
from app.graphql.context import Context
from app.graphql.limits import LimitError, Limits, check
from app.graphql.resolvers import Query
from app.graphql.types import Article, Event, Organisation, Person, Place, TradeFigure

log = logging.getLogger(__name__)

schema = strawberry.Schema(
    query=Query,
    types=[Article, Event, Organisation, Person, Place, TradeFigure],
    config=StrawberryConfig(auto_camel_case=True),
)


def sdl() -> str:
    """Return the schema in SDL, as committed in schema/schema.graphql."""
    return schema.as_str() + "\n"


def _nul_literals(document: DocumentNode) -> list[GraphQLError]:
    """Return an error for each string literal holding NUL (written as \\u0000), which Postgres cannot store."""
    found: list[GraphQLError] = []

    class Finder(Visitor):
        def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
            if "\x00" in node.value:
                found.append(
                    GraphQLError(
                        "a string in the document contains a NUL character", node, extensions={"code": "BAD_USER_INPUT"}
                    )
                )

    visit(document, Finder())
    return found


class RequestError(Exception):
    """A GraphQL request that cannot be executed: bad syntax, invalid, or no such operation."""

    def __init__(self, errors: list[GraphQLError], code: str) -> None:
        self.errors = errors
        self.code = code
        super().__init__("; ".join(e.message for e in errors))


class _LRU(OrderedDict[str, Any]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def remember(self, key: str, value: Any) -> Any:
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.size:
            self.popitem(last=False)
        return value


@dataclasses.dataclass(frozen=True)
class Prepared:
    source: str
    document: DocumentNode
    operation: OperationDefinitionNode


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
    ) -> None:
        self.schema = graphql_schema or schema._schema
        self.limits = limits or Limits()
        self._rules = [*specified_rules, *([] if introspection else [NoSchemaIntrospectionCustomRule])]
        self._documents = _LRU(cache_size)
        self._plans = _LRU(cache_size)
        self._costs = _LRU(cache_size)

    def prepare(self, query: str, operation_name: str | None) -> Prepared:
        """Return the parsed, validated document and the operation to run; raise RequestError."""
        cached = self._documents.get(query)
        if cached is None:
            try:
                document = parse(query, max_tokens=self.limits.max_tokens)
            except GraphQLError as exc:
                code = "LIMIT_EXCEEDED" if "tokens" in exc.message else "GRAPHQL_PARSE_FAILED"
                raise RequestError([exc], code) from None
            errors = validate(self.schema, document, self._rules) or _nul_literals(document)
            cached = self._documents.remember(query, (document, errors))
        document, errors = cached
        if errors:
            coded = (errors[0].extensions or {}).get("code")
            raise RequestError(list(errors), str(coded or "GRAPHQL_VALIDATION_FAILED"))
        return Prepared(query, document, self._operation(document, operation_name))

    @staticmethod
    def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if name is None:
            if len(operations) == 1:
                return operations[0]
            raise RequestError(
                [GraphQLError("the document has several operations: give `operationName`")], "BAD_REQUEST"
            )
        for op in operations:
            if op.name is not None and op.name.value == name:
                return op
        raise RequestError([GraphQLError(f"no operation named {name!r} in the document")], "BAD_REQUEST")

    def cost(self, prepared: Prepared, variables: dict[str, Any] | None) -> int:
        """Return the operation's cost in nodes; raise RequestError if it breaks a limit."""
        key = _request_key(prepared, variables)
        if key is not None and key in self._costs:
            self._costs.move_to_end(key)
            return int(self._costs[key])
        try:
            cost = check(self.schema, prepared.document, prepared.operation, variables, self.limits)
        except LimitError as exc:
            raise RequestError([GraphQLError(str(exc))], "LIMIT_EXCEEDED") from None
        if key is not None:
            self._costs.remember(key, cost)
        return cost

    def plan(self, prepared: Prepared, variables: dict[str, Any] | None) -> Plan | None:
        """Return the operation compiled to one SQL statement, or None if the resolvers must answer it.

        Plans are kept per document, operation and variables: the SQL of a request seen before is
        not built again."""
        key = _request_key(prepared, variables)
        if key is None:
            return None  # variables nested deeper than any input type: the resolvers refuse them
        if key in self._plans:
            self._plans.move_to_end(key)
            plan: Plan | None = self._plans[key]
            return plan
        compiled = compile_operation(schema, prepared.document, prepared.operation, variables)
        self._plans.remember(key, compiled)
        return compiled

    async def execute(
        self, prepared: Prepared, *, variables: dict[str, Any] | None, context: Context
    ) -> ExecutionResult:
        """Run a prepared operation; return its result with internal errors masked."""
        operation = prepared.operation
        result = execute(
            self.schema,
            prepared.document,
            variable_values=variables,
            context_value=context,
            operation_name=operation.name.value if operation.name else None,
        )
        if not isinstance(result, ExecutionResult):
            result = await result
        if context.errors:
            result.errors = [*(result.errors or []), *context.errors]
        if result.errors:
            result.errors = [mask(e) for e in result.errors]
        return result


def _request_key(prepared: Prepared, variables: dict[str, Any] | None) -> str | None:
    """Return what identifies a request's work (document, operation, variables); None if unkeyable."""
    name = prepared.operation.name.value if prepared.operation.name else ""
    try:
        shown = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS).decode()
    except orjson.JSONEncodeError:
        return None
    return "\x00".join((prepared.source, name, shown))


def is_mutation(prepared: Prepared) -> bool:
    """Return whether the operation would change anything (refused over GET)."""
    return prepared.operation.operation is not OperationType.QUERY


def mask(error: GraphQLError) -> GraphQLError:
    """Return the error as clients may see it: coded errors as they are, others masked."""
    original = error.original_error
    if isinstance(original, CodedError):
        return GraphQLError(
            original.message, error.nodes, error.source, error.positions, error.path, None, original.extensions
        )
    if error.path is None:
        # raised before any field ran: variables that do not coerce to their types
        return GraphQLError(
            error.message, error.nodes, error.source, error.positions, None, None, {"code": "BAD_USER_INPUT"}
        )
    if original is None or (isinstance(original, GraphQLError) and (original.extensions or {}).get("code")):
        # graphql-core's own field errors (a null for a non-null field) and already coded ones
        extensions = (
            error.extensions if error.extensions and "code" in error.extensions else {"code": "INTERNAL_SERVER_ERROR"}
        )
        return GraphQLError(error.message, error.nodes, error.source, error.positions, error.path, None, extensions)
    log.error("unexpected error in a resolver at %s", error.path, exc_info=original)
    return GraphQLError(
        "Internal server error",
        error.nodes,
        error.source,
        error.positions,
        error.path,
        None,
        {"code": "INTERNAL_SERVER_ERROR"},
    )
