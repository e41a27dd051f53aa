#!/usr/bin/env python3
"""The project's task runner; only the standard library, so it works on a bare machine.

    python3 tasks.py up        install what is needed, then migrate, seed and serve the API
    python3 tasks.py test      install what is needed, then lint, type-check and run every test
    python3 tasks.py bench-smoke   run the benchmark once at size S; fails only if it breaks (CI)
    python3 tasks.py <task> -h for the rest (lint, schema, ci-browser, ...)

It keeps a virtual environment in .venv/ and reinstalls only when pyproject.toml changes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_venv(extras: str = "") -> None:
    """Create .venv and install the project (with `extras`) unless already up to date."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs before any venv exists
        sys.exit(f"tradegraph needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    stamp = VENV / f".installed{('-' + extras) if extras else ''}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest and PY.exists():
        return
    if not PY.exists():
        print(f"creating a virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    target = f".[{extras}]" if extras else "."
    run(PY, "-m", "pip", "install", "--quiet", "--editable", target)
    stamp.write_text(digest)


def task_up(args: argparse.Namespace) -> None:
    ensure_venv()
    cmd = [str(BIN / "tradegraph"), "up", "--host", args.host, "--port", str(args.port)]
    # exec: signals reach the server directly and it cleans up the embedded database itself
    os.execv(cmd[0], cmd)


def task_lint(_: argparse.Namespace) -> None:
    ensure_venv("dev")
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")
    run(BIN / "mypy", "app", "migrations", "tests", "tasks.py")


def task_test(args: argparse.Namespace) -> None:
    ensure_venv("dev")
    if not args.no_lint:
        task_lint(args)
    run(BIN / "pytest", *args.pytest_args)


def task_bench_smoke(args: argparse.Namespace) -> None:
    """The benchmark once at size S on a database of its own (bench_smoke, dropped at the end):
    every target starts, every operation's answer is checked; no timing is judged."""
    ensure_venv("dev")
    missing = [tool for tool in ("wrk",) if shutil.which(tool) is None]
    if missing:
        sys.exit("bench-smoke needs wrk, the load generator: apt-get install -y wrk")
    cmd: list[str | Path] = [PY, "-m", "bench.run", "--smoke"]
    if args.database_url:
        cmd += ["--database-url", args.database_url]
    if args.targets:
        cmd += ["--targets", args.targets]
    run(*cmd)


def task_fmt(_: argparse.Namespace) -> None:
    ensure_venv("dev")
    run(BIN / "ruff", "check", "--fix", ".")
    run(BIN / "ruff", "format", ".")


def task_schema(_: argparse.Namespace) -> None:
    ensure_venv()
    out = subprocess.run([str(BIN / "tradegraph"), "export-schema"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(out.stderr)
    (ROOT / "schema" / "schema.graphql").write_text(out.stdout)
    print("wrote schema/schema.graphql")


def task_clean(_: argparse.Namespace) -> None:
    for path in (VENV, ROOT / ".data"):
        if path.exists():
            print(f"removing {path}")
            shutil.rmtree(path)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="tasks.py", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="task", required=True)
    up = sub.add_parser("up", help="install, migrate, seed and serve on the embedded database (or DATABASE_URL)")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=8000)
    up.set_defaults(func=task_up)
    test = sub.add_parser("test", help="install, lint, type-check and run the whole test suite")
    test.add_argument("--no-lint", action="store_true", help="run only pytest")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed to pytest")
    test.set_defaults(func=task_test)
    sub.add_parser("lint", help="ruff and mypy").set_defaults(func=task_lint)
    smoke = sub.add_parser(
        "bench-smoke",
        help="the benchmark once at size S (bench/run.py --smoke): fails when a target does not start\n"
        "or an answer is wrong, never on speed; needs PostgreSQL, wrk, and Node + npm for PostGraphile\n"
        "(v5 runs on the Node 22 that npm installs into bench/postgraphile5)",
    )
    smoke.add_argument(
        "--database-url",
        help="the database to create, load and drop (default: bench_smoke on postgresql://postgres@127.0.0.1:5432)",
    )
    smoke.add_argument("--targets", help="comma-separated subset of the targets (default: all ten)")
    smoke.set_defaults(func=task_bench_smoke)
    sub.add_parser("fmt", help="apply ruff's fixes and formatting").set_defaults(func=task_fmt)
    sub.add_parser("schema", help="regenerate schema/schema.graphql").set_defaults(func=task_schema)
    sub.add_parser("clean", help="remove .venv and .data").set_defaults(func=task_clean)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
