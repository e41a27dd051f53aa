"""The README's frontend guide cannot rot: graphql-codegen (client-preset, the README's config in
tests/frontend/codegen.ts) runs against the committed schema and example operations, and
`tsc --strict` type-checks what it generates together with the README's Apollo and urql setups.

Needs Node.js and npm (skipped without them); the packages are pinned by tests/frontend/package-lock.json.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from tests.helpers import ROOT

FRONTEND = ROOT / "tests" / "frontend"
GENERATED = FRONTEND / "src" / "gql" / "graphql.ts"


def _npm() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        if os.environ.get("CI"):
            pytest.fail("CI must run the codegen check: Node.js and npm are missing")
        pytest.skip("the codegen check needs Node.js ≥ 18 and npm on PATH")
    return npm


def npx(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FRONTEND / "node_modules" / ".bin" / args[0]), *args[1:]],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def generated() -> str:
    npm = _npm()
    installed = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund"], cwd=FRONTEND, capture_output=True, text=True, timeout=600
    )
    assert installed.returncode == 0, f"npm install failed:\n{installed.stdout}\n{installed.stderr}"
    shutil.rmtree(GENERATED.parent, ignore_errors=True)
    result = npx("graphql-codegen", "--config", "codegen.ts")
    assert result.returncode == 0, f"graphql-codegen failed:\n{result.stdout}\n{result.stderr}"
    return GENERATED.read_text()


def test_codegen_makes_a_typed_document_of_every_operation(generated: str) -> None:
    for path in sorted((ROOT / "schema" / "operations").glob("*.graphql")):
        name = path.stem
        assert f"export type {name}Query = " in generated, name
        assert f"export const {name}Document = " in generated, name


def test_date_and_decimal_are_strings(generated: str) -> None:
    for scalar in ("Date", "Decimal"):
        assert re.search(rf"\b{scalar}: {{ input: string; output: string; }}", generated), scalar


def test_the_generated_code_and_the_client_setups_type_check_strictly(generated: str) -> None:
    result = npx("tsc", "--strict", "--noEmit", "-p", "tsconfig.json")
    assert result.returncode == 0, f"tsc --strict:\n{result.stdout}\n{result.stderr}"


def test_tsc_would_catch_a_wrong_use_of_the_generated_types(generated: str) -> None:
    # not vacuous: a field used with the wrong type fails the same check
    probe = FRONTEND / "src" / "wrong_use_probe.ts"
    probe.write_text(
        'import type { ArticleListQuery } from "./gql/graphql";\n'
        "export const n: number = ({} as ArticleListQuery).articles.edges[0].node.slug;\n"
    )
    try:
        result = npx("tsc", "--strict", "--noEmit", "-p", "tsconfig.json")
    finally:
        probe.unlink()
    assert result.returncode != 0
    assert "wrong_use_probe.ts" in result.stdout and "TS2322" in result.stdout, result.stdout
