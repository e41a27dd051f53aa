"""A real third-party GraphQL client (`gql` over httpx) against a real `tradegraph serve`.

The client fetches the schema by introspection, validates documents against it before sending
them, and executes queries with variables; errors come back as its `TransportQueryError`.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport
from graphql import GraphQLError, GraphQLObjectType

from tests.test_http_spec import served


@pytest.fixture(scope="module")
def graphql_url(seeded_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The /graphql URL of a real `tradegraph serve` on the seeded database."""
    with served(seeded_url, tmp_path_factory.mktemp("client")) as url:
        yield url


def test_gql_client_introspects_validates_and_queries(graphql_url: str) -> None:
    sent: list[httpx.Request] = []
    transport = HTTPXTransport(url=graphql_url, timeout=30, event_hooks={"request": [sent.append]})
    client = Client(transport=transport, fetch_schema_from_transport=True)
    with client as session:
        # the schema, as introspection gives it
        schema = client.schema
        assert schema is not None
        query_type = schema.query_type
        assert query_type is not None
        assert {"articles", "place", "search", "node"} <= set(query_type.fields)
        place_type = schema.get_type("Place")
        assert isinstance(place_type, GraphQLObjectType)
        assert {"name", "code", "children", "parent"} <= set(place_type.fields)
        assert all(r.method == "POST" for r in sent), sent
        introspections = len(sent)
        assert introspections >= 1

        # an invalid document is refused by the client, before anything is sent
        with pytest.raises(GraphQLError, match="nosuchfield"):
            session.execute(gql("{ articles { nosuchfield } }"))
        with pytest.raises(GraphQLError):
            session.execute(gql('{ place(code: "CN-LN") }'))  # Place needs a selection
        assert len(sent) == introspections

        liaoning = GraphQLRequest(
            "query Place($code: String!) { place(code: $code) { name code children { name kind } } }",
            variable_values={"code": "CN-LN"},
        )
        result = session.execute(liaoning)
        place = result["place"]
        assert place["name"] == "Liaoning"
        assert place["code"] == "CN-LN"
        children = {child["name"]: child["kind"] for child in place["children"]}
        assert {"Shenyang", "Dalian"} <= set(children), children
        assert children["Shenyang"] == "CITY"

        articles = GraphQLRequest(
            """
            query Articles($filter: ArticleFilter, $first: Int) {
              articles(filter: $filter, first: $first) {
                totalCount
                nodes { slug title places { name } }
              }
            }
            """,
            variable_values={"filter": {"place": "CN-LN"}, "first": 10},
        )
        connection = session.execute(articles)["articles"]
        assert connection["totalCount"] == len(connection["nodes"]) >= 1
        assert "chinese-russian-firms-deals-shenyang" in {node["slug"] for node in connection["nodes"]}
        inside = {"Liaoning", *children}
        for node in connection["nodes"]:  # each names Liaoning or a place inside it
            assert inside & {place["name"] for place in node["places"]}, node

        # a field error comes back as the client's error, with the server's code
        with pytest.raises(TransportQueryError) as raised:
            session.execute(
                GraphQLRequest("query($n: Int) { articles(first: $n) { totalCount } }", variable_values={"n": 1000})
            )
        assert raised.value.errors is not None
        assert raised.value.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert raised.value.errors[0]["path"] == ["articles"]
    assert len(sent) == introspections + 3
