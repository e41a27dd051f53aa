"""GraphiQL in a real headless Chromium against the real API, with no CDN involved.

Needs a system Chromium (`chromium`, `chromium-browser` or `google-chrome` on PATH; Debian:
`apt-get install chromium`). Without one the test is skipped, unless TRADEGRAPH_REQUIRE_BROWSER=1,
in which case it fails. Playwright drives that Chromium; `playwright install` is never needed.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Request, Response, sync_playwright
from sqlalchemy import Engine, text

from tests import servers
from tests.helpers import ROOT

pytestmark = pytest.mark.browser

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
QUERY = "{ articles(first: 5) { totalCount edges { node { slug title } } } }"
ACCEPT = "application/graphql-response+json"
QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
RESULT_EDITOR = ".result-window .CodeMirror"
TIMEOUT_MS = 30_000
EXAMPLES = sorted(p.stem for p in (ROOT / "schema" / "operations").glob("*.graphql"))


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a system Chromium; skips (or fails under TRADEGRAPH_REQUIRE_BROWSER=1) without one."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    reason = f"no headless Chromium on PATH (looked for {', '.join(CHROMIUM_NAMES)}); apt-get install chromium"
    if os.environ.get("TRADEGRAPH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"TRADEGRAPH_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def api(seeded_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the real `tradegraph serve` on the seeded database; stopped with SIGTERM after."""
    env = {**os.environ, "DATABASE_URL": seeded_url}
    with servers.serving(env, logs=tmp_path_factory.mktemp("api"), ready="/healthz") as served:
        yield served.base


def run_graphiql(page: Page, base: str, query: str) -> str:
    """Open GraphiQL at `base`/graphql, run `query` with the execute button; return the result text."""
    response = page.goto(f"{base}/graphql", wait_until="load")
    assert response is not None
    assert response.ok, f"GET {base}/graphql answered {response.status}: {response.text()[:500]}"
    assert "text/html" in response.headers.get("content-type", ""), response.headers
    page.wait_for_selector(QUERY_EDITOR, timeout=TIMEOUT_MS)
    page.wait_for_function("sel => !!document.querySelector(sel)?.CodeMirror", arg=QUERY_EDITOR, timeout=TIMEOUT_MS)
    page.evaluate("([sel, q]) => document.querySelector(sel).CodeMirror.setValue(q)", [QUERY_EDITOR, query])
    page.click(".graphiql-execute-button")
    page.wait_for_function(
        "sel => (document.querySelector(sel)?.CodeMirror?.getValue() ?? '').trim().length > 0",
        arg=RESULT_EDITOR,
        timeout=TIMEOUT_MS,
    )
    result: str = page.evaluate("sel => document.querySelector(sel).CodeMirror.getValue()", RESULT_EDITOR)
    return result


def test_graphiql_runs_a_query_from_local_assets(chromium: str, api: str, engine: Engine, tmp_path: Path) -> None:
    with engine.connect() as conn:
        articles = conn.execute(text("SELECT count(*) FROM articles")).scalar_one()

    requests: list[Request] = []
    failed: list[str] = []
    page_errors: list[str] = []

    def on_response(response: Response) -> None:
        if response.status >= 400:
            failed.append(f"{response.status} {response.request.method} {response.url}")

    def on_request_failed(request: Request) -> None:
        failed.append(f"failed {request.method} {request.url}: {request.failure}")

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("request", lambda request: requests.append(request))
            page.on("response", on_response)
            page.on("requestfailed", on_request_failed)
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            try:
                result = run_graphiql(page, api, QUERY)
            except PlaywrightError as exc:
                page.screenshot(path=str(tmp_path / "graphiql-failed.png"))
                pytest.fail(
                    f"{exc.message}\nfailed requests: {failed}\npage errors: {page_errors}\n"
                    f"screenshot: {tmp_path / 'graphiql-failed.png'}"
                )
            page.screenshot(path=str(tmp_path / "graphiql.png"))
            assert page.url == f"{api}/graphql"
            # the explorer plugin is open in the sidebar, and every example operation has a tab
            explorer = page.wait_for_selector(".graphiql-explorer-root", timeout=TIMEOUT_MS)
            assert explorer is not None and "articles" in explorer.inner_text()
            tabs = page.eval_on_selector_all(
                ".graphiql-tab .graphiql-tab-button", "tabs => tabs.map(t => t.textContent.trim())"
            )
            assert set(EXAMPLES) <= set(tabs), tabs
        finally:
            browser.close()

    assert f'"totalCount": {articles}' in result, result
    body: dict[str, Any] = json.loads(result)
    assert "errors" not in body, result
    connection = body["data"]["articles"]
    assert connection["totalCount"] == articles
    assert len(connection["edges"]) == min(5, articles)
    # every article has a slug; a title only where its text has a headline
    assert all(edge["node"]["slug"] and "title" in edge["node"] for edge in connection["edges"])

    assert not [f for f in failed if "/static/" in f], failed
    assert not page_errors, page_errors
    # Every asset came from the API itself: nothing from a CDN or any other host.
    foreign = [r.url for r in requests if not r.url.startswith((f"{api}/", "data:", "blob:"))]
    assert not foreign, foreign
    assert any(r.url.startswith(f"{api}/static/graphiql/graphiql.min.js") for r in requests)
    # GraphiQL sent the query as POST asking for the GraphQL-over-HTTP media type.
    posts = [r for r in requests if r.method == "POST" and r.url == f"{api}/graphql"]
    assert posts, [r.url for r in requests]
    assert all(ACCEPT in r.headers.get("accept", "") for r in posts), [r.headers for r in posts]
    assert any(json.loads(r.post_data or "{}").get("query") == QUERY for r in posts)
    # in development GraphiQL asks for, and shows, the SQL the operation compiled to
    assert all(r.headers.get("x-tradegraph-sql") == "1" for r in posts), [r.headers for r in posts]
    (statement,) = body["extensions"]["sql"]["statements"]
    assert body["extensions"]["sql"]["compiled"] is True and "articles" in statement["sql"]
