"""The GraphiQL page, served from vendored assets so it works with no access to a CDN."""

from __future__ import annotations

import html
import json
from pathlib import Path

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
  <script>
    (function () {{
      var root = document.getElementById("graphiql");
      if (!window.React || !window.ReactDOM || !window.GraphiQL) {{
        root.textContent = "GraphiQL could not load its files from " + {_js(static_prefix)} + ".";
        return;
      }}
      var fetcher = GraphiQL.createFetcher({{
        url: {_js(endpoint)},
        enableIncrementalDelivery: false,
        headers: {{ accept: {_js(ACCEPT)} }}
      }});
      ReactDOM.createRoot(root).render(
        React.createElement(GraphiQL, {{ fetcher: fetcher, defaultQuery: {_js(DEFAULT_QUERY)} }})
      );
    }})();
  </script>
</body>
</html>
"""
