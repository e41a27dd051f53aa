"""docker-compose.yml and the Dockerfile: the structure `docker compose up` relies on.

Docker is not needed: the files are parsed, the commands they run are checked against the
real CLI, and the image's install layout is replayed in a temporary directory. Only
`docker compose config` needs the compose plugin, and is skipped without it.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg.conninfo
import pytest
import yaml

from tests.helpers import ROOT, TRADEGRAPH

COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
RUNTIME_DIRS = ("app", "migrations", "seeds")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = compose["services"]
    return result


def argv(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(a) for a in command]


def tradegraph_invocations(command: str | list[str]) -> list[list[str]]:
    """Every `tradegraph ...` invocation in a command, including inside `sh -c "a && b"`."""
    args = argv(command)
    if args[:2] in (["sh", "-c"], ["/bin/sh", "-c"], ["bash", "-c"]):
        found: list[list[str]] = []
        for part in args[2].replace("&&", ";").replace("||", ";").split(";"):
            found += tradegraph_invocations(part)
        return found
    return [args[1:]] if args and args[0] == "tradegraph" else []


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return {k: v for k, _, v in (str(item).partition("=") for item in env)}
    return {str(k): str(v) for k, v in env.items()}


def built_from_dockerfile(service: dict[str, Any]) -> bool:
    build = service.get("build")
    if build is None:
        return False
    context, dockerfile = (
        (build, "Dockerfile")
        if isinstance(build, str)
        else (
            build.get("context", "."),
            build.get("dockerfile", "Dockerfile"),
        )
    )
    return bool((ROOT / context / dockerfile).resolve() == DOCKERFILE)


def published_container_ports(service: dict[str, Any]) -> set[int]:
    ports: set[int] = set()
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            ports.add(int(entry["target"]))
        else:
            ports.add(int(str(entry).split("/")[0].rsplit(":", 1)[-1]))
    return ports


def dockerfile_instructions(text: str | None = None) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) for each instruction of the Dockerfile, continuations joined."""
    text = (DOCKERFILE.read_text() if text is None else text).replace("\\\n", " ")
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def test_postgres_service_has_a_pg_isready_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    postgres = services["postgres"]
    assert postgres["image"] == "postgres:15"
    check = postgres["healthcheck"]["test"]
    assert "pg_isready" in (check if isinstance(check, str) else " ".join(check))


def test_migrate_runs_once_postgres_is_healthy(services: dict[str, dict[str, Any]]) -> None:
    migrate = services["migrate"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    subcommands = [inv[0] for inv in tradegraph_invocations(migrate["command"]) if inv]
    assert subcommands == ["migrate", "seed"]
    # `a && b`: the seed runs only after a successful migration, and a failure fails the service
    assert "&&" in " ".join(argv(migrate["command"]))


def test_api_serves_on_8000_once_migrate_succeeded(services: dict[str, dict[str, Any]]) -> None:
    api = services["api"]
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert argv(api["command"]) == ["tradegraph", "serve", "--host", "0.0.0.0", "--port", "8000"]
    assert 8000 in published_container_ports(api)


def test_app_services_use_the_compose_postgres(services: dict[str, dict[str, Any]]) -> None:
    built = {name: svc for name, svc in services.items() if built_from_dockerfile(svc)}
    assert {"migrate", "api"} <= built.keys()
    pg_env = environment(services["postgres"])
    for name, service in built.items():
        url = environment(service).get("DATABASE_URL", "")
        assert url.startswith(("postgresql://", "postgres://")), f"{name}: not a libpq URL: {url!r}"
        params = psycopg.conninfo.conninfo_to_dict(url)  # raises on a malformed URL
        assert params["host"] == "postgres", name
        assert str(params.get("port", "5432")) == "5432", name
        assert params.get("user") == pg_env["POSTGRES_USER"], name
        assert params.get("password") == pg_env["POSTGRES_PASSWORD"], name
        assert params.get("dbname") == pg_env.get("POSTGRES_DB", pg_env["POSTGRES_USER"]), name


def test_commands_are_real_cli_subcommands(services: dict[str, dict[str, Any]]) -> None:
    invocations = [
        inv for svc in services.values() if "command" in svc for inv in tradegraph_invocations(svc["command"])
    ]
    cmd = next((rest for kw, rest in dockerfile_instructions() if kw == "CMD"), None)
    if cmd is not None:
        invocations += tradegraph_invocations(yaml.safe_load(cmd) if cmd.startswith("[") else cmd)
    assert {inv[0] for inv in invocations} >= {"migrate", "seed", "serve"}
    for inv in invocations:
        # the whole invocation plus --help: the subcommand and every option it passes must exist
        result = subprocess.run([str(TRADEGRAPH), *inv, "--help"], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"tradegraph {shlex.join(inv)}: {result.stderr}"


def test_dockerfile_copies_what_the_app_needs_at_run_time() -> None:
    copied: set[str] = set()
    for keyword, rest in dockerfile_instructions():
        if keyword in {"COPY", "ADD"}:
            sources = [a for a in argv(rest) if not a.startswith("--")][:-1]
            copied |= {Path(s).as_posix().strip("/") or "." for s in sources}
    missing = [d for d in RUNTIME_DIRS if d not in copied and "." not in copied]
    assert not missing, f"the Dockerfile does not COPY {missing}"


def run_in_replayed_image(instructions: list[tuple[str, str]], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Replay the Dockerfile's COPYs and `pip install` in tmp_path, then run a probe as the
    image runs `tradegraph`: an installed script, from WORKDIR, without the source on sys.path;
    the probe fails unless the app finds its migrations and seeds."""
    workdir = next(rest for kw, rest in reversed(instructions) if kw == "WORKDIR")
    image_root = tmp_path / "image"
    project = image_root / workdir.lstrip("/")
    project.mkdir(parents=True)
    pythonpath = ""
    editable: bool | None = None
    for keyword, rest in instructions:
        args = [a for a in argv(rest) if not a.startswith("--")]
        if keyword == "COPY":
            *sources, dest = args
            target = image_root / dest.lstrip("/") if dest.startswith("/") else project / dest
            for source in sources:
                src = ROOT / source
                into = target / src.name if len(sources) > 1 or dest.endswith("/") else target
                if src.is_dir():
                    shutil.copytree(src, into, dirs_exist_ok=True)
                else:
                    into.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(src, into)
        elif keyword == "ENV":
            tokens = argv(rest)
            if tokens[:1] == ["PYTHONPATH"] and len(tokens) == 2:  # ENV PYTHONPATH /path
                pythonpath = tokens[1]
            for token in tokens:
                if token.startswith("PYTHONPATH="):
                    pythonpath = token.partition("=")[2]
        elif keyword == "RUN" and "pip install" in rest:
            editable = "-e" in argv(rest) or "--editable" in argv(rest)
    assert editable is not None, "the Dockerfile never runs `pip install`"
    # a non-editable install puts the `app` package (all it packages) into site-packages;
    # an editable one leaves it in the project directory
    site = project if editable else tmp_path / "site-packages"
    if not editable:
        shutil.copytree(project / "app", site / "app")
    script_dir = tmp_path / "bin"  # sys.path[0] of a console script is its own directory
    script_dir.mkdir()
    probe = script_dir / "probe.py"
    probe.write_text(
        "from app.config import MIGRATIONS_DIR, PROJECT_ROOT, SEEDS_DIR\n"
        "from app.migrate import head_revision\n"
        "print(PROJECT_ROOT)\n"
        "assert MIGRATIONS_DIR.is_dir() and SEEDS_DIR.is_dir(), PROJECT_ROOT\n"
        "assert head_revision(), 'no migrations found'\n"
    )
    # PYTHONPATH comes before site-packages on sys.path
    paths = [*(str(image_root / p.lstrip("/")) for p in pythonpath.split(":") if p), str(site)]
    return subprocess.run(
        [sys.executable, str(probe)],
        cwd=project,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(paths)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_image_layout_finds_migrations_and_seeds(tmp_path: Path) -> None:
    result = run_in_replayed_image(dockerfile_instructions(), tmp_path)
    assert result.returncode == 0, f"as installed in the image, the app cannot run:\n{result.stderr}"


def test_docker_compose_config_is_valid() -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("docker is not installed: cannot run `docker compose config`")
    version = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, timeout=30)
    if version.returncode != 0:
        pytest.skip(f"no docker compose plugin: {(version.stderr or version.stdout).strip()}")
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE_FILE), "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
