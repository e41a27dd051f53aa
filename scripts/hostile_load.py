#!/usr/bin/env python3
"""Hostile load: small documents that expand, hostile values, and documents that fill caches.

    .venv/bin/python scripts/hostile_load.py --database-url postgresql://... [--seconds 20] [--clients 4]

Starts `tradegraph serve --host 127.0.0.1 --port P` on the (migrated, seeded) database, waits
for /readyz and for one request its planning processes answer (so that they have started), then
measures two things and stops the server with SIGTERM:

1. Work before execution: `--clients` concurrent clients send documents of at most 8 KB built
   to make planning expensive (ten levels of single objects through fragments under 30 root
   aliases, pages of zero items nested through fragments, 480 aliased fields, long strings,
   tsquery operator runs, cursors nesting JSON 700 deep) for `--seconds`, while a process of
   its own asks /healthz every 50 ms. It prints the latency of each kind (max, p99) and of /healthz.
   Targets: every hostile request answered or refused within 0.5 s, /healthz within 0.1 s.
   It prints too the CPU time the server spent meanwhile, in the serving process (whose event
   loop answers /healthz) and in its planning processes: unlike latencies, these hardly depend
   on what else the machine runs. `PLANNER_PROCESSES=0` in the environment plans in a thread of
   the serving process instead, for comparison.
2. Cache memory: the server's RSS before and after 300 distinct documents of ~150 KB each
   (1,600 aliases of __typename and a long comment). Target: it grows by less than 100 MB.

With `--profile FILE`, py-spy (a dev dependency) samples the serving process during the work
phase and writes its stacks to FILE, one collapsed stack a line with its sample count (flame
graph input; `--profile-idle` counts idle samples too): where its event loop spends its time.

It prints a table and one JSON line. Exit status 0 when every target is met, 1 when one is not,
2 when the server could not be started. Only loopback addresses are contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.hostile_documents import b64, big_document, connection_tree, single_object_tree  # noqa: E402
from tests.servers import ServerFailed, serving  # noqa: E402

HEADERS = {"content-type": "application/json", "accept": "application/json"}
HOSTILE_TARGET_S = 0.5
HEALTHZ_TARGET_S = 0.1
GROWTH_TARGET_MB = 100.0


def hostile_requests() -> dict[str, dict[str, Any]]:
    """Return one request (a JSON body of at most 8 KB) per kind of attack."""
    search = "query($q: String!) { search(query: $q) { totalCount nodes { rank } } }"
    requests: dict[str, dict[str, Any]] = {
        "objects 10x30": {"query": single_object_tree(10, 30)},
        "objects 4x30": {"query": single_object_tree(4, 30)},
        "objects 5x10": {"query": single_object_tree(5, 10)},
        "objects 6x3": {"query": single_object_tree(6, 3)},
        "empty pages 3": {"query": connection_tree(3, 2)},
        "480 aliases": {"query": "{ " + " ".join(f"a{i}: __typename" for i in range(480)) + " }"},
        "dash run": {"query": search, "variables": {"q": "-" * 40 + "a"}},
        "long filter text": {
            "query": "query($q: String) { articles(filter: { text: $q }) { totalCount } }",
            "variables": {"q": "ab " * 2600},
        },
        "nested cursor": {
            "query": "query($c: String) { articles(after: $c) { nodes { slug } } }",
            "variables": {"c": b64(b"[" * 740)},
        },
    }
    for name, body in requests.items():
        size = len(json.dumps(body))
        assert size <= 8 * 1024, f"{name}: {size} bytes"
    return requests


@contextlib.contextmanager
def started_server(database_url: str | None) -> Iterator[tuple[str, psutil.Process]]:
    """Start `tradegraph serve` on loopback; yield its base URL and process once ready; SIGTERM it."""
    env = dict(os.environ)
    if database_url:
        env["DATABASE_URL"] = database_url
    with tempfile.TemporaryDirectory(prefix="tradegraph-hostile-") as tmp:
        try:
            with serving(env, logs=Path(tmp), timeout=120) as served:
                yield served.base, psutil.Process(served.proc.pid)
        except ServerFailed as exc:
            raise SystemExit(str(exc)) from None


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def probe(base: str, seconds: float) -> list[float]:
    """Return the latencies of /healthz, asked every 50 ms for `seconds` (in a process of its own)."""
    latencies: list[float] = []
    stop = time.monotonic() + seconds
    with httpx.Client(base_url=base, timeout=30, trust_env=False) as http:
        while time.monotonic() < stop:
            started = time.perf_counter()
            http.get("/healthz")
            latencies.append(time.perf_counter() - started)
            time.sleep(0.05)
    return latencies


async def work_phase(base: str, seconds: float, clients: int) -> dict[str, Any]:
    requests = hostile_requests()
    latencies: dict[str, list[float]] = {name: [] for name in requests}
    codes: dict[str, set[str]] = {name: set() for name in requests}
    statuses: dict[str, set[int]] = {name: set() for name in requests}
    stop = time.monotonic() + seconds

    async def client(offset: int) -> None:
        names = list(requests)
        async with httpx.AsyncClient(base_url=base, timeout=30, trust_env=False) as http:
            i = offset
            while time.monotonic() < stop:
                name = names[i % len(names)]
                i += 1
                # a comment of its own: every request is a new document, as an attacker would send
                # it, so nothing comes from the server's caches
                body = {**requests[name], "query": f"# {offset}-{i}\n" + requests[name]["query"]}
                started = time.perf_counter()
                response = await http.post("/graphql", content=json.dumps(body), headers=HEADERS)
                latencies[name].append(time.perf_counter() - started)
                statuses[name].add(response.status_code)
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    codes[name] |= {e["extensions"]["code"] for e in response.json().get("errors", [])}

    # the probe runs in a process of its own: the clients' work does not delay its own timing
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        probing = asyncio.wrap_future(pool.submit(probe, base, seconds))
        await asyncio.gather(*(client(i) for i in range(clients)))
        healthz = await probing
    return {
        "kinds": {
            name: {
                "requests": len(values),
                "p50_s": percentile(values, 50),
                "p99_s": percentile(values, 99),
                "max_s": max(values, default=float("nan")),
                "statuses": sorted(statuses[name]),
                "codes": sorted(codes[name]),
            }
            for name, values in latencies.items()
        },
        "healthz": {
            "requests": len(healthz),
            "p50_s": percentile(healthz, 50),
            "p99_s": percentile(healthz, 99),
            "max_s": max(healthz),
        },
    }


def memory_phase(base: str, process: psutil.Process, documents: int) -> dict[str, Any]:
    with httpx.Client(base_url=base, timeout=60, trust_env=False) as http:
        http.post("/graphql", content=json.dumps({"query": big_document(-1)}), headers=HEADERS)  # warm-up
        before = process.memory_info().rss
        peak = before
        for i in range(documents):
            http.post("/graphql", content=json.dumps({"query": big_document(i)}), headers=HEADERS)
            if i % 25 == 0:
                peak = max(peak, process.memory_info().rss)
        after = process.memory_info().rss
    return {
        "documents": documents,
        "document_bytes": len(big_document(0)),
        "rss_before_mb": before / 2**20,
        "rss_after_mb": after / 2**20,
        "rss_peak_mb": max(peak, after) / 2**20,
        "growth_mb": (after - before) / 2**20,
    }


def cpu_seconds(process: psutil.Process) -> tuple[float, float]:
    """Return the CPU time (user + system) of the serving process and of all its children."""
    own = process.cpu_times()
    children = 0.0
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            times = child.cpu_times()
            children += times.user + times.system
    return own.user + own.system, children


def profiling(pid: int, output: Path, seconds: float, idle: bool) -> subprocess.Popen[bytes]:
    """Start py-spy sampling process `pid` (its threads, not its children) for `seconds` into `output`."""
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        raise SystemExit("--profile needs py-spy (pip install -e '.[dev]')")
    command = [spy, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))), "--rate", "200"]
    command += ["--format", "raw", "--output", str(output), "--nonblocking", *(["--idle"] if idle else [])]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="a migrated, seeded database (default: DATABASE_URL or embedded)")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of the work phase")
    parser.add_argument("--clients", type=int, default=4, help="concurrent hostile clients")
    parser.add_argument("--documents", type=int, default=300, help="distinct large documents of the memory phase")
    parser.add_argument("--profile", type=Path, help="write py-spy's samples of the serving process here")
    parser.add_argument("--profile-idle", action="store_true", help="with --profile: count idle samples too")
    args = parser.parse_args()
    with started_server(args.database_url) as (base, process):
        with httpx.Client(base_url=base, timeout=120, trust_env=False) as http:
            # a fragment: planned by a planning process, which this waits for if it is still starting
            warm_up = {"query": "{ ...F } fragment F on Query { __typename }"}
            http.post("/graphql", content=json.dumps(warm_up), headers=HEADERS).raise_for_status()
        profiler = profiling(process.pid, args.profile, args.seconds, args.profile_idle) if args.profile else None
        serving_before, planning_before = cpu_seconds(process)
        work = asyncio.run(work_phase(base, args.seconds, args.clients))
        serving_after, planning_after = cpu_seconds(process)
        if profiler is not None:
            profiler.wait(timeout=60)
        hostile = sum(row["requests"] for row in work["kinds"].values())
        work["cpu"] = {
            "serving_s": serving_after - serving_before,
            "planning_s": planning_after - planning_before,
            "hostile_requests": hostile,
            "serving_ms_per_request": 1000 * (serving_after - serving_before) / max(1, hostile),
            "planning_ms_per_request": 1000 * (planning_after - planning_before) / max(1, hostile),
        }
        memory = memory_phase(base, process, args.documents)
    print(f"{'kind':<20} {'requests':>8} {'p50 s':>8} {'p99 s':>8} {'max s':>8}  statuses / codes")
    for name, row in work["kinds"].items():
        print(
            f"{name:<20} {row['requests']:>8} {row['p50_s']:>8.3f} {row['p99_s']:>8.3f} {row['max_s']:>8.3f}  "
            f"{row['statuses']} {','.join(row['codes']) or '-'}"
        )
    h = work["healthz"]
    print(f"{'/healthz':<20} {h['requests']:>8} {h['p50_s']:>8.3f} {h['p99_s']:>8.3f} {h['max_s']:>8.3f}")
    cpu = work["cpu"]
    print(
        f"server CPU during the work phase: serving process {cpu['serving_s']:.1f} s "
        f"({cpu['serving_ms_per_request']:.1f} ms per hostile request), planning processes "
        f"{cpu['planning_s']:.1f} s ({cpu['planning_ms_per_request']:.1f} ms per request)"
    )
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"memory: {memory['documents']} documents of {memory['document_bytes']} bytes: RSS "
        f"{memory['rss_before_mb']:.1f} -> {memory['rss_after_mb']:.1f} MiB (peak {memory['rss_peak_mb']:.1f}), "
        f"growth {memory['growth_mb']:.1f} MiB"
    )
    failures = [
        f"{name} took {row['max_s']:.3f}s"
        for name, row in work["kinds"].items()
        if row["max_s"] > HOSTILE_TARGET_S or any(s >= 500 for s in row["statuses"])
    ]
    failures += [
        f"INTERNAL_SERVER_ERROR from {name}"
        for name, row in work["kinds"].items()
        if "INTERNAL_SERVER_ERROR" in row["codes"]
    ]
    if h["max_s"] > HEALTHZ_TARGET_S:
        failures.append(f"/healthz took {h['max_s']:.3f}s")
    if memory["growth_mb"] > GROWTH_TARGET_MB:
        failures.append(f"RSS grew by {memory['growth_mb']:.1f} MiB")
    print(json.dumps({"work": work, "memory": memory, "failures": failures}))
    for failure in failures:
        print(f"target missed: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
