"""GraphQL over HTTP at /graphql, following the GraphQL-over-HTTP specification.

POST (application/json) and GET (queries only; a mutation over GET is 405, valid or not).
A request that is not well-formed (unparsable JSON, bad parameters) is a 400 whatever the media
type. Responses are `application/graphql-response+json` when the client accepts it — then a
request that cannot execute (syntax or validation errors, no such operation, bad variables) is a
400 without `data` — else `application/json`, where such requests answer 200 with `errors`.
A browser asking for HTML with no query gets GraphiQL.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from graphql import ExecutionResult, GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match, Route
from starlette.types import Scope

from app.config import Settings
from app.db import Reader
from app.errors import CodedError, DatabaseUnavailable, QueryTimeout
from app.graphql.compiler import Plan
from app.graphql.context import Context
from app.graphql.executor import Executor, Prepared, RequestError, is_mutation
from app.graphql.graphiql import graphiql_html
from app.graphql.limits import Limits, has_nul
from app.graphql.persisted import PersistedQueryNotFound

log = logging.getLogger(__name__)

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
SHOW_SQL_HEADER = "x-tradegraph-sql"
"""Outside production, a request with this header gets the SQL it ran in `extensions.sql`."""
statement_counter: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("statement_counter", default=None)
statement_log: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar(
    "statement_log", default=None
)

router = APIRouter()


def make_executor(settings: Settings) -> Executor:
    """Return the executor for an app: its limits, and introspection off in production."""
    return Executor(
        limits=Limits.of(settings),
        introspection=not settings.production,
        planner_processes=settings.planner_processes,
        compile_queries=settings.compile_queries,
    )


def _accept(header: str | None) -> str | None:
    """Return the response media type the client accepts best, or None if it accepts neither."""
    if not header:
        return JSON
    best: tuple[float, int, str] | None = None
    for position, part in enumerate(header.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        if q <= 0:
            continue
        if media == GRAPHQL_RESPONSE:
            choice = GRAPHQL_RESPONSE
        elif media in (JSON, "application/*", "*/*"):
            choice = JSON
        else:
            continue
        candidate = (q, -position, choice)
        if best is None or candidate > best:
            best = candidate
    return best[2] if best else None


def _wants_html(request: Request) -> bool:
    if request.app.state.settings.production:
        return False  # no GraphiQL in production
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "query" not in request.query_params


def _respond(
    request: Request, body: dict[str, Any], *, media: str, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    # for the access log and /metrics (app.observability): the code of each error in the answer
    request.state.graphql_error_codes = [
        str((e.get("extensions") or {}).get("code", "INTERNAL_SERVER_ERROR")) for e in body.get("errors", ())
    ]
    return Response(orjson.dumps(body), status_code=status, media_type=f"{media}; charset=utf-8", headers=headers or {})


def _not_acceptable(request: Request) -> Response:
    """406: the client accepts neither media type the API answers in. Coded JSON like every other
    error, as application/json (what a client that accepts nothing we speak most likely reads)."""
    body = {
        "errors": [
            {
                "message": f"accept {GRAPHQL_RESPONSE} or {JSON}: the API answers in no other media type",
                "extensions": {"code": "NOT_ACCEPTABLE"},
            }
        ]
    }
    return _respond(request, body, media=JSON, status=406)


def _request_error(request: Request, message: str, *, media: str, code: str = "BAD_REQUEST") -> Response:
    """A request that is not well-formed GraphQL-over-HTTP: 400 under either media type (spec: SHOULD)."""
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return _respond(request, body, media=media, status=400)


def _method_not_allowed(request: Request, media: str) -> Response:
    body = {
        "errors": [
            {
                "message": "only queries run over GET: a mutation goes by POST, a subscription over a WebSocket at "
                "/graphql",
                "extensions": {"code": "METHOD_NOT_ALLOWED"},
            }
        ]
    }
    return _respond(request, body, media=media, status=405, headers={"Allow": "POST"})


def _selects_non_query(query: str, operation_name: str | None, max_tokens: int) -> bool:
    """Return whether the document parses and the operation it selects is not a query.

    Used for GET requests the executor refused: a mutation is 405 even when it would not validate
    (the schema has no Mutation type at all)."""
    try:
        document = parse(query, max_tokens=max_tokens)  # no more work than the executor's own parse
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [op for op in operations if op.name is not None and op.name.value == operation_name]
    return len(operations) == 1 and operations[0].operation is not OperationType.QUERY


def _params(raw: Any, *, from_get: bool) -> tuple[str | None, str | None, dict[str, Any] | None, dict[str, Any] | None]:
    """Return (query, operationName, variables, extensions) of a request, or raise ValueError saying why not.

    The query may be absent when the request names a persisted one."""
    if not isinstance(raw, dict):
        raise ValueError("the request body must be a JSON object, or an array of them (a batch)")
    query = raw.get("query")
    if query is not None and (not isinstance(query, str) or not query.strip()):
        raise ValueError("`query` must be a non-empty string")
    operation_name = raw.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise ValueError("`operationName` must be a string or null")
    return query, operation_name, _object(raw, "variables", from_get), _object(raw, "extensions", from_get)


def _object(raw: dict[str, Any], name: str, from_get: bool) -> dict[str, Any] | None:
    """Return the request's parameter `name`, an object or null (over GET, JSON text); raise ValueError."""
    value = raw.get(name)
    if from_get and isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise ValueError(f"`{name}` must be a JSON object") from None
    if value is not None and not isinstance(value, dict):
        raise ValueError(f"`{name}` must be an object or null")
    return value


def _wants_sql(request: Request) -> bool:
    """Return whether to add the SQL an operation ran to its answer (development only)."""
    return not request.app.state.settings.production and request.headers.get(SHOW_SQL_HEADER, "") not in ("", "0")


async def _run(request: Request, raw: Any, *, media: str, from_get: bool) -> Response:
    try:
        sent_query, operation_name, variables, request_extensions = _params(raw, from_get=from_get)
    except ValueError as exc:
        return _request_error(request, str(exc), media=media)
    request.state.graphql_operation = operation_name  # for the access log and /metrics
    if has_nul(raw):
        # Postgres text cannot hold NUL: refuse it here, whatever field it was meant for
        return _request_error(request, "the request contains a NUL character", media=media, code="BAD_USER_INPUT")
    state = request.app.state
    try:
        resolved = state.persisted.document(sent_query, request_extensions, raw.get("documentId"))
    except PersistedQueryNotFound as exc:
        # 200, as Apollo's link expects before it sends the query with its hash
        not_found: dict[str, Any] = {"errors": [{"message": exc.message, "extensions": exc.extensions}]}
        return _respond(request, not_found, media=media, headers={"Cache-Control": "no-store"})
    except CodedError as exc:
        return _request_error(request, exc.message, media=media, code=exc.code)
    query = resolved.query
    if query is None:
        return _request_error(request, "`query` must be a non-empty string", media=media)
    executor: Executor = state.executor
    try:
        prepared = await executor.prepare_off_loop(query, operation_name)
        request.state.graphql_operation = prepared.operation_name
        if from_get and is_mutation(prepared):
            return _method_not_allowed(request, media)
        if prepared.operation_type is OperationType.SUBSCRIPTION:
            return _request_error(
                request, "subscriptions run over a WebSocket at /graphql (graphql-transport-ws)", media=media
            )
        cost = await executor.cost_off_loop(prepared, variables)
    except RequestError as exc:
        if from_get and _selects_non_query(query, operation_name, executor.limits.max_tokens):
            return _method_not_allowed(request, media)
        body = {"errors": [{**e.formatted, "extensions": {"code": exc.code}} for e in exc.errors]}
        return _respond(request, body, media=media, status=400 if media == GRAPHQL_RESPONSE else 200)
    db = Reader(state.async_engine)
    counter: list[int] = [0]
    token = statement_counter.set(counter)
    shown: list[dict[str, Any]] | None = [] if _wants_sql(request) else None
    log_token = statement_log.set(shown)
    plan = None
    try:
        if state.settings.compile_queries:
            try:
                plan = await executor.plan(prepared, variables)
            except RequestError as exc:  # the compiled statement would be over the limit: refused, nothing ran
                body = {"errors": [{**e.formatted, "extensions": {"code": exc.code}} for e in exc.errors]}
                return _respond(request, body, media=media, status=400 if media == GRAPHQL_RESPONSE else 200)
        # parsed, validated and within every limit: only now may its hash stand for it
        state.persisted.register(resolved)
        failure: QueryTimeout | DatabaseUnavailable | None = None
        try:
            data = await _compiled(prepared, plan, db) if plan is not None else None
        except (QueryTimeout, DatabaseUnavailable) as exc:
            data, failure = None, exc
        if failure is not None:
            # answered as it is: the resolvers would only run the work again, to fail the same way
            result = executor.failed(prepared, variables=variables, error=failure)
        elif data is None:
            if shown:
                shown.clear()  # the compiled statement found a reference missing: the resolvers answer
            context = Context.for_request(db, state.settings)
            result = await executor.execute(prepared, variables=variables, context=context)
    finally:
        statement_log.reset(log_token)
        statement_counter.reset(token)
        await db.close()
    extensions: dict[str, Any] = {"cost": {"requestedNodes": cost, "limit": executor.limits.max_cost}}
    if state.settings.expose_statement_count:
        extensions["sqlStatements"] = counter[0]
    if shown is not None:
        extensions["sql"] = {"compiled": data is not None or failure is not None, "statements": shown}
    if data is not None:
        # the JSON Postgres built goes out as it is, without being parsed
        request.state.graphql_error_codes = []
        raw = b'{"data":' + data.encode() + b',"extensions":' + orjson.dumps(extensions, default=str) + b"}"
        return Response(raw, media_type=f"{media}; charset=utf-8")
    return _result_response(request, result, media=media, extensions=extensions)


async def _compiled(prepared: Prepared, plan: Plan, db: Reader) -> str | None:
    """Return the operation's `data` as JSON text from its compiled statement, or None to use the resolvers.

    Raise QueryTimeout or DatabaseUnavailable when the statement failed so."""
    try:
        data, references_exist = await db.one_sql(plan.sql, plan.params, prepare=plan.prepare)
    except (QueryTimeout, DatabaseUnavailable):
        raise  # the caller answers it in each root field's place
    except CodedError:
        # a value the database cannot read (BAD_USER_INPUT): the resolvers place it at its field
        return None
    except Exception:
        # unexpected: logged here, and the resolvers answer, with the error masked as always
        log.exception(
            "the compiled statement of %s failed",
            prepared.operation_name or "an operation",
        )
        return None
    # a filter naming nothing is refused with NOT_FOUND: the resolvers say so, in their place
    return str(data) if references_exist else None


def _result_response(request: Request, result: ExecutionResult, *, media: str, extensions: dict[str, Any]) -> Response:
    errors = [e.formatted for e in result.errors or []]
    if result.data is None and errors and all(e.get("path") is None for e in errors):
        # nothing executed (e.g. variables that do not coerce): a request error, no `data`
        return _respond(request, {"errors": errors}, media=media, status=400 if media == GRAPHQL_RESPONSE else 200)
    body: dict[str, Any] = {}
    if errors:
        body["errors"] = errors
    body["data"] = result.data
    body["extensions"] = extensions
    return _respond(request, body, media=media)


def _cached(request: Request, response: Response) -> Response:
    """Return a GET answer with its ETag and Cache-Control, or 304 when the client has it already.

    Only answers without errors may be kept: the data changes only when a seed commits."""
    if response.status_code != 200 or request.state.graphql_error_codes or _wants_sql(request):
        response.headers["Cache-Control"] = "no-store"
        return response
    etag = '"' + hashlib.sha256(response.body).hexdigest()[:32] + '"'
    max_age = request.app.state.settings.cache_max_age
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={max_age}" if max_age else "no-cache",
        "Vary": "Accept",
    }
    sent = request.headers.get("if-none-match", "")
    if sent.strip() == "*" or etag in (tag.strip().removeprefix("W/") for tag in sent.split(",")):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response


# HEAD as GET (HTTP asks every server to support both): the same status and headers, ETag
# included; the server sends no body
@router.api_route("/graphql", methods=["GET", "HEAD"], response_model=None, include_in_schema=False)
async def graphql_get(request: Request) -> Response:
    """Execute a query given in the URL, or serve GraphiQL to a browser."""
    if _wants_html(request):
        # the same URL answers JSON to other clients: a cache must tell them apart, and keep no page
        return HTMLResponse(graphiql_html(), headers={"Vary": "Accept", "Cache-Control": "no-cache"})
    media = _accept(request.headers.get("accept"))
    if media is None:
        return _not_acceptable(request)
    response = await _run(request, dict(request.query_params), media=media, from_get=True)
    return _cached(request, response)


CLIENT_CLOSED_REQUEST = 499


async def graphql_post(request: Request) -> Response:
    """Execute a GraphQL request sent as JSON."""
    media = _accept(request.headers.get("accept"))
    if media is None:
        return _not_acceptable(request)
    content_type, *parameters = (part.strip().lower() for part in request.headers.get("content-type", "").split(";"))
    charset = next((p.partition("=")[2].strip('"') for p in parameters if p.startswith("charset=")), "utf-8")
    # a compressed body would be read as its compressed bytes: refused, as other encodings are
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if content_type != JSON or charset not in ("utf-8", "utf8") or encoding not in ("identity", ""):
        request.state.graphql_error_codes = ["UNSUPPORTED_MEDIA_TYPE"]  # for the access log and /metrics
        return Response(
            orjson.dumps(
                {
                    "errors": [
                        {
                            "message": "send the request as application/json, in UTF-8, without a Content-Encoding",
                            "extensions": {"code": "UNSUPPORTED_MEDIA_TYPE"},
                        }
                    ]
                }
            ),
            status_code=415,
            media_type=f"{media}; charset=utf-8",
        )
    try:
        body = await request.body()
    except ClientDisconnect:
        # the client went away (or was cut off for sending too slowly) before its body arrived: no
        # one to answer, and no fault of the server's (nginx's 499 in the access log and /metrics)
        request.state.graphql_error_codes = ["CLIENT_DISCONNECTED"]
        return Response(status_code=CLIENT_CLOSED_REQUEST)
    if not body:
        return _request_error(request, "the request body is empty", media=media)
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        # (orjson says why and where: "number is infinity when parsed as double: line 1 column 7")
        return _request_error(request, f"the request body is not valid JSON ({exc})", media=media)
    if isinstance(raw, list):
        return await _batch(request, raw, media=media)
    return await _run(request, raw, media=media, from_get=False)


class _Route(Route):
    """A Starlette route that records itself in the scope as FastAPI's do (the metrics' path label)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is not Match.NONE:
            child["route"] = self
        return match, child


# POST, the hot path, is a plain Starlette route, placed first among the app's (`create_app`):
# FastAPI's dependency solving and route wrapping cost about 0.05 ms of a 1 ms answer, for a
# handler that takes nothing but the request
post_route = _Route("/graphql", graphql_post, methods=["POST"], include_in_schema=False)


async def _batch(request: Request, items: list[Any], *, media: str) -> Response:
    """Answer a batch (a JSON array of requests) with the array of their answers, in order."""
    limit = request.app.state.settings.max_batch
    if not items or len(items) > limit:
        return _request_error(request, f"a batch holds 1 to {limit} operations, not {len(items)}", media=media)
    bodies: list[bytes] = []
    codes: list[str] = []
    for item in items:
        request.state.graphql_error_codes = []
        answer = await _run(request, item, media=media, from_get=False)
        bodies.append(bytes(answer.body))
        codes += request.state.graphql_error_codes
    request.state.graphql_error_codes = codes  # for the access log and /metrics
    request.state.graphql_operation = "batch"
    return Response(b"[" + b",".join(bodies) + b"]", media_type=f"{media}; charset=utf-8")


@router.api_route(
    "/graphql", methods=["PUT", "PATCH", "DELETE", "OPTIONS"], response_model=None, include_in_schema=False
)
async def graphql_other_methods() -> Response:
    """Any other method: 405 naming the methods the endpoint serves (routing alone would say only GET and HEAD)."""
    raise StarletteHTTPException(status_code=405, headers={"Allow": "GET, HEAD, POST"})  # answered as JSON by the app
