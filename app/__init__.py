"""tradegraph: a typed GraphQL API over a normalised PostgreSQL knowledge base of trade news."""
