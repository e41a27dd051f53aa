"""The GraphiQL page, served from vendored assets so it works with no access to a CDN.

It has the explorer plugin (a query builder in the sidebar), opens the example operations of
schema/operations/ as tabs, and sends the development header that adds the SQL each operation ran
to its answer (`extensions.sql`; the API ignores the header in production, where there is no GraphiQL).
"""

from __future__ import annotations

import html
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.config import OPERATIONS_DIR

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
"""Mount at /static; GraphiQL's files are in its graphiql/ folder (scripts/vendor_graphiql.py)."""

DEFAULT_QUERY = """\
# tradegraph: Ctrl-Enter runs the query
{
  articles(first: 5) {
    totalCount
    edges {
      node {
        slug
        title
        publishedOn
      }
    }
  }
}
"""

ACCEPT = "application/graphql-response+json, application/json"
SHOW_SQL_HEADERS = '{\n  "X-Tradegraph-SQL": "1"\n}'


@lru_cache
def example_tabs(directory: Path = OPERATIONS_DIR) -> tuple[dict[str, str], ...]:
    """Return a GraphiQL tab (query, variables, headers) for each example operation, by name."""
    tabs = []
    for path in sorted(directory.glob("*.graphql")):
        variables_path = path.with_suffix(".variables.json")
        variables: Any = json.loads(variables_path.read_text()) if variables_path.exists() else {}
        tabs.append(
            {"query": path.read_text(), "variables": json.dumps(variables, indent=2), "headers": SHOW_SQL_HEADERS}
        )
    return tuple(tabs)


def _js(value: str) -> str:
    """`value` as a JavaScript string literal that is safe inside a <script> element."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def graphiql_html(*, endpoint: str = "/graphql", static_prefix: str = "/static/graphiql") -> str:
    """Return the GraphiQL page for `endpoint`, loading its JS and CSS from `static_prefix`."""
    prefix = html.escape(static_prefix.rstrip("/"), quote=True)
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>tradegraph — GraphiQL</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{prefix}/graphiql.min.css">
  <link rel="stylesheet" href="{prefix}/graphiql-plugin-explorer.css">
  <style>
    html, body {{ height: 100%; margin: 0; }}
    #graphiql {{ height: 100vh; }}
  </style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <noscript>GraphiQL needs JavaScript. The API itself answers POST {html.escape(endpoint)}.</noscript>
  <script src="{prefix}/react.production.min.js"></script>
  <script src="{prefix}/react-dom.production.min.js"></script>
  <script src="{prefix}/graphiql.min.js"></script>
  <script src="{prefix}/graphiql-plugin-explorer.umd.js"></script>
  <script>
    (function () {{
      var root = document.getElementById("graphiql");
      if (!window.React || !window.ReactDOM || !window.GraphiQL) {{
        root.textContent = "GraphiQL could not load its files from " + {_js(static_prefix)} + ".";
        return;
      }}
      // subscriptions: graphql-transport-ws on the same path (the graphql-ws client is in the bundle)
      var socketUrl = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + {_js(endpoint)};
      var fetcher = GraphiQL.createFetcher({{
        url: {_js(endpoint)},
        subscriptionUrl: socketUrl,
        enableIncrementalDelivery: false,
        headers: {{ accept: {_js(ACCEPT)} }}
      }});
      var plugins = window.GraphiQLPluginExplorer ? [GraphiQLPluginExplorer.explorerPlugin()] : [];
      var tabs = {_js(json.dumps([{"query": DEFAULT_QUERY, "headers": SHOW_SQL_HEADERS}, *example_tabs()]))};
      ReactDOM.createRoot(root).render(
        React.createElement(GraphiQL, {{
          fetcher: fetcher,
          plugins: plugins,
          visiblePlugin: plugins[0],
          defaultQuery: {_js(DEFAULT_QUERY)},
          defaultHeaders: {_js(SHOW_SQL_HEADERS)},
          defaultTabs: JSON.parse(tabs),
          shouldPersistHeaders: true
        }})
      );
    }})();
  </script>
</body>
</html>
"""
