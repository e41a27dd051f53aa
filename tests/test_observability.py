"""Request ids, the JSON access log and GET /metrics, through the real app."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.logs import ACCESS_LOGGER, JsonFormatter, RequestIdFilter
from app.main import create_app
from app.observability import Metrics, escape_label
from app.roles import as_role
from tests.helpers import ROOT

GENERATED_ID = re.compile(r"[0-9a-f]{32}")
PROBE = "query ObsProbe { articles(first: 2) { totalCount edges { node { slug } } } }"
TOO_MANY = "query ObsTooMany { articles(first: 1000) { totalCount } }"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse_metrics(text: str) -> Samples:
    """Parse the Prometheus text format: {(name, labels): value}, label values unescaped."""
    samples: Samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name_end = min(i for i in (line.find("{"), line.find(" ")) if i >= 0)
        name, rest = line[:name_end], line[name_end:]
        labels: list[tuple[str, str]] = []
        if rest.startswith("{"):
            i = 1
            while rest[i] != "}":
                eq = rest.index("=", i)
                label = rest[i:eq]
                assert rest[eq + 1] == '"', line
                i, value = eq + 2, []
                while rest[i] != '"':
                    if rest[i] == "\\":
                        value.append({"\\": "\\", '"': '"', "n": "\n"}[rest[i + 1]])
                        i += 2
                    else:
                        value.append(rest[i])
                        i += 1
                labels.append((label, "".join(value)))
                i += 1
                if rest[i] == ",":
                    i += 1
            rest = rest[i + 1 :]
        samples[(name, frozenset(labels))] = float(rest.strip())
    return samples


def metric(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse_metrics(response.text)


# --- request ids -------------------------------------------------------------------------------


def test_a_request_id_is_generated_and_returned(api: TestClient) -> None:
    first = api.get("/healthz").headers["x-request-id"]
    second = api.post("/graphql", json={"query": "{ __typename }"}).headers["x-request-id"]
    assert GENERATED_ID.fullmatch(first)
    assert GENERATED_ID.fullmatch(second)
    assert first != second


@pytest.mark.parametrize("incoming", ["abc-123", "Client.req_42-x", "a" * 128])
def test_a_sane_incoming_request_id_is_kept(api: TestClient, incoming: str) -> None:
    response = api.get("/healthz", headers={"X-Request-ID": incoming})
    assert response.headers["x-request-id"] == incoming


@pytest.mark.parametrize("incoming", ["", "has space", 'quo"te', "a" * 129, "semi;colon", "ümlaut", "new\\line"])
def test_an_insane_incoming_request_id_is_replaced(api: TestClient, incoming: str) -> None:
    response = api.get("/healthz", headers={"X-Request-ID": incoming.encode()})
    assert GENERATED_ID.fullmatch(response.headers["x-request-id"])


def test_errors_and_non_graphql_routes_carry_the_id_too(api: TestClient) -> None:
    for response in (
        api.get("/no-such-page"),
        api.post("/graphql", content=b"not json", headers={"content-type": "application/json"}),
        api.put("/graphql"),
    ):
        assert response.status_code >= 400
        assert GENERATED_ID.fullmatch(response.headers["x-request-id"])


# --- logs ----------------------------------------------------------------------------------


def test_one_json_access_line_per_request_with_its_id(api: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    response = api.post("/graphql", json={"query": PROBE}, headers={"X-Request-ID": "access-log-1"})
    assert response.status_code == 200
    records = [
        r for r in caplog.records if r.name == ACCESS_LOGGER and getattr(r, "request_id", None) == "access-log-1"
    ]
    assert len(records) == 1
    line = JsonFormatter().format(records[0])
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["request_id"] == "access-log-1"
    assert entry["level"] == "INFO"
    assert entry["logger"] == ACCESS_LOGGER
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["ts"])
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", "/graphql", 200)
    assert entry["operation"] == "ObsProbe"
    assert entry["error_codes"] == []
    assert isinstance(entry["duration_ms"], float)
    assert entry["duration_ms"] > 0

    caplog.clear()
    api.post("/graphql", json={"query": TOO_MANY}, headers={"X-Request-ID": "access-log-2"})
    (record,) = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    entry = json.loads(JsonFormatter().format(record))
    assert entry["request_id"] == "access-log-2"
    assert entry["operation"] == "ObsTooMany"
    assert entry["error_codes"] == ["BAD_USER_INPUT"]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.addFilter(RequestIdFilter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def own_app(seeded_url: str) -> Iterator[TestClient]:
    """An app of the test's own, with two routes that log while they handle a request."""
    app = create_app(Settings(database_url=seeded_url, api_database_url=as_role(seeded_url)))
    log = logging.getLogger("tests.observability")

    async def async_route() -> dict[str, str]:
        log.warning("inside an async route")
        return {}

    def sync_route() -> dict[str, str]:  # runs in a worker thread
        log.warning("inside a sync route")
        return {}

    async def failing_route() -> dict[str, str]:
        raise RuntimeError("boom")

    app.add_api_route("/log-async", async_route)
    app.add_api_route("/log-sync", sync_route)
    app.add_api_route("/boom", failing_route)
    with TestClient(app) as client:
        yield client


def test_every_record_logged_during_a_request_gets_its_id(own_app: TestClient) -> None:
    handler = _Collect()
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.observability")
    logger.addHandler(handler)
    try:
        own_app.get("/log-async", headers={"X-Request-ID": "in-async"})
        own_app.get("/log-sync", headers={"X-Request-ID": "in-sync"})
        logger.warning("outside any request")
    finally:
        logger.removeHandler(handler)
    entries = [json.loads(line) for line in handler.lines]
    assert [(e["message"], e["request_id"]) for e in entries] == [
        ("inside an async route", "in-async"),
        ("inside a sync route", "in-sync"),
        ("outside any request", None),
    ]


def test_an_unhandled_error_is_logged_and_counted_as_a_500(
    own_app: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    with pytest.raises(RuntimeError, match="boom"):  # the test client re-raises what the server would log
        own_app.get("/boom", headers={"X-Request-ID": "it-failed"})
    (record,) = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    entry = json.loads(JsonFormatter().format(record))
    assert (entry["request_id"], entry["status"], entry["exception"]) == ("it-failed", 500, "RuntimeError")
    samples = scrape(own_app)
    assert metric(samples, "tradegraph_http_requests_total", method="GET", path="/boom", status="500") == 1
    assert metric(samples, "tradegraph_http_requests_in_flight") == 1


def test_log_format_json_configures_json_lines() -> None:
    """`configure_logging("json")` (what `tradegraph` runs with LOG_FORMAT=json), in a process of its own."""
    code = (
        "import logging\n"
        "from app.logs import configure_logging, request_id_var\n"
        "configure_logging('json')\n"
        "request_id_var.set('rid-1')\n"
        "logging.getLogger('app.x').warning('hello %s', 'world')\n"
        "logging.getLogger('tradegraph.access').info('GET / 200', extra={'status': 200})\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [(e["logger"], e["message"], e["request_id"]) for e in lines] == [
        ("app.x", "hello world", "rid-1"),
        ("tradegraph.access", "GET / 200", "rid-1"),
    ]
    assert lines[1]["status"] == 200


# --- metrics -------------------------------------------------------------------------------


def test_metrics_count_requests_time_operations_and_count_errors(api: TestClient) -> None:
    before = scrape(api)
    assert api.post("/graphql", json={"query": PROBE}).status_code == 200
    body = api.post("/graphql", json={"query": TOO_MANY}).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    api.post("/graphql", json={"query": "{ __typename }"})
    api.get("/no-such-page")
    after = scrape(api)

    def delta(name: str, **labels: str) -> float:
        return metric(after, name, **labels) - metric(before, name, **labels)

    requests = "tradegraph_http_requests_total"
    assert delta(requests, method="POST", path="/graphql", status="200") == 3
    assert delta(requests, method="GET", path="/metrics", status="200") == 1  # the first scrape
    assert delta(requests, method="GET", path="other", status="404") == 1  # unknown paths: one label value

    duration = "tradegraph_graphql_request_duration_seconds"
    assert delta(f"{duration}_count", operation="ObsProbe") == 1
    assert delta(f"{duration}_bucket", operation="ObsProbe", le="+Inf") == 1
    assert metric(after, f"{duration}_sum", operation="ObsProbe") > 0
    assert delta(f"{duration}_count", operation="ObsTooMany") == 1
    assert delta(f"{duration}_count", operation="anonymous") == 1
    buckets = sorted(
        (float(dict(labels)["le"]), value)
        for (name, labels), value in after.items()
        if name == f"{duration}_bucket" and dict(labels)["operation"] == "ObsProbe"
    )
    assert [v for _, v in buckets] == sorted(v for _, v in buckets), "buckets are cumulative"

    assert delta("tradegraph_graphql_errors_total", code="BAD_USER_INPUT") == 1


def test_metrics_is_not_timed_as_an_operation(api: TestClient) -> None:
    first = scrape(api)
    second = scrape(api)

    def timed(samples: Samples) -> float:
        return sum(v for (name, _), v in samples.items() if name == "tradegraph_graphql_request_duration_seconds_count")

    assert timed(first) == timed(second)
    assert not any(dict(labels).get("operation") == "metrics" for (_, labels) in second)


def test_metrics_show_the_pool_and_the_process(api: TestClient) -> None:
    api.post("/graphql", json={"query": PROBE})  # a request that used (and gave back) a connection
    samples = scrape(api)
    assert metric(samples, "tradegraph_db_pool_size") == 10
    assert metric(samples, "tradegraph_db_pool_checked_out") == 0
    assert metric(samples, "tradegraph_db_pool_idle") >= 1
    assert ("tradegraph_db_pool_overflow", frozenset()) in samples
    assert metric(samples, "process_resident_memory_bytes") > 10 * 2**20
    assert metric(samples, "tradegraph_http_requests_in_flight") == 1  # the scrape itself


def test_operation_labels_are_bounded() -> None:
    metrics = Metrics(max_operations=3)
    for name in ["A", "B", "C", "D", "x" * 65, None, "A"]:
        metrics.observe(method="POST", path="/graphql", status=200, seconds=0.01, graphql=True, operation=name)
    metrics.observe(method="BREW", path="/graphql", status=405, seconds=0.01)
    samples = parse_metrics(metrics.render())
    counts = {
        dict(labels)["operation"]: value
        for (name, labels), value in samples.items()
        if name == "tradegraph_graphql_request_duration_seconds_count"
    }
    # three names are kept; later and malformed ones share "other"; unnamed ones are "anonymous"
    assert counts == {"A": 2, "B": 1, "C": 1, "other": 2, "anonymous": 1}
    assert metric(samples, "tradegraph_http_requests_total", method="other", path="/graphql", status="405") == 1


def test_label_values_are_escaped() -> None:
    assert escape_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    metrics = Metrics()
    tricky = 'say "hi"\\ \nbye'
    metrics.observe(method="GET", path=tricky, status=200, seconds=0.001)
    text = metrics.render()
    assert 'path="say \\"hi\\"\\\\ \\nbye"' in text
    assert metric(parse_metrics(text), "tradegraph_http_requests_total", method="GET", path=tricky, status="200") == 1
