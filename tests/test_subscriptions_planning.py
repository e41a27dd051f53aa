"""Operations over the WebSocket are planned like those over HTTP: by the planner, behind its bounded queue."""

from __future__ import annotations

import concurrent.futures
import contextlib
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app.config import Settings
from app.graphql import executor as executor_module
from app.graphql import plan_workers as planner_module
from app.main import create_app
from app.roles import as_role

# fragments: validated by the planner whatever the document's size
FRAGMENT_QUERY = "query { ...F } fragment F on Query { __typename }"
INVALID_SUBSCRIPTION = "subscription { ...S } fragment S on Subscription { nope }"
SMALL_QUERY = "{ __typename }"


@pytest.fixture
def planned(seeded_url: str) -> Iterator[tuple[TestClient, list[str]]]:
    """Yield a client of an app planning in a thread (planner_processes=0), and the documents it validated."""
    validated: list[str] = []
    validate = planner_module.validate_document

    def recording(query: str, *args: Any) -> Any:
        validated.append(query)
        return validate(query, *args)

    settings = Settings(database_url=seeded_url, api_database_url=as_role(seeded_url), planner_processes=0)
    with (
        mock.patch.dict(planner_module._PLANNERS, clear=True),
        mock.patch.object(executor_module, "validate_document", recording),
        TestClient(create_app(settings)) as client,
    ):
        try:
            yield client, validated
        finally:
            planner_module.planner(0).shutdown()


def _subscribe(ws: Any, op_id: str, query: str) -> list[dict[str, Any]]:
    """Send `subscribe` and return the messages for `op_id` up to its `error` or `complete`."""
    ws.send_json({"id": op_id, "type": "subscribe", "payload": {"query": query}})
    messages = []
    while True:
        message = ws.receive_json()
        if message.get("id") != op_id:
            continue
        messages.append(message)
        if message["type"] in ("error", "complete"):
            return messages


@contextlib.contextmanager
def _connected(client: TestClient) -> Iterator[Any]:
    """Yield an acknowledged graphql-transport-ws socket; then have the server close it (its handler returns)."""
    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json()["type"] == "connection_ack"
        yield ws
        ws.send_text("{}")  # not a message of the protocol: closed with 4400
        with pytest.raises(WebSocketDisconnect):
            _drain(ws)


def _drain(ws: Any) -> None:
    while True:
        ws.receive_json()


def test_operations_over_the_socket_are_validated_by_the_planner(planned: tuple[TestClient, list[str]]) -> None:
    client, validated = planned
    with _connected(client) as ws:
        answered = _subscribe(ws, "q", FRAGMENT_QUERY)
        assert [m["type"] for m in answered] == ["next", "complete"], answered
        assert answered[0]["payload"]["data"] == {"__typename": "Query"}
        refused = _subscribe(ws, "s", INVALID_SUBSCRIPTION)
        assert refused[-1]["type"] == "error", refused
        assert refused[-1]["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert validated == [FRAGMENT_QUERY, INVALID_SUBSCRIPTION]


def test_a_full_planning_queue_refuses_a_subscription_and_keeps_the_socket(
    planned: tuple[TestClient, list[str]],
) -> None:
    client, validated = planned
    planner_module.planner(0).max_queued = 0  # every job is refused: the queue is full
    with _connected(client) as ws:
        refused = _subscribe(ws, "a", "subscription { ...S } fragment S on Subscription { articleAdded { slug } }")
        assert refused[-1]["type"] == "error", refused
        assert refused[-1]["payload"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        # a small document without fragments is validated here and, over the socket, not compiled
        answered = _subscribe(ws, "b", SMALL_QUERY)
        assert [m["type"] for m in answered] == ["next", "complete"], answered
    assert validated == []


def test_identical_requests_share_one_planning_job(
    planned: tuple[TestClient, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # a queue of one and a job that takes a while: without sharing, all but the first are refused
    client, validated = planned
    planner_module.planner(0).max_queued = 1
    recording = vars(executor_module)["validate_document"]  # the fixture's recording function

    def slow(*args: Any) -> Any:
        time.sleep(0.3)
        return recording(*args)

    monkeypatch.setattr(executor_module, "validate_document", slow)
    with concurrent.futures.ThreadPoolExecutor(8) as clients:
        answers = list(clients.map(lambda _: client.post("/graphql", json={"query": FRAGMENT_QUERY}), range(8)))
    assert [a.json()["data"] for a in answers] == [{"__typename": "Query"}] * 8
    assert validated == [FRAGMENT_QUERY], "one planning job for the eight"
    # another document, while none runs: planned anew
    other = FRAGMENT_QUERY.replace("F", "G")
    assert client.post("/graphql", json={"query": other}).json()["data"] == {"__typename": "Query"}
    assert validated == [FRAGMENT_QUERY, other]
