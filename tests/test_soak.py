"""scripts/soak.py, briefly: it starts the real server on the seeded database, drives every
example operation at it from its own process, reports, and stops the server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT

SOAK = ROOT / "scripts" / "soak.py"


def test_a_short_soak_has_no_errors(seeded_url: str, tmp_path: Path) -> None:
    server_log = tmp_path / "server.log"
    result = subprocess.run(
        [
            sys.executable,
            str(SOAK),
            "--seconds",
            "5",
            "--clients",
            "8",
            "--database-url",
            seeded_url,
            "--server-log",
            str(server_log),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{server_log.read_text()}"
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["errors"] == 0
    assert report["requests"] > 0
    assert report["req_per_s"] > 0
    operations = {p.stem.removesuffix(".variables") for p in (ROOT / "schema" / "operations").iterdir()}
    assert set(report["operations"]) == operations, "every example operation was sent"
    assert 0 < report["p50_ms"] <= report["p95_ms"] <= report["p99_ms"]
    assert report["rss_start_bytes"] > 0
    assert report["rss_end_bytes"] > 0
    assert report["pool_at_end"]["checked_out"] == 0
    assert "req/s" in result.stdout  # the table

    # the server ran with LOG_FORMAT=json: one access line, with a request id, per request
    lines = [json.loads(line) for line in server_log.read_text().splitlines() if line.startswith("{")]
    graphql = [e for e in lines if e["logger"] == "tradegraph.access" and e["path"] == "/graphql"]
    assert len(graphql) == report["requests"]
    assert all(e["status"] == 200 and e["error_codes"] == [] and e["request_id"] for e in graphql)
    assert len({e["request_id"] for e in graphql}) == len(graphql)
    assert "stopped by SIGTERM" in server_log.read_text()


def test_it_refuses_a_target_that_is_not_loopback() -> None:
    result = subprocess.run(
        [sys.executable, str(SOAK), "--url", "http://192.0.2.1:8000", "--seconds", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "loopback" in result.stderr
